"""Pictures of a receptive field: the output grid of a layer, and the input region one of its cells sees.

Plotly only (no streamlit). The counts come from `cnnviz.lessons.layers.paths`, the outlines from the receptive
field recurrence (`Field.region`), so the picture shows both and a student can see they agree.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.draw.figures import (
    MAX_NUMBERED,
    grid_trace,
    new_figure,
    outline_shape,
    shade_trace,
    style_grid_axes,
)
from cnnviz.draw.palette import CURRENT_COLOR, PAD_SHADE, WINDOW_COLOR
from cnnviz.lessons.layers import Analysis, axis_reach, paths
from cnnviz.trace import fmt

__all__ = ["FieldView", "field_figure", "output_figure", "seen_counts"]

OUTPUT_PX = 300  # the output grid sits in a narrow column beside the input


class FieldView:
    """What one output cell of row `index` sees: its region (may reach into padding) and the path counts."""

    def __init__(self, analysis: Analysis, index: int, cell: tuple[int, int]):
        row = analysis.rows[index]
        if row.field is None:
            raise ValueError(f"layer {index} has no maps left (it comes after the flatten)")
        _, h_out, w_out = row.shape
        i, j = cell
        if not (0 <= i < h_out and 0 <= j < w_out):
            raise ValueError(f"cell ({i}, {j}) is outside layer {index}'s {h_out}x{w_out} output")
        _, self.h, self.w = analysis.input_shape
        self.index, self.cell, self.row = index, (i, j), row
        self.rows_span = row.field[0].region(i)  # (first, last) input row, padding included
        self.cols_span = row.field[1].region(j)
        self.counts = paths(
            analysis.plans(index), (i, j), (self.h, self.w)
        )  # (H, W) paths to each input cell

    @property
    def region(self) -> tuple[int, int, int, int]:
        """(row0, col0, row1, col1) of the receptive field, in input coordinates (negative = padding)."""
        return self.rows_span[0], self.cols_span[0], self.rows_span[1], self.cols_span[1]

    @property
    def clipped(self) -> tuple[int, int, int, int] | None:
        """The region cut to the input's borders; None when the cell sees only padding."""
        r0, c0, r1, c1 = self.region
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, self.h - 1), min(c1, self.w - 1)
        return (r0, c0, r1, c1) if r0 <= r1 and c0 <= c1 else None

    @property
    def seen(self) -> int:
        """How many input cells (per channel) really feed the output cell."""
        return int(np.count_nonzero(self.counts))

    def summary(self) -> str:
        r0, c0, r1, c1 = self.region
        size = f"{r1 - r0 + 1}x{c1 - c0 + 1}"
        text = (
            f"Output cell ({self.cell[0]}, {self.cell[1]}) of layer {self.index} has a {size} receptive field: "
            f"input rows {r0}..{r1}, columns {c0}..{c1}."
        )
        clipped = self.clipped
        if clipped is None:
            return text + " All of it lies in the padding: this cell sees no input pixel at all."
        if clipped != self.region:
            top, left, bottom, right = clipped
            text += (
                f" Inside the picture that is rows {top}..{bottom}, columns {left}..{right}; "
                "the rest is padding (zeros)."
            )
        full = (clipped[2] - clipped[0] + 1) * (clipped[3] - clipped[1] + 1)
        if self.seen < full:
            text += f" Only {self.seen:,} of those {full:,} pixels are read (gaps left by dilation or stride, or padding inside the network standing where those pixels are)."
        return text


def _frame(span: tuple[int, int], n: int, zoom: bool) -> tuple[int, int]:
    """Input positions to draw along one axis: the whole input plus any padding the field reaches."""
    lo, hi = min(span[0], 0), max(span[1], n - 1)
    if zoom:
        lo, hi = max(lo, span[0] - 2), min(hi, span[1] + 2)
    return lo, hi


