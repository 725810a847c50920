"""The Pooling page under AppTest: presets, typed/random/image inputs, stepping, backprop, shift, pipeline.

Every number asserted is read off the rendered figures and checked against an independent computation
(numpy's sliding windows or torch autograd in float64), not against numbers copied into the test.
"""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import app_test, decode, error_texts, pick_cell, plotly_figures, shown_step, stepper_payloads
from numpy.lib.stride_tricks import sliding_window_view

from cnnviz.lessons.presets import POOL_EXAMPLES
from cnnviz.trace import fmt

PAGE = "pages/3_Pooling.py"
REDUCE = {"max": np.max, "min": np.min, "avg": np.mean, "l2": lambda w, axis: np.sqrt((w * w).sum(axis=axis))}


def pooled(X, size, stride, mode="max"):
    """Pooling without padding by numpy's sliding windows: an implementation independent of cnnviz."""
    windows = sliding_window_view(X, (size, size))[::stride, ::stride]  # (out_h, out_w, size, size)
    return REDUCE[mode](windows, axis=(2, 3))


def title(fig) -> str:
    return (fig["layout"].get("title") or {}).get("text", "")


def figures(at, prefix, *, exact=False):
    """Figures whose title starts with `prefix` (or equals it), in page order."""
    return [f for f in plotly_figures(at) if (title(f) == prefix if exact else title(f).startswith(prefix))]


def z(at, prefix, n=0, *, exact=False):
    """The first heatmap's values of the n-th figure with that title."""
    return decode(figures(at, prefix, exact=exact)[n]["data"][0]["z"])


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def torch_grad(X, G, mode, size, stride, padding=0):
    t = torch.tensor(X, dtype=torch.float64)[None, None].requires_grad_()  # (N=1, C=1, H, W)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    Y = pool(t, size, stride, padding)
    (Y * torch.tensor(G, dtype=torch.float64)[None, None]).sum().backward()
    return t.grad[0, 0].numpy()


def app(section: str = "Step through"):
    """The page, run, showing `section`, with its folded parts open (the whole grids, check-my-work)."""
    at = app_test(PAGE)
    at.session_state["pool_size_open"] = True
    at.session_state["pool_check_open"] = True
    at.query_params["pool_section"] = section
    return at.run()


def test_default_is_the_lecture_max_pooling_with_its_formula():
    at = app()
    assert not at.exception and not at.error
    X, Y = z(at, "Input 4x4"), z(at, "Max pool -> 2x2")
    np.testing.assert_array_equal(X, POOL_EXAMPLES["4x4 max pooling"].input)
    np.testing.assert_array_equal(Y, pooled(X, 2, 2))
    codes = " ".join(c.value for c in at.code)
    assert "floor((4 + 2*0 - 2) / 2) + 1 = floor(2/2) + 1 = 2" in codes
    assert "(the output here agrees)" in markdown(at)
    # the stepper's first cell, with its winner and the gradient it routes back
    (payload,) = stepper_payloads(at)
    first = shown_step(payload)
    assert first["expr"] == "Y[0, 0] = max(2, 4, 6, 6) = 6"
    assert first["winner"] == [1, 0] and first["grad"] == [["0", "0"], ["1", "0"]]
    assert "The max, 6, is input cell (1, 0)" in markdown(at)
    pick_cell(at, "pool_step", 0, 1)  # as the browser sends it when the user pauses or clicks there
    assert shown_step(stepper_payloads(at)[0])["expr"] == "Y[0, 1] = max(7, 4, 9, 8) = 9"
    assert "The max, 9, is input cell (1, 2)" in markdown(at)


