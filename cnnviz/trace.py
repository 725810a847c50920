"""The trace of a sliding window: for every output cell, where the window sits and what it computes.

A `Trace` is what `correlate2d`, `convolve2d` and `pool2d` return their result from, what the stepper
pages draw, and what the tests check. Its whole output is computed in one vectorised pass (one array
operation per kernel tap, using `AxisPlan.tap_slice`); `Trace.step(i, j)` recomputes one cell from
its window (using `AxisPlan.taps`), and the tests prove the two agree cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Number

import numpy as np

from cnnviz.geometry import Plan2D, check_pool_padding, plan_2d

__all__ = [
    "POOL_MODES",
    "Step",
    "Trace",
    "as_grid",
    "correlation_trace",
    "convolution_trace",
    "fmt",
    "fmt_exact",
    "fmt_factor",
    "pool_trace",
    "rot180",
]

POOL_MODES = ("max", "avg", "min", "l2")


def as_grid(X, name: str = "input", *, ndim: int = 2) -> np.ndarray:
    """`X` as a float64 array of `ndim` dimensions, or a ValueError that says what is wrong."""
    try:
        arr = np.asarray(X)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"the {name} has rows of different lengths; every row needs the same count") from err
    if arr.dtype == object:
        raise ValueError(f"the {name} has rows of different lengths or non-numbers; use a grid of numbers")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"the {name} must hold numbers, got values of type {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"the {name} must hold real numbers, not complex ones")
    if arr.ndim != ndim:
        raise ValueError(f"the {name} must be {ndim}-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"the {name} is empty (shape {arr.shape}); give it at least one number")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"the {name} holds NaN or infinite values; use finite numbers")
    return arr


def rot180(K: np.ndarray) -> np.ndarray:
    """The kernel rotated 180 degrees (flipped up-down and left-right): what true convolution slides."""
    return np.asarray(K)[..., ::-1, ::-1]


def fmt(v: float) -> str:
    """A number as a student writes it: 3, -0.5, 0.1111, -inf."""
    v = float(v)
    if np.isinf(v):
        return "-inf" if v < 0 else "inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def count(n: int, noun: str) -> str:
    """The number with its noun: "1 cell", "16 cells"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fmt_exact(v: float) -> str:
    """A number in the shortest form that reads back exactly (Python source, a link): 3, -0.5, 0.1111111111111111."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def fmt_factor(v: float) -> str:
    """A number as a factor in a written-out product: negatives in parentheses, "1*(-1)"."""
    text = fmt(v)
    return f"({text})" if text.startswith("-") else text


@dataclass(frozen=True)
class Step:
    """One output cell: its window on the padded input and how its value comes out of it."""

    index: tuple[int, int]  # output cell (i, j)
    rows: np.ndarray  # (kh,) padded-input row read by each kernel row
    cols: np.ndarray  # (kw,) padded-input column read by each kernel column
    window: np.ndarray  # (kh, kw) padded-input values under the taps
    kernel: np.ndarray | None  # (kh, kw) the kernel as slid (already flipped for convolution); None: pooling
    value: float
    mode: str  # "correlate", "convolve" or a pooling mode

    @property
    def products(self) -> np.ndarray:
        """(kh, kw) element-wise products window * kernel (for pooling: the window itself)."""
        return self.window if self.kernel is None else self.window * self.kernel

    @property
    def winner(self) -> tuple[int, int] | None:
        """Tap (u, v) whose value max/min pooling kept (the first in reading order on a tie)."""
        if self.mode not in ("max", "min"):
            return None
        flat = np.argmax(self.window) if self.mode == "max" else np.argmin(self.window)
        u, v = np.unravel_index(flat, self.window.shape)
        return int(u), int(v)

    def expression(self) -> str:
        """The value written out as in the lecture: "3*1 + 0*1 + 1*(-1) + ... = -5"."""
        values = self.window.ravel()
        if self.kernel is None:
            listed = ", ".join(fmt(x) for x in values)
            if self.mode == "avg":
                return f"({' + '.join(fmt_factor(x) for x in values)}) / {values.size} = {fmt(self.value)}"
            if self.mode == "l2":
                return f"sqrt({' + '.join(fmt_factor(x) + '^2' for x in values)}) = {fmt(self.value)}"
            return f"{self.mode}({listed}) = {fmt(self.value)}"
        terms = [f"{fmt_factor(x)}*{fmt_factor(k)}" for x, k in zip(values, self.kernel.ravel(), strict=True)]
        return " + ".join(terms) + f" = {fmt(self.value)}"


@dataclass(frozen=True)
class Trace:
    """The whole sliding-window computation of one 2-D op, with every cell's window on demand."""

    mode: str  # "correlate", "convolve", "max", "avg", "min" or "l2"
    X: np.ndarray  # (H, W) the input as given
    padded: np.ndarray  # (H + pads, W + pads) the input the window slides over
    kernel: np.ndarray | None  # (kh, kw) the kernel as slid; None for pooling
    source_kernel: np.ndarray | None  # (kh, kw) the kernel as given (before any flip)
    plan: Plan2D
    output: np.ndarray  # (out_h, out_w), computed in one vectorised pass

    @property
    def shape(self) -> tuple[int, int]:
        return self.plan.shape

    @property
    def n_steps(self) -> int:
        return self.shape[0] * self.shape[1]

    def cell(self, k: int) -> tuple[int, int]:
        """Output cell of step `k` (0-based), in reading order: row by row, left to right."""
        if not 0 <= k < self.n_steps:
            raise ValueError(f"step {k} is outside 0..{self.n_steps - 1}")
        return divmod(k, self.shape[1])

    def step_number(self, i: int, j: int) -> int:
        return i * self.shape[1] + j

    def step(self, i: int, j: int) -> Step:
        """Output cell (i, j) recomputed from its own window."""
        out_h, out_w = self.shape
        if not (0 <= i < out_h and 0 <= j < out_w):
            raise ValueError(f"output cell ({i}, {j}) is outside the {out_h}x{out_w} output")
        rows, cols = self.plan.window(i, j)
        window = self.padded[np.ix_(rows, cols)]  # (kh, kw)
        return Step(
            (i, j), rows, cols, window, self.kernel, _reduce_window(window, self.kernel, self.mode), self.mode
        )

    def steps(self) -> Iterator[Step]:
        """Every step in reading order."""
        for k in range(self.n_steps):
            yield self.step(*self.cell(k))

    def padded_position(self, r: int, c: int) -> tuple[int, int]:
        """Where input cell (r, c) sits in the padded input."""
        return self.plan.to_padded(r, c)

    def input_position(self, r: int, c: int) -> tuple[int, int]:
        """Input cell under padded cell (r, c); a row or column outside the input means padding."""
        return self.plan.to_input(r, c)


