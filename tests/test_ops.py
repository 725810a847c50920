"""The ops against the lecture's worked examples and against torch.nn.functional in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import (
    EXAMPLES,
    KERNELS,
    POOL_EXAMPLES,
    conv2d,
    conv_transpose2d,
    convolution_trace,
    convolve1d,
    convolve2d,
    correlate2d,
    correlation_trace,
    pool2d,
    pool_trace,
    rot180,
    transposed_as_correlation,
)
from cnnviz.lessons.presets import ONE_D_EXAMPLE

TOL = {"rtol": 1e-10, "atol": 1e-9}


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def torch_corr(X, K, stride=1, padding=0, dilation=1):
    """PyTorch's conv2d (a cross-correlation) on one channel, in float64."""
    return F.conv2d(
        t64(X)[None, None], t64(K)[None, None], stride=stride, padding=padding, dilation=dilation
    )[0, 0].numpy()


# ---- worked examples (shared/TEACHING.md), with the corrected values ----


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_worked_example(name):
    e = EXAMPLES[name]
    Y = correlate2d(e.input, e.kernel, stride=e.stride, padding=e.padding)
    np.testing.assert_array_equal(Y, e.output)
    np.testing.assert_allclose(torch_corr(e.input, e.kernel, e.stride, e.padding), e.output, **TOL)


def test_worked_example_first_cell_written_out():
    trace = correlation_trace(EXAMPLES["6x6 input, vertical edge"].input, KERNELS["Vertical edge"].array)
    assert (
        trace.step(0, 0).expression() == "3*1 + 0*0 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5"
    )
    small = correlation_trace(
        EXAMPLES["3x3 input, 2x2 kernel"].input, EXAMPLES["3x3 input, 2x2 kernel"].kernel
    )
    assert small.step(0, 0).expression() == "0*0 + 1*1 + 3*2 + 4*3 = 19"


def test_slide_slips_are_recorded_where_the_slide_was_wrong():
    assert EXAMPLES["X image, filter 1"].slide_errors == [(1, 1, -1.0, 1.0), (2, 1, -2.0, -3.0)]
    assert POOL_EXAMPLES["X filter 2 map, max pooling"].slide_errors == [(0, 1, -1.0, 1.0)]
    # the 7x7 stride-2 slide printed 83, 127 and 74 down its last column (correct: 88, 117, 71)
    assert EXAMPLES["7x7 input, stride 2"].slide_errors == [
        (0, 2, 83.0, 88.0),
        (1, 2, 127.0, 117.0),
        (2, 2, 74.0, 71.0),
    ]
    slipped = {"X image, filter 1", "7x7 input, stride 2"}
    assert all(not e.slide_errors for n, e in EXAMPLES.items() if n not in slipped)


@pytest.mark.parametrize("name", list(POOL_EXAMPLES))
def test_pool_example(name):
    e = POOL_EXAMPLES[name]
    np.testing.assert_array_equal(pool2d(e.input, e.size, stride=e.stride, mode=e.pool), e.output)


def test_x_example_conv_then_pool_pipeline():
    x = EXAMPLES["X image, filter 1"].input
    for kernel, expected in [
        ("X filter 1 (diagonal)", [[3, 0], [3, 1]]),
        ("X filter 2 (vertical bar)", [[-1, 1], [0, 3]]),
    ]:
        fmap = correlate2d(x, KERNELS[kernel].array)
        np.testing.assert_array_equal(pool2d(fmap, 2), expected)


def test_patients_and_doses_full_convolution():
    assert convolve1d(ONE_D_EXAMPLE["x"], ONE_D_EXAMPLE["w"]).tolist() == list(ONE_D_EXAMPLE["full"])
    assert convolve1d([1, 2, 3, 4, 5], [3, 2, 1]).tolist() == [3, 8, 14, 20, 26, 14, 5]


def test_all_ones_and_lecture_output_size_cases():
    # n x n * f x f -> (n - f + 1) x (n - f + 1); 100x100 same-padded 5x5 stays 100; stride 2 gives 50.
    assert correlate2d(np.ones((100, 100)), np.ones((5, 5))).shape == (96, 96)
    assert correlate2d(np.ones((100, 100)), np.ones((5, 5)), padding="same").shape == (100, 100)
    assert correlate2d(np.ones((100, 100)), np.ones((5, 5)), padding=2, stride=2).shape == (50, 50)


