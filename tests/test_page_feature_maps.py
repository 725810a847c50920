"""The Feature maps page under AppTest: its main paths and bad inputs, asserting on the rendered values."""

import io

import numpy as np
import pytest
from conftest import (
    ROOT,
    app_test,
    decode,
    error_texts,
    pick_cell,
    plotly_figures,
    shown_step,
    stepper_payloads,
)
from PIL import Image

from cnnviz import KERNELS, conv_transpose2d, correlate2d, format_grid, load_image, pool2d
from cnnviz.lessons.featuremaps import channel_breakdown, filter_bank, to_channels

PAGE = "pages/4_Feature_maps.py"
DEFAULT_BANK = ["Vertical edge", "Horizontal edge", "Diagonal edge", "Laplacian", "Sharpen", "Box blur"]


def _title(fig) -> str:
    return (fig["layout"].get("title") or {}).get("text", "")


def _by_title(at, text: str) -> dict:
    matches = [f for f in plotly_figures(at) if _title(f) == text]
    assert len(matches) == 1, [_title(f) for f in plotly_figures(at)]
    return matches[0]


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _codes(at) -> list[str]:
    return [c.value for c in at.code]


def _open_tab(at, label: str):
    """Tabs run lazily (only the open one computes): open one as a click would."""
    at.session_state["fm_tab"] = label
    return at.run()


def test_bank_on_the_bundled_picture_shows_each_kernels_maps_relu_and_pooling():
    at = app_test(PAGE).run()
    assert not at.exception and not error_texts(at)
    # The first three kernels' rows are drawn at once, the others when their fold is opened.
    assert len(plotly_figures(at)) == 4 * 3
    assert [e.proto.label for e in at.expander][-1] == "The maps of Laplacian, Sharpen, Box blur"
    at.session_state["fm_bank_more"] = True
    at.run()
    text = _markdown(at)
    assert "C_out x H_out x W_out = 6 x 128 x 128 = 98,304 numbers" in text
    assert "C_out*(C_in*kh*kw + 1) = 6*(1*3*3 + 1) = 60 parameters" in text
    assert "6 x 64 x 64" in text
    picture = load_image(ROOT / "assets" / "shapes.png")
    figures = plotly_figures(at)
    # The bank tab draws, per kernel: the kernel, then its map before ReLU, after ReLU, after pooling.
    for k, name in enumerate(DEFAULT_BANK):
        kernel_fig, before, after, pooled = figures[4 * k : 4 * k + 4]
        assert _title(kernel_fig).startswith(name)
        Y = correlate2d(picture, KERNELS[name].array, padding=1)
        np.testing.assert_allclose(decode(before["data"][0]["z"]), Y, atol=1e-9)
        np.testing.assert_allclose(decode(after["data"][0]["z"]), np.maximum(Y, 0), atol=1e-9)
        np.testing.assert_allclose(decode(pooled["data"][0]["z"]), pool2d(np.maximum(Y, 0), 2), atol=1e-9)
    # One colour scale per stage: every map before ReLU shares zmin/zmax, centred on 0.
    before_scales = {(f["data"][0]["zmin"], f["data"][0]["zmax"]) for f in figures[1 : 4 * 6 : 4]}
    assert len(before_scales) == 1 and next(iter(before_scales))[0] == -next(iter(before_scales))[1]


def test_bank_controls_change_the_layer_and_bad_choices_keep_the_last_maps():
    at = app_test(PAGE)
    at.session_state["fm_bank_more"] = True  # every kernel's row drawn
    at.run()
    at.toggle(key="fm_shared").set_value(False)
    at.number_input(key="fm_stride").set_value(2)
    at.selectbox(key="fm_pool_mode").set_value("avg").run()
    assert not at.exception
    text = _markdown(at)
    assert "6 x 64 x 64" in text and "floor((128 + 2*1 - 3) / 2) + 1" in text
    figures = plotly_figures(at)
    before = [figures[4 * k + 1]["data"][0] for k in range(6)]
    assert len({(b["zmin"], b["zmax"]) for b in before}) > 1  # each map on its own scale now
    picture = load_image(ROOT / "assets" / "shapes.png")
    Y = np.maximum(correlate2d(picture, KERNELS["Laplacian"].array, stride=2, padding=1), 0)
    np.testing.assert_allclose(decode(figures[4 * 3 + 3]["data"][0]["z"]), pool2d(Y, 2, mode="avg"))

    at.multiselect(key="fm_bank").set_value([]).run()
    assert not at.exception
    assert any("Choose at least one kernel" in e for e in error_texts(at))
    assert "6 x 64 x 64" in _markdown(at)  # the last good bank stays on screen