def test_presets_load_their_settings_and_show_the_slide_slip():
    at = app()
    at.selectbox(key="pool_preset").set_value("4x4 average pooling").run()
    assert at.selectbox(key="pool_mode").value == "avg"
    X = z(at, "Input 4x4")
    np.testing.assert_allclose(z(at, "Average pool -> 2x2"), pooled(X, 2, 2, "avg"))
    at.selectbox(key="pool_preset").set_value("X filter 2 map, max pooling").run()
    X = z(at, "Input 4x4")
    Y = z(at, "Max pool -> 2x2")
    np.testing.assert_array_equal(Y, pooled(X, 2, 2))
    printed = POOL_EXAMPLES["X filter 2 map, max pooling"].slide
    # flagged as on the Convolution page: a warning naming the cell, and the cell outlined
    (warning,) = [w.value for w in at.warning if "slide's answer has mistakes" in w.value]
    assert f"(0, 1): slide {int(printed[0][1])}, correct {int(Y[0, 1])}" in warning
    # the stepper marks that cell
    (payload,) = stepper_payloads(at)
    assert payload["marks"] == [[0, 1]] and payload["mark_caption"]


def test_typed_grid_errors_keep_the_last_good_output():
    at = app()
    at.selectbox(key="pool_input_source").set_value("Type a grid").run()
    assert at.text_area(key="pool_typed").value.splitlines()[0].split() == ["2", "4", "7", "4"]
    at.text_area(key="pool_typed").input("1 2 3\n4 5 6\n7 8 x").run()
    assert not at.exception
    assert any("row 3, column 3" in e for e in error_texts(at))
    np.testing.assert_array_equal(z(at, "Max pool"), POOL_EXAMPLES["4x4 max pooling"].output)

    X = np.arange(25.0).reshape(5, 5) % 7
    at.text_area(key="pool_typed").input("\n".join(" ".join(f"{v:g}" for v in r) for r in X)).run()
    at.toggle(key="pool_stride_same").set_value(False).run()
    at.slider(key="pool_stride").set_value(1).run()
    assert not at.error
    np.testing.assert_array_equal(z(at, "Max pool -> 4x4"), pooled(X, 2, 1))

    # a window larger than the grid: an error, and the last good output stays
    at.text_area(key="pool_typed").input("1 2\n3 4").run()
    at.toggle(key="pool_stride_same").set_value(True).run()
    good = z(at, "Max pool")
    at.slider(key="pool_size").set_value(3).run()
    assert any("larger than the padded input 2x2" in e for e in error_texts(at))
    np.testing.assert_array_equal(z(at, "Max pool"), good)


def test_padding_is_clamped_to_half_the_window_and_matches_torch():
    at = app()
    at.slider(key="pool_size").set_value(4).run()
    at.slider(key="pool_padding").set_value(2).run()
    at.slider(key="pool_size").set_value(2).run()
    assert not at.exception
    assert at.slider(key="pool_padding").value == 1
    X = POOL_EXAMPLES["4x4 max pooling"].input
    expected = F.max_pool2d(torch.tensor(X)[None, None], 2, 2, 1)[0, 0].numpy()
    np.testing.assert_array_equal(z(at, "Max pool -> 3x3"), expected)
    assert "floor((4 + 2*1 - 2) / 2) + 1 = floor(4/2) + 1 = 3" in " ".join(c.value for c in at.code)


def test_random_grid_and_min_and_l2_pooling():
    at = app()
    at.selectbox(key="pool_input_source").set_value("Random grid").run()
    at.number_input(key="pool_rand_rows").set_value(7).run()
    at.number_input(key="pool_rand_seed").set_value(5).run()
    X = z(at, "Input 7x6")
    np.testing.assert_array_equal(z(at, "Max pool"), pooled(X, 2, 2))
    at.selectbox(key="pool_mode").set_value("min").run()
    np.testing.assert_array_equal(z(at, "Min pool"), pooled(X, 2, 2, "min"))
    at.selectbox(key="pool_mode").set_value("l2").run()
    np.testing.assert_allclose(z(at, "L2 norm pool"), pooled(X, 2, 2, "l2"))
    at.number_input(key="pool_rand_seed").set_value(6).run()
    assert not np.array_equal(z(at, "Input 7x6"), X)


def test_image_crop_is_pooled():
    at = app()
    at.selectbox(key="pool_input_source").set_value("Picture").run()
    assert not at.exception
    X = z(at, "Input 12x12")
    assert X.min() >= 0 and X.max() <= 255 and X.max() > X.min()
    at.slider(key="pool_size").set_value(3).run()
    np.testing.assert_array_equal(z(at, "Max pool -> 4x4"), pooled(X, 3, 3))


