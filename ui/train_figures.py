"""Plotly figures for the Train LeNet page, built from plain arrays (no streamlit here).

Many small grids (6 filters, 16x6 kernels, 16 feature maps) are laid out as one mosaic heatmap with blank
gaps: one trace draws fast, and one trace means one colour scale for the whole comparison.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.figures import DIVERGING, style_grid_axes
from cnnviz.lenet import LayerInfo

TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#d62728"


def mosaic(maps: np.ndarray, cols: int, gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Grids (K, h, w) tiled `cols` to a row with NaN gaps; returns (tiled, index of the grid under each cell)."""
    k, h, w = maps.shape
    rows = -(-k // cols)
    tiled = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    which = np.full(tiled.shape, -1)
    for i in range(k):
        r, c = divmod(i, cols)
        tiled[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = maps[i]
        which[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = i
    return tiled, which


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest |value| over all arrays: a diverging scale from -limit to +limit is centred on zero."""
    finite = [np.abs(a[np.isfinite(a)]).max() for a in arrays if np.isfinite(a).any()]
    return float(max(finite, default=0.0)) or 1.0


def mosaic_figure(
    maps: np.ndarray,
    cols: int,
    *,
    title: str,
    hover: str,
    limit: float | None = None,
    cell_px: int = 8,
    diverging: bool = True,
) -> go.Figure:
    """Grids (K, h, w) as one mosaic heatmap.

    `hover` names the grid under the pointer in Plotly's template language: %{customdata[0]} is its index k,
    %{customdata[1]} and %{customdata[2]} its row and column in the mosaic.
    """
    k, h, w = maps.shape
    tiled, which = mosaic(maps, cols)
    if diverging:
        limit = limit or symmetric_limit(maps)
        colours = {"colorscale": DIVERGING, "zmin": -limit, "zmax": limit}
    else:
        top = float(np.nanmax(maps)) if np.isfinite(maps).any() else 1.0
        colours = {"colorscale": "gray", "zmin": min(0.0, float(np.nanmin(maps))), "zmax": top or 1.0}
    # Small integers per cell for the hover text (cheap to send; one string per cell is not).
    rows, cols_ = np.indices(tiled.shape)
    custom = np.dstack([which, rows // (h + 1), cols_ // (w + 1), rows % (h + 1), cols_ % (w + 1)])
    fig = go.Figure(
        go.Heatmap(
            z=tiled,
            customdata=custom.astype(np.int16),
            hovertemplate=hover + "<br>row %{customdata[3]}, column %{customdata[4]}<br>value %{z:.4~g}"
            "<extra></extra>",
            showscale=True,
            colorbar={"thickness": 12, "len": 0.9},
            **colours,
        )
    )
    style_grid_axes(fig, ticks=False)
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        width=min(1100, max(260, cell_px * tiled.shape[1] + 110)),
        height=min(1000, max(140, cell_px * tiled.shape[0] + 60)),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        plot_bgcolor="white",
    )
    return fig


def c1_figure(c1: np.ndarray, limit: float | None = None) -> go.Figure:
    """The 6 C1 filters (6, 5, 5) side by side on one diverging scale."""
    hover = "C1 filter %{customdata[0]}"
    return mosaic_figure(c1, 6, title="C1: the 6 filters (5x5)", hover=hover, limit=limit, cell_px=20)


def c3_figure(c3: np.ndarray, limit: float | None = None) -> go.Figure:
    """The 16x6 C3 kernels (16, 6, 5, 5): row = C3 filter, column = the S2 map it reads, one scale."""
    n_out, n_in = c3.shape[:2]
    maps = c3.reshape(n_out * n_in, *c3.shape[2:])  # (96, 5, 5), row-major: filter, then input map
    return mosaic_figure(
        maps,
        n_in,
        title="C3: 16 filters (rows) x 6 input maps (columns)",
        hover="C3 filter %{customdata[1]}, reading S2 map %{customdata[2]}",
        limit=limit,
        cell_px=5,
    )


def curves_figure(train_curve: dict, test_curve: dict, epochs: int) -> go.Figure:
    """Loss and accuracy against epochs, train (batch averages) and test (evaluations)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (cross-entropy)", "Accuracy"))
    for col, key in ((1, "loss"), (2, "accuracy")):
        fig.add_trace(
            go.Scatter(
                x=train_curve.get("epoch", []),
                y=train_curve.get(key, []),
                name="train",
                mode="lines",
                line={"color": TRAIN_COLOUR},
                legendgroup="train",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=test_curve.get("epoch", []),
                y=test_curve.get(key, []),
                name="test",
                mode="lines+markers",
                line={"color": TEST_COLOUR},
                legendgroup="test",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
    fig.update_xaxes(title_text="epoch", range=[0, max(1, epochs)])
    fig.update_yaxes(range=[0, 1.01], row=1, col=2, tickformat=".0%")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h"})
    return fig


def maps_figures(activations: dict[str, np.ndarray]) -> list[go.Figure]:
    """The chosen image through the conv/pool layers: input, C1, S2, C3, S4 (each its own scale)."""
    figures = [
        mosaic_figure(
            activations["input"], 1, title="input 1@32x32", hover="input", diverging=False, cell_px=5
        )
    ]
    for name, cols, px in (("C1", 6, 4), ("S2", 6, 7), ("C3", 8, 7), ("S4", 8, 12)):
        maps = activations[name]
        k, h, w = maps.shape
        signed = bool((maps < 0).any())
        figures.append(
            mosaic_figure(
                maps,
                cols,
                title=f"{name} {k}@{h}x{w}",
                hover=f"{name} map %{{customdata[0]}}",
                diverging=signed,
                cell_px=px,
            )
        )
    return figures


def vectors_figure(activations: dict[str, np.ndarray], class_names: tuple[str, ...]) -> go.Figure:
    """The fully connected layers as bars: C5 (120), F6 (84), output logits (10), softmax probabilities."""
    fig = make_subplots(
        rows=1,
        cols=4,
        column_widths=[0.35, 0.3, 0.15, 0.2],
        subplot_titles=("C5 / F5: 120 units", "F6: 84 units", "output: 10 logits", "softmax probabilities"),
    )
    for col, name in enumerate(("C5", "F6", "output"), start=1):
        v = activations[name]
        x = list(class_names) if name == "output" else list(range(len(v)))
        fig.add_trace(
            go.Bar(x=x, y=v, marker_color=TRAIN_COLOUR, name=name, showlegend=False), row=1, col=col
        )
    p = activations["probabilities"]
    colours = [TEST_COLOUR if i == int(np.argmax(p)) else "#999999" for i in range(len(p))]
    fig.add_trace(
        go.Bar(x=list(class_names), y=p, marker_color=colours, name="probability", showlegend=False),
        row=1,
        col=4,
    )
    fig.update_yaxes(range=[0, 1], row=1, col=4)
    fig.update_xaxes(type="category", row=1, col=3)
    fig.update_xaxes(type="category", row=1, col=4)
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def architecture_figure(rows: list[LayerInfo]) -> go.Figure:
    """The feature-map stack: each map layer as a pile of squares sized by H, each vector as a thin bar."""
    fig = go.Figure()
    x = 0.0
    for info in rows:
        shape = info.output_shape
        if len(shape) == 3:
            c, h, _ = shape
            side = h / 32 * 3.0  # 32x32 is 3 units tall
            shown = min(c, 8)
            for j in range(shown):
                off = j * 0.18
                fig.add_shape(
                    type="rect",
                    x0=x + off,
                    x1=x + off + side,
                    y0=-side / 2 + off,
                    y1=side / 2 + off,
                    line={"color": "#444", "width": 1},
                    fillcolor="#9ecae1" if info.name.startswith("C") or info.name == "input" else "#c7e9c0",
                )
            width = side + (shown - 1) * 0.18
            label = f"<b>{info.name}</b><br>{c}@{h}x{h}"
        else:
            (n,) = shape
            height = 0.6 + 2.4 * n / 120
            width = 0.25
            fig.add_shape(
                type="rect",
                x0=x,
                x1=x + width,
                y0=-height / 2,
                y1=height / 2,
                line={"color": "#444", "width": 1},
                fillcolor="#fdd0a2",
            )
            label = f"<b>{info.name}</b><br>{n}"
        label += f"<br>{info.params:,} p" if info.params else "<br> "
        fig.add_annotation(
            x=x + width / 2, y=-2.0, text=label, showarrow=False, font={"size": 12}, yanchor="top"
        )
        x += width + 1.0
    fig.update_xaxes(visible=False, range=[-0.3, x])
    fig.update_yaxes(visible=False, range=[-3.4, 2.6], scaleanchor="x")
    fig.update_layout(height=280, margin={"l": 0, "r": 0, "t": 10, "b": 0}, plot_bgcolor="white")
    return fig


def confusion_figure(M: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    """Counts (true class rows, predicted class columns), row 0 at the top, the count written in each cell."""
    fig = go.Figure(
        go.Heatmap(
            z=M,
            x=list(class_names),
            y=list(class_names),
            colorscale="Blues",
            text=M.astype(str),
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    fig.update_yaxes(autorange="reversed", title_text="true class", type="category", scaleanchor="x")
    fig.update_xaxes(title_text="predicted class", type="category", side="top")
    fig.update_layout(width=520, height=500, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


LETTERBOX = 80  # grey outside a non-square picture: not black, so the picture's own edges stay visible


def stage_picture(stage: np.ndarray, side: int = 128) -> tuple[np.ndarray, bool]:
    """One preprocessing stage (H, W) in 0..1 as a square uint8 picture about `side` pixels across.

    A non-square stage (a tall "1" cropped to its ink) is centred on a grey square, not stretched: st.image
    widens a narrow picture to its caption's width, which blew a 18x219 crop up to 100x1200. Small grids are
    enlarged by whole pixels (no blur). Returns (picture, whether grey padding was added).
    """
    pixels = (np.clip(np.asarray(stage, dtype=float), 0, 1) * 255).astype(np.uint8)
    h, w = pixels.shape
    n = max(h, w)
    square = np.full((n, n), LETTERBOX, np.uint8)
    top, left = (n - h) // 2, (n - w) // 2
    square[top : top + h, left : left + w] = pixels
    repeat = max(1, side // n)
    return np.kron(square, np.ones((repeat, repeat), np.uint8)), h != w
