"""Pooling beyond the forward pass: where the gradient goes, shift invariance, and conv -> ReLU -> pool.

Everything here starts from a pooling `Trace` (`cnnviz.trace.pool_trace`), so the windows the gradient
is routed through are the windows the forward pass and the stepper use; no window arithmetic is
recomputed here. Pure numpy: no plotting, no streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.inputs import format_grid
from cnnviz.ops import correlate2d, relu
from cnnviz.trace import Step, Trace, as_grid, count, fmt, pool_trace

__all__ = [
    "DIRECTIONS",
    "MODE_NAMES",
    "Pipeline",
    "PoolGradient",
    "ShiftComparison",
    "compare_shift",
    "conv_relu_pool",
    "input_cell",
    "pool_backward",
    "shift",
    "window_gradient",
    "winner_input_cell",
    "input_window",
    "matches_example",
    "one_line",
    "pipeline_conclusion",
    "pipeline_verdict",
    "pool_summary",
    "shift_moves",
    "shift_table",
    "shift_verdict",
    "slide_map_note",
    "tie_note",
    "gradient_summary",
    "untiled_warning",
]

MODE_NAMES = {"max": "max", "avg": "average", "min": "min", "l2": "L2"}


def input_cell(trace: Trace, step: Step, u: int, v: int) -> tuple[int, int] | None:
    """Input (row, column) read by tap (u, v) of `step`'s window; None when that tap is on padding."""
    row, col = trace.input_position(int(step.rows[u]), int(step.cols[v]))
    inside = trace.plan.rows.reads_input(step.rows[u]) and trace.plan.cols.reads_input(step.cols[v])
    return (row, col) if inside else None


def winner_input_cell(trace: Trace, step: Step) -> tuple[int, int] | None:
    """Input (row, column) of the value max/min pooling kept for this step; None for average and L2."""
    return None if step.winner is None else input_cell(trace, step, *step.winner)


def window_gradient(step: Step, g: float) -> np.ndarray:
    """(kh, kw) share of the upstream gradient `g` that each tap of this step's window receives.

    max / min: all of g to the winning tap (the first in reading order on a tie, as PyTorch picks);
    average: g / (kh*kw) to every tap, padding included (PyTorch's count_include_pad=True);
    L2: g * x / ||window||, the derivative of sqrt(sum x^2) (0 for an all-zero window, as PyTorch gives).
    """
    share = np.zeros(step.window.shape)  # (kh, kw)
    if step.mode in ("max", "min"):
        share[step.winner] = g
    elif step.mode == "avg":
        share[:] = g / step.window.size
    elif step.mode == "l2":
        if step.value > 0:
            share = g * step.window / step.value
    else:
        raise ValueError(f"{step.mode!r} is not a pooling mode; the gradient is routed only through pooling")
    return share


@dataclass(frozen=True)
class PoolGradient:
    """The backward pass of one pooling layer: dL/dX from the upstream gradient dL/dY."""

    trace: Trace
    upstream: np.ndarray  # (out_h, out_w) dL/dY, one number per pooled cell
    padded: np.ndarray  # (H + pads, W + pads) gradient landing on each padded cell, padding included

    @property
    def dX(self) -> np.ndarray:
        """(H, W) gradient reaching each input cell: the padded grid without its padding."""
        return self.padded[self.trace.plan.input_slices]

    @property
    def lost(self) -> float:
        """Gradient that landed on padding (non-zero only for average pooling with padding)."""
        return float(self.padded.sum() - self.dX.sum())

    @property
    def receivers(self) -> int:
        """How many input cells receive a non-zero gradient."""
        return int(np.count_nonzero(self.dX))

    def local(self, i: int, j: int) -> np.ndarray:
        """(kh, kw) what output cell (i, j) sends to each cell of its window."""
        return window_gradient(self.trace.step(i, j), float(self.upstream[i, j]))

    def input_cell(self, i: int, j: int, u: int, v: int) -> tuple[int, int] | None:
        """Input (row, column) under tap (u, v) of window (i, j); None when that tap is on padding."""
        return input_cell(self.trace, self.trace.step(i, j), u, v)

    def explain(self, i: int, j: int) -> str:
        """One output cell's routing, written out: "g = 1 goes to input (1, 2), the max 9; ..."."""
        step = self.trace.step(i, j)
        g = float(self.upstream[i, j])
        kh, kw = step.window.shape
        n = kh * kw
        mode = self.trace.mode
        if mode in ("max", "min"):
            cell = self.input_cell(i, j, *step.winner)
            return (
                f"{MODE_NAMES[mode]} pooling: all of g = {fmt(g)} goes to input cell {cell}, which held "
                f"the {mode} {fmt(step.value)}; the other {n - 1} cells of the window get 0."
            )
        if mode == "avg":
            on_pad = sum(
                self.input_cell(i, j, u, v) is None for u in range(kh) for v in range(kw)
            )  # taps on padding
            text = f"average pooling: each of the {n} cells gets g / {n} = {fmt(g)} / {n} = {fmt(g / n)}."
            if on_pad:
                text += f" {on_pad} of them are padding, so {fmt(on_pad * g / n)} is lost there."
            return text
        if step.value == 0:
            return "L2 pooling: the window is all zeros, so its norm has no slope there; every cell gets 0."
        return (
            f"L2 pooling: each cell x gets g * x / ||window|| = {fmt(g)} * x / {fmt(step.value)}; "
            "bigger values get a bigger share, negative ones a negative share."
        )