def test_backprop_routes_the_gradient_like_torch():
    at = app("Backpropagation")
    X = POOL_EXAMPLES["4x4 max pooling"].input
    np.testing.assert_array_equal(z(at, "dL/dX"), torch_grad(X, np.ones((2, 2)), "max", 2, 2))
    at.select_slider(key="pool_grad_cell_2x2").set_value(1).run()
    text = markdown(at)
    r, c = map(int, re.search(r"all of g = 1 goes to input cell \((\d+), (\d+)\)", text).groups())
    assert X[r, c] == pooled(X, 2, 2)[0, 1]  # the cell that got the gradient held the max

    at.radio(key="pool_grad_source").set_value("Type my own").run()
    at.text_area(key="pool_grad_2x2").input("1 -2\n3 0.5").run()
    G = np.array([[1, -2], [3, 0.5]])
    np.testing.assert_array_equal(z(at, "dL/dX"), torch_grad(X, G, "max", 2, 2))
    assert f"Sum of dL/dX = {G.sum():g}" in markdown(at)

    at.text_area(key="pool_grad_2x2").input("1 2 3").run()
    assert any("must be 2x2" in e for e in error_texts(at))
    np.testing.assert_array_equal(z(at, "dL/dX"), torch_grad(X, G, "max", 2, 2))  # last good kept

    at.selectbox(key="pool_mode").set_value("avg").run()
    at.slider(key="pool_padding").set_value(1).run()
    G = np.ones((3, 3))
    expected = torch_grad(X, G, "avg", 2, 2, 1)
    np.testing.assert_allclose(z(at, "dL/dX"), expected)
    lost = G.sum() - expected.sum()
    assert f"{lost:g} went to padding and is lost" in markdown(at)


def test_shift_counts_match_the_drawn_maps():
    at = app("Shift invariance")
    at.selectbox(key="pool_shift_dir").set_value("right").run()
    before, after = z(at, "input:<br>before"), z(at, "input:<br>moved right")
    np.testing.assert_array_equal(after[:, 1:], before[:, :-1])
    assert np.all(after[:, 0] == 0)
    conv_before, conv_after = z(at, "conv + ReLU:<br>before"), z(at, "conv + ReLU:<br>moved right")
    pool_before, pool_after = z(at, "max pool 4x4:<br>before"), z(at, "max pool 4x4:<br>moved right")
    np.testing.assert_array_equal(pool_before, pooled(conv_before, 4, 4))
    np.testing.assert_array_equal(pool_after, pooled(conv_after, 4, 4))
    changed = int(np.count_nonzero(pool_before != pool_after))
    conv_changed = int(np.count_nonzero(conv_before != conv_after))
    text = markdown(at)
    assert f"{conv_changed} of {conv_before.size} cells changed value" in text
    assert f"{changed} of {pool_before.size} cells changed" in text
    assert len(figures(at, "max pool 4x4:<br>moved right")[0]["layout"]["shapes"]) == changed
    table = at.dataframe[0].value
    assert list(table["move"]) == ["right", "left", "down", "up"]
    assert table["pooled cells changed"][0] == f"{changed} of {pool_before.size}"

    at.slider(key="pool_shift_size").set_value(2).run()
    at.toggle(key="pool_shift_relu").set_value(False).run()
    conv_before, conv_after = z(at, "conv:<br>before"), z(at, "conv:<br>moved right")
    np.testing.assert_array_equal(z(at, "max pool 2x2:<br>moved right"), pooled(conv_after, 2, 2))
    assert conv_before.min() < 0  # without the ReLU the map keeps its negative values


def test_a_shift_window_larger_than_the_input_is_refused_and_the_last_maps_stay():
    at = app("Shift invariance")
    at.slider(key="pool_shift_size").set_value(5).run()
    kept = z(at, "max pool 5x5:<br>moved down")
    at.selectbox(key="pool_shift_input").set_value("This page's input").run()  # the 4x4 lecture grid
    assert not at.exception  # the table's other directions used to raise here
    assert any("5x5 pooling window does not fit the 4x4 input" in e for e in error_texts(at))
    assert z(at, "input:<br>before").shape == (8, 8)  # still the X image's maps, titled as they were made
    np.testing.assert_array_equal(z(at, "max pool 5x5:<br>moved down"), kept)
    assert len(at.dataframe[0].value) == 4
    at.slider(key="pool_shift_size").set_value(4).run()
    assert not at.error
    assert z(at, "input:<br>before").shape == (4, 4)


