"""Plotly figures for the Train LeNet page that are drawn once, not while a run trains (the architecture, the
confusion matrix), and the preprocessing pictures; built from plain arrays. The live view's filters and
activations are pictures (`cnnviz.draw.lenet`), its curves an SVG (`ui.curves_svg`).

The live view redraws every 2 s in every student's page, mostly the same pictures (30 students waiting in line
see the same starting network on the same test image): `snapshot_of`, `filters_png` and `activations_png` make
each once per content and share it.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.draw.lenet import Layout, activations_picture, filters_picture
from cnnviz.lenet.model import LayerInfo, LeNet5
from cnnviz.lenet.training import Snapshot, take_snapshot

# model -> {(probe, input bytes): Snapshot}; an entry goes with its model
_SNAPSHOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SNAPSHOTS_LOCK = threading.Lock()


def snapshot_of(model: LeNet5, X, probe: int) -> Snapshot:
    """`take_snapshot(model, X, probe)` (X: a model input (1, 1, 32, 32)), once per model object and input.
    The models the view shows are read-only (the shipped one, a run's `current_model`, `model_in_view`)."""
    key = (probe, X.numpy().tobytes())
    with _SNAPSHOTS_LOCK:
        known = _SNAPSHOTS.setdefault(model, {})
        if key in known:
            return known[key]
    snap = take_snapshot(model, X, probe)
    with _SNAPSHOTS_LOCK:
        if len(known) >= 16:
            known.clear()
        known[key] = snap
    return snap


@st.cache_resource(show_spinner=False, max_entries=256)
def filters_png(
    c1: np.ndarray, c3: np.ndarray, limits: tuple[float | None, float | None]
) -> tuple[bytes, Layout]:
    """`filters_picture` without its names (the page writes them, `ui.click_image`), made once per weights
    and shared by every session."""
    return filters_picture(c1, c3, limits, text=False)


@st.cache_resource(show_spinner=False, max_entries=256)
def activations_png(activations: dict[str, np.ndarray], class_names: tuple[str, ...]) -> tuple[bytes, Layout]:
    """`activations_picture` without its names, made once per activations and shared by every session."""
    return activations_picture(activations, class_names, text=False)


TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#d62728"


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest |value| over all arrays: a diverging scale from -limit to +limit is centred on zero."""
    finite = [np.abs(a[np.isfinite(a)]).max() for a in arrays if np.isfinite(a).any()]
    return float(max(finite, default=0.0)) or 1.0


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
