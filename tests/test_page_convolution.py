"""The Convolution page under AppTest: presets, settings, stepping, typed grids, uploads, check-my-work."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import app_test, decode, error_texts, plotly_figures

from cnnviz.presets import EXAMPLES
from cnnviz.trace import correlation_trace

PAGE = "pages/1_Convolution.py"
SIX = EXAMPLES["6x6 input, vertical edge"]


@pytest.fixture
def at():
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stepper(at) -> dict:
    """The animated stepper figure (the one with frames)."""
    return next(f for f in plotly_figures(at) if f.get("frames"))


def named(fig: dict, name: str) -> np.ndarray:
    return decode(next(t for t in fig["data"] if t.get("name") == name)["z"])


def full_output(at) -> np.ndarray:
    """The output grid as the last animation frame draws it (every cell filled)."""
    fig = stepper(at)
    index = next(n for n, t in enumerate(fig["data"]) if t.get("name") == "output")
    last = fig["frames"][-1]
    return decode(last["data"][last["traces"].index(index)]["z"])


def selected(at) -> str:
    """The selected cell's sum, as the page writes it under the figure."""
    return next(c.value for c in at.code if c.value.startswith("Y["))


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_default_is_the_lectures_six_by_six_example(at):
    assert selected(at) == "Y[0, 0] = 3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5"
    np.testing.assert_array_equal(full_output(at), SIX.output)
    np.testing.assert_array_equal(named(stepper(at), "product"), SIX.input[:3, :3] * SIX.kernel)
    assert "floor((6 + 2*0 - 3) / 1) + 1 = floor(3/1) + 1 = 4" in markdown(at)
    assert "output 4x4" in markdown(at)
    assert any("matches" in s.value for s in at.success)


def test_next_previous_and_jump_to_a_cell(at):
    at.button(key="conv_step_next").click().run()
    at.button(key="conv_step_next").click().run()
    assert selected(at).endswith("= 0") and selected(at).startswith("Y[0, 2]")
    assert at.slider(key="conv_step_k").value == 3
    at.button(key="conv_step_prev").click().run()
    assert selected(at).startswith("Y[0, 1]") and selected(at).endswith("= -4")
    at.number_input(key="conv_step_row").set_value(3).run()
    at.number_input(key="conv_step_col").set_value(3).run()
    assert selected(at).startswith("Y[3, 3]") and selected(at).endswith("= -16")
    assert at.slider(key="conv_step_k").value == 16
    assert "output cell (3, 3)" in json.dumps(stepper(at)["layout"]["annotations"])
    at.slider(key="conv_step_k").set_value(5).run()
    assert selected(at).startswith("Y[1, 0]") and selected(at).endswith("= -10")
    assert at.number_input(key="conv_step_row").value == 1


