"""Pooling's backward pass, shift comparison and conv -> ReLU -> pool pipeline, checked against torch in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.lessons.pooling import (
    DIRECTIONS,
    compare_shift,
    conv_relu_pool,
    pool_backward,
    shift,
    window_gradient,
)
from cnnviz.lessons.presets import EXAMPLES, KERNELS, POOL_EXAMPLES, X_IMAGE
from cnnviz.ops import correlate2d, pool2d, relu
from cnnviz.trace import correlation_trace, pool_trace

TOL = {"rtol": 1e-10, "atol": 1e-12}


def torch_pool(t, mode, k, s, p):
    """PyTorch's pooling of a (1, 1, H, W) tensor; min is -max(-x) and L2 pads with zeros itself."""
    if mode == "max":
        return F.max_pool2d(t, k, s, p)
    if mode == "min":
        return -F.max_pool2d(-t, k, s, p)
    if mode == "avg":
        return F.avg_pool2d(t, k, s, p)
    return F.lp_pool2d(F.pad(t, (p,) * 4), 2, k, s)  # lp_pool2d has no padding argument


def torch_grad(X, G, mode, k, s, p):
    """dL/dX by autograd for L = sum(G * pool(X))."""
    t = torch.tensor(X, dtype=torch.float64)[None, None].requires_grad_()  # (N=1, C=1, H, W)
    Y = torch_pool(t, mode, k, s, p)
    (Y * torch.tensor(G, dtype=torch.float64)[None, None]).sum().backward()
    return Y[0, 0].detach().numpy(), t.grad[0, 0].numpy()


rng = np.random.default_rng(2026)
SWEEP = [
    (int(h), int(w), int(k), s, int(p), mode)
    for (h, w, k, s, p), mode in zip(
        [
            (
                rng.integers(3, 11),
                rng.integers(3, 11),
                rng.integers(1, 4),
                [None, 1, 2, 3][i % 4],
                rng.integers(0, 2),
            )
            for i in range(32)
        ],
        ["max", "avg", "min", "l2"] * 8,
        strict=True,
    )
]


@pytest.mark.parametrize(("h", "w", "k", "stride", "padding", "mode"), SWEEP)
def test_backward_matches_torch_autograd(h, w, k, stride, padding, mode):
    padding = min(padding, k // 2)
    k = min(k, h, w)
    r = np.random.default_rng(h * 31 + w * 7 + k)
    X = r.normal(size=(h, w))
    trace = pool_trace(X, k, stride=stride, padding=padding, mode=mode)
    G = r.normal(size=trace.shape)
    Y, expected = torch_grad(X, G, mode, k, stride or k, padding)
    np.testing.assert_allclose(trace.output, Y, **TOL)
    np.testing.assert_allclose(pool_backward(trace, G).dX, expected, **TOL)


@pytest.mark.parametrize("mode", ["max", "min", "avg", "l2"])
def test_vectorised_backward_equals_the_window_by_window_rule(mode):
    X = np.random.default_rng(12).integers(-3, 4, (7, 8)).astype(float)  # ties, zeros, negatives
    for size, stride, padding in [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 3, 1)]:
        trace = pool_trace(X, size, stride=stride, padding=padding, mode=mode)
        G = np.random.default_rng(size).normal(size=trace.shape)
        grad = pool_backward(trace, G)
        by_steps = np.zeros(trace.padded.shape)
        for step in trace.steps():
            by_steps[np.ix_(step.rows, step.cols)] += window_gradient(step, G[step.index])
        np.testing.assert_allclose(grad.padded, by_steps, **TOL)


@pytest.mark.parametrize("mode", ["max", "min", "avg", "l2"])
def test_backward_sums_where_windows_overlap_and_breaks_ties_like_torch(mode):
    # small integers: many ties inside a window, and stride 1 makes windows overlap
    X = np.random.default_rng(8).integers(-2, 3, (6, 7)).astype(float)
    trace = pool_trace(X, 3, stride=1, padding=1, mode=mode)
    _, expected = torch_grad(X, np.ones(trace.shape), mode, 3, 1, 1)
    grad = pool_backward(trace)
    np.testing.assert_allclose(grad.dX, expected, **TOL)
    if mode in ("max", "min"):
        assert grad.dX.max() > 1  # some cell won more than one overlapping window


def test_backward_of_the_x_maps_with_tied_maxima_matches_torch():
    for name in ("X filter 1 map, max pooling", "X filter 2 map, max pooling"):
        e = POOL_EXAMPLES[name]
        _, expected = torch_grad(e.input, np.ones((2, 2)), "max", 2, 2, 0)
        np.testing.assert_array_equal(pool_backward(pool_trace(e.input, 2)).dX, expected)