def test_symmetric_kernels_give_equal_correlation_and_convolution():
    X = np.random.default_rng(0).integers(0, 10, (7, 7))
    for k in KERNELS.values():
        same = np.allclose(correlate2d(X, k.array), convolve2d(X, k.array))
        assert same == k.symmetric_180 or same, k.name  # symmetric => equal
        if k.symmetric_180:
            assert same, k.name
    vertical = KERNELS["Vertical edge"].array
    assert not np.allclose(correlate2d(X, vertical), convolve2d(X, vertical))
    np.testing.assert_array_equal(convolve2d(X, vertical), -correlate2d(X, vertical))


def test_convolution_is_associative_and_correlation_is_not():
    rng = np.random.default_rng(1)
    a, b, c = rng.integers(-3, 4, (6, 6)), rng.integers(-3, 4, (3, 3)), rng.integers(-3, 4, (2, 2))

    def full(op, x, k):
        return op(x, k, padding=(k.shape[0] - 1, k.shape[1] - 1))

    np.testing.assert_allclose(
        full(convolve2d, full(convolve2d, a, b), c), full(convolve2d, a, full(convolve2d, b, c))
    )
    assert not np.allclose(
        full(correlate2d, full(correlate2d, a, b), c), full(correlate2d, a, full(correlate2d, b, c))
    )


# ---- sweeps against torch.nn.functional in float64 ----

rng = np.random.default_rng(2026)
SWEEP = []
for _ in range(60):
    kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    dh, dw = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    ph, pw = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    h = int(rng.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 13))
    w = int(rng.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 13))
    SWEEP.append(((h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw)))


@pytest.mark.parametrize(("shape", "kshape", "stride", "padding", "dilation"), SWEEP)
def test_correlate_and_convolve_match_torch(shape, kshape, stride, padding, dilation):
    r = np.random.default_rng(hash((shape, kshape, stride, padding, dilation)) % 2**32)
    X, K = r.normal(size=shape), r.normal(size=kshape)
    expected = torch_corr(X, K, stride, padding, dilation)
    np.testing.assert_allclose(
        correlate2d(X, K, stride=stride, padding=padding, dilation=dilation), expected, **TOL
    )
    flipped = torch_corr(
        X, rot180(K).copy(), stride, padding, dilation
    )  # true convolution = correlation with K rotated
    np.testing.assert_allclose(
        convolve2d(X, K, stride=stride, padding=padding, dilation=dilation), flipped, **TOL
    )


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("kshape", [(1, 1), (2, 2), (3, 3), (4, 4), (2, 5), (5, 2), (4, 3)])
@pytest.mark.parametrize("dilation", [1, 2, (1, 3)])
def test_same_padding_matches_torch(kshape, dilation):
    r = np.random.default_rng(7)
    X, K = r.normal(size=(9, 11)), r.normal(size=kshape)
    expected = F.conv2d(t64(X)[None, None], t64(K)[None, None], padding="same", dilation=dilation)[
        0, 0
    ].numpy()
    Y = correlate2d(X, K, padding="same", dilation=dilation)
    assert Y.shape == X.shape
    np.testing.assert_allclose(Y, expected, **TOL)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_multichannel_matches_torch(seed):
    r = np.random.default_rng(seed)
    n, c_in, c_out = int(r.integers(1, 3)), int(r.integers(1, 4)), int(r.integers(1, 4))
    kh, kw = int(r.integers(1, 5)), int(r.integers(1, 5))
    stride, padding, dilation = (
        (int(r.integers(1, 3)), int(r.integers(1, 3))),
        int(r.integers(0, 3)),
        int(r.integers(1, 3)),
    )
    h, w = int(r.integers(dilation * (kh - 1) + 1, 12)), int(r.integers(dilation * (kw - 1) + 1, 12))
    X, W, b = r.normal(size=(n, c_in, h, w)), r.normal(size=(c_out, c_in, kh, kw)), r.normal(size=c_out)
    expected = F.conv2d(t64(X), t64(W), t64(b), stride=stride, padding=padding, dilation=dilation).numpy()
    np.testing.assert_allclose(
        conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation), expected, **TOL
    )
    np.testing.assert_allclose(
        conv2d(X[0], W, b, stride=stride, padding=padding, dilation=dilation), expected[0], **TOL
    )


def test_conv2d_rgb_is_the_sum_of_per_channel_correlations_plus_bias():
    r = np.random.default_rng(3)
    X, W = r.integers(0, 255, (3, 8, 8)).astype(float), r.integers(-2, 3, (1, 3, 3, 3)).astype(float)
    per_channel = sum(correlate2d(X[c], W[0, c]) for c in range(3))
    np.testing.assert_allclose(conv2d(X, W, np.array([5.0]))[0], per_channel + 5.0)


