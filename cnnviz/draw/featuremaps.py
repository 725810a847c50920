"""Feature maps of any size: a plain heatmap while the map is small, a coloured image (with a colour bar)
once a heatmap would be too heavy for the browser. The maps come from `cnnviz.lessons.featuremaps`."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.colors as pcolors
import plotly.graph_objects as go
from PIL import Image

from cnnviz.draw.figures import MAX_NUMBERED, color_range, grid_trace, new_figure
from cnnviz.draw.picture import png_bytes, png_uri

__all__ = ["HEATMAP_MAX", "colorize", "map_figure"]

COLORBAR = {"thickness": 10, "xpad": 4, "tickfont": {"size": 10}}
COLORBAR_PX = 80  # the width a colour bar with its tick labels takes
HEATMAP_MAX = 128  # maps up to this many rows and columns are heatmaps (hover values); larger ones images


@lru_cache(maxsize=16)
def _lut_of(colorscale: str | tuple) -> np.ndarray:
    """(256, 3) uint8 colours sampled evenly along a named Plotly colour scale or ((stop, "#hex"), ...)."""
    if isinstance(colorscale, str):
        scale = pcolors.get_colorscale(colorscale)
    else:
        scale = [[p, "rgb({}, {}, {})".format(*pcolors.hex_to_rgb(c))] for p, c in colorscale]
    samples = pcolors.sample_colorscale(scale, np.linspace(0, 1, 256).tolist())
    return np.array([pcolors.unlabel_rgb(c) for c in samples], dtype=float).round().astype(np.uint8)


def _lut(colorscale) -> np.ndarray:
    """`_lut_of`, with a scale given as a list of [stop, colour] pairs made hashable for its cache."""
    if not isinstance(colorscale, str):
        colorscale = tuple((float(p), str(c)) for p, c in colorscale)
    return _lut_of(colorscale)


def colorize(Z, colors: dict) -> np.ndarray:
    """A map as (H, W, 3) uint8 colours: `colors` is a `color_range` dict (colorscale, zmin, zmax)."""
    Z = np.asarray(Z, dtype=float)
    lo, hi = float(colors["zmin"]), float(colors["zmax"])
    t = np.clip((Z - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    return _lut(colors["colorscale"])[np.rint(t * 255).astype(np.intp)]


def _colorbar_trace(colors: dict) -> dict:
    """A colour bar on its own (an invisible point), for a map drawn as an image."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        hoverinfo="skip",
        showlegend=False,
        marker={
            "colorscale": colors["colorscale"],
            "cmin": colors["zmin"],
            "cmax": colors["zmax"],
            "color": [colors["zmin"]],
            "showscale": True,
            "colorbar": COLORBAR,
        },
    )


def map_figure(
    Z,
    *,
    title: str = "",
    colors: dict | None = None,
    showscale: bool = True,
    side_px: int = 300,
    heatmap_max: int = HEATMAP_MAX,
) -> go.Figure:
    """One feature map about `side_px` wide, row 0 at the top, square cells.

    Up to `heatmap_max` cells a side it is a heatmap (hover reads each value; numbers in the cells up to
    32x32); beyond that a coloured PNG image on the same colour scale, which stays light for the browser.
    """
    Z = np.asarray(Z, dtype=float)
    h, w = Z.shape
    colors = colors or color_range([Z])
    numbered = max(h, w) <= min(MAX_NUMBERED, side_px // 14)
    if max(h, w) <= heatmap_max:
        traces = [grid_trace(Z, colors=colors, numbers=numbered, showscale=showscale)]
        traces[0].update(colorbar=COLORBAR)
        if not numbered:
            traces[0].update(xgap=0, ygap=0)
    else:
        # The browser shows the map about `side_px` pixels wide: send no more pixels than that (each
        # image pixel the mean of the map cells it covers), then colour them on the map's scale.
        shown = Z
        shrink = max(h, w) / side_px
        if shrink > 1:
            size = (max(1, round(w / shrink)), max(1, round(h / shrink)))
            shown = np.asarray(Image.fromarray(Z.astype(np.float32)).resize(size, Image.Resampling.BOX))
        rgb = Image.fromarray(colorize(shown, colors))
        dx, dy = w / rgb.width, h / rgb.height  # map cells per image pixel
        source = png_uri(png_bytes(rgb, compress_level=1))  # fast: the page draws many maps
        image = {"type": "image", "source": source, "x0": (dx - 1) / 2, "y0": (dy - 1) / 2}
        traces = [dict(image, dx=dx, dy=dy, hoverinfo="skip")]
        if showscale:
            traces.append(_colorbar_trace(colors))
    scale = side_px / max(h, w)
    # The axes of `style_grid_axes` (row 0 at the top, square cells), given with the figure: Plotly's
    # property-by-property updates cost ~10 ms a figure, and this page draws two dozen maps.
    axis = dict(
        showgrid=False, zeroline=False, ticks="", showticklabels=numbered, dtick=1 if numbered else None
    )
    left = 30 if numbered else 8
    layout = dict(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 13}} if title else None,
        width=int(w * scale) + left + 4 + (COLORBAR_PX if showscale else 0),
        height=int(h * scale) + (48 if title else 12) + (22 if numbered else 6),
        margin={"l": left, "r": 4, "t": (48 if title else 12) + (22 if numbered else 0), "b": 6},
        plot_bgcolor="white",
        xaxis=dict(axis, range=[-0.5, w - 0.5], side="top", constrain="domain"),
        yaxis=dict(axis, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain"),
    )
    return new_figure(traces, layout)