def test_max_routes_each_gradient_to_its_winner_only():
    e = POOL_EXAMPLES["4x4 max pooling"]
    G = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = pool_backward(pool_trace(e.input, 2, mode="max"), G)
    assert grad.receivers == 4  # one winner per window, no overlap
    assert grad.dX.sum() == G.sum() and grad.lost == 0
    for i, j in np.ndindex(2, 2):
        step = grad.trace.step(i, j)
        r, c = grad.input_cell(i, j, *step.winner)
        assert grad.dX[r, c] == G[i, j]
        assert e.input[r, c] == e.output[i, j]  # the winner holds the pooled value
        local = grad.local(i, j)
        assert np.count_nonzero(local) == 1 and local[step.winner] == G[i, j]


def test_average_splits_evenly_and_loses_the_share_sent_to_padding():
    X = np.arange(16.0).reshape(4, 4)
    grad = pool_backward(pool_trace(X, 2, stride=2, padding=1, mode="avg"), np.full((3, 3), 8.0))
    np.testing.assert_array_equal(grad.dX, np.full((4, 4), 2.0))  # g / (kh*kw) = 8 / 4, no overlap
    assert grad.lost == pytest.approx(9 * 8 - 16 * 2)  # what the padding taps received
    assert "3 of them are padding" in grad.explain(0, 0)


def test_l2_sends_g_times_x_over_the_norm():
    X = np.array([[3.0, 4.0], [0.0, 0.0]])
    step = pool_trace(X, 2, mode="l2").step(0, 0)
    np.testing.assert_allclose(window_gradient(step, 10.0), [[6.0, 8.0], [0.0, 0.0]])  # 10 * x / 5
    zero = pool_trace(np.zeros((2, 2)), 2, mode="l2").step(0, 0)
    np.testing.assert_array_equal(window_gradient(zero, 1.0), np.zeros((2, 2)))