def test_colour_picture_bank_uses_three_channel_filters():
    at = app_test(PAGE).run()
    at.toggle(key="fm_rgb").set_value(True).run()
    at.selectbox(key="fm_bundled").set_value("scene.png").run()
    names = list(KERNELS)[:8]
    at.multiselect(key="fm_bank").set_value(names).run()
    assert not at.exception and not error_texts(at)
    text = _markdown(at)
    assert "8 x 120 x 160" in text and "8*(3*3*3 + 1) = 224 parameters" in text
    scene = to_channels(load_image(ROOT / "assets" / "scene.png", mode="RGB"))
    expected = filter_bank(scene, {n: KERNELS[n].array for n in names}, padding=1)
    # 120x160 is beyond a heatmap's size: the maps are images with a colour bar on the shared scale.
    before = plotly_figures(at)[1]
    assert before["data"][0]["type"] == "image" and before["data"][1]["marker"]["showscale"]
    m = np.abs(expected.maps).max()
    assert before["data"][1]["marker"]["cmin"] == -m and before["data"][1]["marker"]["cmax"] == m


def test_rgb_breakdown_edits_each_channel_kernel_and_shows_the_sum():
    at = _open_tab(app_test(PAGE).run(), "One filter, three channels")
    assert "6 x 128 x 128" not in _markdown(at)  # the closed bank tab computed nothing
    scene = to_channels(load_image(ROOT / "assets" / "scene.png", mode="RGB"))
    at.text_area(key="fm_rgb_kernel_R").input("0 0 0\n0 2 0\n0 0 0")
    at.number_input(key="fm_rgb_bias").set_value(5.0).run()
    assert not at.exception and not error_texts(at)
    assert "*R + G + B + b* and `conv2d`'s map is **0**" in _markdown(at)
    Kg, Kb = KERNELS["Horizontal edge"].array, KERNELS["Laplacian"].array
    final = 2 * scene[0] + correlate2d(scene[1], Kg, padding=1) + correlate2d(scene[2], Kb, padding=1) + 5
    lines = next(c for c in _codes(at) if c.startswith("R: ")).splitlines()
    i, j = (int(v) for v in lines[-1].split("[")[1].split("]")[0].split(", "))
    start = channel_breakdown(
        scene, [KERNELS[n].array for n in ("Vertical edge", "Horizontal edge", "Laplacian")], padding=1
    )
    inner = np.abs(start.final)[1:-1, 1:-1]
    assert (i - 1, j - 1) == np.unravel_index(
        np.argmax(inner), inner.shape
    )  # the strongest inside the border
    assert lines[0].endswith(f"= {2 * scene[0, i, j]:g}")
    assert lines[-1].startswith(f"final[{i}, {j}] = ") and lines[-1].endswith(f" + 5 = {final[i, j]:g}")
    # Choose another cell: its sum is written out.
    at.number_input(key="fm_rgb_row").set_value(0)
    at.number_input(key="fm_rgb_col").set_value(0).run()
    last = next(c for c in _codes(at) if c.startswith("R: ")).splitlines()[-1]
    assert last.startswith("final[0, 0] = ") and last.endswith(f"= {final[0, 0]:g}")

    # A typo names the row; a kernel of another size is refused; the last good result stays.
    at.text_area(key="fm_rgb_kernel_G").input("1 1 1\n0 0\n-1 -1 -1").run()
    assert any("Green kernel" in e and "row 2 has 2 numbers" in e for e in error_texts(at))
    at.text_area(key="fm_rgb_kernel_G").input("1 1\n1 1").run()
    assert any("one same-size kernel per channel" in e for e in error_texts(at))
    assert last in next(c for c in _codes(at) if c.startswith("R: "))
    # A preset refills the typed kernel.
    at.selectbox(key="fm_rgb_preset_G").set_value("Identity").run()
    assert at.text_area(key="fm_rgb_kernel_G").value == "0 0 0\n0 1 0\n0 0 0"
    assert not error_texts(at)
    # What was typed survives a visit to another tab (a closed tab's widgets are not drawn).
    _open_tab(at, "Bank of kernels")
    at = _open_tab(at, "One filter, three channels")
    assert at.text_area(key="fm_rgb_kernel_R").value == "0 0 0\n0 2 0\n0 0 0"
    assert at.number_input(key="fm_rgb_bias").value == 5.0
    assert not at.exception and not at.warning


