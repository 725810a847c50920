"""The "Correlation versus convolution" page under AppTest: presets, typed grids (also bad ones), the loop
orders, associativity, 1-D stepping and smoothing, and the FFT route, asserting on what is rendered."""

import re

import numpy as np
import pytest
from conftest import app_test, decode, error_texts, pick_cell, plotly_figures, shown_step, stepper_payloads

from cnnviz.inputs import parse_grid
from cnnviz.lessons.compare import PAIRS, gaussian_window, noisy_sine, random_arrays
from cnnviz.ops import convolve1d, convolve2d, correlate2d

PAGE = "pages/2_Correlation_vs_convolution.py"
SIX = PAIRS["Asymmetric: Vertical edge on the 6x6 input"].X


@pytest.fixture
def at():
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at, name: str):
    """Open one of the page's tabs (they run lazily), as the link ?corr_tab=... does."""
    at.session_state["corr_tab"] = name
    return at.run()


def figure(at, title: str) -> dict:
    """The one rendered figure whose title starts with `title`."""
    found = [
        f for f in plotly_figures(at) if (f["layout"].get("title") or {}).get("text", "").startswith(title)
    ]
    assert len(found) == 1, [(f["layout"].get("title") or {}).get("text") for f in plotly_figures(at)]
    return found[0]


def grid(at, title: str) -> np.ndarray:
    return decode(figure(at, title)["data"][0]["z"])


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_default_vertical_edge_flips_every_sign(at):
    corr = grid(at, "Cross-correlation with K")
    conv = grid(at, "Convolution (K rotated)")
    np.testing.assert_array_equal(corr, [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]])
    np.testing.assert_array_equal(conv, -corr)
    np.testing.assert_array_equal(grid(at, "Convolution − correlation"), -2 * corr)
    np.testing.assert_array_equal(grid(at, "K rotated 180°"), [[-1, 0, 1]] * 3)
    # one shared colour scale over the three results
    results = [figure(at, t) for t in ("Cross-correlation with", "Convolution (", "Convolution −")]
    scales = {(f["data"][0]["zmin"], f["data"][0]["zmax"]) for f in results}
    assert scales == {(-32.0, 32.0)}
    assert any("sign flips" in w.value for w in at.warning)
    assert "3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5" in markdown(at)


def test_symmetric_preset_gives_equal_results_and_fills_the_text_boxes(at):
    at.selectbox(key="corr_pair").set_value("Symmetric: Gaussian blur on the 6x6 input").run()
    assert not at.exception
    assert at.text_area(key="corr_K_text").value.splitlines()[0] == "1/16 2/16 1/16"
    K = parse_grid(at.text_area(key="corr_K_text").value)
    corr, conv = grid(at, "Cross-correlation with K"), grid(at, "Convolution (K rotated)")
    np.testing.assert_allclose(corr, correlate2d(SIX, K))
    np.testing.assert_allclose(conv, corr)
    assert not grid(at, "Convolution − correlation").any()
    assert any("equal everywhere" in s.value for s in at.success)


def test_worked_example_with_stride_and_the_emboss_preset(at):
    at.selectbox(key="corr_pair").set_value("Worked example: 7x7 input, stride 2").run()
    assert at.number_input(key="corr_stride").value == 2
    np.testing.assert_array_equal(
        grid(at, "Cross-correlation with K"), [[91, 100, 88], [69, 91, 117], [44, 72, 71]]
    )
    at.selectbox(key="corr_pair").set_value("Asymmetric: Emboss on the 6x6 input").run()
    corr, conv = grid(at, "Cross-correlation with K"), grid(at, "Convolution (K rotated)")
    assert not np.array_equal(conv, corr) and not np.array_equal(conv, -corr)
    assert any("differ" in w.value for w in at.warning)


def test_typed_grids_and_a_bad_kernel_keep_the_last_good_result(at):
    at.text_area(key="corr_X_text").input("1 2 3 4\n5 6 7 8\n9 10 11 12").run()
    at.text_area(key="corr_K_text").input("1 2\n3 4").run()
    X, K = np.arange(1.0, 13).reshape(3, 4), np.array([[1.0, 2], [3, 4]])
    good = grid(at, "Cross-correlation with K")
    np.testing.assert_array_equal(good, correlate2d(X, K))
    np.testing.assert_array_equal(grid(at, "Convolution (K rotated)"), convolve2d(X, K))
    at.text_area(key="corr_K_text").input("1 2\n3").run()
    assert not at.exception
    assert any("row 2 has 1 numbers but row 1 has 2" in e for e in error_texts(at))
    np.testing.assert_array_equal(grid(at, "Cross-correlation with K"), good)


