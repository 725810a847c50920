"""cnnviz.lessons.compare: correlation against convolution, loop orders, associativity, 1-D steps and the FFT route.

Independent truths: torch.nn.functional.conv2d in float64 (a cross-correlation; fed the flipped kernel it
is a true convolution) and numpy.convolve; plus the lecture's patients-and-doses numbers.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.draw.compare import loop_order_figure
from cnnviz.inputs import parse_grid
from cnnviz.lessons.compare import (
    PAIRS,
    associativity,
    compare_2d,
    convolve1d_steps,
    fft_convolve1d,
    fft_convolve2d,
    format_exact,
    full_convolve2d,
    full_correlate2d,
    gaussian_window,
    loop_order,
    noisy_sine,
    one_d_trace,
    parse_signal,
    random_arrays,
    visit_numbers,
)
from cnnviz.lessons.presets import ONE_D_EXAMPLE
from cnnviz.ops import convolve1d
from cnnviz.trace import rot180

TOL = {"rtol": 1e-10, "atol": 1e-9}
READING_ORDER = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)]


def torch_corr(X, K, padding=0, stride=1):
    def t(a):
        return torch.tensor(np.array(a, dtype=float), dtype=torch.float64)[None, None]  # (N, C, H, W)

    return F.conv2d(t(X), t(K), padding=padding, stride=stride)[0, 0].numpy()


# ---- side by side ----


@pytest.mark.parametrize("name", list(PAIRS))
def test_every_preset_matches_torch_both_ways(name):
    p = PAIRS[name]
    c = compare_2d(p.X, p.K, stride=p.stride)
    np.testing.assert_allclose(c.correlation.output, torch_corr(p.X, p.K, stride=p.stride), **TOL)
    np.testing.assert_allclose(c.convolution.output, torch_corr(p.X, rot180(p.K), stride=p.stride), **TOL)


def test_symmetric_presets_agree_and_asymmetric_ones_do_not():
    for name, p in PAIRS.items():
        c = compare_2d(p.X, p.K, stride=p.stride)
        symmetric = np.array_equal(p.K, p.K[::-1, ::-1])
        assert c.kernel_symmetric == symmetric, name
        assert (c.max_difference == 0) == symmetric, name
    edge = compare_2d(PAIRS["Asymmetric: Vertical edge on the 6x6 input"].X, [[1, 0, -1]] * 3)
    assert edge.kernel_antisymmetric and "sign flips" in edge.verdict()
    np.testing.assert_array_equal(edge.convolution.output, -edge.correlation.output)
    emboss = compare_2d(
        PAIRS["Asymmetric: Emboss on the 6x6 input"].X, PAIRS["Asymmetric: Emboss on the 6x6 input"].K
    )
    assert not emboss.kernel_antisymmetric and not emboss.kernel_symmetric
    assert not np.array_equal(emboss.convolution.output, -emboss.correlation.output)


def test_the_lecture_2x2_example_both_ways():
    p = PAIRS["Asymmetric: the lecture's 2x2 example"]
    c = compare_2d(p.X, p.K)
    np.testing.assert_array_equal(c.correlation.output, [[19, 25], [37, 43]])
    # convolution slides [[3, 2], [1, 0]]: 0*3 + 1*2 + 3*1 + 4*0 = 5
    np.testing.assert_array_equal(c.flipped, [[3, 2], [1, 0]])
    assert c.convolution.step(0, 0).expression() == "0*3 + 1*2 + 3*1 + 4*0 = 5"


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
def test_paddings_match_torch(padding):
    rng = np.random.default_rng(1)
    X, K = rng.normal(size=(6, 7)), rng.normal(size=(3, 3))
    c = compare_2d(X, K, padding=padding)
    torch_pad = {"valid": 0, "same": 1, "full": 2}[padding]
    np.testing.assert_allclose(c.correlation.output, torch_corr(X, K, torch_pad), **TOL)
    np.testing.assert_allclose(c.convolution.output, torch_corr(X, rot180(K), torch_pad), **TOL)


def test_bad_settings_raise_messages_a_student_can_act_on():
    with pytest.raises(ValueError, match="stride 1"):
        compare_2d(np.ones((5, 5)), np.ones((3, 3)), padding="same", stride=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        compare_2d(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="unknown padding"):
        compare_2d(np.ones((4, 4)), np.ones((3, 3)), padding="circular")


# ---- loop orders ----


def test_loop_orders_are_numbered_as_in_the_lecture():
    X = np.arange(25.0).reshape(5, 5)
    K = np.arange(1.0, 10.0).reshape(3, 3)
    c = compare_2d(X, K)
    corr, conv = loop_order(c.correlation, 1, 1), loop_order(c.convolution, 1, 1)
    assert [s.offset for s in corr] == READING_ORDER
    assert [s.offset for s in conv] == READING_ORDER[::-1]
    assert [s.tap for s in corr] == [s.tap for s in conv]  # both loop over K in reading order
    np.testing.assert_array_equal(visit_numbers(corr, (3, 3)), np.arange(1, 10).reshape(3, 3))
    np.testing.assert_array_equal(visit_numbers(conv, (3, 3)), np.arange(9, 0, -1).reshape(3, 3))
    # The anchor of output (1, 1) is input (2, 2); convolution pairs K[0, 0] with A[i + 1, j + 1].
    assert corr[0].cell == (1, 1) and conv[0].cell == (3, 3) and conv[0].k == K[0, 0]


@pytest.mark.parametrize(
    "padding,stride,kshape", [("valid", 1, (3, 3)), ("full", 2, (2, 3)), ("same", 1, (4, 2))]
)
def test_loop_products_sum_to_each_output_cell(padding, stride, kshape):
    rng = np.random.default_rng(7)
    X, K = rng.integers(-5, 6, size=(6, 7)).astype(float), rng.integers(-3, 4, size=kshape).astype(float)
    c = compare_2d(X, K, padding=padding, stride=stride)
    for trace in (c.correlation, c.convolution):
        for i in range(trace.shape[0]):
            for j in range(trace.shape[1]):
                steps = loop_order(trace, i, j)
                assert sum(s.product for s in steps) == pytest.approx(trace.output[i, j])
                for s in steps:  # each step reads the input cell it names (0 on padding)
                    r, col = s.cell
                    inside = 0 <= r < X.shape[0] and 0 <= col < X.shape[1]
                    assert s.x == (X[r, col] if inside else 0.0)
                    assert s.k == K[s.tap]


def test_loop_order_figure_writes_step_offset_and_product_in_each_cell():
    c = compare_2d(np.arange(16.0).reshape(4, 4), [[1, 0, -1]] * 3)
    fig = loop_order_figure(loop_order(c.convolution, 0, 0), (3, 3))
    text = fig.data[0].text
    assert text[0][0].startswith("<b>9</b>") and "(-1,-1)" in text[0][0]
    assert text[2][2] == "<b>1</b><br>(1,1)<br>10*1"  # input (2, 2) = 10 meets K[0, 0] = 1 first
    assert fig.layout.yaxis.autorange == "reversed"


# ---- associativity ----


@pytest.mark.parametrize("seed", range(6))
def test_convolution_is_associative_on_random_arrays(seed):
    r = associativity(*random_arrays(seed))
    assert r["convolution"].holds and r["convolution"].max_difference < 1e-9


def test_correlation_is_not_associative_in_general():
    differing = [
        seed for seed in range(10) if not associativity(*random_arrays(seed))["cross-correlation"].holds
    ]
    assert len(differing) >= 8
    a, b, c = (
        np.array([[1, 2, 0], [0, 1, 3], [2, 0, 1]]),
        np.array([[1, 2], [0, 3]]),
        np.array([[0, 1], [2, 1]]),
    )
    corr = associativity(a, b, c)["cross-correlation"]
    assert corr.left.shape == corr.right.shape == (5, 5) and corr.max_difference > 0


def test_correlation_is_associative_when_c_is_symmetric():
    # (a * b) * c uses rot(b) and rot(c); a * (b * c) uses rot(b) and c: equal exactly when rot(c) == c.
    a, b, _ = random_arrays(3)
    c = np.array([[1.0, 2.0, 1.0], [0.0, 5.0, 0.0], [1.0, 2.0, 1.0]])
    assert associativity(a, b, c)["cross-correlation"].holds


def test_full_ops_match_torch():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(2, 3))
    np.testing.assert_allclose(full_correlate2d(a, b), torch_corr(a, b, (1, 2)), **TOL)
    np.testing.assert_allclose(full_convolve2d(a, b), torch_corr(a, rot180(b), (1, 2)), **TOL)


# ---- one dimension ----


def test_patients_and_doses_stepped():
    stepped = convolve1d_steps(ONE_D_EXAMPLE["x"], ONE_D_EXAMPLE["w"], "full")
    np.testing.assert_array_equal(stepped.output, ONE_D_EXAMPLE["full"])
    day2 = stepped.steps[2]
    assert day2.terms() == "x[0]*w[2] + x[1]*w[1] + x[2]*w[0]"
    assert day2.expression() == "1*1 + 2*2 + 3*3 = 14"
    assert stepped.steps[0].terms() == "0*w[2] + 0*w[1] + x[0]*w[0]"
    np.testing.assert_array_equal(day2.w, [1, 2, 3])  # the kernel as slid: flipped


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(5, 3), (7, 4), (6, 1), (4, 4), (3, 6)])
def test_step_frames_sum_to_the_outputs_and_numpy(mode, n, m):
    rng = np.random.default_rng(n * 10 + m)
    x, w = rng.integers(-4, 5, n).astype(float), rng.integers(-4, 5, m).astype(float)
    stepped = convolve1d_steps(x, w, mode)
    reference = np.convolve(x, w, mode)
    np.testing.assert_allclose(stepped.output, reference, **TOL)
    np.testing.assert_allclose(convolve1d(x, w, mode), reference, **TOL)
    assert stepped.swapped == (m > n)
    for s in stepped.steps:
        assert s.value == pytest.approx(float(np.sum(s.products)))
        long = stepped.x
        expect = [long[i] if 0 <= i < long.size else 0.0 for i in s.x_index]
        np.testing.assert_array_equal(s.x, expect)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_the_one_d_trace_steps_like_the_one_d_convolution(mode):
    stepped = convolve1d_steps([1, 2, 3, 4, 5, 6], [3, 2, 1, 1], mode)
    trace = one_d_trace(stepped)
    assert trace.shape == (1, len(stepped.steps)) and trace.mode == "convolve"
    np.testing.assert_array_equal(trace.output[0], np.convolve([1, 2, 3, 4, 5, 6], [3, 2, 1, 1], mode))
    for t, s in enumerate(stepped.steps):
        step = trace.step(0, t)
        assert step.expression() == s.expression()
        np.testing.assert_array_equal(step.cols, s.positions)  # the same padded positions, flipped kernel


def test_smoothing_windows_and_noisy_sine():
    assert gaussian_window(7).sum() == pytest.approx(1.0)
    assert np.argmax(gaussian_window(7)) == 3
    t, clean, noisy = noisy_sine(100, seed=3, noise=0.5)
    _, _, again = noisy_sine(100, seed=3, noise=0.5)
    np.testing.assert_array_equal(noisy, again)  # seeded
    smooth = convolve1d(noisy, gaussian_window(9), "same")
    assert np.sqrt(np.mean((smooth - clean) ** 2)) < np.sqrt(np.mean((noisy - clean) ** 2))


# ---- FFT ----


@pytest.mark.parametrize("n,m", [(5, 3), (64, 9), (17, 17), (3, 8)])
def test_fft_route_equals_direct_1d(n, m):
    rng = np.random.default_rng(n + m)
    x, w = rng.normal(size=n), rng.normal(size=m)
    r = fft_convolve1d(x, w)
    np.testing.assert_allclose(r.direct, np.convolve(x, w), **TOL)
    np.testing.assert_allclose(r.via_fft, r.direct, **TOL)
    assert r.max_difference < 1e-9
    np.testing.assert_allclose(r.spectra[2], r.spectra[0] * r.spectra[1], **TOL)


@pytest.mark.parametrize("shape,kshape", [((6, 6), (3, 3)), ((9, 5), (2, 4)), ((3, 3), (2, 2))])
def test_fft_route_equals_direct_2d(shape, kshape):
    rng = np.random.default_rng(sum(shape))
    X, K = rng.normal(size=shape), rng.normal(size=kshape)
    r = fft_convolve2d(X, K)
    pad = (kshape[0] - 1, kshape[1] - 1)
    np.testing.assert_allclose(r.direct, torch_corr(X, rot180(K), pad), **TOL)
    np.testing.assert_allclose(r.via_fft, r.direct, **TOL)
    assert r.spectra[0].shape == r.direct.shape


def test_fft_of_the_patients_example():
    r = fft_convolve1d(ONE_D_EXAMPLE["x"], ONE_D_EXAMPLE["w"])
    np.testing.assert_allclose(r.via_fft, ONE_D_EXAMPLE["full"], atol=1e-9)


# ---- text in, text out ----


def test_format_exact_round_trips_presets_and_keeps_fractions():
    for p in PAIRS.values():
        np.testing.assert_array_equal(parse_grid(format_exact(p.K, p.scale_text)), p.K)
    assert format_exact(np.full((1, 3), 1 / 9), "1/9") == "1/9 1/9 1/9"
    assert format_exact([[0.5, -2]]) == "1/2 -2"


def test_parse_signal():
    np.testing.assert_array_equal(parse_signal("1, 2 3"), [1, 2, 3])
    with pytest.raises(ValueError, match="one line"):
        parse_signal("1 2\n3 4")
    with pytest.raises(ValueError, match="row 1, column 3"):
        parse_signal("1 2 x")


# ---- the Correlation page's lesson, in words ----


def test_the_pages_sentences_on_associativity_1d_smoothing_and_the_fft():
    import numpy as np

    from cnnviz.lessons.compare import (
        associativity,
        associativity_line,
        convolve1d_check,
        convolve1d_steps,
        fft_cost_text,
        smoothing_report,
    )

    results = associativity(
        np.array([[1, 2], [0, 1]]), np.array([[1, 0], [2, 1]]), np.array([[0, 1], [1, 0]])
    )
    assert "= **0**, the two sides are **equal**" in associativity_line(
        "convolution", "∗", results["convolution"]
    )
    x, w = np.array([1.0, 2, 3, 4, 5]), np.array([3.0, 2, 1])
    text = convolve1d_check(x, w, "full", convolve1d_steps(x, w, "full"))
    assert "= **[3, 8, 14, 20, 26, 14, 5]** (length 7)" in text and "**they agree**" in text
    clean = np.zeros(4)
    report = smoothing_report(np.array([0.5, 0.5]), clean, np.array([1.0, -1, 1, -1]), np.zeros(4))
    assert "(sum 1)" in report and "noisy **1.000**" in report and "smoothed **0.000**" in report
    assert "n² = 1e+12 multiplications" in fft_cost_text(1_000_000)
