"""The stepper's data: everything the browser draws of a sliding-window `Trace`, worked out in Python.

`stepper_payload(trace, ...)` returns plain JSON-able lists for the stepper component
(`ui/components/stepper/`): the padded input (or the part of it a zoomed region reads), the kernel,
for each output row and column the padded-input taps `cnnviz.geometry` planned, and for every step of
the region its products, value and sum written out (`Step.expression`), with the marks: padding,
inserted zeros, input cells no window reads, marked output cells (a slide's wrong answer), the
max/min pooling winner and where pooling routes the gradient back. Every number the browser shows is
a string formatted here with `cnnviz.trace.fmt`; the browser computes no window position (it only
pairs a row's taps with a column's taps).

Public API (used by `ui.stepper` and the Convolution, Pooling, Feature maps and Correlation pages):
- `stepper_payload(trace, *, cell=None, region=None, marks=(), inserted=None, titles=None, ...)`.
- `default_region(shape, cell)` / `zoom_region(shape, cell)`: which output cells are stepped in the browser.
- `overview_figures(trace, region)`: the whole input and output as plain heatmaps (large outputs).
- `check_figure(answer, right)`: "check my work", marked by `cnnviz.lessons.checkwork.check_work`.
- The colours the pages' Plotly grids share with the stepper (Okabe-Ito, safe for colour-blind readers;
  the stepper's own looks, with their outline styles and patterns, are in `ui/components/stepper/stepper.css`):
  `WINDOW_COLOR`, `WINNER_COLOR`, `PAD_COLOR`, `UNVISITED_COLOR`, `MARK_COLOR`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

from cnnviz.draw.figures import GRAY, MAX_NUMBERED, color_range, grid_figure
from cnnviz.draw.palette import (
    DIVERGING,
    MARK_COLOR,
    MARKS,
    PAD_COLOR,
    UNVISITED_COLOR,
    VIRIDIS,
    WINDOW_COLOR,
    WINNER_COLOR,
    hex_rgb,
    rgba,
)
from cnnviz.lessons.pooling import window_gradient
from cnnviz.trace import Step, Trace, fmt

__all__ = [
    "MARK_COLOR",
    "MAX_FRAMES",
    "PAD_COLOR",
    "UNVISITED_COLOR",
    "WINDOW_COLOR",
    "WINNER_COLOR",
    "ZOOM",
    "Region",
    "check_figure",
    "click_targets",
    "default_region",
    "input_crop",
    "is_picture",
    "neighbour_blocks",
    "overview_figures",
    "region_cells",
    "stepper_payload",
    "zoom_region",
]

MAX_FRAMES = 144  # a whole output is stepped in the browser up to this many cells (12x12); else a region
ZOOM = 8  # side of the zoomed region, in output cells


# The stops of the stepper's colour scales, from the palette, as RGB triples for the browser, which
# interpolates between them as `cnnviz.draw.palette.scale_rgb` does: signed values on the diverging scale
# (blue below zero, near-white at zero, red above), magnitudes on viridis, as the Plotly heatmaps.
SCALE_STOPS = {
    "diverging": [list(hex_rgb(c)) for _, c in DIVERGING],
    "magnitude": [list(hex_rgb(c)) for c in VIRIDIS],
}

Region = tuple[int, int, int, int]  # (i0, j0, i1, j1): output cells, inclusive corners

# Cell kinds on the input grid, as the browser reads them.
DATA, PADDING, INSERTED, UNVISITED = 0, 1, 2, 3


def zoom_region(shape: tuple[int, int], cell: tuple[int, int], size: int = ZOOM) -> Region:
    """The size x size block of output cells holding `cell`, aligned to multiples of `size`.

    Aligned blocks keep the zoomed view still while the window moves inside it.
    """
    (h, w), (i, j) = shape, cell
    i0, j0 = (i // size) * size, (j // size) * size
    return i0, j0, min(i0 + size, h) - 1, min(j0 + size, w) - 1


def default_region(shape: tuple[int, int], cell: tuple[int, int], max_frames: int = MAX_FRAMES) -> Region:
    """The whole output when it has at most `max_frames` cells, else the zoomed block around `cell`."""
    h, w = shape
    if h * w <= max_frames:
        return 0, 0, h - 1, w - 1
    return zoom_region(shape, cell)


def trace_key(trace: Trace) -> str:
    """A short digest of what the stepper reads from `trace` (the op, the plan, the input as given and as
    padded, the kernel as given and as slid): equal traces give equal keys, so a page can cache by it."""
    h = hashlib.blake2b(repr((trace.mode, trace.plan)).encode(), digest_size=12)
    for a in (trace.X, trace.padded, trace.kernel, trace.source_kernel):
        h.update(
            b"-" if a is None else repr((a.shape, a.dtype.str)).encode() + np.ascontiguousarray(a).tobytes()
        )
    return h.hexdigest()


def region_cells(region: Region) -> list[tuple[int, int]]:
    """The region's output cells in reading order (row by row, left to right)."""
    i0, j0, i1, j1 = region
    return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