def pool_backward(trace: Trace, upstream=None) -> PoolGradient:
    """Route the upstream gradient dL/dY back through the pooling windows of `trace` (all ones by default).

    Each output cell hands its gradient to its own window by the rule of `window_gradient`; where windows
    overlap (stride smaller than the window) an input cell sums what every window sends it. Computed for
    all windows at once, one array operation per tap, like the forward pass; the tests check it against
    `window_gradient` step by step and against torch autograd.
    """
    if trace.kernel is not None:
        raise ValueError("pool_backward needs a pooling trace (from pool_trace), not a convolution")
    G = np.ones(trace.shape) if upstream is None else as_grid(upstream, "upstream gradient")
    if G.shape != trace.shape:
        raise ValueError(
            f"the upstream gradient must be {trace.shape[0]}x{trace.shape[1]}, one number per pooled cell, "
            f"but it is {G.shape[0]}x{G.shape[1]}"
        )
    plan = trace.plan
    kh, kw = plan.kernel_shape
    taps = [(plan.rows.tap_slice(u), plan.cols.tap_slice(v)) for u in range(kh) for v in range(kw)]
    values = np.stack([trace.padded[rs, cs] for rs, cs in taps])  # (kh*kw, out_h, out_w), reading order
    if trace.mode in ("max", "min"):
        # argmax/argmin return the first winner in reading order, as `Step.winner` and PyTorch do
        winner = np.argmax(values, axis=0) if trace.mode == "max" else np.argmin(values, axis=0)
        shares = (np.arange(kh * kw)[:, None, None] == winner) * G  # (kh*kw, out_h, out_w)
    elif trace.mode == "avg":
        shares = np.broadcast_to(G / (kh * kw), values.shape)
    else:  # l2: g * x / ||window||, and 0 for an all-zero window
        norm = trace.output
        shares = np.where(norm > 0, G * values / np.where(norm > 0, norm, 1.0), 0.0)
    padded = np.zeros(trace.padded.shape)  # (H + pads, W + pads)
    for (rs, cs), share in zip(taps, shares, strict=True):
        padded[rs, cs] += share  # one tap's positions are all different: no collisions within a slice
    return PoolGradient(trace, G, padded)


# ---- shift invariance ----

DIRECTIONS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}