def test_same_padding_with_stride_2_is_refused_and_full_padding_grows_the_output(at):
    at.radio(key="corr_padding").set_value("full").run()
    assert grid(at, "Cross-correlation with K").shape == (8, 8)
    at.number_input(key="corr_stride").set_value(2)
    at.radio(key="corr_padding").set_value("same").run()
    assert not at.exception
    assert any("only works with stride 1" in e for e in error_texts(at))
    assert grid(at, "Cross-correlation with K").shape == (8, 8)  # the last good result stays


def test_loop_order_tables_for_a_chosen_cell(at):
    at.number_input(key="corr_i").set_value(1)
    at.number_input(key="corr_j").set_value(2).run()
    assert not at.dataframe  # the visiting orders are drawn when their fold is opened
    at.session_state["corr_loops"] = True
    at.run()
    corr_table, conv_table = at.dataframe[0].value, at.dataframe[1].value
    # Output (1, 2) reads input rows 1..3, columns 2..4; correlation starts top-left, convolution bottom-right.
    assert list(corr_table["cell"])[:3] == ["(1,2)", "(1,3)", "(1,4)"]
    assert list(conv_table["cell"])[:3] == ["(3,4)", "(3,3)", "(3,2)"]
    assert list(conv_table["offset"]) == list(corr_table["offset"])[::-1]
    assert corr_table["sum"].iloc[-1] == str(int(correlate2d(SIX, [[1, 0, -1]] * 3)[1, 2]))
    assert conv_table["sum"].iloc[-1] == str(int(convolve2d(SIX, [[1, 0, -1]] * 3)[1, 2]))
    order = figure(at, "Convolution:<br>visiting order")
    np.testing.assert_array_equal(decode(order["data"][0]["z"]), np.arange(9, 0, -1).reshape(3, 3))
    outline = figure(at, "Input X")["layout"]["shapes"][0]
    assert (outline["x0"], outline["y0"], outline["x1"], outline["y1"]) == (1.5, 0.5, 4.5, 3.5)


def test_associativity_numbers_and_the_seed_button(at):
    open_tab(at, "Associativity")
    text = markdown(at)
    conv_line = next(line for line in text.splitlines() if line.startswith("**Convolution**: max"))
    corr_line = next(line for line in text.splitlines() if line.startswith("**Cross-correlation**: max"))
    assert "= **0**" in conv_line and "equal" in conv_line
    assert "differ" in corr_line
    at.number_input(key="corr_seed").set_value(5)
    at.button(key="corr_assoc_draw").click().run()
    a, b, c = random_arrays(5)
    np.testing.assert_array_equal(parse_grid(at.text_area(key="corr_assoc_a").value), a)
    left = grid(at, "(a ∗ b) ∗ c")
    np.testing.assert_allclose(
        left,
        convolve2d(
            convolve2d(a, b, padding=(1, b.shape[1] - 1)), c, padding=(c.shape[0] - 1, c.shape[1] - 1)
        ),
    )
    np.testing.assert_allclose(grid(at, "a ∗ (b ∗ c)"), left)
    at.text_area(key="corr_assoc_b").input("1 x").run()
    assert any("array b" in e and "not a number" in e for e in error_texts(at))
    np.testing.assert_allclose(grid(at, "(a ∗ b) ∗ c"), left)


def test_one_d_patients_and_doses_modes_and_steps(at):
    open_tab(at, "1-D convolution")
    assert "= **[3, 8, 14, 20, 26, 14, 5]** (length 7)" in markdown(at)
    assert "**they agree**" in markdown(at)
    (payload,) = stepper_payloads(at)
    assert [s["expr"] for s in payload["steps"]][:2] == [
        "y[0] = 0*1 + 0*2 + 1*3 = 3",
        "y[1] = 0*1 + 1*2 + 2*3 = 8",
    ]
    assert payload["output"]["text"] == [["3", "8", "14", "20", "26", "14", "5"]]
    assert payload["input"]["cols"][0] == "-2" and payload["titles"]["kernel"] == "Kernel w flipped (as slid)"
    pick_cell(at, "corr_1d_step", 0, 3)  # as the browser sends it when the user pauses on y[3]
    assert "**y[3]** = `x[1]*w[2] + x[2]*w[1] + x[3]*w[0]` = `2*1 + 3*2 + 4*3 = 20`" in markdown(at)
    at.radio(key="corr_1d_mode").set_value("valid").run()
    assert "= **[14, 20, 26]** (length 3)" in markdown(at)
    assert stepper_payloads(at)[0]["cell"] == [0, 2]  # kept inside the shorter output
    assert "**y[2]** = " in markdown(at)
    at.text_input(key="corr_1d_w").input("1 1 two").run()
    assert any("kernel w" in e and "column 3" in e for e in error_texts(at))
    assert "= **[14, 20, 26]** (length 3)" in markdown(at)


