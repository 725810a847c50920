"""The stepper figure, check-my-work and the PyTorch snippets (library only, no Streamlit)."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch
import torch.nn.functional as F
from conftest import decode

from cnnviz.ops import transposed_as_correlation
from cnnviz.presets import EXAMPLES
from cnnviz.snippets import torch_snippet
from cnnviz.stepper import (
    MARK_COLOR,
    WINNER_COLOR,
    check_work,
    default_region,
    input_crop,
    region_cells,
    stepper_figure,
    wrap_expression,
    zoom_region,
)
from cnnviz.trace import convolution_trace, correlation_trace, pool_trace

SIX = EXAMPLES["6x6 input, vertical edge"]


def as_json(fig) -> dict:
    """What the browser receives (numpy arrays encoded as base64), decoded back to plain JSON."""
    return json.loads(pio.to_json(fig, validate=False))


def trace_named(fig: dict, name: str) -> tuple[int, dict]:
    return next((n, t) for n, t in enumerate(fig["data"]) if t.get("name") == name)


def frame_update(fig: dict, frame: dict, name: str) -> dict:
    index, _ = trace_named(fig, name)
    return frame["data"][frame["traces"].index(index)]


def step_label(frame_or_layout: dict) -> str:
    return next(a["text"] for a in frame_or_layout["annotations"] if a["text"].startswith("<b>Step "))


def test_the_figure_is_valid_plotly_for_every_kind_of_trace():
    X = SIX.input
    traces = [
        correlation_trace(X, SIX.kernel, padding=1),
        convolution_trace(X, SIX.kernel, padding=((1, 0), (0, 2)), stride=(2, 1)),
        correlation_trace(X, SIX.kernel, padding=2, dilation=2),
        pool_trace(X, 2, padding=1, mode="max"),
        pool_trace(X, 3, stride=2, mode="l2"),
    ]
    for trace in traces:
        fig = stepper_figure(trace)
        go.Figure(fig.to_dict())  # full validation: raises on any unknown property
        # Colour scales reach plotly.js as lists: it does not know Python-side names like "RdBu_r" or "gray".
        assert all(isinstance(t.get("colorscale", []), list) for t in as_json(fig)["data"])
        assert len(fig.to_dict()["frames"]) == trace.n_steps


def test_each_frame_shows_that_cells_products_expression_and_filled_output():
    trace = correlation_trace(SIX.input, SIX.kernel)
    fig = as_json(stepper_figure(trace))
    assert [f["name"] for f in fig["frames"]] == [f"s{k}" for k in range(16)]
    for n, frame in enumerate(fig["frames"]):
        i, j = trace.cell(n)
        step = trace.step(i, j)
        products = decode(frame_update(fig, frame, "product")["z"])
        np.testing.assert_array_equal(products, step.products)
        output = decode(frame_update(fig, frame, "output")["z"])
        filled = ~np.isnan(output)
        assert filled.sum() == n + 1 and filled.ravel()[: n + 1].all()  # reading order
        np.testing.assert_array_equal(output[filled], SIX.output.ravel()[: n + 1])
        label = step_label(frame["layout"])
        assert f"output cell ({i}, {j})" in label
        assert label.replace("<br>", " ").replace(" + +", " +").count("*") == 9
    # The lecture's first cell, term by term.
    first = step_label(fig["frames"][0]["layout"])
    assert "3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5" in first


def test_window_outline_follows_the_plan_with_padding_stride_and_dilation():
    trace = correlation_trace(SIX.input, SIX.kernel, padding=2, stride=(2, 1), dilation=2)
    fig = as_json(stepper_figure(trace))
    for n, frame in enumerate(fig["frames"]):
        step = trace.step(*trace.cell(n))
        window, *taps = [
            s for s in frame["layout"]["shapes"] if s["xref"] == "x" and s["line"]["width"] == 4
        ] + [s for s in frame["layout"]["shapes"] if s["xref"] == "x" and s["line"]["width"] == 2]
        rows, cols = step.rows - 2, step.cols - 2  # input coordinates: padding at -2, -1
        assert (window["x0"], window["x1"]) == (cols[0] - 0.5, cols[-1] + 0.5)
        assert (window["y0"], window["y1"]) == (rows[0] - 0.5, rows[-1] + 0.5)
        # Each dilated tap is marked where it reads.
        centres = sorted(((s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) for s in taps)
        assert centres == sorted((float(r), float(c)) for r in rows for c in cols)
    # Padding is drawn as its own layer with its value written; the input trace leaves those cells blank.
    _, value = trace_named(fig, "value")
    z = decode(value["z"])
    assert z.shape == trace.padded.shape and np.isnan(z[:2]).all() and not np.isnan(z[2:-2, 2:-2]).any()
    padding = fig["data"][1]
    assert padding["text"][0][0] == "0" and padding["text"][2][2] == ""


def test_unvisited_cells_are_shaded_when_the_stride_does_not_tile():
    X = np.arange(10 * 10, dtype=float).reshape(10, 10)
    trace = correlation_trace(X, np.ones((3, 3)), stride=2)  # (10 - 3) / 2 = 3.5: row/column 9 never read
    fig = as_json(stepper_figure(trace))
    layer = next(t for t in fig["data"] if "never visited" in t.get("hovertemplate", ""))
    shaded = ~np.isnan(decode(layer["z"]))
    np.testing.assert_array_equal(shaded, trace.plan.unvisited_mask())
    assert shaded[9].all() and shaded[:, 9].all() and not shaded[:9, :9].any()


def test_pooling_marks_the_winner_and_writes_infinite_padding():
    trace = pool_trace(SIX.input, 2, padding=1, mode="max")
    fig = as_json(stepper_figure(trace))
    assert [a["text"] for a in fig["layout"]["annotations"][:3]] == [
        "<b>Input X (padded)</b>",
        "<b>Window values</b>",
        "<b>Output (max pool)</b>",
    ]
    first = fig["frames"][0]
    window = frame_update(fig, first, "product")
    assert window["text"] == [["-inf", "-inf"], ["-inf", "3"]]
    assert np.isnan(decode(window["z"])[0, 0])  # -inf is not sent as a colour
    winners = [s for s in first["layout"]["shapes"] if s["line"]["color"] == WINNER_COLOR]
    assert {(s["xref"], (s["x0"] + s["x1"]) / 2, (s["y0"] + s["y1"]) / 2) for s in winners} == {
        ("x", 0.0, 0.0),  # input cell (0, 0)
        ("x2", 1.0, 1.0),  # tap (1, 1) of the window
    }
    assert "max(-inf, -inf, -inf, 3) = 3" in step_label(first["layout"])


def test_inserted_zeros_of_a_transposed_convolution_are_drawn_apart():
    X, K = np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(9.0).reshape(3, 3)
    Z, flipped = transposed_as_correlation(X, K, stride=2)
    trace = correlation_trace(Z, flipped)
    inserted = np.ones(Z.shape, bool)
    inserted[2:-2:2, 2:-2:2] = False  # the input values sit every second cell inside the border
    fig = as_json(stepper_figure(trace, inserted=inserted))
    layer = next(t for t in fig["data"] if "inserted zero" in t.get("hovertemplate", ""))
    np.testing.assert_array_equal(~np.isnan(decode(layer["z"])), inserted)
    _, value = trace_named(fig, "value")
    assert np.nansum(decode(value["z"])) == X.sum()


def test_marks_stay_on_every_frame():
    ex = EXAMPLES["X image, filter 1"]
    trace = correlation_trace(ex.input, ex.kernel)
    marks = [(i, j) for i, j, _, _ in ex.slide_errors]
    fig = as_json(stepper_figure(trace, marks=marks))
    for frame in fig["frames"]:
        dashed = [s for s in frame["layout"]["shapes"] if s["line"].get("dash") == "dash"]
        assert {((s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) for s in dashed} == {
            (1.0, 1.0),
            (2.0, 1.0),
        }
        assert all(s["line"]["color"] == MARK_COLOR for s in dashed)


def test_the_initial_state_is_the_chosen_cell_and_play_starts_there():
    trace = correlation_trace(SIX.input, SIX.kernel)
    fig = as_json(stepper_figure(trace, cell=(2, 1), frame_ms=250))
    assert "output cell (2, 1)" in step_label(fig["layout"])
    _, output = trace_named(fig, "output")
    assert (~np.isnan(decode(output["z"]))).sum() == 10
    play = fig["layout"]["updatemenus"][0]["buttons"][0]["args"]
    assert play[0][0] == "s9" and play[1]["frame"]["duration"] == 250
    assert fig["layout"]["sliders"][0]["active"] == 9


def test_large_outputs_step_a_zoomed_block_and_stay_small():
    X = np.random.default_rng(1).integers(0, 256, (64, 64)).astype(float)
    trace = correlation_trace(X, SIX.kernel)  # 62x62 output
    region = default_region(trace.shape, (17, 60))
    assert region == zoom_region(trace.shape, (17, 60)) == (16, 56, 23, 61)
    assert len(region_cells(region)) == 8 * 6
    assert input_crop(trace, region) == (16, 56, 25, 63)
    fig = stepper_figure(trace, cell=(17, 60), region=region)
    payload = pio.to_json(fig, validate=False)
    assert len(payload) < 1_000_000
    data = json.loads(payload)
    _, value = trace_named(data, "value")
    np.testing.assert_array_equal(decode(value["z"]), X[16:26, 56:64])
    assert value["x0"] == 56 and value["y0"] == 16  # the axes keep the whole input's numbering
    # Clicks land on invisible markers at the centre of each output cell of the block (x = column, y = row).
    _, click = trace_named(data, "click")
    assert click["xaxis"] == "x4" and click["marker"]["opacity"] == 0
    centres = set(zip(decode(click["y"]).tolist(), decode(click["x"]).tolist(), strict=True))
    assert centres == set(region_cells(region))
    # A whole small output is animated as it is.
    assert default_region((12, 12), (5, 5)) == (0, 0, 11, 11)
    assert default_region((13, 12), (5, 5)) == (0, 0, 7, 7)


def test_wrap_expression_breaks_after_a_plus():
    text = " + ".join(f"{k}*{k}" for k in range(25)) + " = 4900"
    lines = wrap_expression(text, 40)
    assert len(lines) > 1 and all(len(line) <= 42 for line in lines)
    assert " ".join(lines).replace(" + ", "+").replace("+ ", "+") == text.replace(" + ", "+")


def test_check_work_marks_each_cell_and_refuses_a_wrong_shape():
    answer = SIX.output.copy()
    answer[1, 2] = 5
    right = check_work(answer, SIX.output)
    assert right.sum() == 15 and not right[1, 2]
    assert check_work(SIX.output + 0.004, SIX.output).all()  # rounded by hand is still right
    with pytest.raises(ValueError, match="your grid is 3x4 but the output is 4x4"):
        check_work(np.zeros((3, 4)), SIX.output)


def run_snippet(code: str) -> np.ndarray:
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # what a student pastes into Python
    return namespace["Y"].numpy()


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"padding": 1, "stride": 2},
        {"padding": "same", "dilation": (2, 1)},
        {"padding": ((1, 0), (0, 2)), "stride": (1, 2)},
        {"padding": (2, 1), "dilation": 2, "stride": (2, 3)},
    ],
)
@pytest.mark.parametrize("make", [correlation_trace, convolution_trace])
def test_the_torch_snippet_reproduces_the_output(make, settings):
    K = np.array([[3.0, 4.0, 4.0], [1.0, 0.0, 2.0], [-1.0, 0.5, 1 / 3]])  # asymmetric: flipping matters
    trace = make(EXAMPLES["7x7 input, stride 2"].input, K, **settings)
    code = torch_snippet(trace)
    assert "F.conv2d(" in code and ("torch.flip" in code) == (make is convolution_trace)
    np.testing.assert_allclose(run_snippet(code), trace.output, rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "min", "avg", "l2"])
@pytest.mark.parametrize("padding", [0, 1])
def test_the_torch_snippet_reproduces_pooling(mode, padding):
    trace = pool_trace(SIX.input - 4, 3, stride=2, padding=padding, mode=mode)
    np.testing.assert_allclose(run_snippet(torch_snippet(trace)), trace.output, rtol=0, atol=1e-12)


def test_the_snippet_matches_torch_directly():
    """An independent check: torch itself on the example (the snippet is not trusted to call it right)."""
    trace = correlation_trace(SIX.input, SIX.kernel, padding=1, stride=2)
    x = torch.tensor(SIX.input).reshape(1, 1, 6, 6)
    w = torch.tensor(SIX.kernel).reshape(1, 1, 3, 3)
    expected = F.conv2d(x, w, padding=1, stride=2)[0, 0].numpy()
    np.testing.assert_allclose(run_snippet(torch_snippet(trace)), expected, atol=1e-12)