def neighbour_blocks(shape: tuple[int, int], region: Region) -> tuple[tuple | None, tuple | None]:
    """(first cell of the next block, last cell of the previous block) in block reading order, or None."""
    (h, w), (i0, j0, i1, j1) = shape, region
    after = (i0, j1 + 1) if j1 + 1 < w else ((i1 + 1, 0) if i1 + 1 < h else None)
    if j0 > 0:
        before = zoom_region(shape, (i0, j0 - 1))
    elif i0 > 0:
        before = zoom_region(shape, (i0 - 1, w - 1))
    else:
        before = None
    return after, None if before is None else (before[2], before[3])


def input_crop(trace: Trace, region: Region) -> Region:
    """Padded-input cells (r0, c0, r1, c1) the stepper draws for `region`.

    The whole padded input when the region is the whole output (so cells no window visits show too),
    else the span from the region's first window to its last.
    """
    out_h, out_w = trace.shape
    if region == (0, 0, out_h - 1, out_w - 1):
        return 0, 0, trace.padded.shape[0] - 1, trace.padded.shape[1] - 1
    i0, j0, i1, j1 = region
    first, last = trace.step(i0, j0), trace.step(i1, j1)
    return int(first.rows[0]), int(first.cols[0]), int(last.rows[-1]), int(last.cols[-1])


def is_picture(X: np.ndarray) -> bool:
    """Grey levels of a picture (drawn on 0..255), not small numbers like 0..9 (drawn on their own range)."""
    return bool(np.nanmax(X) > 15)


def _scale(colors: dict) -> str:
    """`color_range`'s choice as the browser's palette name."""
    scale = colors["colorscale"]
    return "grey" if scale == GRAY else "diverging" if scale == DIVERGING else "sequential"


def _levels(Z: np.ndarray, colors: dict) -> list[list[float | None]]:
    """Each cell's place on its colour scale: -1..1 (diverging) or 0..1; None for infinite padding."""
    Z = np.asarray(Z, dtype=float)
    lo, hi = colors["zmin"], colors["zmax"]
    with np.errstate(invalid="ignore"):
        L = Z / (hi or 1.0) if _scale(colors) == "diverging" else (Z - lo) / ((hi - lo) or 1.0)
    L = np.clip(np.round(L, 3), -1, 1)
    return [
        [float(v) if np.isfinite(z) else None for v, z in zip(lr, zr, strict=True)]
        for lr, zr in zip(L, Z, strict=True)
    ]


def _texts(Z: np.ndarray) -> list[list[str]]:
    return [[fmt(v) for v in row] for row in np.asarray(Z, dtype=float)]


def _grid(Z: np.ndarray, colors: dict, *, rows: Sequence[int], cols: Sequence[int], numbers: bool) -> dict:
    """One panel: its row and column labels, numbers (when they fit) and colour levels."""
    return {
        "rows": [str(r) for r in rows],
        "cols": [str(c) for c in cols],
        "text": _texts(Z) if numbers else None,
        "level": _levels(Z, colors),
        "scale": _scale(colors),
    }