def test_changing_the_mode_after_a_typo_keeps_the_last_good_signal_and_its_mode(at):
    open_tab(at, "1-D convolution")
    at.radio(key="corr_1d_mode").set_value("same").run()
    same = convolve1d([1, 2, 3, 4, 5], [3, 2, 1], "same")
    at.text_input(key="corr_1d_x").input("1 2\n3").run()  # two lines: not a signal
    at.radio(key="corr_1d_mode").set_value("valid").run()  # used to crash: old steps against the new mode
    assert not at.exception
    assert any("signal x" in e for e in error_texts(at))
    assert f"= **[{', '.join(str(int(v)) for v in same)}]** (length 5)" in markdown(at)
    assert "**they agree**" in markdown(at)


def test_an_overflowing_number_in_an_associativity_array_is_refused(at):
    def sides():
        return re.findall(r"max \|\(a .*", markdown(at))

    open_tab(at, "Associativity")
    before = sides()
    assert len(before) == 2  # convolution and cross-correlation
    at.text_area(key="corr_assoc_a").input("1 1e999").run()  # overflows to inf: used to crash the tab
    assert not at.exception
    assert any("array a" in e and "'1e999' is too large" in e for e in error_texts(at))
    assert sides() == before  # the last good arrays stay


def test_smoothing_with_a_gaussian_and_a_bad_custom_window(at):
    open_tab(at, "1-D convolution")
    at.radio(key="corr_smooth_kind").set_value("Gaussian")
    at.slider(key="corr_smooth_width").set_value(7).run()
    fig = next(f for f in plotly_figures(at) if any(t.get("name") == "x * gaussian(7)" for t in f["data"]))
    _, clean, noisy = noisy_sine(160, seed=0, noise=0.4)
    np.testing.assert_allclose(decode(fig["data"][2]["y"]), convolve1d(noisy, gaussian_window(7), "same"))
    rms = re.search(r"noisy \*\*([\d.]+)\*\*, smoothed \*\*([\d.]+)\*\*", markdown(at))
    assert float(rms.group(2)) < float(rms.group(1))
    at.radio(key="corr_smooth_kind").set_value("Custom").run()
    at.text_input(key="corr_smooth_custom").input("1 2\n3").run()
    assert not at.exception
    assert any("custom window" in e and "one line" in e for e in error_texts(at))


def test_fft_route_agrees_on_screen(at):
    open_tab(at, "Multiplication in frequency")
    diffs = [float(x) for x in re.findall(r"max \|direct − FFT\| = \*\*([0-9.e+-]+)\*\*", markdown(at))]
    assert len(diffs) == 2 and all(d < 1e-9 for d in diffs)
    table = at.dataframe[0].value  # the only table of the open tab
    np.testing.assert_array_equal(table["direct"], [3, 8, 14, 20, 26, 14, 5])
    np.testing.assert_allclose(table["via FFT"], [3, 8, 14, 20, 26, 14, 5], atol=1e-9)
    spectra = next(
        f
        for f in plotly_figures(at)
        if [a["text"] for a in f["layout"].get("annotations", [])][:1] == ["|FFT X|"]
    )
    assert decode(spectra["data"][0]["z"]).shape == (8, 8)


def test_the_pytorch_snippets_reproduce_both_grids(at):
    at.selectbox(key="corr_pair").set_value("Asymmetric: Emboss on the 6x6 input")
    at.radio(key="corr_padding").set_value("full")
    at.session_state["corr_torch"] = True  # unfold the snippets
    at.run()
    snippets = [c.value for c in at.code if "F.conv2d" in c.value]
    assert len(snippets) == 2 and "torch.flip" in snippets[1] and "torch.flip" not in snippets[0]
    for code, title in zip(snippets, ("Cross-correlation with K", "Convolution (K rotated)"), strict=True):
        scope = {}
        exec(compile(code.replace("print(Y)", "pass"), "snippet", "exec"), scope)
        np.testing.assert_allclose(scope["Y"].numpy(), grid(at, title), rtol=1e-12)


