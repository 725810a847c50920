"""Grids drawn like the matrices on the slide: Plotly figures built from plain arrays.

Row 0 at the top, column 0 at the left, square cells, the number in each cell while the grid is small
enough for it to stay readable, and a diverging scale centred on zero for signed values. This module
imports plotly but never streamlit; pages pass its figures to `st.plotly_chart`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.basevalidators import ColorscaleValidator

from cnnviz.draw.palette import DIVERGING as PALETTE_DIVERGING
from cnnviz.draw.palette import IMAGE, MAGNITUDE, PAD_SHADE, WINDOW_COLOR
from cnnviz.trace import fmt

__all__ = [
    "MAX_NUMBERED",
    "Outline",
    "cell_text",
    "color_range",
    "grid_axes",
    "grid_figure",
    "grid_trace",
    "new_figure",
    "outline_shape",
    "shade_trace",
    "style_grid_axes",
]

MAX_NUMBERED = 32  # numbers are written in cells up to this many rows and columns (Plotly draw time)
DIVERGING = PALETTE_DIVERGING  # negative blue, zero near-white, positive red (with zmin = -zmax)
SEQUENTIAL = MAGNITUDE  # viridis
GRAY = IMAGE  # pictures of 0..255

CLEAR = "rgba(0,0,0,0)"
# Whether figures are built through Plotly's checks of every property (`new_figure`). Off when serving: the
# checks were a quarter of a Home page's rerun (a grid's layout alone: 2-4 ms). The tests check that every
# page draws the same figures either way (tests/test_lite_figures.py); CNNVIZ_CHECK_FIGURES=1 turns them on.
CHECKED = os.environ.get("CNNVIZ_CHECK_FIGURES", "") == "1"
Outline = tuple[int, int, int, int]  # (row0, col0, row1, col1), inclusive cell corners


def color_range(values: Iterable[np.ndarray], *, image: bool = False) -> dict:
    """One colour scale for every grid of a comparison: diverging and centred on 0 if any value is negative."""
    arrays = [np.asarray(v, dtype=float) for v in values]
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.zeros(1)])
    if finite.size == 0:
        finite = np.zeros(1)
    lo, hi = float(finite.min()), float(finite.max())
    if image and lo >= 0 and hi <= 255:
        return {"colorscale": GRAY, "zmin": 0.0, "zmax": 255.0}
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        return {"colorscale": DIVERGING, "zmin": -m, "zmax": m}
    if hi == lo:
        hi = lo + 1.0
    return {"colorscale": SEQUENTIAL, "zmin": lo, "zmax": hi}


def cell_text(Z: np.ndarray, *, max_numbered: int = MAX_NUMBERED) -> list[list[str]] | None:
    """Each cell's number as text, or None when the grid is too large for readable numbers."""
    Z = np.asarray(Z)
    if Z.ndim != 2 or max(Z.shape) > max_numbered:
        return None
    return [["" if np.isnan(v) else fmt(v) for v in row] for row in Z]


def grid_trace(
    Z,
    *,
    colors: dict | None = None,
    numbers: bool | None = None,
    text: Sequence[Sequence[str]] | None = None,
    name: str = "",
    showscale: bool = False,
    hover: str = "value",
    x0: int = 0,
    y0: int = 0,
    gap: int = 1,
    font_px: int | None = None,
    **kwargs,
) -> dict:
    """One heatmap trace of a grid, the one heatmap builder every figure uses (a plain dict: fast to draw).

    `numbers=None` writes numbers only when the grid is small enough; `text` replaces them. `gap` is the
    pixel gap between cells (0 for pictures); `x0`, `y0` number the first column and row; `kwargs` are
    further heatmap properties (`xaxis`, `colorbar`, `hoverinfo`, ...).
    """
    Z = np.asarray(Z, dtype=float)
    colors = colors or color_range([Z])
    if text is None and numbers is not False:
        text = cell_text(Z) if numbers is None else cell_text(Z, max_numbered=10**9)
    trace = {
        "type": "heatmap",
        "z": Z,
        "x0": x0,
        "y0": y0,
        "dx": 1,
        "dy": 1,
        "name": name,
        "showscale": showscale,
        "xgap": gap,
        "ygap": gap,
        "hovertemplate": f"row %{{y}}, column %{{x}}<br>{hover} %{{z:.4~g}}<extra>{name}</extra>",
        **colors,
        **kwargs,
    }
    if text is not None:
        size = font_px or (14 if max(Z.shape) <= 10 else 10)
        trace.update(text=text, texttemplate="%{text}", textfont={"size": size})
    return trace


def outline_shape(
    cells: Outline, *, color: str = WINDOW_COLOR, width: int = 4, dash: str | None = None, **ref
) -> dict:
    """A rectangle around cells (row0, col0)..(row1, col1) inclusive, in heatmap cell coordinates."""
    r0, c0, r1, c1 = cells
    line = {"color": color, "width": width}
    if dash:
        line["dash"] = dash
    return dict(type="rect", x0=c0 - 0.5, x1=c1 + 0.5, y0=r0 - 0.5, y1=r1 + 0.5, line=line, **ref)