def test_a_preset_with_slide_errors_marks_the_wrong_cells(at):
    at.selectbox(key="conv_example").set_value("X image, filter 1").run()
    assert any("(1, 1): slide -1, correct 1" in w.value for w in at.warning)
    fig = stepper(at)
    dashed = [s for s in fig["layout"]["shapes"] if s["line"].get("dash") == "dash"]
    assert sorted(((s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) for s in dashed) == [
        (1.0, 1.0),
        (2.0, 1.0),
    ]
    np.testing.assert_array_equal(full_output(at), EXAMPLES["X image, filter 1"].output)


def test_a_stride_preset_brings_its_stride(at):
    at.selectbox(key="conv_example").set_value("7x7 input, stride 2").run()
    assert at.number_input(key="conv_stride_h").value == 2
    np.testing.assert_array_equal(full_output(at), [[91, 100, 88], [69, 91, 117], [44, 72, 71]])


def test_padding_stride_and_dilation_change_the_output(at):
    at.radio(key="conv_pad_mode").set_value("same").run()
    assert full_output(at).shape == (6, 6)
    assert "floor((6 + 2*1 - 3) / 1) + 1" in markdown(at)
    padded = named(stepper(at), "value")
    assert padded.shape == (8, 8) and np.isnan(padded[0]).all()  # the padding ring is drawn apart
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
    at.radio(key="conv_source").set_value("Random grid").run()
    at.number_input(key="conv_rand_h").set_value(10).run()
    at.number_input(key="conv_rand_w").set_value(10).run()
    at.number_input(key="conv_stride_h").set_value(2).run()
    at.number_input(key="conv_stride_w").set_value(2).run()
    assert "floor(7/2) + 1 = floor(3.5) + 1 = 4" in markdown(at)
    assert any("rows [9] and columns [9] are never read" in w.value for w in at.warning)
    layer = next(t for t in stepper(at)["data"] if "never visited" in t.get("hovertemplate", ""))
    shaded = ~np.isnan(decode(layer["z"]))
    assert shaded[9].all() and shaded[:, 9].all() and shaded.sum() == 19


def test_a_typed_grid_and_a_bad_one_keeps_the_last_good_result(at):
    at.radio(key="conv_source").set_value("Type a grid").run()
    at.text_area(key="conv_grid").set_value("0 1 2\n3 4 5\n6 7 8").run()
    at.selectbox(key="conv_kernel_choice").set_value("Type my own").run()
    at.text_area(key="conv_kernel_text").set_value("0 1\n2 3").run()
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])
    assert selected(at) == "Y[0, 0] = 0*0 + 1*1 + 3*2 + 4*3 = 19"

    at.text_area(key="conv_grid").set_value("0 1 2\n3 x 5\n6 7 8").run()
    assert any("row 2, column 2: 'x' is not a number" in e for e in error_texts(at))
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])  # the last good grid stays
    at.text_area(key="conv_kernel_text").set_value("1 1 1 1\n1 1 1 1\n1 1 1 1\n1 1 1 1").run()
    assert any("kernel 4x4 is larger than the padded input 3x3" in e for e in error_texts(at))
    np.testing.assert_array_equal(full_output(at), [[19, 25], [37, 43]])


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_an_uploaded_image_and_a_non_image(at):
    at.radio(key="conv_source").set_value("Picture").run()
    at.selectbox(key="conv_kernel_choice").set_value("Box blur").run()
    assert any(c.value == "K = 1/9 x [[1, 1, 1], [1, 1, 1], [1, 1, 1]]" for c in at.code)
    at.radio(key="conv_img_source").set_value("Upload my own").run()
    picture = np.zeros((6, 12))
    picture[:, 6:] = 90
    at.file_uploader(key="conv_img_upload").upload("edge.png", _png(picture), "image/png").run()
    assert not at.exception and not error_texts(at)
    expected = correlation_trace(picture, np.ones((3, 3)) / 9).output
    np.testing.assert_allclose(full_output(at), expected)
    assert full_output(at)[0, 4] == 30  # a third of the window is bright
    at.file_uploader(key="conv_img_upload").upload(
        "notes.png", Path(__file__).read_bytes(), "image/png"
    ).run()
    assert any("could not read this file as an image" in e for e in error_texts(at))
    np.testing.assert_allclose(full_output(at), expected)  # the last good picture stays


def test_a_large_picture_shows_the_whole_map_and_steps_a_zoomed_block(at):
    at.radio(key="conv_source").set_value("Picture").run()
    at.selectbox(key="conv_img_bundled").set_value("shapes.png").run()  # 128x128, shrunk to 64x64
    at.select_slider(key="conv_size").set_value(64).run()
    at.selectbox(key="conv_kernel_choice").set_value("Sobel (vertical)").run()
    figures = plotly_figures(at)
    whole_output = next(f for f in figures if "Whole output" in f["layout"].get("title", {}).get("text", ""))
    Y = decode(whole_output["data"][0]["z"])
    assert Y.shape[0] == 62 and "text" not in whole_output["data"][0]  # no numbers at this size
    fig = stepper(at)
    assert len(fig["frames"]) == 64  # the 8x8 block around the selected cell
    assert len(json.dumps(fig)) < 1_000_000
    np.testing.assert_allclose(full_output(at), Y[:8, :8])


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
    at.checkbox(key="conv_flip").check().run()
    code = next(c.value for c in at.code if c.value.startswith("import torch"))
    assert "torch.flip" in code and "F.pad(" in code
    namespace: dict = {}
    exec(code, namespace)
    np.testing.assert_allclose(namespace["Y"].numpy(), full_output(at), atol=1e-12)