def _cell_px(h: int, w: int, budget: int = 640) -> int:
    """Pixels per cell so that the grid spans about `budget` pixels (square cells, 2..40 px)."""
    return max(2, min(40, budget // max(h, w)))


def _size(fig: go.Figure, h: int, w: int, title: str, budget: int = 640) -> None:
    cell = _cell_px(h, w, budget)
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=min(900, max(200, cell * h + 110)),
        width=min(1100, max(320, cell * w + 150)),
        margin={"l": 40, "r": 20, "t": 90, "b": 20},
        plot_bgcolor="white",
        showlegend=False,
    )
    style_grid_axes(fig, ticks=max(h, w) <= MAX_NUMBERED)


def field_figure(view: FieldView, *, zoom: bool = False) -> go.Figure:
    """The input grid, coloured by how many paths reach each cell from the chosen output cell.

    Padding the field reaches is drawn as grey cells with negative (or past-the-end) indices; the orange
    frame is the receptive field from the recurrence. `zoom` crops to the field plus a 2-cell margin.
    """
    r_lo, r_hi = _frame(view.rows_span, view.h, zoom)
    c_lo, c_hi = _frame(view.cols_span, view.w, zoom)
    rr = np.arange(r_lo, r_hi + 1)[:, None]
    cc = np.arange(c_lo, c_hi + 1)[None, :]
    inside = (rr >= 0) & (rr < view.h) & (cc >= 0) & (cc < view.w)
    Z = np.full(inside.shape, np.nan)  # (frame rows, frame cols); padding stays NaN (not drawn)
    r_in, c_in = (
        slice(max(r_lo, 0), min(r_hi, view.h - 1) + 1),
        slice(max(c_lo, 0), min(c_hi, view.w - 1) + 1),
    )
    Z[inside] = view.counts[r_in, c_in].ravel()
    top = float(np.nanmax(Z)) if np.any(Z > 0) else 1.0
    digits = len(fmt(top))
    numbered = (
        max(Z.shape) <= MAX_NUMBERED and _cell_px(*Z.shape) >= 7 * digits + 6
    )  # the number fits its cell
    text = [["" if not (v > 0) else fmt(v) for v in row] for row in Z] if numbered else None
    fig = new_figure(
        [
            grid_trace(
                np.nan_to_num(Z, nan=0.0),
                colors={"colorscale": "Blues", "zmin": 0.0, "zmax": top},
                text=text,
                numbers=numbered,
                hover="paths",
                x0=c_lo,
                y0=r_lo,
                showscale=True,
                colorbar={"title": {"text": "paths"}, "thickness": 14},
            )
        ]
    )
    if not inside.all():
        fig.add_trace(shade_trace(~inside, PAD_SHADE, x0=c_lo, y0=r_lo))
    fig.add_shape(outline_shape(view.region, color=WINDOW_COLOR, width=3))
    title = f"Input {view.h}x{view.w}: what output cell {view.cell} of layer {view.index} sees" + (
        "<br><sub>grey = padding; numbers = paths from that cell back to the pixel</sub>"
    )
    _size(fig, *Z.shape, title)
    return fig


def seen_counts(analysis: Analysis, index: int) -> np.ndarray:
    """(H_out, W_out): how many real input pixels each output cell of row `index` sees (border cells see fewer)."""
    plans = analysis.plans(index)
    _, h, w = analysis.input_shape
    rows = axis_reach([p.rows for p in plans], h).sum(axis=1)  # (H_out,) real input rows each output row sees
    cols = axis_reach([p.cols for p in plans], w).sum(axis=1)
    return np.outer(rows, cols).astype(float)


def output_figure(
    analysis: Analysis, index: int, cell: tuple[int, int], *, clickable: bool = True
) -> go.Figure:
    """Layer `index`'s output grid, each cell showing how many input pixels it sees; the chosen cell in red.

    With `clickable`, invisible square markers sit on the cell centres: Plotly heatmaps return no click
    events, markers do (shared/STREAMLIT_NOTES.md).
    """
    Z = seen_counts(analysis, index)
    h, w = Z.shape
    fig = new_figure(
        [
            grid_trace(
                Z,
                colors={"colorscale": "Greens", "zmin": 0.0, "zmax": float(Z.max()) or 1.0},
                hover="input pixels seen",
                showscale=False,
            )
        ]
    )
    if clickable and h * w <= 128 * 128:
        yy, xx = np.mgrid[0:h, 0:w]
        fig.add_trace(
            go.Scatter(
                x=xx.ravel(),
                y=yy.ravel(),
                mode="markers",
                marker={"symbol": "square", "size": max(4, _cell_px(h, w, OUTPUT_PX) - 2), "opacity": 0},
                hovertemplate="row %{y}, column %{x}<extra>click to choose</extra>",
                name="cells",
            )
        )
    i, j = cell
    fig.add_shape(outline_shape((i, j, i, j), color=CURRENT_COLOR, width=4))
    c, _, _ = analysis.rows[index].shape
    _size(
        fig,
        h,
        w,
        f"Layer {index} output ({c}@{h}x{w}): pick a cell"
        + "<br><sub>numbers: input pixels each cell sees</sub>",
        OUTPUT_PX,
    )
    fig.update_xaxes(range=[-0.5, w - 0.5])  # the markers would otherwise widen the axes by a cell
    fig.update_yaxes(range=[h - 0.5, -0.5], autorange=False)  # row 0 at the top
    return fig