# --- Classroom mode: links ------------------------------------------------------------------------------------


def test_a_link_sets_the_tab_grids_padding_stride_and_cell():
    at = app_test(PAGE)
    at.query_params.update(
        {
            "corr_X": "1_2_3~4_5_6~7_8_9",
            "corr_K": "1_2~3_4",
            "corr_padding": "full",
            "corr_i": "3",
            "corr_j": "1",
        }
    )
    at.run()
    assert not at.exception and not [w.value for w in at.warning if "link" in w.value]
    X, K = np.arange(1, 10.0).reshape(3, 3), np.array([[1.0, 2], [3, 4]])
    np.testing.assert_array_equal(grid(at, "Cross-correlation with K"), correlate2d(X, K, padding=1))
    assert "Output cell (3, 1)" in " ".join(s.value for s in at.subheader)
    at = app_test(PAGE)
    at.query_params.update({"corr_tab": "1-D convolution", "corr_1d_cell": "0_4"})
    at.run()
    assert shown_step(stepper_payloads(at)[0])["expr"].startswith("y[4] = ")


@pytest.mark.parametrize(
    "params, words",
    [
        ({"corr_K": "1_2~x"}, "not a number"),
        ({"corr_padding": "lots"}, "corr_padding"),
        ({"corr_stride": "-1"}, "corr_stride"),
        ({"corr_tab": "1-D convolution", "corr_1d_cell": "0_99"}, "outside it"),
    ],
)
def test_a_bad_link_warns_and_keeps_the_defaults(params, words):
    at = app_test(PAGE)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]


def _page_link(at) -> dict:
    """What the page itself wrote into the link (AppTest keeps the page's writes in at.query_params)."""
    return {k: at.query_params[k] for k in at.query_params}


def test_the_1d_signal_and_kernel_go_into_the_link_and_come_back(at):
    open_tab(at, "1-D convolution")
    assert "corr_x" not in _page_link(at)  # the patients and doses are the default
    at.text_input(key="corr_1d_x").input("2 0 1 5")
    at.text_input(key="corr_1d_w").input("1 -1").run()
    link = _page_link(at)
    assert link["corr_x"] == "2_0_1_5" and link["corr_w"] == "1_-1"
    again = app_test(PAGE)
    again.query_params.update({"corr_tab": "1-D convolution", **link})
    again.run()
    assert not again.exception and not again.warning
    assert again.text_input(key="corr_1d_x").value == "2 0 1 5"
    assert stepper_payloads(again)[0]["output"] == stepper_payloads(at)[0]["output"]
    assert "= **[2, -2, 1, 4, -5]** (length 5)" in markdown(again)


def test_the_associativity_arrays_go_into_the_link_and_come_back(at):
    open_tab(at, "Associativity")
    at.number_input(key="corr_seed").set_value(7)
    at.button(key="corr_assoc_draw").click().run()
    a, b, c = random_arrays(7)
    link = _page_link(at)
    assert [parse_grid(link[f"corr_{n}"].replace("~", "\n").replace("_", " ")) for n in "ABC"] == [
        pytest.approx(np.asarray(v, dtype=float)) for v in (a, b, c)
    ]
    again = app_test(PAGE)
    again.query_params.update({"corr_tab": "Associativity", **link})
    again.run()
    assert not again.exception and not again.warning
    for n in "abc":
        assert again.text_area(key=f"corr_assoc_{n}").value == at.text_area(key=f"corr_assoc_{n}").value
    assert markdown(again) == markdown(at)


@pytest.mark.parametrize(
    "params, words",
    [({"corr_x": "1_2~3_4"}, "a signal is one row"), ({"corr_A": "1_x"}, "array a")],
)
def test_a_bad_signal_or_array_in_the_link_warns_and_keeps_the_default(params, words):
    at = app_test(PAGE)
    at.query_params.update(params)
    at.run()
    assert not at.exception
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    # the boxes take their first text when their tab opens
    assert open_tab(at, "1-D convolution").text_input(key="corr_1d_x").value == "1 2 3 4 5"
    assert open_tab(at, "Associativity").text_area(key="corr_assoc_a").value == "1 2 0\n0 1 3\n2 0 1"