def shift(X, direction: str, *, fill: float = 0.0) -> np.ndarray:
    """`X` moved one cell `direction`; the row or column that comes in is `fill`, the one pushed out is lost."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; choose one of {', '.join(DIRECTIONS)}")
    X = np.asarray(X, dtype=float)
    dr, dc = DIRECTIONS[direction]
    out = np.full_like(X, fill)
    h, w = X.shape
    out[max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)] = X[
        max(-dr, 0) : h + min(-dr, 0), max(-dc, 0) : w + min(-dc, 0)
    ]
    return out


@dataclass(frozen=True)
class ShiftComparison:
    """A feature map and its pooled map, before and after the input moves one cell."""

    direction: str
    X: np.ndarray  # (H, W) the input
    X_shifted: np.ndarray  # (H, W) the input moved one cell
    feature: np.ndarray  # (H, W) the conv map ("same" padding, so it keeps the input's size)
    feature_shifted: np.ndarray  # (H, W) the conv map of the moved input
    pooled: np.ndarray  # (out_h, out_w) the pooled conv map
    pooled_shifted: np.ndarray  # (out_h, out_w) the pooled conv map of the moved input

    @property
    def feature_changed(self) -> int:
        """Conv-map cells whose value changed at the same position."""
        return int(np.count_nonzero(~np.isclose(self.feature, self.feature_shifted)))

    @property
    def feature_moved(self) -> np.ndarray:
        """Boolean (H, W): cells where the new conv map equals the old one moved one cell (equivariance)."""
        return np.isclose(self.feature_shifted, shift(self.feature, self.direction))

    @property
    def pooled_changed_mask(self) -> np.ndarray:
        return ~np.isclose(self.pooled, self.pooled_shifted)

    @property
    def pooled_changed(self) -> int:
        """Pooled cells whose value changed."""
        return int(np.count_nonzero(self.pooled_changed_mask))


def compare_shift(
    X,
    K,
    direction: str = "right",
    *,
    size=2,
    stride=None,
    padding=0,
    mode: str = "max",
    use_relu: bool = True,
) -> ShiftComparison:
    """Correlate `X` and `X` moved one cell with `K` ("same" padding), optionally ReLU, then pool both maps."""
    X = as_grid(X)
    moved = shift(X, direction)

    def stage(A):
        F = correlate2d(A, K, padding="same")  # (H, W): same size, so a shift of the input is a shift here
        F = relu(F) if use_relu else F
        return F, pool_trace(F, size, stride=stride, padding=padding, mode=mode).output

    feature, pooled = stage(X)
    feature_shifted, pooled_shifted = stage(moved)
    return ShiftComparison(direction, X, moved, feature, feature_shifted, pooled, pooled_shifted)


# ---- convolution, then ReLU, then pooling ----


@dataclass(frozen=True)
class Pipeline:
    """One input through several filters: each filter's conv map, its ReLU, and both pooled."""

    X: np.ndarray  # (H, W)
    kernels: tuple[np.ndarray, ...]  # C_out kernels, each (kh, kw)
    conv: tuple[np.ndarray, ...]  # C_out conv maps (cross-correlation, as PyTorch)
    rectified: tuple[np.ndarray, ...]  # C_out maps after ReLU
    pooled: tuple[np.ndarray, ...]  # C_out pooled maps of the ReLU'd maps: conv -> ReLU -> pool
    pooled_raw: tuple[np.ndarray, ...]  # C_out pooled maps of the raw conv maps: conv -> pool (no ReLU)

    @property
    def relu_matters(self) -> list[bool]:
        """Per filter: does the ReLU change the pooled map? (Only when a whole window is negative.)"""
        return [not np.array_equal(a, b) for a, b in zip(self.pooled, self.pooled_raw, strict=True)]


def conv_relu_pool(
    X, kernels, *, conv_stride=1, conv_padding=0, size=2, stride=None, mode: str = "max"
) -> Pipeline:
    """Each kernel's feature map (cross-correlation), ReLU, then pooling; also pooled without the ReLU."""
    X = as_grid(X)
    kernels = tuple(as_grid(K, "kernel") for K in kernels)
    if not kernels:
        raise ValueError("the pipeline needs at least one filter")
    conv = tuple(correlate2d(X, K, stride=conv_stride, padding=conv_padding) for K in kernels)
    rectified = tuple(relu(F) for F in conv)

    def pool(F):
        return pool_trace(F, size, stride=stride, mode=mode).output

    return Pipeline(
        X, kernels, conv, rectified, tuple(pool(F) for F in rectified), tuple(pool(F) for F in conv)
    )


# ---- the Pooling page's lesson, in words ----


