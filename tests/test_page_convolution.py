"""The Convolution page under AppTest: presets, settings, stepping, typed grids, uploads, check-my-work."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    app_test,
    decode,
    error_texts,
    payload_numbers,
    pick_cell,
    plotly_figures,
    shown_step,
    stepper_payloads,
)

from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import convolution_trace, correlation_trace, fmt

PAGE = "pages/1_Convolution.py"
SIX = EXAMPLES["6x6 input, vertical edge"]


@pytest.fixture
def at():
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stepper(at) -> dict:
    """The stepper component's data."""
    (payload,) = stepper_payloads(at)
    return payload


def full_output(at) -> np.ndarray:
    """The output grid the stepper draws (the whole output when it is small, else the stepped block)."""
    return payload_numbers(stepper(at)["output"])


def selected(at) -> str:
    """The selected cell's sum, as the stepper writes it out."""
    return shown_step(stepper(at))["expr"]


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_default_is_the_lectures_six_by_six_example(at):
    assert selected(at) == "Y[0, 0] = 3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5"
    np.testing.assert_array_equal(full_output(at), SIX.output)
    products = shown_step(stepper(at))["products"]
    assert products == [[fmt(v) for v in row] for row in SIX.input[:3, :3] * SIX.kernel]
    assert "floor((6 + 2*0 - 3) / 1) + 1 = floor(3/1) + 1 = 4" in markdown(at)
    assert "output 4x4" in markdown(at)
    assert "the output matches its (correct) answer" in markdown(at)


def test_a_cell_picked_in_the_browser_reaches_the_page(at):
    """The component's state (what the browser sends on pause or click) drives the page's selected cell."""
    at.session_state["conv_torch"] = True  # open the folded PyTorch snippet
    pick_cell(at, "conv_step", 2, 3)
    assert not at.exception
    assert "Selected: output cell (2, 3)" in markdown(at)
    assert selected(at).startswith("Y[2, 3]") and selected(at).endswith("= -7")
    assert stepper(at)["cell"] == [2, 3]
    snippet = next(c.value for c in at.code if c.value.startswith("import torch"))
    assert "print(Y[2, 3])  # output cell (2, 3) = -7" in snippet
    # check-my-work explains the selected cell beside the student's number
    at.text_area(key="conv_check_answer").set_value(
        "\n".join(" ".join(str(int(v)) for v in row) for row in SIX.output)
    ).run()
    assert "Selected cell (2, 3)**: you wrote -7, right" in markdown(at)
    assert any(c.value.startswith("Y[2, 3] = ") and c.value.endswith("= -7") for c in at.code)


def test_a_malformed_or_stale_cell_never_crashes_the_page(at):
    for bad in ({"cell": "x"}, {"cell": [99, 99]}, {"cell": None}, {"other": 1}):
        at.session_state["conv_step"] = bad
        at.run()
        assert not at.exception, bad
    assert stepper(at)["cell"] == [0, 0]  # {"other": 1}: nothing sent yet, the first cell
    pick_cell(at, "conv_step", 99, 99)
    assert stepper(at)["cell"] == [3, 3]  # kept inside the 4x4 output


def test_a_preset_with_slide_errors_marks_the_wrong_cells(at):
    at.selectbox(key="conv_example").set_value("X image, filter 1").run()
    assert any("(1, 1): slide -1, correct 1" in w.value for w in at.warning)
    assert sorted(map(tuple, stepper(at)["marks"])) == [(1, 1), (2, 1)]
    assert stepper(at)["mark_caption"] == "the slide printed -1 (is 1), -2 (is -3)"
    np.testing.assert_array_equal(full_output(at), EXAMPLES["X image, filter 1"].output)


def test_a_stride_preset_brings_its_stride(at):
    at.selectbox(key="conv_example").set_value("7x7 input, stride 2").run()
    assert at.number_input(key="conv_stride_h").value == 2
    np.testing.assert_array_equal(full_output(at), [[91, 100, 88], [69, 91, 117], [44, 72, 71]])


