"""Figures for learning a filter: the nine weights beside the target, the loss, the weights' paths.

Plotly only, no streamlit. Grids follow `cnnviz.draw.figures`: row 0 at the top, square cells, one shared
diverging colour scale per comparison. These figures are redrawn several times a second while the
weights learn, so each is built from plain dicts in one `go.Figure(...)` call: `make_subplots`,
`add_hline` and one validated trace at a time cost 10-100 ms each on a busy 2-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from cnnviz.draw.figures import color_range, grid_trace, new_figure
from cnnviz.draw.palette import IMAGE, OKABE_ITO

__all__ = ["kernels_figure", "loss_figure", "outputs_figure", "weight_names", "weights_figure"]

MAX_LOG_TICKS = 5  # labels on the loss axis: a run from 10 down to 1e-20 gets one every 5 decades
WEIGHT_COLORS = qualitative.Plotly + qualitative.D3  # one colour per weight, the same in every figure
_LINE_LAYOUT = {
    "height": 330,
    "width": 560,
    "margin": {"l": 70, "r": 20, "t": 50, "b": 50},
    "xaxis": {"title": {"text": "step"}, "rangemode": "tozero"},
}


def weight_names(shape: tuple[int, int]) -> list[str]:
    """w1..w9 in reading order (row by row), as the lecture numbers them."""
    return [f"w{k + 1}" for k in range(shape[0] * shape[1])]


def _two_decimals(v: float) -> str:
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text  # a tiny negative is still zero to two decimals


def _cell_labels(Z: np.ndarray, names: bool) -> list[list[str]]:
    h, w = Z.shape
    labels = weight_names(Z.shape)
    return [
        [(f"{labels[r * w + c]}<br>" if names else "") + _two_decimals(Z[r, c]) for c in range(w)]
        for r in range(h)
    ]


def _panels(n: int, gap: float = 0.06) -> tuple[list[str], dict]:
    """Axis names and layout for `n` side-by-side grid panels: row 0 on top, square cells, no ticks."""
    width = (1 - gap * (n - 1)) / n
    names, layout = [], {}
    for k in range(n):
        suffix = "" if k == 0 else str(k + 1)
        names.append(suffix)
        hidden = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": ""}
        layout[f"xaxis{suffix}"] = {"domain": [k * (width + gap), k * (width + gap) + width], **hidden}
        layout[f"yaxis{suffix}"] = {
            "autorange": "reversed",
            "scaleanchor": f"x{suffix}",
            "constrain": "domain",
            **hidden,
        }
    return names, layout


def _titles(titles: Sequence[str], n: int, gap: float = 0.06) -> list[dict]:
    """Panel titles as annotations centred over each panel."""
    width = (1 - gap * (n - 1)) / n
    return [
        {
            "text": t,
            "x": k * (width + gap) + width / 2,
            "y": 1.0,
            "xref": "paper",
            "yref": "paper",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 15},
        }
        for k, t in enumerate(titles)
    ]


def _heatmap(Z, axis: str, colors: dict, *, name: str, text=None, showscale=False, gap=1) -> dict:
    """A panel's grid on axes x<axis>, y<axis>."""
    return grid_trace(
        Z,
        colors=colors,
        text=text,
        numbers=text is not None,
        name=name,
        showscale=showscale,
        gap=gap,
        font_px=15,
        xaxis=f"x{axis}",
        yaxis=f"y{axis}",
    )


def kernels_figure(W: np.ndarray, K: np.ndarray, *, step: int, target_title: str = "Target K") -> go.Figure:
    """Target kernel, learned weights w1..w9 and their difference, on one colour scale."""
    W, K = np.asarray(W, dtype=float), np.asarray(K, dtype=float)
    D = W - K
    colors = color_range([K, W, D]) if np.all(np.isfinite(W)) else color_range([K])
    # Short lines: a panel is a third of the figure, and a title longer than its panel overlaps the next.
    titles = (target_title, f"Learned w1..w9<br>step {step:,}", "Learned − target")
    axes, layout = _panels(3)
    data = [
        _heatmap(Z, axis, colors, name=title, text=_cell_labels(Z, names), showscale=k == 2)
        for k, (Z, names, axis, title) in enumerate(
            zip((K, W, D), (False, True, False), axes, titles, strict=True)
        )
    ]
    layout.update(
        height=300,
        width=900,
        margin={"l": 20, "r": 20, "t": 60, "b": 10},
        plot_bgcolor="white",
        annotations=_titles(titles, 3),
    )
    return new_figure(data, layout)