def tie_note(trace: Trace, step: Step) -> str:
    """What happens on a tie for the max (or min) in `step`'s window: PyTorch's rule ("" when no tie)."""
    if step.winner is None:
        return ""
    window = step.window
    ties = np.argwhere(window == window[step.winner])
    if len(ties) < 2:
        return ""
    taps = ", ".join(f"({int(step.rows[r])}, {int(step.cols[c])})" for r, c in ties)
    r, c = step.winner
    return (
        f"**A tie**: {fmt(window[step.winner])} is the {trace.mode} {len(ties)} times in this window (padded "
        f"input cells {taps}). PyTorch, and this page, send the whole gradient to the **first** of them in "
        f"reading (row-major) order, padded cell ({int(step.rows[r])}, {int(step.cols[c])}); the others get 0."
    )


def input_window(trace: Trace, step: Step) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of `step`'s window in input coordinates, clipped to the input (dL/dX has no
    padding cells)."""
    r0, c0 = trace.input_position(int(step.rows[0]), int(step.cols[0]))
    r1, c1 = trace.input_position(int(step.rows[-1]), int(step.cols[-1]))
    h, w = trace.X.shape
    return max(r0, 0), max(c0, 0), min(r1, h - 1), min(c1, w - 1)


def matches_example(example, mode: str, size: int, stride: int, padding: int) -> bool:
    """True when the settings are the lecture example's own (`example` None: no example chosen)."""
    if example is None:
        return False
    return (mode, size, stride, padding) == (example.pool, example.size, example.stride, example.padding)


def one_line(Y) -> str:
    """A small grid on one line, rows split by " | " ("1 2 | 3 4")."""
    return format_grid(np.asarray(Y)).replace("\n", " | ")


def pool_summary(trace: Trace, example=None, *, mode_name: str = "") -> str:
    """One line (markdown): the sizes and settings, and with `example` its answer and whether this agrees.

    `mode_name`: the pooling's name as the page shows it ("L2 norm"; by default `MODE_NAMES`)."""
    (in_h, in_w), (out_h, out_w) = trace.X.shape, trace.shape
    size, stride, padding = trace.plan.rows.f, trace.plan.rows.stride, trace.plan.rows.pad_before
    text = (
        f"Input {in_h}x{in_w}, {(mode_name or MODE_NAMES[trace.mode]).lower()} pooling {size}x{size}, stride {stride}, "
        f"padding {padding} -> **output {out_h}x{out_w}** ({count(trace.n_steps, 'cell')})"
    )
    if example is not None:
        agrees = np.array_equal(trace.output, example.output)
        text += f" · lecture's answer `{one_line(example.output)}`"
        text += " (the output here agrees)" if agrees else " (the output here DIFFERS: report this)"
    return text


def shift_moves(X, K, *, size: int, stride: int, mode: str, use_relu: bool) -> dict[str, ShiftComparison]:
    """`compare_shift` for each of the four moves (so that no single direction is cherry-picked)."""
    X = as_grid(X)
    if size > min(X.shape):
        raise ValueError(
            f"A {size}x{size} pooling window does not fit the {X.shape[0]}x{X.shape[1]} input: choose a "
            f"window of at most {min(X.shape)}, or a bigger input."
        )
    return {
        d: compare_shift(X, K, d, size=size, stride=stride, mode=mode, use_relu=use_relu) for d in DIRECTIONS
    }


def shift_verdict(cmp: ShiftComparison, conv_title: str, pool_title: str) -> str:
    """What one move did to the conv map (it moves along: equivariance) and to the pooled map (less change)."""
    n_feat, n_pool = cmp.feature.size, cmp.pooled.size
    moved = int(cmp.feature_moved.sum())
    edge = "" if moved == n_feat else " (the others sit at the edge, where new content came in)"
    return (
        f"**{conv_title} map**: {cmp.feature_changed} of {n_feat} cells changed value, yet {moved} of "
        f"{n_feat} equal the old map moved one cell {cmp.direction}{edge}: the map moves with the input "
        f"(equivariance).  \n**{pool_title}**: {cmp.pooled_changed} of {n_pool} cells changed "
        f"({cmp.pooled_changed / n_pool:.0%}, against {cmp.feature_changed / n_feat:.0%} of the conv map); "
        "the changed ones are outlined."
    )