def test_pipeline_draws_each_stage_and_names_the_route_the_lecture_took():
    at = app("Conv, ReLU, pool")
    for c in range(2):
        conv = z(at, "conv map", c, exact=True)
        relu = z(at, "ReLU", c, exact=True)
        np.testing.assert_array_equal(relu, np.maximum(conv, 0))
        np.testing.assert_array_equal(z(at, "ReLU -> max pool", c), pooled(relu, 2, 2))
        np.testing.assert_array_equal(z(at, "max pool, no ReLU", c), pooled(conv, 2, 2))
    lecture = POOL_EXAMPLES["X filter 2 map, max pooling"].output
    raw_matches = np.array_equal(z(at, "max pool, no ReLU", 1), lecture)
    relu_matches = np.array_equal(z(at, "ReLU -> max pool", 1), lecture)
    text = markdown(at)
    assert raw_matches and not relu_matches
    assert "comes out without the ReLU. Here the ReLU matters" in text
    assert any("**without** the ReLU" in i.value for i in at.info)


def test_check_my_work_marks_the_typed_output():
    at = app()
    Y = z(at, "Max pool")
    wrong = Y.copy()
    wrong[1, 0] += 1
    at.text_area(key="pool_check_answer").input("\n".join(" ".join(f"{v:g}" for v in r) for r in wrong)).run()
    assert any("3 of 4 cells are right" in w.value for w in at.warning)


def test_settings_survive_a_trip_to_another_input_source():
    at = app()
    at.selectbox(key="pool_preset").set_value("X filter 1 map, max pooling").run()
    at.toggle(key="pool_stride_same").set_value(False).run()
    at.slider(key="pool_stride").set_value(1).run()
    at.selectbox(key="pool_input_source").set_value("Random grid").run()
    at.toggle(key="pool_stride_same").set_value(True).run()  # the stride slider disappears
    at.toggle(key="pool_stride_same").set_value(False).run()  # ... and comes back with its value
    assert at.slider(key="pool_stride").value == 1
    at.selectbox(key="pool_input_source").set_value("Lecture example").run()
    assert not at.exception
    assert at.selectbox(key="pool_preset").value == "X filter 1 map, max pooling"
    X = POOL_EXAMPLES["X filter 1 map, max pooling"].input
    np.testing.assert_array_equal(z(at, "Input 4x4"), X)
    np.testing.assert_array_equal(z(at, "Max pool -> 3x3"), pooled(X, 2, 1))


# --- Classroom mode: ties, the typed gradient in the stepper, stale warnings, links ---------------------------


def test_a_tie_for_the_max_sends_the_gradient_to_the_first_maximum_as_torch_does():
    """The lecture's 4x4 example ties in its first window (6 and 6): the page says who gets the gradient."""
    at = app()
    X = POOL_EXAMPLES["4x4 max pooling"].input
    first = shown_step(stepper_payloads(at)[0])
    assert first["winner"] == [1, 0]  # the first 6 in reading order, not the second
    note = next(i.value for i in at.info if "A tie" in i.value)
    assert "PyTorch" in note and "first" in note and "row-major" in note
    assert "padded cell (1, 0)" in note and "(1, 0), (1, 1)" in note
    torch_dX = torch_grad(X, np.ones((2, 2)), "max", 2, 2)
    assert torch_dX[1, 0] == 1 and torch_dX[1, 1] == 0  # torch's own backward picks the first, too
    assert first["grad"] == [[fmt(v) for v in row] for row in torch_dX[:2, :2]]
    at = app("Backpropagation")
    np.testing.assert_array_equal(z(at, "dL/dX"), torch_dX)
    assert any("A tie" in i.value for i in at.info)