def _input_kinds(trace: Trace, crop: Region, inserted: np.ndarray | None) -> np.ndarray:
    """(rows, cols) kind of each drawn input cell: data, padding, inserted zero, or never read."""
    plan = trace.plan
    r0, c0, r1, c1 = crop
    kinds = np.full(plan.padded_shape, DATA)
    never = np.zeros(plan.padded_shape, bool)
    never[plan.input_slices] = plan.unvisited_mask()
    kinds[never] = UNVISITED
    if inserted is not None:
        kinds[np.asarray(inserted, bool)] = INSERTED
    kinds[plan.pad_mask()] = PADDING
    return kinds[r0 : r1 + 1, c0 : c1 + 1]


def _step_entry(trace: Trace, step: Step, region: Region, upstream, cell_name) -> dict:
    """What the browser shows for one output cell: products, value, the sum written out, winner, gradient."""
    i, j = step.index
    entry = {
        "i": i,
        "j": j,
        "ri": i - region[0],
        "rj": j - region[1],
        "k": trace.step_number(i, j) + 1,
        "products": _texts(step.products),
        "value": fmt(step.value),
        "expr": f"{cell_name(i, j)} = {step.expression()}",
        "winner": None if step.winner is None else list(step.winner),
    }
    if trace.kernel is None:
        g = float(upstream[i, j])
        entry["g"] = fmt(g)
        entry["grad"] = _texts(window_gradient(step, g))
    return entry


def stepper_payload(
    trace: Trace,
    *,
    cell: tuple[int, int] | None = None,
    region: Region | None = None,
    marks: Sequence[tuple[int, int]] = (),
    inserted: np.ndarray | None = None,
    titles: dict[str, str] | None = None,
    upstream: np.ndarray | None = None,
    cell_name: Callable[[int, int], str] | None = None,
) -> dict:
    """The stepper's data for `trace`: plain lists of strings and numbers, ready for JSON.

    - `cell`: the output cell (i, j) shown first (default (0, 0)); `region`: the output cells stepped in
      the browser, (i0, j0, i1, j1) inclusive, default `default_region(trace.shape, cell)`.
    - `marks`: output cells outlined as mistakes; `inserted`: boolean mask shaped like `trace.padded` of
      cells that are not input data (the zeros a transposed convolution inserts).
    - `titles`: panel titles to override, keys "input", "kernel", "products", "gradient", "output".
    - `upstream`: pooling only, the gradient dL/dY each output cell sends back (default all ones).
    - `cell_name(i, j)`: how the sum names its cell (default "Y[i, j]").
    Input rows and columns are labelled in input coordinates (padding at -1, n, ...); the taps sent per
    output row/column are indices into the drawn input grid.
    """
    out_h, out_w = trace.shape
    cell = cell if cell is not None else (0, 0)
    region = region if region is not None else default_region(trace.shape, cell)
    cells = region_cells(region)
    cell = cell if cell in cells else cells[0]
    cell_name = cell_name or (lambda i, j: f"Y[{i}, {j}]")
    plan = trace.plan
    steps = [trace.step(i, j) for i, j in cells]
    upstream = np.ones(trace.shape) if upstream is None else np.asarray(upstream, dtype=float)
    whole = region == (0, 0, out_h - 1, out_w - 1)
    r0, c0, _, _ = crop = input_crop(trace, region)
    kinds = _input_kinds(trace, crop, inserted)
    input_grid = _input_grid(trace, crop, kinds, whole=whole)
    output_grid, out_colors = _output_grid(trace, region, steps)
    after, before = neighbour_blocks(trace.shape, region) if not whole else (None, None)
    payload = {
        "pooling": trace.kernel is None,
        "mode": trace.mode,
        "n_steps": trace.n_steps,
        "shape": [out_h, out_w],
        "titles": _titles(trace, padded=bool((kinds == PADDING).any()), titles=titles),
        "input": input_grid,
        "kernel": _kernel_grid(trace),
        "output": output_grid,
        "product_scale": {
            "scale": output_grid["scale"],
            "zmax": out_colors["zmax"],
            "zmin": out_colors["zmin"],
        },
        "row_taps": [(plan.rows.taps(i) - r0).tolist() for i in range(region[0], region[2] + 1)],
        "col_taps": [(plan.cols.taps(j) - c0).tolist() for j in range(region[1], region[3] + 1)],
        "steps": [_step_entry(trace, s, region, upstream, cell_name) for s in steps],
        "colors": SCALE_STOPS,
        "marks": [[i - region[0], j - region[1]] for i, j in marks if (i, j) in cells],
        "dilated": plan.rows.dilation > 1 or plan.cols.dilation > 1,
        "region": list(region),
        "whole": whole,
        "next_block": None if after is None else list(after),
        "prev_block": None if before is None else list(before),
    }
    for entry, step in zip(payload["steps"], steps, strict=True):
        entry["level"] = _levels(step.products, out_colors)
    payload["digest"] = hashlib.blake2b(json.dumps(payload).encode(), digest_size=12).hexdigest()
    payload["cell"] = list(cell)
    return payload