def test_explanations_name_the_winner_and_the_split():
    e = POOL_EXAMPLES["4x4 max pooling"]
    text = pool_backward(pool_trace(e.input, 2, mode="max")).explain(0, 1)
    assert "input cell (1, 2)" in text and "max 9" in text and "other 3 cells" in text
    text = pool_backward(pool_trace(e.input, 2, mode="avg"), [[4, 4], [4, 4]]).explain(1, 1)
    assert "g / 4 = 4 / 4 = 1" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: pool_backward(pool_trace(np.ones((4, 4)), 2), np.ones((3, 2))),
            "upstream gradient must be 2x2, one number per pooled cell, but it is 3x2",
        ),
        (lambda: pool_backward(correlation_trace(np.ones((3, 3)), np.ones((2, 2)))), "needs a pooling trace"),
        (lambda: shift(np.ones((3, 3)), "sideways"), "unknown direction 'sideways'"),
        (lambda: conv_relu_pool(np.ones((4, 4)), []), "at least one filter"),
        (lambda: pool_backward(pool_trace(np.ones((4, 4)), 2), [[1, np.nan], [1, 1]]), "NaN"),
    ],
)
def test_bad_arguments_fail_in_words(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


# ---- shift ----


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_shift_moves_content_one_cell_and_fills_with_zeros(direction):
    X = np.arange(1.0, 13.0).reshape(3, 4)
    moved = shift(X, direction)
    dr, dc = DIRECTIONS[direction]
    torch_rolled = torch.roll(torch.tensor(X), shifts=(dr, dc), dims=(0, 1)).numpy()
    inside = np.ones_like(X, dtype=bool)
    if dr:
        inside[0 if dr > 0 else -1, :] = False
    if dc:
        inside[:, 0 if dc > 0 else -1] = False
    np.testing.assert_array_equal(moved[inside], torch_rolled[inside])  # a roll, except the row/column let in
    assert np.all(moved[~inside] == 0)


def test_convolution_is_equivariant_away_from_the_border():
    X = np.pad(np.array(X_IMAGE, float), 2)  # a zero frame: nothing falls off the edge
    cmp = compare_shift(X, KERNELS["X filter 1 (diagonal)"].array, "right", use_relu=False)
    assert cmp.feature_moved.all()  # conv(shift(X)) == shift(conv(X)) everywhere
    assert cmp.feature_changed > 0
    # the pooled maps agree with torch: conv2d "same" then max_pool2d
    t = torch.tensor(cmp.X_shifted)[None, None]
    k = torch.tensor(KERNELS["X filter 1 (diagonal)"].array)[None, None]
    expected = F.max_pool2d(F.conv2d(t, k, padding="same"), 2)[0, 0].numpy()
    np.testing.assert_allclose(cmp.pooled_shifted, expected, **TOL)
    assert cmp.pooled_changed == np.count_nonzero(cmp.pooled != expected)


def test_a_shift_inside_the_window_leaves_max_pooling_unchanged():
    X = np.zeros((6, 6))
    X[1, 2] = X[4, 0] = 5.0  # each spike moves right within its own 2x2 window
    cmp = compare_shift(X, KERNELS["Identity"].array, "right", size=2)
    assert cmp.feature_changed == 4  # two cells lost their spike, two gained one
    assert cmp.pooled_changed == 0  # ... but every window keeps its max: invariant
    cmp = compare_shift(X, KERNELS["Identity"].array, "left", size=2)
    # the spike at column 2 crosses into the previous window (2 cells change), the one at column 0
    # falls off the grid (1 cell)
    assert cmp.pooled_changed == 3


# ---- conv -> ReLU -> pool ----


def test_x_pipeline_gives_the_lecture_numbers_without_relu():
    filters = [KERNELS["X filter 1 (diagonal)"].array, KERNELS["X filter 2 (vertical bar)"].array]
    pipe = conv_relu_pool(X_IMAGE, filters)
    np.testing.assert_array_equal(pipe.conv[0], EXAMPLES["X image, filter 1"].output)
    np.testing.assert_array_equal(pipe.conv[1], EXAMPLES["X image, filter 2"].output)
    np.testing.assert_array_equal(pipe.pooled_raw[0], POOL_EXAMPLES["X filter 1 map, max pooling"].output)
    np.testing.assert_array_equal(pipe.pooled_raw[1], POOL_EXAMPLES["X filter 2 map, max pooling"].output)
    # against torch: conv2d, relu, max_pool2d on both filters at once (C_out = 2)
    t = torch.tensor(np.array(X_IMAGE, float))[None, None]  # (N=1, C_in=1, 6, 6)
    w = torch.tensor(np.stack(filters))[:, None]  # (C_out=2, C_in=1, 3, 3)
    with_relu = F.max_pool2d(F.relu(F.conv2d(t, w)), 2)[0].numpy()  # (2, 2, 2)
    without = F.max_pool2d(F.conv2d(t, w), 2)[0].numpy()
    np.testing.assert_array_equal(np.stack(pipe.pooled), with_relu)
    np.testing.assert_array_equal(np.stack(pipe.pooled_raw), without)
    # the ReLU only matters where a whole window is negative: filter 2's top-left window
    assert pipe.relu_matters == [False, True]
    assert pipe.pooled[1][0, 0] == 0 and pipe.pooled_raw[1][0, 0] == -1


def test_pipeline_with_other_settings_matches_ops():
    X = np.random.default_rng(3).integers(-5, 6, (9, 9))
    K = KERNELS["Laplacian"].array
    pipe = conv_relu_pool(X, [K], conv_padding=1, size=3, stride=2, mode="avg")
    np.testing.assert_allclose(pipe.rectified[0], relu(correlate2d(X, K, padding=1)))
    np.testing.assert_allclose(pipe.pooled[0], pool2d(pipe.rectified[0], 3, stride=2, mode="avg"))


def test_padded_input_figure_labels_padding_and_outlines_window_and_winner():
    from cnnviz.draw.pooling import padded_input_figure

    X = np.arange(16.0).reshape(4, 4)
    trace = pool_trace(X, 2, stride=2, padding=1, mode="max")
    step = trace.step(1, 1)  # window over input rows 1..2, columns 1..2; the max 10 is at (2, 2)
    fig = padded_input_figure(trace, step)
    base, pad_layer = fig.data[0], fig.data[1]
    assert base.x0 == -1 and base.y0 == -1  # padding drawn at row/column -1, as in the stepper
    assert np.isnan(np.asarray(base.z, float)[0, 0]) and np.asarray(base.z, float)[1, 1] == X[0, 0]
    assert pad_layer.text[0][0] == "-inf" and pad_layer.text[1][1] == ""
    window, winner = fig.layout.shapes
    rows, cols = step.rows - 1, step.cols - 1  # input coordinates
    assert (window.y0, window.y1, window.x0, window.x1) == (
        rows[0] - 0.5,
        rows[-1] + 0.5,
        cols[0] - 0.5,
        cols[-1] + 0.5,
    )
    r, c = np.unravel_index(np.argmax(step.window), step.window.shape)
    assert X[rows[r], cols[c]] == step.value
    assert (winner.y0 + 0.5, winner.x0 + 0.5) == (rows[r], cols[c])


# ---- the Pooling page's lesson, in words ----


def test_a_tie_names_pytorchs_rule_and_the_first_cell_in_reading_order():
    from cnnviz.lessons.pooling import tie_note

    trace = pool_trace(np.array([[5.0, 5], [1, 2]]), 2)
    note = tie_note(trace, trace.step(0, 0))
    assert "5 is the max 2 times" in note and "padded cell (0, 0)" in note
    assert (
        tie_note(
            pool_trace(np.array([[5.0, 4], [1, 2]]), 2),
            pool_trace(np.array([[5.0, 4], [1, 2]]), 2).step(0, 0),
        )
        == ""
    )
    assert (
        tie_note(
            pool_trace(np.ones((2, 2)), 2, mode="avg"), pool_trace(np.ones((2, 2)), 2, mode="avg").step(0, 0)
        )
        == ""
    )


def test_a_padded_window_in_input_coordinates_is_clipped_to_the_input():
    from cnnviz.lessons.pooling import input_window

    trace = pool_trace(np.arange(16.0).reshape(4, 4), 3, stride=2, padding=1)
    assert input_window(trace, trace.step(0, 0)) == (0, 0, 1, 1)  # the window starts on padding
    assert input_window(trace, trace.step(1, 1)) == (1, 1, 3, 3)


def test_the_summary_names_the_lecture_answer_only_for_its_own_settings():
    from cnnviz.lessons.pooling import matches_example, pool_summary

    ex = POOL_EXAMPLES["4x4 max pooling"]
    trace = pool_trace(ex.input, ex.size, stride=ex.stride, padding=ex.padding, mode=ex.pool)
    assert matches_example(ex, ex.pool, ex.size, ex.stride, ex.padding)
    assert not matches_example(ex, "avg", ex.size, ex.stride, ex.padding) and not matches_example(
        None, "max", 2, 2, 0
    )
    text = pool_summary(trace, ex)
    assert text.startswith("Input 4x4, max pooling 2x2, stride 2, padding 0 -> **output 2x2** (4 cells)")
    assert "(the output here agrees)" in text
    assert "**output 1x1** (1 cell)" in pool_summary(pool_trace(ex.input[:2, :2], 2, stride=2, mode="max"))
    assert "l2 norm pooling" in pool_summary(pool_trace(ex.input, 2, mode="l2"), mode_name="L2 norm")


def test_every_move_is_compared_and_a_window_too_big_is_refused():
    from cnnviz.lessons.pooling import shift_moves, shift_table, shift_verdict

    K = KERNELS["X filter 1 (diagonal)"].array
    moves = shift_moves(np.pad(np.array(X_IMAGE, float), 1), K, size=4, stride=4, mode="max", use_relu=True)
    assert list(moves) == list(DIRECTIONS) and len(shift_table(moves)) == 4
    assert "equivariance" in shift_verdict(moves["right"], "conv", "max pool")
    with pytest.raises(ValueError, match="does not fit the 2x2 input"):
        shift_moves(np.ones((2, 2)), K, size=3, stride=3, mode="max", use_relu=False)


def test_the_lecture_pools_the_raw_maps_and_the_max_hides_the_slides_slips():
    from cnnviz.lessons.pooling import pipeline_conclusion, pipeline_verdict, slide_map_note

    filters = [KERNELS[n].array for n in ("X filter 1 (diagonal)", "X filter 2 (vertical bar)")]
    pipe = conv_relu_pool(X_IMAGE, filters)
    lecture = [POOL_EXAMPLES["X filter 1 map, max pooling"], POOL_EXAMPLES["X filter 2 map, max pooling"]]
    assert "comes out without the ReLU" in pipeline_verdict(pipe, 0, lecture[0])
    assert pipeline_conclusion(pipe, lecture).startswith("The lecture's pooled numbers are conv -> max pool")
    assert "the max hides the slips" in slide_map_note(EXAMPLES["X image, filter 1"], pipe.pooled_raw[0])


def test_the_gradient_summary_and_the_cells_no_window_reads():
    from cnnviz.lessons.pooling import gradient_summary, untiled_warning

    trace = pool_trace(np.arange(25.0).reshape(5, 5), 2)
    assert "9 input cells (cross-hatched) are never looked at" in untiled_warning(trace)
    assert untiled_warning(pool_trace(np.ones((4, 4)), 2)) == ""
    text = gradient_summary(pool_backward(trace), "max")
    assert text.startswith("4 of 25 input cells receive a gradient") and "every bit" in text
    padded = pool_trace(np.ones((2, 2)), 2, padding=1, mode="avg")
    assert "went to padding and is lost" in gradient_summary(pool_backward(padded), "avg")
