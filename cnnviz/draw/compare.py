"""Figures of the "Correlation versus convolution" lesson: the two results side by side, the loop order,
associativity, smoothing and the spectra. The numbers come from `cnnviz.lessons.compare`."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.draw.figures import MAX_NUMBERED, color_range, grid_figure, grid_trace, style_grid_axes
from cnnviz.draw.palette import CURRENT_COLOR, OKABE_ITO, WINDOW_COLOR
from cnnviz.lessons.compare import (
    Associativity,
    Comparison,
    FFTResult,
    LoopStep,
    anchor,
    loop_order,
    visit_numbers,
)
from cnnviz.trace import fmt_factor

__all__ = [
    "associativity_figures",
    "loop_order_figure",
    "side_by_side_figures",
    "smoothing_figure",
    "spectrum_figure_1d",
    "spectrum_figure_2d",
]


def loop_order_figure(steps: list[LoopStep], kernel_shape: tuple[int, int], *, title: str = "") -> go.Figure:
    """The input window with each cell numbered by the loop step that reads it, and its offset."""
    numbers = visit_numbers(steps, kernel_shape)
    kh, kw = kernel_shape
    ar, ac = anchor(kh), anchor(kw)
    by_pos = {(s.offset[0] + ar, s.offset[1] + ac): s for s in steps}
    text = [
        [
            f"<b>{numbers[r, c]}</b><br>({by_pos[r, c].offset[0]},{by_pos[r, c].offset[1]})"
            f"<br>{fmt_factor(by_pos[r, c].x)}*{fmt_factor(by_pos[r, c].k)}"
            for c in range(kw)
        ]
        for r in range(kh)
    ]
    trace = grid_trace(
        numbers,
        colors={"colorscale": "Blues", "zmin": 0, "zmax": numbers.max() * 1.6},
        text=text,
        hover="loop step",
        y0=-ar,
        x0=-ac,
    )
    trace.update(textfont={"size": 13})
    fig = go.Figure(trace)
    cell = 78 if max(kh, kw) <= 3 else max(40, 300 // max(kh, kw))
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=cell * kh + 100,
        width=max(300, cell * kw + 70),  # wide enough for the title
        margin={"l": 40, "r": 20, "t": 80 if title else 40, "b": 10},
        plot_bgcolor="white",
    )
    style_grid_axes(fig)
    return fig


def side_by_side_figures(c: Comparison, i: int, j: int) -> dict[str, go.Figure]:
    """The input (window of output (i, j) outlined), K and K rotated, and the three results on one scale.

    Keys: "X", "K", "K_flipped", "corr", "conv", "diff", "order_correlate", "order_convolve".
    """
    corr, conv = c.correlation, c.convolution
    step = corr.step(i, j)  # the window's padded rows and columns come from the plan
    top, left = corr.input_position(step.rows[0], step.cols[0])
    bottom, right = corr.input_position(step.rows[-1], step.cols[-1])
    window = (int(top), int(left), int(bottom), int(right))
    pad_mask = corr.plan.pad_mask()
    figs = {
        "X": grid_figure(
            corr.padded,
            title="Input X" + (" (padding shaded)" if pad_mask.any() else ""),
            colors=color_range([corr.padded]),
            shade=pad_mask,
            outlines=[(window, WINDOW_COLOR)],
            origin=corr.input_position(0, 0),  # padded cell (0, 0) sits at input (-p, -p)
            showscale=False,
            cell_px=max(6, min(48, 300 // max(corr.padded.shape))),
        )
    }
    kcolors = color_range([c.K, c.flipped])
    kcell = max(24, min(56, 260 // max(c.K.shape)))
    for key, Z, title in (
        ("K", c.K, "K (correlation)"),
        ("K_flipped", c.flipped, "K rotated 180° (conv.)"),
    ):
        figs[key] = grid_figure(Z, title=title, colors=kcolors, showscale=False, cell_px=kcell)
    colors = color_range([corr.output, conv.output, c.difference])  # one scale for the three results
    out_h, out_w = corr.shape
    big = max(out_h, out_w) > MAX_NUMBERED  # no numbers in the cells: show the colour bar instead
    cell = max(6, min(48, 300 // max(out_h, out_w)))
    for key, Z, title in (
        ("corr", corr.output, "Cross-correlation with K"),
        ("conv", conv.output, "Convolution (K rotated)"),
        ("diff", c.difference, "Convolution − correlation"),
    ):
        figs[key] = grid_figure(
            Z,
            title=title,
            colors=colors,
            outlines=[((i, j, i, j), CURRENT_COLOR)],
            showscale=big,
            cell_px=cell,
        )
    for trace, label in ((corr, "Cross-correlation"), (conv, "Convolution")):
        figs[f"order_{trace.mode}"] = loop_order_figure(
            loop_order(trace, i, j), c.K.shape, title=f"{label}:<br>visiting order"
        )
    return figs


def associativity_figures(r: Associativity, symbol: str) -> list[go.Figure]:
    """Both sides and their difference, on one colour scale."""
    colors = color_range([r.left, r.right, r.difference])
    titles = (f"(a {symbol} b) {symbol} c", f"a {symbol} (b {symbol} c)", "difference")
    return [
        grid_figure(Z, title=title, colors=colors, showscale=title == "difference")
        for Z, title in zip((r.left, r.right, r.difference), titles, strict=True)
    ]


def smoothing_figure(t, clean, noisy, smooth, *, window_name: str) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(
        x=t, y=noisy, mode="lines+markers", name="noisy signal x", marker={"size": 4}, opacity=0.6
    )
    fig.add_scatter(
        x=t, y=clean, mode="lines", name="clean sine", line={"dash": "dot", "color": OKABE_ITO["grey"]}
    )
    fig.add_scatter(x=t, y=smooth, mode="lines", name=f"x * {window_name}", line={"width": 3})
    fig.update_layout(
        height=360,
        width=900,
        margin={"l": 40, "r": 20, "t": 30, "b": 40},
        xaxis_title="t",
        legend={"orientation": "h", "y": 1.12},
    )
    return fig


def spectrum_figure_1d(result: FFTResult, *, names=("x", "w")) -> go.Figure:
    """Magnitude spectra |FFT x|, |FFT w| and their product against the frequency index."""
    k = np.arange(result.spectra[0].size)
    fig = go.Figure()
    for mag, name in zip(
        result.spectra, [f"|FFT {names[0]}|", f"|FFT {names[1]}|", "|product|"], strict=True
    ):
        fig.add_scatter(x=k, y=mag, mode="lines+markers", name=name)
    fig.update_layout(
        height=320,
        width=700,
        margin={"l": 40, "r": 20, "t": 30, "b": 40},
        xaxis_title="frequency index k (of the zero-padded length)",
        yaxis_title="magnitude",
        legend={"orientation": "h", "y": 1.15},
    )
    return fig


def spectrum_figure_2d(result: FFTResult) -> go.Figure:
    """log(1 + |FFT|) of the input, the kernel and their product, zero frequency in the centre."""
    from plotly.subplots import make_subplots

    titles = ("|FFT X|", "|FFT K|", "|FFT X| x |FFT K|")
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.06)
    for col, mag in enumerate(result.spectra, start=1):
        z = np.log1p(mag)
        fig.add_trace(
            grid_trace(
                z, colors={"colorscale": "Viridis", "zmin": 0, "zmax": float(z.max()) or 1}, numbers=False
            ),
            row=1,
            col=col,
        )
        style_grid_axes(fig, row=1, col=col, ticks=False)
        fig.update_yaxes(scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)
    h, w = result.spectra[0].shape
    fig.update_layout(
        height=max(240, int(260 * h / max(w, 1)) + 60),
        width=900,
        margin={"l": 20, "r": 20, "t": 50, "b": 10},
        plot_bgcolor="white",
    )
    return fig