def loss_figure(losses: Sequence[float], *, floor: float | None = None, title: str = "Loss") -> go.Figure:
    """The loss after each step, on a log scale (a straight line down means steady convergence)."""
    y = np.asarray(losses, dtype=float)
    y = np.where(np.isfinite(y) & (y > 0), y, np.nan)
    data = [
        {
            "type": "scatter",
            "x": np.arange(y.size),
            "y": y,
            "mode": "lines",
            "name": "loss",
            "line": {"width": 3},
        }
    ]
    if floor:
        data.append(
            {
                "type": "scatter",
                "x": [0, max(1, y.size - 1)],
                "y": [floor, floor],
                "mode": "lines",
                "name": "noise floor σ²",
                "line": {"dash": "dot", "color": OKABE_ITO["grey"]},
            }
        )
    layout = {
        **_LINE_LAYOUT,
        "title": {"text": title, "x": 0.0},
        "yaxis": {"title": {"text": "L (log scale)"}, **_log_axis(y, floor)},
        "showlegend": bool(floor),
        "legend": {"x": 1, "xanchor": "right", "y": 1},
    }
    return new_figure(data, layout)


def _log_axis(y: np.ndarray, floor: float | None) -> dict:
    """A log axis over the curve with at most `MAX_LOG_TICKS` labels: one every 1, 2, 3... decades."""
    finite = y[np.isfinite(y)]
    if floor:
        finite = np.append(finite, floor)
    if finite.size == 0:
        return {"type": "log", "exponentformat": "power"}
    lo, hi = np.log10(finite.min()), np.log10(finite.max())
    decades = max(1.0, np.ceil(hi) - np.floor(lo))
    step = int(np.ceil(decades / MAX_LOG_TICKS))
    return {
        "type": "log",
        "exponentformat": "power",
        "dtick": step,
        "tick0": 0,
        "range": [np.floor(lo) - 0.1, np.ceil(hi) + 0.1],
    }


def weights_figure(history_W: Sequence[np.ndarray], target: np.ndarray) -> go.Figure:
    """Each weight's value over the steps, with its target as a dashed line of the same colour."""
    target = np.asarray(target, dtype=float)
    paths = np.asarray(history_W, dtype=float).reshape(len(history_W), -1)  # (steps + 1, 9)
    steps = np.arange(paths.shape[0])
    data, shapes = [], []
    for k, name in enumerate(weight_names(target.shape)):
        color = WEIGHT_COLORS[k % len(WEIGHT_COLORS)]
        data.append(
            {
                "type": "scatter",
                "x": steps,
                "y": paths[:, k],
                "mode": "lines",
                "name": name,
                "line": {"color": color},
            }
        )
        level = float(target.ravel()[k])
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": level,
                "y1": level,
                "line": {"dash": "dash", "color": color, "width": 1},
            }
        )
    layout = {
        **_LINE_LAYOUT,
        "title": {"text": "The nine weights (dashed: their targets)", "x": 0.0},
        "yaxis": {"title": {"text": "weight"}},
        "shapes": shapes,
    }
    return new_figure(data, layout)


def outputs_figure(picture: np.ndarray, target_map: np.ndarray, learned_map: np.ndarray) -> go.Figure:
    """An unseen picture, the target kernel's map of it and the learned kernel's map, maps on one scale."""
    titles = ("Unseen picture (standardised)", "Target kernel's output", "Learned kernel's output")
    maps = [target_map, learned_map]
    colors = color_range([m for m in maps if np.all(np.isfinite(m))] or [target_map])
    axes, layout = _panels(3, gap=0.04)
    data = [_heatmap(picture, axes[0], {"colorscale": IMAGE}, name=titles[0], gap=0)]
    data += [
        _heatmap(Z, axis, colors, name=title, showscale=k == 1, gap=0)
        for k, (Z, axis, title) in enumerate(zip(maps, axes[1:], titles[1:], strict=True))
    ]
    h, w = picture.shape
    panel = 270
    layout.update(
        height=int(panel * h / w) + 60,
        width=3 * panel + 100,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        plot_bgcolor="white",
        annotations=_titles(titles, 3, gap=0.04),
    )
    return new_figure(data, layout)