def test_padding_stride_and_dilation_change_the_output(at):
    at.radio(key="conv_pad_mode").set_value("same").run()
    assert full_output(at).shape == (6, 6)
    assert "floor((6 + 2*1 - 3) / 1) + 1" in markdown(at)
    kinds = np.array(stepper(at)["input"]["kind"])
    assert kinds.shape == (8, 8) and (kinds[0] == 1).all() and (kinds[1:7, 1:7] == 0).all()  # padding ring
    expected = correlation_trace(SIX.input, SIX.kernel, padding=1).output
    np.testing.assert_array_equal(full_output(at), expected)

    # "same" with stride 2 is a library error: shown, and the last good result stays.
    at.number_input(key="conv_stride_w").set_value(2).run()
    assert any('padding="same" only works with stride 1' in e for e in error_texts(at))
    np.testing.assert_array_equal(full_output(at), expected)

    at.radio(key="conv_pad_mode").set_value("custom").run()
    at.number_input(key="conv_pad_r").set_value(0).run()
    expected = correlation_trace(SIX.input, SIX.kernel, padding=((1, 1), (1, 0)), stride=(1, 2)).output
    np.testing.assert_array_equal(full_output(at), expected)
    assert not error_texts(at)

    at.number_input(key="conv_dil_h").set_value(2).run()
    expected = correlation_trace(
        SIX.input, SIX.kernel, padding=((1, 1), (1, 0)), stride=(1, 2), dilation=(2, 1)
    )
    np.testing.assert_array_equal(full_output(at), expected.output)
    assert "(2*(3 - 1) + 1)" in markdown(at)  # the dilated extent in the formula


def test_a_stride_that_does_not_tile_names_the_unvisited_cells(at):
    at.selectbox(key="conv_source").set_value("Random grid").run()
    at.number_input(key="conv_rand_h").set_value(10).run()
    at.number_input(key="conv_rand_w").set_value(10).run()
    at.number_input(key="conv_stride_h").set_value(2).run()
    at.number_input(key="conv_stride_w").set_value(2).run()
    assert "floor(7/2) + 1 = floor(3.5) + 1 = 4" in markdown(at)
    assert any("rows [9] and columns [9] are never read" in w.value for w in at.warning)
    never = np.array(stepper(at)["input"]["kind"]) == 3
    assert never[9].all() and never[:, 9].all() and never.sum() == 19


def test_a_typed_grid_and_a_bad_one_keeps_the_last_good_result(at):
    at.selectbox(key="conv_source").set_value("Type a grid").run()
    at.text_area(key="conv_grid").set_value("0 1 2\n3 4 5\n6 7 8").run()
    at.selectbox(key="conv_kernel_choice").set_value("Type my own").run()
    at.text_area(key="conv_kernel_text").set_value("0 1\n2 3").run()
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])
    assert selected(at) == "Y[0, 0] = 0*0 + 1*1 + 3*2 + 4*3 = 19"

    assert not any("was not used" in w.value for w in at.warning)
    at.text_area(key="conv_grid").set_value("0 1 2\n3 x 5\n6 7 8").run()
    assert any("row 2, column 2: 'x' is not a number" in e for e in error_texts(at))
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])  # the last good grid stays
    # Said outside the popover too, where it is seen once the popover closes.
    refused = [w.value for w in at.warning if "was not used" in w.value]
    assert len(refused) == 1 and "'x' is not a number" in refused[0] and "Type a grid…" in refused[0]
    at.text_area(key="conv_kernel_text").set_value("1 1 1 1\n1 1 1 1\n1 1 1 1\n1 1 1 1").run()
    assert any("kernel 4x4 is larger than the padded input 3x3" in e for e in error_texts(at))
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_an_uploaded_image_and_a_non_image(at):
    at.selectbox(key="conv_source").set_value("Picture").run()
    at.selectbox(key="conv_kernel_choice").set_value("Box blur").run()
    assert any(c.value == "K = 1/9 x [[1, 1, 1], [1, 1, 1], [1, 1, 1]]" for c in at.code)
    at.radio(key="conv_img_source").set_value("Upload my own").run()
    picture = np.zeros((6, 12))
    picture[:, 6:] = 90
    at.file_uploader(key="conv_img_upload").upload("edge.png", _png(picture), "image/png").run()
    assert not at.exception and not error_texts(at)
    expected = correlation_trace(picture, np.ones((3, 3)) / 9).output
    assert stepper(at)["output"]["text"] == [[fmt(v) for v in row] for row in expected]
    assert full_output(at)[0, 4] == 30  # a third of the window is bright
    at.file_uploader(key="conv_img_upload").upload(
        "notes.png", Path(__file__).read_bytes(), "image/png"
    ).run()
    assert any("could not read this file as an image" in e for e in error_texts(at))
    assert stepper(at)["output"]["text"] == [
        [fmt(v) for v in row] for row in expected
    ]  # the last good picture