def _input_grid(trace: Trace, crop: Region, kinds: np.ndarray, *, whole: bool) -> dict:
    """The drawn input panel: the crop of the padded input, labelled in input coordinates (padding at -1, n)."""
    r0, c0, r1, c1 = crop
    P = trace.padded[r0 : r1 + 1, c0 : c1 + 1]
    # A zoomed block is coloured on the whole input's scale, so blocks compare; grey levels for a picture.
    data_cells = trace.X if not whole else (P[kinds != PADDING] if (kinds != PADDING).any() else np.zeros(1))
    in_colors = color_range([data_cells], image=not whole and is_picture(trace.X))
    top, left = trace.input_position(r0, c0)
    grid = _grid(
        P,
        in_colors,
        rows=range(top, top + P.shape[0]),
        cols=range(left, left + P.shape[1]),
        numbers=max(P.shape) <= MAX_NUMBERED,
    )
    grid["kind"] = kinds.tolist()
    return grid


def _output_grid(trace: Trace, region: Region, steps: list[Step]) -> tuple[dict, dict]:
    """The output panel of the region, and the colour range it shares with the products."""
    Y = trace.output[region[0] : region[2] + 1, region[1] : region[3] + 1]
    out_colors = color_range([Y] + [s.products for s in steps])
    rows, cols = range(region[0], region[2] + 1), range(region[1], region[3] + 1)
    return _grid(Y, out_colors, rows=rows, cols=cols, numbers=True), out_colors


def _kernel_grid(trace: Trace) -> dict | None:
    """The kernel panel (as slid), or None for pooling."""
    if trace.kernel is None:
        return None
    kh, kw = trace.plan.kernel_shape
    return _grid(trace.kernel, color_range([trace.kernel]), rows=range(kh), cols=range(kw), numbers=True)


def _titles(trace: Trace, *, padded: bool, titles: dict[str, str] | None) -> dict[str, str]:
    """The panels' titles, with the page's overrides."""
    pooling = trace.kernel is None
    names = {
        "input": "Input X" + (" (padded)" if padded else ""),
        "kernel": "Kernel K" + (" rotated 180° (as slid)" if trace.mode == "convolve" else ""),
        "products": "Window values" if pooling else "Products X·K",
        "gradient": "Gradient back to each tap",
        "output": "Output Y" if not pooling else f"Output ({trace.mode} pool)",
    }
    names.update(titles or {})
    return names


def _ref(name: str, n: int) -> str:
    """Plotly's name for panel `n`'s axis: "x" (not "x1") for the first, then "x2", "x3", ..."""
    return name if n == 1 else f"{name}{n}"


def _rect(r0, c0, r1, c1, axis: int, color: str, *, width: float = 4, dash: str | None = None) -> dict:
    line = {"color": color, "width": width}
    if dash:
        line["dash"] = dash
    return {
        "type": "rect",
        "xref": _ref("x", axis),
        "yref": _ref("y", axis),
        "x0": c0 - 0.5,
        "x1": c1 + 0.5,
        "y0": r0 - 0.5,
        "y1": r1 + 0.5,
        "line": line,
    }


