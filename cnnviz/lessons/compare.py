"""Cross-correlation against true convolution: what differs, what does not, and why DL does not care.

Everything the "Correlation versus convolution" page computes: the two 2-D results side by side and their
difference, the order in which each visits the kernel offsets, associativity, 1-D convolution stepped
cell by cell, smoothing a noisy signal, and the FFT route. Window positions come from the traces
(`cnnviz.trace`) and axis plans (`cnnviz.geometry`); nothing here computes `i * stride + u`.
Numbers only: the figures are in `cnnviz.draw.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.geometry import AxisPlan, one_d_padding, plan_axis
from cnnviz.lessons.presets import EXAMPLES, KERNELS
from cnnviz.ops import convolve1d, convolve2d, correlate2d
from cnnviz.trace import Trace, as_grid, convolution_trace, correlation_trace, fmt, fmt_factor

__all__ = [
    "PADDINGS",
    "PAIRS",
    "SMOOTHERS",
    "Associativity",
    "Comparison",
    "FFTResult",
    "LoopStep",
    "Pair",
    "Step1D",
    "Stepped1D",
    "anchor",
    "associativity",
    "compare_2d",
    "convolve1d_steps",
    "fft_convolve1d",
    "fft_convolve2d",
    "fft_route1d",
    "format_exact",
    "full_convolve2d",
    "full_correlate2d",
    "box_window",
    "gaussian_window",
    "loop_order",
    "loop_table",
    "named_grid",
    "noisy_sine",
    "one_d_trace",
    "parse_signal",
    "random_arrays",
    "visit_numbers",
    "associativity_line",
    "convolve1d_check",
    "fft_cost_text",
    "smoothing_report",
]

PADDINGS = ("valid", "same", "full")  # no padding; keep the size (stride 1); f - 1 on every side


# ---- presets: kernels whose 180-degree rotation changes nothing, and kernels it changes ----


@dataclass(frozen=True)
class Pair:
    """An input and a kernel to compare, with what the comparison should teach."""

    name: str
    X: np.ndarray
    K: np.ndarray
    note: str
    stride: int = 1
    scale_text: str = ""  # "1/9" when K is a scaled integer kernel


def _pairs() -> dict[str, Pair]:
    six = EXAMPLES["6x6 input, vertical edge"].input
    pairs = []
    for name, note in [
        ("Box blur", "every weight is 1/9: rotating it changes nothing, so the two results are equal"),
        ("Laplacian", "the cross of weights reads the same upside down: equal results"),
        ("Gaussian blur", "symmetric about its centre: equal results"),
        ("Vertical edge", "rotated 180 degrees it becomes its own negative: the sign of every output flips"),
        ("Sobel (vertical)", "rotated 180 degrees it is its own negative too: the sign flips"),
        ("Emboss", "rotated 180 degrees it is a different kernel, not just its negative: different numbers"),
    ]:
        k = KERNELS[name]
        kind = "Symmetric" if k.symmetric_180 else "Asymmetric"
        pairs.append(Pair(f"{kind}: {name} on the 6x6 input", six, k.array, note, scale_text=k.scale_text))
    small = EXAMPLES["3x3 input, 2x2 kernel"]
    pairs.append(
        Pair(
            "Asymmetric: the lecture's 2x2 example",
            small.input,
            small.kernel,
            "correlation gives 0*0 + 1*1 + 3*2 + 4*3 = 19; convolution slides [[3, 2], [1, 0]] and gives 5",
        )
    )
    for e in EXAMPLES.values():
        pairs.append(Pair(f"Worked example: {e.name}", e.input, e.kernel, e.note, stride=e.stride))
    return {p.name: p for p in pairs}


PAIRS: dict[str, Pair] = _pairs()


def format_exact(X, scale_text: str = "") -> str:
    """A grid as text `parse_grid` reads back exactly: 1/9 stays "1/9" rather than 0.1111.

    With `scale_text` "1/16" every weight is written over 16 ("2/16"), as the kernel is printed.
    """
    from fractions import Fraction

    den = Fraction(scale_text).denominator if scale_text else 1

    def one(v: float) -> str:
        if v == int(v):
            return str(int(v))
        if den > 1 and abs(v * den - round(v * den)) < 1e-9:
            return f"{round(v * den)}/{den}"
        q = Fraction(v).limit_denominator(1000)
        return str(q) if abs(float(q) - v) < 1e-12 else f"{v:.10g}"

    return "\n".join(" ".join(one(float(v)) for v in row) for row in np.atleast_2d(np.asarray(X, float)))


def parse_signal(text: str, name: str = "signal") -> np.ndarray:
    """A 1-D signal typed on one line ("1 2 3 4 5" or "1, 2, 3"), or a ValueError naming the problem."""
    lines = [line for line in str(text).splitlines() if line.strip(" ,;[]")]
    if len(lines) > 1:
        raise ValueError(f"the {name} must be typed on one line; it has {len(lines)} lines")
    return named_grid(text, name, max_rows=1, max_cols=4096)[0]


def named_grid(text: str, name: str, **limits) -> np.ndarray:
    """`parse_grid`, with the grid's name in front of any error ("kernel K: row 2, column 1: ...")."""
    from cnnviz.inputs import parse_grid

    try:
        return parse_grid(text, name=name, **limits)
    except ValueError as err:
        message = str(err)
        raise ValueError(message if name in message else f"{name}: {message}") from err