def test_one_by_one_convolution_mixes_channels_and_rejects_bad_rows():
    at = _open_tab(app_test(PAGE).run(), "1x1 convolution")
    scene = to_channels(load_image(ROOT / "assets" / "scene.png", mode="RGB"))
    at.selectbox(key="fm_mix_preset").set_value("Swap channels (RGB -> BGR): 3 filters").run()
    assert not at.exception and not error_texts(at)
    assert "3 x 120 x 160 = 57,600 numbers" in _markdown(at)
    assert "3*(3*1*1 + 1) = 12 parameters" in _markdown(at)
    swap = [c for c in _codes(at) if c.startswith("map 1:")][0].splitlines()
    r, g, b = scene[:, 60, 80]
    assert swap[0] == f"map 1: {r:g}*0 + {g:g}*0 + {b:g}*1 = {b:g}"
    assert swap[2].endswith(f"= {r:g}")

    at.text_area(key="fm_mix_text").input("0.5 0.5 0 -10").run()
    assert "1 x 120 x 160" in _markdown(at)
    line = [c for c in _codes(at) if c.startswith("map 1:")][0]
    assert line.endswith(f" + -10 = {0.5 * r + 0.5 * g - 10:g}")
    at.text_area(key="fm_mix_text").input("1 2").run()
    assert any("needs 3 weights" in e for e in error_texts(at))
    assert "1 x 120 x 160" in _markdown(at)


def test_transposed_convolution_dumoulin_visin_and_dilated_stepping():
    at = _open_tab(app_test(PAGE).run(), "Transposed and dilated")
    X, K = np.array([[1.0, 2], [3, 4]]), np.ones((3, 3))
    expected = conv_transpose2d(X, K, stride=2)
    np.testing.assert_array_equal(
        decode(_by_title(at, "Y (p = 0: nothing cropped)")["data"][0]["z"]), expected
    )
    np.testing.assert_array_equal(decode(_by_title(at, "Sum of all stamps")["data"][0]["z"]), expected)
    stamp = decode(_by_title(at, "X[1,1] = 4 stamps 4*K")["data"][0]["z"])
    assert stamp[2:, 2:].tolist() == [[4] * 3] * 3 and stamp[:2].sum() == 0
    text = _markdown(at)
    assert "`(2 - 1)*2 - 2*0 + 3 = 5`" in text and "Z is 7x7" in text and "**agree**" in text
    transposed, dilated = stepper_payloads(at)
    assert (
        transposed["steps"][0]["expr"] == "Y[0, 0] = 0*1 + 0*1 + 0*1 + 0*1 + 0*1 + 0*1 + 0*1 + 0*1 + 1*1 = 1"
    )
    kinds = np.array(transposed["input"]["kind"])
    assert (kinds == 2).sum() == 7 * 7 - 4 and (kinds == 0).sum() == 4  # only X's four values are data
    assert transposed["titles"]["input"] == "Z (zeros inserted)"

    # Padding crops the output; too much padding is refused and the last good views stay.
    at.number_input(key="fm_t_padding").set_value(1).run()
    np.testing.assert_array_equal(
        decode(_by_title(at, "Y after cropping p = 1 from each side")["data"][0]["z"]), expected[1:-1, 1:-1]
    )
    at.number_input(key="fm_t_padding").set_value(3).run()
    assert any("crops the transposed output to nothing" in e for e in error_texts(at))
    assert _by_title(at, "Y after cropping p = 1 from each side")
    at.number_input(key="fm_t_padding").set_value(0)
    at.text_area(key="fm_t_kernel").input("1 x 1").run()
    assert any("'x' is not a number" in e for e in error_texts(at))

    # Dilated: the default 7x7 grid, 3x3 kernel, d = 2 -> 3x3, stepped cell by cell.
    grid = np.arange(49).reshape(7, 7) % 10
    Kd = np.array([[1, 0, -1]] * 3, dtype=float)
    Yd = correlate2d(grid, Kd, dilation=2)
    assert "`d*(k - 1) + 1 = 2*(3 - 1) + 1 = 5`" in _markdown(at)
    first = dilated["steps"][0]["expr"]
    assert first.startswith("Y[0, 0] = 0*1 + 2*0 + 4*(-1)") and first.endswith(f"= {Yd[0, 0]:g}")
    assert dilated["dilated"] and dilated["row_taps"][0] == [0, 2, 4]  # the taps d = 2 apart
    pick_cell(at, "fm_d_step", 2, 1)
    assert shown_step(stepper_payloads(at)[1])["value"] == f"{Yd[2, 1]:g}"
    at.number_input(key="fm_d_dilation").set_value(4).run()
    assert any("dilated to 9x9" in e and "larger than the padded input 7x7" in e for e in error_texts(at))