def click_targets(
    region: Region, *, size_px: float, axis: int = 1, hover: str = "click to step here"
) -> dict:
    """A transparent square marker on the centre (x=j, y=i) of every output cell of `region`, named "click"."""
    cells = np.array(region_cells(region))  # (n, 2) rows of (i, j)
    return {
        "type": "scatter",
        "name": "click",
        "mode": "markers",
        "x": cells[:, 1],
        "y": cells[:, 0],
        "marker": {"symbol": "square", "size": max(2.0, 0.9 * size_px), "opacity": 0},
        "hovertemplate": f"output cell (%{{y}}, %{{x}}): {hover}<extra></extra>",
        "showlegend": False,
        "xaxis": _ref("x", axis),
        "yaxis": _ref("y", axis),
    }


def overview_figures(trace: Trace, region: Region) -> tuple[go.Figure, go.Figure]:
    """The whole input and the whole output as plain heatmaps, with the stepped region outlined on both."""
    r0, c0, r1, c1 = input_crop(trace, region)
    top, left = trace.input_position(r0, c0)
    bottom, right = trace.input_position(r1, c1)
    X = trace.X
    shade = trace.plan.unvisited_mask()
    input_fig = grid_figure(
        X,
        title="Whole input: the outlined cells are stepped",
        colors=color_range([X], image=is_picture(X)),
        numbers=False,
        outlines=[((top, left, bottom, right), WINDOW_COLOR)],
        shade=shade if shade.any() else None,
        shade_color=UNVISITED_COLOR,
        showscale=False,
        cell_px=max(1, 380 // max(X.shape)),
    )
    Y = trace.output
    input_fig.update_traces(xgap=0, ygap=0)  # at a few pixels a cell, gaps would hide the picture
    output_fig = grid_figure(
        Y,
        title=f"Whole output {Y.shape[0]}x{Y.shape[1]}",
        numbers=False,
        outlines=[(region, WINDOW_COLOR)],
        showscale=True,
        cell_px=max(1, 380 // max(Y.shape)),
    )
    output_fig.update_traces(xgap=0, ygap=0)
    if Y.size <= 128 * 128:  # beyond that, choose the cell by row and column
        _make_clickable(output_fig, Y.shape, max(1, 380 // max(Y.shape)))
    return input_fig, output_fig


def _make_clickable(fig: go.Figure, shape: tuple[int, int], cell_px: float, **kwargs) -> None:
    """Add `click_targets` over every cell of a one-grid figure, keeping its axes on the grid."""
    h, w = shape
    fig.add_trace(go.Scatter(click_targets((0, 0, h - 1, w - 1), size_px=cell_px, **kwargs)))
    fig.update_xaxes(range=[-0.5, w - 0.5], autorange=False)  # the markers must not widen the axes
    fig.update_yaxes(range=[h - 0.5, -0.5], autorange=False)


def check_figure(answer, right: np.ndarray, *, title: str = "Your answer, marked") -> go.Figure:
    """The student's numbers, each with ✓ (right) or ✗ (wrong) as well as a tint; wrong cells outlined.

    Right and wrong never rest on colour alone: the mark is in the cell's text. Cells are clickable.
    """
    answer = np.asarray(answer, float)
    tint = {"colorscale": [[0, rgba("wrong", 0.3)], [1, rgba("right", 0.3)]], "zmin": 0, "zmax": 1}
    fig = grid_figure(right.astype(float), title=title, colors=tint, numbers=False, showscale=False)
    marks = np.where(right, MARKS["right"], MARKS["wrong"])
    text = [
        [f"{fmt(v)} {m}" for v, m in zip(row, mrow, strict=True)]
        for row, mrow in zip(answer, marks, strict=True)
    ]
    fig.data[0].update(text=text, texttemplate="%{text}", hoverinfo="skip")
    fig.update_layout(
        shapes=[
            {**_rect(i, j, i, j, 1, MARK_COLOR, width=3), "xref": "x", "yref": "y"}
            for i, j in np.argwhere(~right)
        ]
    )
    cell_px = max(6, min(48, 520 // max(right.shape)))  # grid_figure's cell size
    fig.data[0].update(textfont={"size": max(9, min(16, cell_px // 3))})
    _make_clickable(fig, right.shape, cell_px, hover="click to see its arithmetic")
    return fig