def shade_trace(mask: np.ndarray, color: str = PAD_SHADE, **kwargs) -> dict:
    """A translucent single-colour layer over the cells where `mask` is True (one trace, any grid size)."""
    layer = np.where(np.asarray(mask, dtype=bool), 1.0, np.nan)
    colors = {"colorscale": [[0, color], [1, color]], "zmin": 0, "zmax": 1}
    return grid_trace(layer, colors=colors, numbers=False, hoverinfo="skip", **kwargs)


def grid_axes(*, ticks: bool = True, square: bool = True) -> dict:
    """The layout's `xaxis` and `yaxis` of a grid that reads like a matrix on the slide: row 0 at the top,
    square cells (`square`: y anchored to x), integer ticks (`ticks`). Given whole with the figure: Plotly's
    property-by-property updates cost milliseconds a call, on every rerun of every page."""
    common = dict(showgrid=False, zeroline=False, dtick=1 if ticks else None, showticklabels=ticks, ticks="")
    return {
        "xaxis": dict(common, constrain="domain", side="top"),
        "yaxis": dict(common, autorange="reversed", constrain="domain", scaleanchor="x" if square else None),
    }


def style_grid_axes(
    fig: go.Figure, *, row: int | None = None, col: int | None = None, ticks: bool = True
) -> None:
    """`grid_axes` on a figure's subplot (`row`, `col`) or, with neither, on the figure's only axes."""
    axes = grid_axes(ticks=ticks, square=row is None)
    if row is None:
        fig.update_layout(axes)
        return
    fig.update_xaxes(axes["xaxis"], row=row, col=col)
    fig.update_yaxes(axes["yaxis"], row=row, col=col)


def new_figure(data=None, layout=None) -> go.Figure:
    """`go.Figure(data=data, layout=layout)`, or a copy of a figure (`data`), built without Plotly's property
    checks unless `CHECKED`; colour scales named by a string ("Viridis") are written out, as the checks do."""
    if CHECKED:
        return go.Figure(data=data, layout=layout)
    if isinstance(data, list | tuple):
        data = [_scales_written_out(trace) if isinstance(trace, dict) else trace for trace in data]
    return go.Figure(data=data, layout=layout, _validate=False)


def _scales_written_out(trace: dict) -> dict:
    """A trace dict whose named colour scales (its own, its marker's) are Plotly's list of stops."""
    trace = dict(trace)
    if isinstance(trace.get("colorscale"), str):
        trace["colorscale"] = _named_scale(trace["colorscale"])
    marker = trace.get("marker")
    if isinstance(marker, dict) and isinstance(marker.get("colorscale"), str):
        trace["marker"] = {**marker, "colorscale": _named_scale(marker["colorscale"])}
    return trace


@functools.cache
def _named_scale(name: str) -> tuple:
    """A named colour scale's stops, as Plotly's check writes them out."""
    return tuple(ColorscaleValidator("colorscale", "heatmap").validate_coerce(name))


def grid_figure(
    Z,
    *,
    title: str = "",
    colors: dict | None = None,
    numbers: bool | None = None,
    outlines: Sequence[tuple[Outline, str]] = (),
    shade: np.ndarray | None = None,
    shade_color: str = PAD_SHADE,
    showscale: bool = True,
    cell_px: int | None = None,
    hover: str = "value",
    origin: tuple[int, int] = (0, 0),
) -> go.Figure:
    """A whole figure for one grid, with optional outlined regions and shaded (masked) cells.

    `outlines` is a list of ((row0, col0, row1, col1), colour); `shade` is a boolean mask of cells to
    grey out (e.g. padding, or input cells no window visits). `origin` is the (row, column) of Z[0, 0]
    when Z is a crop of a larger grid, so the axes and outlines keep the larger grid's numbering.
    """
    Z = np.asarray(Z, dtype=float)
    h, w = Z.shape
    y0, x0 = origin
    data = [grid_trace(Z, colors=colors, numbers=numbers, showscale=showscale, hover=hover, x0=x0, y0=y0)]
    if shade is not None and np.any(shade):
        data.append(shade_trace(shade, shade_color, x0=x0, y0=y0))
    cell = cell_px or max(6, min(48, 520 // max(h, w)))
    layout = dict(
        shapes=[outline_shape(cells, color=color) for cells, color in outlines],
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=min(900, max(180, cell * h + 90)),
        width=min(1100, max(220, cell * w + (160 if showscale else 70))),
        margin={"l": 40, "r": 20, "t": 70 if title else 40, "b": 20},
        paper_bgcolor=CLEAR,  # the theme shows through (as `ui.classroom.projector_style` would make it)
        plot_bgcolor=CLEAR,
        **grid_axes(ticks=max(h, w) <= MAX_NUMBERED),
    )
    return new_figure(data, layout)