def test_uploaded_colour_photo_runs_through_every_section():
    rgb = np.random.default_rng(0).integers(0, 256, (90, 200, 3)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    at = app_test(PAGE).run()
    at.toggle(key="fm_rgb").set_value(True).run()
    at.radio(key="fm_source").set_value("Upload my own").run()
    at.file_uploader(key="fm_upload").upload("photo.png", buf.getvalue(), "image/png").run()
    assert not at.exception and not error_texts(at)
    text = _markdown(at)
    assert "**photo.png**: 90 x 200 x 3 channels" in text
    assert "6 x 90 x 200" in text and "6 x 45 x 100" in text
    assert "1 x 90 x 200" in _markdown(_open_tab(at, "1x1 convolution"))  # the 1x1 section uses it too
    _open_tab(at, "Bank of kernels")
    # A file that is not an image: an error, and the last good photo stays.
    at.file_uploader(key="fm_upload").upload("notes.png", b"not an image", "image/png").run()
    assert any("could not read this file as an image" in e for e in error_texts(at))
    assert "6 x 90 x 200" in _markdown(at)


# --- Classroom mode: links ------------------------------------------------------------------------------------


def test_a_link_sets_the_tab_bank_settings_and_the_steppers_cells():
    at = app_test(PAGE)
    at.query_params.update({"fm_tab": "Transposed and dilated", "fm_t_cell": "2_3", "fm_d_cell": "1_1"})
    at.run()
    assert not at.exception and not [w.value for w in at.warning if "link" in w.value]
    transposed, dilated = stepper_payloads(at)
    assert transposed["cell"] == [2, 3] and dilated["cell"] == [1, 1]
    at = app_test(PAGE)
    at.query_params.update({"fm_bank": ["Laplacian", "Box blur"], "fm_padding": "0", "fm_pool_size": "4"})
    at.run()
    assert not at.exception and not [w.value for w in at.warning if "link" in w.value]
    assert at.multiselect(key="fm_bank").value == ["Laplacian", "Box blur"]
    assert any(
        "= 2 x 126 x 126 = " in m.value and "pooling 4x4: `2 x 31 x 31`" in m.value for m in at.markdown
    )


@pytest.mark.parametrize(
    "params, words",
    [
        ({"fm_tab": "Everything"}, "fm_tab"),
        ({"fm_stride": "9"}, "fm_stride"),
        ({"fm_pool_mode": "median"}, "fm_pool_mode"),
        ({"fm_bank": ["Blur of doom"]}, "fm_bank"),
        ({"fm_tab": "Transposed and dilated", "fm_t_cell": "9_9"}, "outside it"),
    ],
)
def test_a_bad_link_warns_and_keeps_the_defaults(params, words):
    at = app_test(PAGE)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]