def test_a_large_picture_shows_the_whole_map_and_steps_a_zoomed_block(at):
    at.selectbox(key="conv_source").set_value("Picture").run()
    at.selectbox(key="conv_img_bundled").set_value("shapes.png").run()  # 128x128, shrunk to 64x64
    at.select_slider(key="conv_size").set_value(64).run()
    at.selectbox(key="conv_kernel_choice").set_value("Sobel (vertical)").run()
    figures = plotly_figures(at)
    whole_output = next(f for f in figures if "Whole output" in f["layout"].get("title", {}).get("text", ""))
    Y = decode(whole_output["data"][0]["z"])
    assert Y.shape[0] == 62 and "text" not in whole_output["data"][0]  # no numbers at this size
    payload = stepper(at)
    assert len(payload["steps"]) == 64 and payload["region"] == [0, 0, 7, 7]  # the block around the cell
    assert len(json.dumps(payload)) < 300_000
    assert payload["output"]["text"] == [[fmt(v) for v in row] for row in Y[:8, :8]]
    assert payload["next_block"] == [0, 8] and payload["prev_block"] is None
    pick_cell(at, "conv_step", 8, 3)  # Next past the block's last cell sends its neighbour's first cell
    assert stepper(at)["region"] == [8, 0, 15, 7] and stepper(at)["cell"] == [8, 3]


def test_check_my_work_marks_right_and_wrong_cells(at):
    right = "\n".join(" ".join(str(int(v)) for v in row) for row in SIX.output)
    at.text_area(key="conv_check_answer").set_value(right).run()
    assert any("All 16 cells are right" in s.value for s in at.success)
    wrong = right.replace("-10", "-11")
    at.text_area(key="conv_check_answer").set_value(wrong).run()
    assert any("15 of 16 cells are right" in w.value for w in at.warning)
    assert at.selectbox(key="conv_check_wrong").value == (1, 0)
    assert any(
        c.value == "Y[1, 0] = " + correlation_trace(SIX.input, SIX.kernel).step(1, 0).expression()
        for c in at.code
    )
    check = next(
        f for f in plotly_figures(at) if "Your answer" in f["layout"].get("title", {}).get("text", "")
    )
    marks = decode(check["data"][0]["z"])
    assert marks[1, 0] == 0 and marks.sum() == 15
    at.text_area(key="conv_check_answer").set_value("1 2\n3 4").run()
    assert any("your grid is 2x2 but the output is 4x4" in e for e in error_texts(at))


def test_the_pytorch_snippet_on_the_page_reproduces_the_grid(at):
    at.radio(key="conv_pad_mode").set_value("custom").run()
    at.number_input(key="conv_pad_t").set_value(2).run()
    at.checkbox(key="conv_flip").check()
    at.session_state["conv_torch"] = True  # open the folded PyTorch snippet
    at.run()
    code = next(c.value for c in at.code if c.value.startswith("import torch"))
    assert "torch.flip" in code and "F.pad(" in code
    namespace: dict = {}
    exec(code, namespace)
    Y = namespace["Y"].numpy()
    assert stepper(at)["output"]["text"] == [[fmt(v) for v in row] for row in Y]