@pytest.mark.parametrize("seed", range(20))
def test_conv_transpose2d_matches_torch(seed):
    r = np.random.default_rng(100 + seed)
    kh, kw = int(r.integers(1, 5)), int(r.integers(1, 5))
    stride = (int(r.integers(1, 4)), int(r.integers(1, 4)))
    padding = (int(r.integers(0, kh)), int(r.integers(0, kw)))
    X, K = r.normal(size=(int(r.integers(1, 7)), int(r.integers(1, 7)))), r.normal(size=(kh, kw))
    out_shape = [
        (n - 1) * s - 2 * p + k for n, s, p, k in zip(X.shape, stride, padding, K.shape, strict=True)
    ]
    if min(out_shape) < 1:  # torch refuses too ("Output size is too small"); we say why in words
        with pytest.raises(ValueError, match="crops the transposed output"):
            conv_transpose2d(X, K, stride=stride, padding=padding)
        return
    expected = F.conv_transpose2d(t64(X)[None, None], t64(K)[None, None], stride=stride, padding=padding)[
        0, 0
    ].numpy()
    assert list(expected.shape) == out_shape
    np.testing.assert_allclose(conv_transpose2d(X, K, stride=stride, padding=padding), expected, **TOL)


def test_transposed_convolution_zero_insertion_view_from_the_guide():
    # Dumoulin and Visin: 3x3 kernel, stride 2 over a 5x5 input; its transpose is a 3x3 convolution over the
    # 2x2 input with one zero between inputs and a 2-cell border of zeros.
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    Z, flipped = transposed_as_correlation(X, np.ones((3, 3)), stride=2)
    assert Z.shape == (7, 7)
    expected = np.zeros((7, 7))
    expected[2:5:2, 2:5:2] = X
    np.testing.assert_array_equal(Z, expected)
    assert conv_transpose2d(X, np.ones((3, 3)), stride=2).shape == (5, 5)


POOL_SWEEP = [
    (int(s), int(k), st, int(p), mode)
    for s, k, st, p, mode in [
        (rng.integers(4, 14), rng.integers(1, 5), [None, 1, 2, 3][i % 4], rng.integers(0, 2), m)
        for i, m in enumerate(["max", "avg", "min", "l2"] * 10)
    ]
]