def shift_table(moves: dict[str, ShiftComparison]) -> list[dict[str, str]]:
    """One row per move: how many conv and pooled cells changed, and how many conv cells just moved."""
    rows = []
    for d, cmp in moves.items():
        n_feat, n_pool = cmp.feature.size, cmp.pooled.size
        rows.append(
            {
                "move": d,
                "conv cells changed": f"{cmp.feature_changed} of {n_feat}",
                "conv cells = old map moved": f"{int(cmp.feature_moved.sum())} of {n_feat}",
                "pooled cells changed": f"{cmp.pooled_changed} of {n_pool}",
            }
        )
    return rows


def pipeline_verdict(pipe: Pipeline, c: int, example) -> str:
    """Which route (with or without the ReLU) gives the lecture's pooled map for filter `c`, and the slide's slips."""
    routes = [
        route
        for route, Z in (("without the ReLU", pipe.pooled_raw[c]), ("with the ReLU", pipe.pooled[c]))
        if np.array_equal(Z, example.output)
    ]
    verdict = " and ".join(routes) if routes else "by neither route"
    line = f"The lecture's answer {one_line(example.output)} comes out {verdict}."
    if pipe.relu_matters[c]:
        line += (
            " Here the ReLU matters: a window whose numbers are all negative pools to 0 instead of its max."
        )
    for i, j, printed, correct in example.slide_errors:
        line += f" The slide printed {fmt(printed)} for cell ({i}, {j}); the max of that window is {fmt(correct)}."
    return line


def pipeline_conclusion(pipe: Pipeline, examples) -> str:
    """Across the filters: is the lecture's pooling done with or without the ReLU ("" when neither fits)?"""
    raw_ok = all(np.array_equal(pipe.pooled_raw[c], ex.output) for c, ex in enumerate(examples))
    relu_ok = all(np.array_equal(pipe.pooled[c], ex.output) for c, ex in enumerate(examples))
    if raw_ok and not relu_ok:
        return (
            "The lecture's pooled numbers are conv -> max pool, **without** the ReLU. A network with the ReLU "
            "(conv -> ReLU -> pool, as in every CNN after LeNet) gets the left-hand pooled maps instead."
        )
    if relu_ok and raw_ok:
        return "Both routes give the lecture's pooled numbers here."
    return ""


def slide_map_note(example, pooled: np.ndarray) -> str:
    """Pooling a slide's misprinted conv map: do the slips survive the max? ("" without a printed map)."""
    if example.slide is None:
        return ""
    slips = example.slide_errors
    same = np.array_equal(pool_trace(np.array(example.slide, float), 2).output, pooled)
    return (
        "The slide's filter-1 map printed "
        + " and ".join(fmt(printed) for _, _, printed, _ in slips)
        + " at cells "
        + " and ".join(f"({i}, {j})" for i, j, _, _ in slips)
        + " (correct: "
        + " and ".join(fmt(correct) for _, _, _, correct in slips)
        + "); pooling the printed map "
        + (
            "gives the same pooled numbers: the max hides the slips."
            if same
            else "changes the pooled numbers."
        )
    )


def gradient_summary(grad: PoolGradient, mode: str) -> str:
    """How many input cells receive a gradient, and whether all of dL/dY reaches the input (markdown)."""
    text = (
        f"{grad.receivers} of {grad.dX.size} input cells receive a gradient. "
        f"Sum of dL/dX = {fmt(grad.dX.sum())}; sum of dL/dY = {fmt(grad.upstream.sum())}"
    )
    if mode == "avg" and grad.lost:
        return text + f"; {fmt(grad.lost)} went to padding and is lost."
    if mode in ("max", "min", "avg"):
        return text + ": every bit of the gradient reaches an input cell."
    return text


def untiled_warning(trace: Trace) -> str:
    """Input cells no window looks at, in words ("" when the windows tile the input)."""
    n = int(trace.plan.unvisited_mask().sum())
    if not n:
        return ""
    return (
        f"The windows do not tile the input: {n} input cells (cross-hatched) are never looked at. "
        "Libraries floor the size and silently drop them."
    )