# --- Classroom mode: the slide's mistakes, links, exports -----------------------------------------------------


def slide_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "slide's answer has mistakes" in w.value]


@pytest.mark.parametrize("name", [n for n, ex in EXAMPLES.items() if "slide prints" in ex.note])
def test_every_example_whose_slide_printed_a_wrong_value_flags_it_the_same_way(at, name):
    at.selectbox(key="conv_example").set_value(name).run()
    example = EXAMPLES[name]
    assert example.slide_errors, f"{name}: the note says the slide is wrong, but no slide grid is given"
    (warning,) = slide_warnings(at)
    for i, j, printed, correct in example.slide_errors:
        assert f"({i}, {j}): slide {fmt(printed)}, correct {fmt(correct)}" in warning
    assert sorted(map(tuple, stepper(at)["marks"])) == sorted((i, j) for i, j, _, _ in example.slide_errors)
    assert not any("slide prints" in c.value for c in at.caption)  # not a grey caption any more


def test_the_seven_by_seven_slide_errors_are_the_three_cells_it_names():
    cells = [(i, j, p) for i, j, p, _ in EXAMPLES["7x7 input, stride 2"].slide_errors]
    assert cells == [(0, 2, 83), (1, 2, 127), (2, 2, 74)]


@pytest.mark.parametrize(
    "change",
    [
        lambda at: at.radio(key="conv_pad_mode").set_value("same"),
        lambda at: at.selectbox(key="conv_kernel_choice").set_value("Box blur"),
        lambda at: at.number_input(key="conv_stride_h").set_value(2),
    ],
    ids=["padding", "kernel", "stride"],
)
def test_the_slide_warning_leaves_once_nothing_is_outlined(at, change):
    at.selectbox(key="conv_example").set_value("X image, filter 1").run()
    assert slide_warnings(at) and stepper(at)["marks"]
    change(at).run()
    assert not stepper(at)["marks"]
    assert slide_warnings(at) == []
    assert any("outlined only with the example's own kernel and settings" in c.value for c in at.caption)


def test_small_whole_numbers_on_a_large_grid_are_not_drawn_as_black_pixels(at):
    """A 64x64 random grid of 0..9 is coloured on 0..9, not on a picture's 0..255 grey scale."""
    at.selectbox(key="conv_source").set_value("Random grid").run()
    at.number_input(key="conv_rand_h").set_value(64).run()
    at.number_input(key="conv_rand_w").set_value(64).run()
    overview = next(f for f in plotly_figures(at) if f["layout"]["title"]["text"].startswith("Whole input"))
    assert overview["data"][0]["zmax"] == 9 and overview["data"][0]["zmin"] == 0
    assert stepper(at)["input"]["scale"] != "grey"


def test_a_link_sets_every_setting_and_the_selected_cell():
    at = app_test(PAGE)
    at.query_params.update(
        {
            "conv_source": "Type a grid",
            "conv_X": "1_2_3_4~5_6_7_8~9_10_11_12~13_14_15_16",
            "conv_kernel_choice": "Type my own",
            "conv_K": "1_0~0_-1",
            "conv_pad_mode": "custom",
            "conv_pad_t": "0",
            "conv_pad_l": "0",
            "conv_stride_w": "2",
            "conv_dil_h": "2",
            "conv_flip": "true",
            "conv_cell": "1_1",
            "conv_speed": "250",
        }
    )
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "link" in w.value]
    X = np.arange(1, 17, dtype=float).reshape(4, 4)
    expected = convolution_trace(
        X, [[1, 0], [0, -1]], padding=((0, 1), (0, 1)), stride=(1, 2), dilation=(2, 1)
    )
    assert stepper(at)["output"]["text"] == [[fmt(v) for v in row] for row in expected.output]
    assert stepper(at)["cell"] == [1, 1] and stepper(at)["speed"] == 250
    assert selected(at) == f"Y[1, 1] = {expected.step(1, 1).expression()}"