# ---- the same input and kernel, correlated and convolved ----


def _padding(K: np.ndarray, padding: str):
    if padding == "full":
        kh, kw = K.shape
        return (kh - 1, kw - 1)  # every placement that overlaps the input at all
    if padding not in PADDINGS:
        raise ValueError(f"unknown padding {padding!r}; choose one of {', '.join(PADDINGS)}")
    return padding


@dataclass(frozen=True)
class Comparison:
    """Cross-correlation with K and true convolution (K rotated 180 degrees) on the same windows."""

    correlation: Trace
    convolution: Trace

    @property
    def K(self) -> np.ndarray:
        return self.correlation.kernel

    @property
    def flipped(self) -> np.ndarray:
        return self.convolution.kernel

    @property
    def difference(self) -> np.ndarray:
        """Convolution minus correlation, cell by cell."""
        return self.convolution.output - self.correlation.output

    @property
    def max_difference(self) -> float:
        return float(np.max(np.abs(self.difference)))

    @property
    def kernel_symmetric(self) -> bool:
        """True when rotating K by 180 degrees leaves it unchanged, so the two ops always agree."""
        return bool(np.array_equal(self.K, self.flipped))

    @property
    def kernel_antisymmetric(self) -> bool:
        """True when the rotated K is -K: convolution is exactly minus the correlation."""
        return bool(np.array_equal(self.flipped, -self.K)) and bool(np.any(self.K))

    def verdict(self) -> str:
        """One sentence a student can check against the difference map."""
        if self.kernel_symmetric:
            return "K rotated 180 degrees is K itself, so cross-correlation and convolution are equal everywhere."
        if self.kernel_antisymmetric:
            return (
                "K rotated 180 degrees is -K, so convolution is exactly minus the cross-correlation: "
                f"every sign flips (largest difference {fmt(self.max_difference)})."
            )
        if self.max_difference == 0:
            return "K changes when rotated, yet on this input the two results happen to be equal."
        return (
            "K changes when rotated 180 degrees, so the two results differ: "
            f"largest difference {fmt(self.max_difference)}."
        )


def compare_2d(X, K, *, padding: str = "valid", stride=1) -> Comparison:
    """Correlate and convolve `X` with `K` using the same padding and stride."""
    X, K = as_grid(X), as_grid(K, "kernel")
    pad = _padding(K, padding)
    return Comparison(
        correlation_trace(X, K, stride=stride, padding=pad),
        convolution_trace(X, K, stride=stride, padding=pad),
    )


# ---- the loop over kernel offsets, numbered as in the lecture ----


@dataclass(frozen=True)
class LoopStep:
    """One pass of the inner loop: kernel entry K[u, v] times the input cell it is paired with."""

    n: int  # 1-based position in the loop
    tap: tuple[int, int]  # kernel entry (u, v) of the kernel as given
    offset: tuple[int, int]  # input offset from the window's anchor cell, as the lecture numbers it
    cell: tuple[int, int]  # input cell (row, column), unpadded; outside the input means padding
    x: float
    k: float

    @property
    def product(self) -> float:
        return self.x * self.k


def anchor(f: int) -> int:
    """The window's anchor tap: the centre for odd kernels, the one before the middle for even ones."""
    return (f - 1) // 2