def _reduce_window(window: np.ndarray, kernel: np.ndarray | None, mode: str) -> float:
    """One cell's value from its window: the definition the vectorised pass must agree with."""
    if kernel is not None:
        return float(np.sum(window * kernel))
    if mode == "max":
        return float(window.max())
    if mode == "min":
        return float(window.min())
    if mode == "avg":
        return float(window.sum() / window.size)
    return float(np.sqrt(np.sum(window * window)))  # l2


def pad2d(X: np.ndarray, plan: Plan2D, value: float = 0.0) -> np.ndarray:
    """`X` surrounded by the plan's padding, filled with `value`."""
    r, c = plan.rows, plan.cols
    return np.pad(X, ((r.pad_before, r.pad_after), (c.pad_before, c.pad_after)), constant_values=value)


def _sliding_sum(padded: np.ndarray, kernel: np.ndarray, plan: Plan2D) -> np.ndarray:
    """sum_u sum_v K[u, v] * padded[taps_i(u), taps_j(v)] for all (i, j): one array op per tap."""
    out = np.zeros(plan.shape)
    for u in range(plan.rows.f):
        rs = plan.rows.tap_slice(u)
        for v in range(plan.cols.f):
            if kernel[u, v] != 0:
                out += kernel[u, v] * padded[rs, plan.cols.tap_slice(v)]
    return out


def _sliding_reduce(padded: np.ndarray, plan: Plan2D, mode: str) -> np.ndarray:
    """Max, min, mean or L2 norm over each window, one array op per tap."""
    combine = {"max": np.maximum, "min": np.minimum}.get(mode, np.add)
    out = None
    for u in range(plan.rows.f):
        rs = plan.rows.tap_slice(u)
        for v in range(plan.cols.f):
            tap = padded[rs, plan.cols.tap_slice(v)]
            if mode == "l2":
                tap = tap * tap
            out = tap.copy() if out is None else combine(out, tap)
    if mode == "avg":
        out = out / (plan.rows.f * plan.cols.f)
    elif mode == "l2":
        out = np.sqrt(out)
    return out


def _as_kernel(K) -> np.ndarray:
    return as_grid(K, "kernel")


def correlation_trace(X, K, *, stride=1, padding=0, dilation=1) -> Trace:
    """Cross-correlation (PyTorch's conv2d): Y[i, j] = sum K[u, v] * Xpad[i*s + u*d, j*s + v*d]; no flip."""
    X, K = as_grid(X), _as_kernel(K)
    plan = plan_2d(X.shape, K.shape, stride=stride, padding=padding, dilation=dilation)
    padded = pad2d(X, plan)
    return Trace("correlate", X, padded, K, K, plan, _sliding_sum(padded, K, plan))


def convolution_trace(X, K, *, stride=1, padding=0, dilation=1) -> Trace:
    """True convolution: cross-correlation with the kernel rotated 180 degrees."""
    X, K = as_grid(X), _as_kernel(K)
    flipped = np.ascontiguousarray(rot180(K))
    plan = plan_2d(X.shape, K.shape, stride=stride, padding=padding, dilation=dilation)
    padded = pad2d(X, plan)
    return Trace("convolve", X, padded, flipped, K, plan, _sliding_sum(padded, flipped, plan))


def pool_trace(X, size, *, stride=None, padding=0, mode: str = "max") -> Trace:
    """Pooling over size x size windows (stride defaults to size); padding as PyTorch pads it."""
    if mode not in POOL_MODES:
        raise ValueError(f"unknown pooling mode {mode!r}; choose one of {', '.join(POOL_MODES)}")
    X = as_grid(X)
    stride = size if stride is None else stride
    if isinstance(padding, str):
        raise ValueError('pooling padding must be a number or an (h, w) pair, not "same" or "valid"')
    plan = plan_2d(X.shape, _pair_shape(size), stride=stride, padding=padding)
    check_pool_padding(plan)
    # max pooling pads with -inf and min pooling with +inf (padding never wins); avg and L2 pad with zeros
    # and count them, as PyTorch's avg_pool2d does by default (count_include_pad=True).
    pad_value = {"max": -np.inf, "min": np.inf}.get(mode, 0.0)
    padded = pad2d(X, plan, pad_value)
    return Trace(mode, X, padded, None, None, plan, _sliding_reduce(padded, plan, mode))


def _pair_shape(size) -> tuple[int, int]:
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"pooling size takes one number or an (h, w) pair, got {len(size)} values")
        h, w = size
    else:
        h = w = size
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, Number) or int(v) != v or v < 1:
            raise ValueError(f"pooling size must be a whole number of at least 1, got {v!r}")
    return int(h), int(w)