def test_the_stepper_routes_the_typed_upstream_gradient():
    at = app("Backpropagation")
    at.radio(key="pool_grad_source").set_value("Type my own").run()
    at.text_area(key="pool_grad_2x2").input("5 -2\n3 0.5").run()
    at.query_params["pool_section"] = "Step through"
    at.session_state["pool_section"] = "Step through"  # the tab, as a click on it does
    at.run()
    payload = stepper_payloads(at)[0]
    assert [s["g"] for s in payload["steps"]] == ["5", "-2", "3", "0.5"]
    assert shown_step(payload)["grad"] == [["0", "0"], ["5", "0"]]


def test_the_slide_warning_leaves_when_the_settings_change():
    at = app()
    at.selectbox(key="pool_preset").set_value("X filter 2 map, max pooling").run()
    assert any("slide's answer has mistakes" in w.value for w in at.warning)
    at.selectbox(key="pool_mode").set_value("avg").run()
    assert not any("slide's answer has mistakes" in w.value for w in at.warning)
    assert stepper_payloads(at)[0]["marks"] == []
    assert any("outlined only with the example's own settings" in c.value for c in at.caption)


def test_a_link_sets_the_input_settings_section_and_cell():
    at = app_test(PAGE)
    at.query_params.update(
        {
            "pool_input_source": "Type a grid",
            "pool_X": "1_5_2~7_3_9~4_8_6",
            "pool_mode": "Min",
            "pool_size": "2",
            "pool_stride_same": "false",
            "pool_stride": "1",
            "pool_cell": "1_1",
        }
    )
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "link" in w.value]
    payload = stepper_payloads(at)[0]
    assert payload["output"]["text"] == [["1", "2"], ["3", "3"]]
    assert payload["cell"] == [1, 1] and shown_step(payload)["expr"] == "Y[1, 1] = min(3, 9, 8, 6) = 3"


@pytest.mark.parametrize(
    "params, words",
    [
        ({"pool_size": "9"}, "pool_size"),
        ({"pool_size": "2", "pool_padding": "3"}, "pool_padding"),  # a 2x2 window allows at most 1
        ({"pool_section": "Everything"}, "pool_section"),
        ({"pool_cell": "1-1"}, "a cell looks like 2_3"),
        ({"pool_input_source": "Type a grid", "pool_X": "1_2~x_4"}, "not a number"),
        ({"pool_grad_source": "Type my own", "pool_g": "1_2~3"}, "row 2 has 1 numbers"),
    ],
)
def test_a_bad_link_warns_and_keeps_the_default(params, words):
    at = app_test(PAGE)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert stepper_payloads(at)[0]["steps"]


def test_a_link_with_the_older_image_crop_label_opens_on_picture():
    at = app_test(PAGE)
    at.query_params["pool_input_source"] = "Image crop"
    at.run()
    assert not at.exception and not [w for w in at.warning if "This link" in w.value]
    assert at.selectbox(key="pool_input_source").value == "Picture"


def test_a_larger_crop_after_moving_it_to_the_far_corner_keeps_the_crop_inside():
    """Crop at its bottom-right corner, then a larger crop size: the corner's range shrinks under it."""
    at = app()
    at.selectbox(key="pool_input_source").set_value("Picture").run()
    at.slider(key="pool_crop").set_value(4).run()
    bottom, right = at.slider(key="pool_top").max, at.slider(key="pool_left").max
    at.slider(key="pool_top").set_value(bottom).run()
    at.slider(key="pool_left").set_value(right).run()
    at.slider(key="pool_crop").set_value(20).run()
    assert not at.exception, at.exception
    top, left = at.slider(key="pool_top"), at.slider(key="pool_left")
    assert top.value == top.max < bottom and left.value == left.max < right


def test_a_link_with_padding_its_window_allows_warns_nothing():
    at = app_test(PAGE)
    at.query_params.update({"pool_size": "6", "pool_padding": "3", "pool_stride_same": "true"})
    at.run()
    assert not at.exception and not [w.value for w in at.warning if "link" in w.value]
    assert at.slider(key="pool_padding").value == 3