def loop_order(trace: Trace, i: int, j: int) -> list[LoopStep]:
    """The loop `for u: for v: sum += K[u, v] * input` for output cell (i, j), in the order it runs.

    Cross-correlation pairs K[u, v] with the window cell (u, v): it visits the input offsets (-1,-1),
    (-1,0) ... (1,1) in reading order. True convolution pairs K[u, v] with the window cell rotated 180
    degrees (A[i - u, j - v]): it visits the same offsets in reverse.
    """
    if trace.source_kernel is None:
        raise ValueError("a loop over kernel offsets needs a kernel; pooling has none")
    step = trace.step(i, j)  # the window's padded rows and columns come from the plan
    K = trace.source_kernel
    kh, kw = K.shape
    ar, ac = anchor(kh), anchor(kw)
    flip = trace.mode == "convolve"
    out = []
    for u in range(kh):
        for v in range(kw):
            wu, wv = (kh - 1 - u, kw - 1 - v) if flip else (u, v)  # which window cell meets K[u, v]
            out.append(
                LoopStep(
                    n=u * kw + v + 1,
                    tap=(u, v),
                    offset=(wu - ar, wv - ac),
                    cell=tuple(int(x) for x in trace.input_position(step.rows[wu], step.cols[wv])),
                    x=float(step.window[wu, wv]),
                    k=float(K[u, v]),
                )
            )
    return out


def visit_numbers(steps: list[LoopStep], kernel_shape: tuple[int, int]) -> np.ndarray:
    """(kh, kw) grid over the input window: the loop step (1-based) at which each window cell is read."""
    kh, kw = kernel_shape
    ar, ac = anchor(kh), anchor(kw)
    grid = np.zeros(kernel_shape, dtype=int)
    for s in steps:
        grid[s.offset[0] + ar, s.offset[1] + ac] = s.n
    return grid


def loop_table(trace: Trace, steps: list[LoopStep]) -> dict[str, list]:
    """The loop as table columns: step, K entry, offset, input cell ("pad" outside), value, product, running sum."""
    h, w = trace.X.shape
    return {
        "step": [s.n for s in steps],
        "K entry": [f"K[{s.tap[0]},{s.tap[1]}] = {fmt(s.k)}" for s in steps],
        "offset": [f"({s.offset[0]},{s.offset[1]})" for s in steps],
        "cell": [
            f"({s.cell[0]},{s.cell[1]})" + ("" if 0 <= s.cell[0] < h and 0 <= s.cell[1] < w else " pad")
            for s in steps
        ],
        "value": [fmt(s.x) for s in steps],
        "product": [fmt(s.product) for s in steps],
        "sum": [fmt(v) for v in np.cumsum([s.product for s in steps])],
    }


# ---- associativity ----


def full_convolve2d(a, b) -> np.ndarray:
    """Full 2-D true convolution (every overlap; output (ha + hb - 1) x (wa + wb - 1))."""
    b = as_grid(b, "kernel")
    return convolve2d(a, b, padding=_padding(b, "full"))


def full_correlate2d(a, b) -> np.ndarray:
    """Full 2-D cross-correlation (no flip), the same output size as `full_convolve2d`."""
    b = as_grid(b, "kernel")
    return correlate2d(a, b, padding=_padding(b, "full"))


@dataclass(frozen=True)
class Associativity:
    """Both sides of (a op b) op c = a op (b op c), for one op."""

    op: str  # "convolution" or "cross-correlation"
    left: np.ndarray  # (a op b) op c
    right: np.ndarray  # a op (b op c)

    @property
    def difference(self) -> np.ndarray:
        return self.left - self.right

    @property
    def max_difference(self) -> float:
        return float(np.max(np.abs(self.difference)))

    @property
    def holds(self) -> bool:
        return bool(np.allclose(self.left, self.right, rtol=1e-12, atol=1e-9))


def associativity(a, b, c) -> dict[str, Associativity]:
    """(a * b) * c against a * (b * c) for full true convolution and for full cross-correlation."""
    a, b, c = as_grid(a, "array a"), as_grid(b, "array b"), as_grid(c, "array c")
    out = {}
    for op, f in (("convolution", full_convolve2d), ("cross-correlation", full_correlate2d)):
        out[op] = Associativity(op, f(f(a, b), c), f(a, f(b, c)))
    return out