@pytest.mark.parametrize(
    "params, words",
    [
        ({"conv_cell": "x_1"}, "a cell looks like 2_3"),
        ({"conv_cell": "40_40"}, "the output is 4x4"),
        ({"conv_stride_h": "0"}, "conv_stride_h"),
        ({"conv_pad_mode": "huge"}, "conv_pad_mode"),
        ({"conv_source": "Type a grid", "conv_X": "1_2~3"}, "row 2 has 1 numbers"),
        ({"conv_kernel_choice": "Type my own", "conv_K": "1_x"}, "not a number"),
        ({"conv_speed": "fast"}, "play speed"),
        ({"conv_example": "8x8 nothing"}, "conv_example"),
    ],
)
def test_a_bad_link_says_what_is_wrong_and_shows_the_default(params, words):
    at = app_test(PAGE)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert stepper(at)["steps"]  # the stepper is still drawn


def test_the_export_buttons_sit_beside_the_stepper(at):
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Step as PNG", "Step as SVG", "Walk as GIF", "Grids as CSV"]


@pytest.mark.parametrize("name", [n for n, ex in EXAMPLES.items() if ex.stride > 1 and ex.kernel is not None])
def test_a_hand_written_link_to_a_strided_example_shows_the_examples_own_stride(name):
    at = app_test(PAGE)
    at.query_params["conv_example"] = name
    at.run()
    assert not at.exception
    ex = EXAMPLES[name]
    assert (
        at.number_input(key="conv_stride_h").value == ex.stride == at.number_input(key="conv_stride_w").value
    )
    expected = correlation_trace(ex.input, ex.kernel, stride=ex.stride).output
    assert stepper(at)["output"]["text"] == [[fmt(v) for v in row] for row in expected]


def test_a_stride_in_the_link_wins_over_the_examples_own():
    at = app_test(PAGE)
    at.query_params.update(
        {"conv_example": "7x7 input, stride 2", "conv_stride_h": "1", "conv_stride_w": "3"}
    )
    at.run()
    assert not at.exception
    assert at.number_input(key="conv_stride_h").value == 1 and at.number_input(key="conv_stride_w").value == 3


def test_stride_1_on_a_strided_example_survives_the_link():
    at = app_test(PAGE).run()
    at.selectbox(key="conv_example").set_value("7x7 input, stride 2").run()
    at.number_input(key="conv_stride_h").set_value(1).run()
    # AppTest does not write the widgets bound to the link into at.query_params; the page's own writes are
    assert dict(at.query_params) == {"conv_stride_h": "1"}
    again = app_test(PAGE)
    again.query_params.update({"conv_example": "7x7 input, stride 2", **dict(at.query_params)})
    again.run()
    assert not again.exception
    assert again.number_input(key="conv_stride_h").value == 1
    assert again.number_input(key="conv_stride_w").value == 2


@pytest.mark.parametrize(
    "old, new",
    [
        ({"conv_source": "Worked example"}, ("conv_source", "Lecture example")),
        (
            {"conv_kernel_choice": "The worked example's kernel"},
            ("conv_kernel_choice", "The lecture example's kernel"),
        ),
    ],
)
def test_a_link_with_an_older_label_opens_on_todays_label(old, new):
    at = app_test(PAGE)
    at.query_params.update({**old, "conv_example": "7x7 input, stride 2"})
    at.run()
    assert not at.exception and not [w for w in at.warning if "This link" in w.value]
    assert at.selectbox(key=new[0]).value == new[1]
    assert stepper(at)["shape"] == list(EXAMPLES["7x7 input, stride 2"].output.shape)