@pytest.mark.parametrize(("size", "k", "stride", "padding", "mode"), POOL_SWEEP)
def test_pooling_matches_torch(size, k, stride, padding, mode):
    padding = min(padding, k // 2)
    r = np.random.default_rng(size * 100 + k)
    X = r.normal(size=(size, size + 1))
    t = t64(X)[None, None]
    s = stride or k
    if mode == "max":
        expected = F.max_pool2d(t, k, s, padding)
    elif mode == "min":
        expected = -F.max_pool2d(-t, k, s, padding)
    elif mode == "avg":
        expected = F.avg_pool2d(t, k, s, padding)
    else:  # lp_pool2d has no padding argument: pad with zeros (they add nothing to a sum of squares)
        expected = F.lp_pool2d(F.pad(t, (padding,) * 4), 2, k, s)
    np.testing.assert_allclose(
        pool2d(X, k, stride=stride, padding=padding, mode=mode), expected[0, 0].numpy(), **TOL
    )


def test_convolve1d_matches_numpy_in_every_mode():
    r = np.random.default_rng(4)
    for n in range(1, 9):
        for m in range(1, 9):
            x, w = r.normal(size=n), r.normal(size=m)
            for mode in ("full", "same", "valid"):
                np.testing.assert_allclose(convolve1d(x, w, mode), np.convolve(x, w, mode), **TOL)


# ---- the trace agrees with the result cell for cell ----


@pytest.mark.parametrize(("shape", "kshape", "stride", "padding", "dilation"), SWEEP[:25])
def test_trace_steps_agree_with_the_vectorised_output(shape, kshape, stride, padding, dilation):
    r = np.random.default_rng(11)
    X, K = r.integers(-9, 10, shape), r.integers(-3, 4, kshape)
    for make in (correlation_trace, convolution_trace):
        trace = make(X, K, stride=stride, padding=padding, dilation=dilation)
        steps = list(trace.steps())
        assert len(steps) == trace.n_steps == trace.output.size
        for k, step in enumerate(steps):
            assert step.index == trace.cell(k)
            assert step.value == pytest.approx(trace.output[step.index], abs=1e-9)
            # the window is read at the planned rows/columns of the padded input, dilation apart
            assert np.all(np.diff(step.rows) == trace.plan.rows.dilation)
            assert step.rows[0] == step.index[0] * trace.plan.rows.stride
            np.testing.assert_array_equal(step.products, step.window * trace.kernel)


@pytest.mark.parametrize("mode", ["max", "avg", "min", "l2"])
def test_pool_trace_steps_agree_and_name_the_winner(mode):
    X = np.random.default_rng(5).integers(-9, 10, (7, 7))
    trace = pool_trace(X, 3, stride=2, padding=1, mode=mode)
    for step in trace.steps():
        assert step.value == pytest.approx(trace.output[step.index])
        if mode in ("max", "min"):
            u, v = step.winner
            assert step.window[u, v] == step.value
            assert np.isfinite(step.window[u, v])  # padding (+-inf) never wins
        else:
            assert step.winner is None


def test_pool_expressions_read_like_the_lecture():
    trace = pool_trace(POOL_EXAMPLES["4x4 max pooling"].input, 2, mode="max")
    assert trace.step(0, 0).expression() == "max(2, 4, 6, 6) = 6"
    avg = pool_trace(POOL_EXAMPLES["4x4 max pooling"].input, 2, mode="avg")
    assert avg.step(1, 0).expression() == "(3 + 4 + 7 + 5) / 4 = 4.75"


def test_convolution_trace_slides_the_flipped_kernel():
    K = np.arange(9.0).reshape(3, 3)
    trace = convolution_trace(np.ones((4, 4)), K)
    np.testing.assert_array_equal(trace.kernel, K[::-1, ::-1])
    np.testing.assert_array_equal(trace.source_kernel, K)


# ---- bad arguments fail early, in words a student can act on ----

BAD = [
    (
        lambda: correlate2d(np.ones((4, 4)), np.ones((5, 5))),
        "kernel 5x5 is larger than the padded input 4x4; add padding",
    ),
    (
        lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), dilation=3),
        r"dilated to 7x7\) is larger than the padded",
    ),
    (lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=0), "stride .* must be at least 1"),
    (lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), padding=-1), "padding .* cannot be negative"),
    (lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), dilation=0), "dilation .* must be at least 1"),
    (lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=1.5), "must be a whole number"),
    (lambda: correlate2d(np.ones(5), np.ones((3, 3))), "the input must be 2-D"),
    (lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3, 1))), "the kernel must be 2-D"),
    (lambda: correlate2d(np.zeros((0, 4)), np.ones((1, 1))), "the input is empty"),
    (lambda: correlate2d([["a", "b"], ["c", "d"]], np.ones((1, 1))), "must hold numbers"),
    (lambda: correlate2d([[1, 2], [3]], np.ones((1, 1))), "different lengths"),
    (lambda: correlate2d([[1, np.nan]], np.ones((1, 1))), "NaN or infinite"),
    (
        lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=2, padding="same"),
        'padding="same" only works with stride 1',
    ),
    (
        lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), padding="full"),
        'padding must be a number, "same" or "valid"',
    ),
    (
        lambda: correlate2d(np.ones((5, 5)), np.ones((3, 3)), stride=(1, 2, 3)),
        r"stride takes one number or an \(h, w\) pair",
    ),
    (
        lambda: pool2d(np.ones((4, 4)), 2, mode="median"),
        "unknown pooling mode 'median'; choose one of max, avg, min, l2",
    ),
    (lambda: pool2d(np.ones((4, 4)), 2, padding=2), "more than half the 2x2 window"),
    (lambda: pool2d(np.ones((4, 4)), 0), "pooling size must be a whole number of at least 1"),
    (lambda: pool2d(np.ones((2, 2)), 3), "kernel 3x3 is larger than the padded input 2x2"),
    (
        lambda: conv2d(np.ones((2, 5, 5)), np.ones((1, 3, 3, 3))),
        "expect 3 input channels but the input has 2",
    ),
    (lambda: conv2d(np.ones((5, 5)), np.ones((1, 1, 3, 3))), r"must be \(C_in, H, W\) or \(N, C_in, H, W\)"),
    (lambda: conv2d(np.ones((1, 5, 5)), np.ones((2, 1, 3, 3)), np.ones(3)), "one number per filter"),
    (
        lambda: conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)), stride=0),
        "stride must be at least 1",
    ),
    (lambda: convolve1d([1, 2, 3], [1, 1], mode="circular"), "unknown mode 'circular'"),
    (lambda: convolve1d([], [1, 1]), "the signal is empty"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_arguments_raise_value_errors_that_say_what_to_do(call, message):
    with pytest.raises(ValueError, match=message):
        call()