def random_arrays(seed: int, *, low: int = -3, high: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three small integer arrays for the associativity check: a is 3x3 or 4x4, b and c 2x2 or 2x3 or 3x3."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 5))
    a = rng.integers(low, high + 1, size=(n, n))
    b = rng.integers(low, high + 1, size=(2, int(rng.integers(2, 4))))
    c = rng.integers(low, high + 1, size=(int(rng.integers(2, 4)), int(rng.integers(2, 4))))
    return a.astype(float), b.astype(float), c.astype(float)


# ---- one-dimensional convolution, stepped ----


@dataclass(frozen=True)
class Step1D:
    """Output y[t]: the flipped kernel under the signal, the products and their sum."""

    t: int
    positions: np.ndarray  # (m,) padded positions the flipped kernel covers
    x_index: np.ndarray  # (m,) signal index under each tap; outside 0..n-1 means a padding zero
    w_index: np.ndarray  # (m,) kernel index at each tap: m-1, ..., 0 (the kernel is flipped)
    x: np.ndarray  # (m,) signal values (0 on padding)
    w: np.ndarray  # (m,) kernel values as slid, i.e. w[::-1]
    inside: np.ndarray  # (m,) True where the tap reads the signal, False on a padding zero

    @property
    def products(self) -> np.ndarray:
        return self.x * self.w

    @property
    def value(self) -> float:
        return float(np.sum(self.products))

    def terms(self) -> str:
        """ "x[0]*w[2] + x[1]*w[1] + x[2]*w[0]": which entries multiply (padding named as 0)."""
        parts = []
        for xi, wi, ok in zip(self.x_index, self.w_index, self.inside, strict=True):
            parts.append(f"x[{xi}]*w[{wi}]" if ok else f"0*w[{wi}]")
        return " + ".join(parts)

    def expression(self) -> str:
        """ "1*1 + 2*2 + 3*3 = 14"."""
        body = " + ".join(f"{fmt_factor(a)}*{fmt_factor(b)}" for a, b in zip(self.x, self.w, strict=True))
        return f"{body} = {fmt(self.value)}"


@dataclass(frozen=True)
class Stepped1D:
    """Every step of a 1-D convolution and the padded signal it slides over."""

    x: np.ndarray  # (n,) the signal (the longer input)
    w: np.ndarray  # (m,) the kernel (the shorter input)
    mode: str
    plan: AxisPlan
    padded: np.ndarray  # (n + pads,) the signal with its zeros
    steps: list[Step1D]
    swapped: bool  # True when the inputs were swapped so the shorter one slides

    @property
    def output(self) -> np.ndarray:
        return np.array([s.value for s in self.steps])


def convolve1d_steps(x, w, mode: str = "full") -> Stepped1D:
    """1-D true convolution as numpy.convolve computes it, one output at a time, the kernel flipped."""
    x, w = as_grid(x, "signal", ndim=1), as_grid(w, "kernel", ndim=1)
    swapped = w.size > x.size
    if swapped:  # convolution commutes; slide the shorter one, as numpy does
        x, w = w, x
    plan = plan_axis(x.size, w.size, padding=one_d_padding(mode, w.size))  # stride 1, numpy's padding
    padded = np.pad(x, (plan.pad_before, plan.pad_after))
    flipped = w[::-1]
    steps = []
    for t in range(plan.size):
        pos = plan.taps(t)  # padded positions under the flipped kernel
        idx = plan.to_input(pos)  # outside 0..n-1: a padding zero
        inside = plan.reads_input(pos)
        steps.append(
            Step1D(
                t=t,
                positions=pos,
                x_index=idx,
                w_index=np.arange(w.size)[::-1],
                x=padded[pos],
                w=flipped,
                inside=inside,
            )
        )
    return Stepped1D(x, w, mode, plan, padded, steps, swapped)


def one_d_trace(stepped: Stepped1D) -> Trace:
    """The 1-D convolution as a one-row 2-D `Trace`, for the stepper: same padding, same flipped kernel.

    Row 0 of the trace is the padded signal; output cell (0, t) is y[t] with the same products and sum.
    """
    plan = stepped.plan
    padding = ((0, 0), (plan.pad_before, plan.pad_after))
    return convolution_trace(stepped.x[None, :], stepped.w[None, :], padding=padding)


# ---- smoothing a noisy signal ----

SMOOTHERS = ("Box", "Gaussian", "Custom")


def noisy_sine(n: int = 120, *, seed: int = 0, noise: float = 0.4, periods: float = 2.0):
    """(t, clean, noisy): a sine over `periods` periods plus seeded Gaussian noise."""
    if n < 2:
        raise ValueError(f"the signal needs at least 2 samples, got {n}")
    t = np.arange(n)
    clean = np.sin(2 * np.pi * periods * t / n)
    noisy = clean + noise * np.random.default_rng(seed).standard_normal(n)
    return t, clean, noisy


def box_window(m: int) -> np.ndarray:
    """m equal weights 1/m: a moving average."""
    if m < 1:
        raise ValueError(f"the window needs at least 1 weight, got {m}")
    return np.full(m, 1.0 / m)


def gaussian_window(m: int, sigma: float | None = None) -> np.ndarray:
    """m Gaussian weights that sum to 1 (sigma defaults to m / 6, so the bell fits the window)."""
    if m < 1:
        raise ValueError(f"the window needs at least 1 weight, got {m}")
    sigma = sigma or max(m / 6, 1e-6)
    a = np.arange(m) - (m - 1) / 2
    g = np.exp(-0.5 * (a / sigma) ** 2)
    return g / g.sum()


# ---- convolution is multiplication in frequency ----


@dataclass(frozen=True)
class FFTResult:
    """Direct full convolution beside the FFT route (zero-pad to full length, multiply, inverse)."""

    direct: np.ndarray
    via_fft: np.ndarray
    spectra: tuple[np.ndarray, np.ndarray, np.ndarray]  # |FFT x|, |FFT w|, |FFT x * FFT w|

    @property
    def max_difference(self) -> float:
        return float(np.max(np.abs(self.direct - self.via_fft)))


def fft_convolve1d(x, w) -> FFTResult:
    """Full 1-D convolution by the FFT: both zero-padded to n + m - 1, multiplied, transformed back."""
    x, w = as_grid(x, "signal", ndim=1), as_grid(w, "kernel", ndim=1)
    via, (X, W) = fft_route1d(x, w)
    return FFTResult(convolve1d(x, w, "full"), via, (np.abs(X), np.abs(W), np.abs(X * W)))


def fft_route1d(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(full convolution, (FFT x, FFT w)) by the FFT alone: zero-pad to n + m - 1, multiply, invert."""
    size = x.size + w.size - 1  # full length: no wrap-around
    X, W = np.fft.fft(x, size), np.fft.fft(w, size)
    return np.real(np.fft.ifft(X * W)), (X, W)


def fft_convolve2d(X, K) -> FFTResult:
    """Full 2-D convolution by the FFT: both zero-padded to (h + kh - 1) x (w + kw - 1), multiplied."""
    X, K = as_grid(X), as_grid(K, "kernel")
    shape = (X.shape[0] + K.shape[0] - 1, X.shape[1] + K.shape[1] - 1)  # full size: no wrap-around
    FX, FK = np.fft.fft2(X, shape), np.fft.fft2(K, shape)
    via = np.real(np.fft.ifft2(FX * FK))
    spectra = tuple(np.fft.fftshift(np.abs(S)) for S in (FX, FK, FX * FK))
    return FFTResult(full_convolve2d(X, K), via, spectra)


# --- the Correlation page's lesson, in words --------------------------------------------------------------------


def associativity_line(op: str, symbol: str, result) -> str:
    """One operation's associativity check on the numbers (markdown): the largest difference, equal or not."""
    verdict = "the two sides are **equal**" if result.holds else "the two sides **differ**"
    return (
        f"**{op.capitalize()}**: max |(a {symbol} b) {symbol} c − a {symbol} (b {symbol} c)| = "
        f"**{fmt(result.max_difference)}**, {verdict}"
    )


def convolve1d_check(x: np.ndarray, w: np.ndarray, mode: str, stepped) -> str:
    """`convolve1d` against `numpy.convolve` (and the stepped output) on the same signal (markdown)."""
    reference = np.convolve(x, w, mode)
    ours = convolve1d(x, w, mode)
    agree = np.allclose(ours, reference, rtol=1e-12, atol=1e-9) and np.allclose(stepped.output, ours)
    return (
        f"`convolve1d(x, w, '{mode}')` = **[{', '.join(fmt(v) for v in ours)}]** (length {ours.size}); "
        f"`numpy.convolve` gives [{', '.join(fmt(v) for v in reference)}]: "
        + ("**they agree**." if agree else "**they DISAGREE**.")
    )


def smoothing_report(window: np.ndarray, clean: np.ndarray, noisy: np.ndarray, smooth: np.ndarray) -> str:
    """The window, its sum and the error against the clean signal before and after smoothing (markdown)."""
    rms_noisy = float(np.sqrt(np.mean((noisy - clean) ** 2)))
    rms_smooth = float(np.sqrt(np.mean((smooth - clean) ** 2)))
    return (
        f"Window [{', '.join(fmt(v) for v in window)}] (sum {fmt(window.sum())}). "
        f"Error against the clean sine (root mean square): noisy **{rms_noisy:.3f}**, "
        f"smoothed **{rms_smooth:.3f}**."
    )


def fft_cost_text(n: int) -> str:
    """What the direct sum and the FFT route cost for two signals of n samples (markdown)."""
    return (
        f"For scale: two signals of n = {n:,} samples need n² = {n * n:.0e} multiplications directly, but about "
        f"3 FFTs of 2n points, roughly {3 * 2 * n * np.log2(2 * n):.0e} operations, by the FFT route."
    )