def _link_of(at) -> dict:
    """What the page itself wrote into the link (AppTest keeps the page's writes in at.query_params)."""
    return {k: at.query_params[k] for k in at.query_params}


def test_the_channel_kernels_and_bias_go_into_the_link_and_come_back():
    at = _open_tab(app_test(PAGE).run(), "One filter, three channels")
    at.text_area(key="fm_rgb_kernel_R").input("0 0 0\n0 2 0\n0 0 0")
    at.number_input(key="fm_rgb_bias").set_value(5.0).run()
    link = _link_of(at)
    assert link["fm_rgb_KR"] == "0_0_0~0_2_0~0_0_0" and link["fm_rgb_b"] == "5"
    assert "fm_rgb_KG" not in link  # the default kernel is left out
    again = app_test(PAGE)
    again.query_params.update({"fm_tab": "One filter, three channels", **link})
    again.run()
    assert not again.exception and not again.warning
    assert again.text_area(key="fm_rgb_kernel_R").value == "0 0 0\n0 2 0\n0 0 0"
    assert again.number_input(key="fm_rgb_bias").value == 5.0
    # the written-out cell starts on the strongest response; at the same cell the sums are the same
    for key in ("fm_rgb_row", "fm_rgb_col"):
        again.number_input(key=key).set_value(at.number_input(key=key).value)
    assert _codes(again.run()) == _codes(at)


def test_the_1x1_filters_and_the_typed_upsampling_grids_go_into_the_link_and_come_back():
    at = _open_tab(app_test(PAGE).run(), "1x1 convolution")
    at.text_area(key="fm_mix_text").input("0.5 0.5 0 -10").run()
    assert _link_of(at)["fm_mix_W"] == "0.5_0.5_0_-10"
    again = app_test(PAGE)
    again.query_params.update({"fm_tab": "1x1 convolution", **_link_of(at)})
    again.run()
    assert not again.exception and again.text_area(key="fm_mix_text").value == "0.5 0.5 0 -10"
    assert _codes(again) == _codes(at)
    at = _open_tab(app_test(PAGE).run(), "Transposed and dilated")
    at.text_area(key="fm_t_input").input("1 2\n3 5")
    at.text_area(key="fm_d_kernel").input("1 1\n1 1").run()
    link = _link_of(at)
    assert link["fm_t_X"] == "1_2~3_5" and link["fm_d_K"] == "1_1~1_1" and "fm_t_K" not in link
    again = app_test(PAGE)
    again.query_params.update({"fm_tab": "Transposed and dilated", **link})
    again.run()
    assert again.text_area(key="fm_t_input").value == "1 2\n3 5"
    assert stepper_payloads(again) == stepper_payloads(at)


@pytest.mark.parametrize(
    "params, words",
    [({"fm_rgb_KR": "1_x"}, "R channel kernel"), ({"fm_rgb_b": "1_2"}, "a bias is one number")],
)
def test_a_bad_typed_grid_in_the_link_warns_and_keeps_the_default(params, words):
    at = app_test(PAGE)
    at.query_params.update({"fm_tab": "One filter, three channels", **params})
    at.run()
    assert not at.exception
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.text_area(key="fm_rgb_kernel_R").value == format_grid(KERNELS["Vertical edge"].array)


@pytest.mark.parametrize("tab", ["One filter, three channels", "1x1 convolution"])
def test_the_channel_and_1x1_figures_follow_projector_mode_and_the_theme(tab):
    normal = app_test(PAGE)
    normal.query_params["fm_tab"] = tab
    figures = plotly_figures(normal.run())
    assert figures and all(f["layout"].get("paper_bgcolor") == "rgba(0,0,0,0)" for f in figures)
    assert all(f["layout"].get("width") for f in figures)  # their own size on a desk
    big = app_test(PAGE)
    big.query_params.update({"fm_tab": tab, "projector": "true"})
    figures = plotly_figures(big.run())
    assert not big.exception and figures
    assert all(not f["layout"].get("width") for f in figures)  # the full width for the room
    assert all(f["layout"]["font"]["size"] >= 18 for f in figures)
