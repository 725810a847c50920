"""The stepper's payload, check-my-work and the PyTorch snippets (library only, no Streamlit)."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.draw.stepper import (
    default_region,
    input_crop,
    neighbour_blocks,
    region_cells,
    stepper_payload,
    zoom_region,
)
from cnnviz.lessons.checkwork import check_work
from cnnviz.lessons.pooling import pool_backward
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.lessons.snippets import torch_snippet
from cnnviz.ops import transposed_as_correlation
from cnnviz.trace import convolution_trace, correlation_trace, fmt, pool_trace

SIX = EXAMPLES["6x6 input, vertical edge"]


def texts(A) -> list[list[str]]:
    return [[fmt(v) for v in row] for row in np.asarray(A, dtype=float)]


def window_of(payload: dict, entry: dict) -> list[tuple[int, int]]:
    """The drawn input cells the browser outlines for a step: its row taps paired with its column taps."""
    return [(r, c) for r in payload["row_taps"][entry["ri"]] for c in payload["col_taps"][entry["rj"]]]


TRACES = [
    correlation_trace(SIX.input, SIX.kernel),
    correlation_trace(SIX.input, SIX.kernel, padding=1),
    convolution_trace(SIX.input, SIX.kernel, padding=((1, 0), (0, 2)), stride=(2, 1)),
    correlation_trace(SIX.input, SIX.kernel, padding=2, stride=(2, 1), dilation=2),
    pool_trace(SIX.input, 2, padding=1, mode="max"),
    pool_trace(SIX.input, 3, stride=2, mode="l2"),
]


@pytest.mark.parametrize("trace", TRACES, ids=lambda t: t.mode)
def test_every_step_carries_the_traces_numbers_and_window(trace):
    payload = json.loads(json.dumps(stepper_payload(trace)))  # what the browser receives
    assert [(s["i"], s["j"]) for s in payload["steps"]] == [trace.cell(k) for k in range(trace.n_steps)]
    assert payload["input"]["text"] == texts(trace.padded)
    assert payload["output"]["text"] == texts(trace.output)
    for entry in payload["steps"]:
        step = trace.step(entry["i"], entry["j"])
        assert entry["k"] == trace.step_number(*step.index) + 1
        assert entry["products"] == texts(step.products)
        assert entry["value"] == fmt(step.value)
        assert entry["expr"] == f"Y[{step.index[0]}, {step.index[1]}] = {step.expression()}"
        # the window the browser draws is the plan's: every (row tap, column tap) pair, no arithmetic
        assert window_of(payload, entry) == [(int(r), int(c)) for r in step.rows for c in step.cols]
        assert entry["winner"] == (None if step.winner is None else list(step.winner))


def test_the_lectures_first_cell_and_the_panel_titles():
    payload = stepper_payload(correlation_trace(SIX.input, SIX.kernel))
    first = payload["steps"][0]
    assert first["expr"] == "Y[0, 0] = 3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5"
    assert payload["titles"]["input"] == "Input X" and payload["kernel"]["text"] == texts(SIX.kernel)
    assert payload["input"]["rows"] == [str(r) for r in range(6)] and payload["whole"]
    conv = stepper_payload(convolution_trace(SIX.input, SIX.kernel), titles={"output": "Y"})
    assert conv["titles"]["kernel"] == "Kernel K rotated 180° (as slid)" and conv["titles"]["output"] == "Y"
    assert conv["kernel"]["text"] == texts(SIX.kernel[::-1, ::-1])


def test_padding_is_labelled_outside_the_input_and_marked_as_padding():
    trace = correlation_trace(SIX.input, SIX.kernel, padding=2, dilation=2)
    payload = stepper_payload(trace)
    assert payload["input"]["rows"][:3] == ["-2", "-1", "0"] and payload["input"]["cols"][-1] == "7"
    kinds = np.array(payload["input"]["kind"])
    np.testing.assert_array_equal(kinds == 1, trace.plan.pad_mask())
    assert payload["dilated"] and payload["titles"]["input"] == "Input X (padded)"


def test_unvisited_cells_are_marked_when_the_stride_does_not_tile():
    X = np.arange(10 * 10, dtype=float).reshape(10, 10)
    trace = correlation_trace(X, np.ones((3, 3)), stride=2)  # (10 - 3) / 2 = 3.5: row/column 9 never read
    never = np.array(stepper_payload(trace)["input"]["kind"]) == 3
    np.testing.assert_array_equal(never, trace.plan.unvisited_mask())
    assert never[9].all() and never[:, 9].all() and not never[:9, :9].any()


def test_pooling_sends_its_winner_infinite_padding_and_the_gradient_it_routes():
    trace = pool_trace(SIX.input, 2, padding=1, mode="max")
    payload = stepper_payload(trace)
    assert payload["pooling"] and payload["kernel"] is None
    assert payload["titles"]["products"] == "Window values"
    first = payload["steps"][0]
    assert first["products"] == [["-inf", "-inf"], ["-inf", "3"]]
    assert first["level"][0][0] is None  # -inf has no colour
    assert first["winner"] == [1, 1] and first["expr"] == "Y[0, 0] = max(-inf, -inf, -inf, 3) = 3"
    assert first["grad"] == [["0", "0"], ["0", "1"]] and first["g"] == "1"
    # With a typed upstream gradient every step routes its own g, as pool_backward does.
    upstream = np.arange(trace.n_steps, dtype=float).reshape(trace.shape) - 3
    grad = pool_backward(trace, upstream)
    payload = stepper_payload(pool_trace(SIX.input, 2, padding=1, mode="avg"), upstream=upstream)
    avg = pool_backward(pool_trace(SIX.input, 2, padding=1, mode="avg"), upstream)
    for entry in payload["steps"]:
        assert entry["grad"] == texts(avg.local(entry["i"], entry["j"]))
    assert grad.local(0, 0)[1, 1] == -3


def test_inserted_zeros_of_a_transposed_convolution_are_marked_apart():
    X, K = np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(9.0).reshape(3, 3)
    Z, flipped = transposed_as_correlation(X, K, stride=2)
    trace = correlation_trace(Z, flipped)
    inserted = np.ones(Z.shape, bool)
    inserted[2:-2:2, 2:-2:2] = False  # the input values sit every second cell inside the border
    kinds = np.array(stepper_payload(trace, inserted=inserted)["input"]["kind"])
    np.testing.assert_array_equal(kinds == 2, inserted)


def test_marks_are_sent_in_region_coordinates():
    ex = EXAMPLES["X image, filter 1"]
    trace = correlation_trace(ex.input, ex.kernel)
    marks = [(i, j) for i, j, _, _ in ex.slide_errors]
    assert sorted(map(tuple, stepper_payload(trace, marks=marks)["marks"])) == [(1, 1), (2, 1)]


def test_the_chosen_cell_is_shown_first_and_the_digest_ignores_it():
    trace = correlation_trace(SIX.input, SIX.kernel)
    a, b = stepper_payload(trace, cell=(2, 1)), stepper_payload(trace)
    assert a["cell"] == [2, 1] and b["cell"] == [0, 0]
    assert a["digest"] == b["digest"]  # the browser keeps its drawing when only the selected cell moves
    assert stepper_payload(trace, marks=[(0, 0)])["digest"] != a["digest"]


def test_large_outputs_step_a_zoomed_block_and_stay_small():
    X = np.random.default_rng(1).integers(0, 256, (64, 64)).astype(float)
    trace = correlation_trace(X, SIX.kernel)  # 62x62 output
    region = default_region(trace.shape, (17, 60))
    assert region == zoom_region(trace.shape, (17, 60)) == (16, 56, 23, 61)
    assert len(region_cells(region)) == 8 * 6
    assert input_crop(trace, region) == (16, 56, 25, 63)
    payload = stepper_payload(trace, cell=(17, 60))
    assert len(json.dumps(payload)) < 300_000
    assert payload["input"]["text"] == texts(X[16:26, 56:64])
    assert (
        payload["input"]["rows"][0] == "16" and payload["input"]["cols"][0] == "56"
    )  # whole-input numbering
    assert payload["output"]["rows"][0] == "16" and payload["cell"] == [17, 60]
    for entry in payload["steps"]:
        step = trace.step(entry["i"], entry["j"])
        assert window_of(payload, entry) == [(int(r) - 16, int(c) - 56) for r in step.rows for c in step.cols]
    # Next past the block's end goes to the next block; the whole output is stepped when it is small.
    assert neighbour_blocks(trace.shape, region) == ((24, 0), (23, 55))
    assert neighbour_blocks(trace.shape, (0, 0, 7, 7)) == ((0, 8), None)
    assert neighbour_blocks(trace.shape, (56, 56, 61, 61)) == (None, (61, 55))
    assert default_region((12, 12), (5, 5)) == (0, 0, 11, 11)
    assert default_region((13, 12), (5, 5)) == (0, 0, 7, 7)


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


def test_the_snippet_prints_the_selected_cell(capsys):
    trace = correlation_trace(SIX.input, SIX.kernel)
    code = torch_snippet(trace, cell=(1, 0))
    assert code.splitlines()[-1] == "print(Y[1, 0])  # output cell (1, 0) = -10"
    run_snippet(code)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "tensor(-10., dtype=torch.float64)"
