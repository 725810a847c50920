"""Which Plotly figures the app's light figure component draws, and the JSON it draws them from.

The component (`ui/components/figure/figure.js`) draws the part of Plotly's figure format this app's
grids and curves use as plain SVG, so a page's first screen loads no Plotly JavaScript (1.2-1.5 s of a
first render in Chromium, `benchmarks/bench_first_render.py`). `lite_spec(fig)` is the figure's own JSON
(Plotly's encoding, arrays as base64) when every trace and setting is one the component draws, else None:
such a figure still goes to `st.plotly_chart`. Plotly only, never streamlit.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.io.json import to_json_plotly

__all__ = ["lite_spec"]

_LAYOUT = {
    "annotations", "font", "height", "hovermode", "legend", "margin", "paper_bgcolor", "plot_bgcolor",
    "shapes", "showlegend", "template", "title", "uirevision", "width", "dragmode",
}  # fmt: skip
_AXIS = {
    "anchor", "autorange", "constrain", "domain", "dtick", "exponentformat", "fixedrange", "range",
    "rangemode", "scaleanchor", "showgrid", "showticklabels", "side", "tick0", "tickfont", "ticks", "title",
    "type", "zeroline", "automargin", "showline", "linecolor", "gridcolor", "ticksuffix", "visible",
}  # fmt: skip
_HEATMAP = {
    "type", "z", "x0", "y0", "dx", "dy", "name", "showscale", "xgap", "ygap", "hovertemplate", "hoverinfo",
    "colorscale", "zmin", "zmax", "text", "texttemplate", "textfont", "colorbar", "xaxis", "yaxis", "uid",
    "visible",
}  # fmt: skip
_SCATTER = {
    "type", "x", "y", "mode", "name", "line", "marker", "hovertemplate", "hoverinfo", "showlegend", "xaxis",
    "yaxis", "uid", "legendgroup", "opacity",
}  # fmt: skip
_IMAGE = {
    "type", "source", "z", "x0", "y0", "dx", "dy", "hoverinfo", "hovertemplate", "name", "xaxis", "yaxis", "uid",
}  # fmt: skip
_AXIS_NAME = re.compile(r"^[xy]axis\d*$")
_AXIS_TYPES = ("linear", "log", "category", "-")  # "-": Plotly guesses from the data (numbers: linear)
_COLORBAR_MARKER = {"colorscale", "cmin", "cmax", "color", "showscale", "colorbar"}


def _names(value) -> bool:
    """A heatmap's `x` or `y` the component draws: names (strings) of its columns or rows (category axes)."""
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


def _shape(value) -> tuple[int, ...]:
    """An array's shape, also when Plotly already encoded it ({"dtype", "bdata", "shape": "5, 6, 3"})."""
    if isinstance(value, dict):
        return tuple(int(v) for v in str(value.get("shape", "0")).split(","))
    return np.shape(value) if value is not None else ()


def _colorbar_only(trace: dict) -> bool:
    """A scatter with no points that only carries a colour bar (a map drawn as a picture has one)."""
    marker = trace.get("marker", {})
    return (
        all(v is None for v in trace.get("x", ()))
        and set(marker) <= _COLORBAR_MARKER
        and isinstance(marker.get("colorscale"), list | tuple)
        and {"cmin", "cmax"} <= set(marker)
    )


def _trace_drawn(trace: dict) -> bool:
    kind = trace.get("type", "scatter")
    if kind == "image":  # a PNG, or an (H, W, 3) array of 0..255
        png = str(trace.get("source", "")).startswith("data:image/png;base64,")
        shape = _shape(trace.get("z"))
        rgb = len(shape) == 3 and shape[2] == 3
        return set(trace) <= _IMAGE and (png or rgb)
    if kind == "scatter" and trace.get("marker", {}).get("showscale"):
        return set(trace) <= _SCATTER and _colorbar_only(trace)
    if kind == "heatmap":
        scale = trace.get("colorscale")
        named = all(_names(trace[k]) for k in ("x", "y") if trace.get(k) is not None)
        return (
            set(trace) - {"x", "y"} <= _HEATMAP
            and named
            and isinstance(scale, list | tuple)
            and trace.get("visible", True) is True
        )
    if kind == "scatter":
        mode = trace.get("mode", "lines+markers")
        marker = trace.get("marker", {})
        return (
            set(trace) <= _SCATTER
            and mode in ("lines", "markers", "lines+markers")
            and marker.get("symbol", "circle") in ("circle", "square")
            and not isinstance(marker.get("color"), list | tuple | dict)
            and not isinstance(marker.get("size"), list | tuple | dict)
        )
    return False


def _layout_drawn(layout: dict) -> bool:
    for key, value in layout.items():
        if _AXIS_NAME.match(key):
            if not set(value) <= _AXIS or value.get("type", "linear") not in _AXIS_TYPES:
                return False
        elif key not in _LAYOUT:
            return False
    shapes = layout.get("shapes", ())
    notes = layout.get("annotations", ())
    return all(s.get("type") in ("rect", "line") for s in shapes) and all(
        a.get("showarrow") is False for a in notes
    )


def lite_spec(fig: go.Figure) -> str | None:
    """`fig` as JSON for the light figure component (no template: it is Plotly's look, not the figure's),
    or None when the figure uses something the component does not draw."""
    # A copy of the figure's dicts, its arrays shared: Plotly's base64 encoding of the arrays replaces them in
    # their dicts (`to_plotly_json` deep-copies the arrays too first: ~1 ms a grid).
    spec = _dicts_copied({"data": fig._data, "layout": fig._layout})
    spec["layout"].pop("template", None)
    for key in ("shapes", "annotations"):
        if spec["layout"].get(key) == []:
            del spec["layout"][key]
    if not all(_trace_drawn(t) for t in spec["data"]) or not _layout_drawn(spec["layout"]):
        return None
    convert_to_base64(spec)
    return to_json_plotly(spec)


def _dicts_copied(value):
    """`value` with every dict and list in it copied, and anything else (arrays, strings, numbers) shared; a
    property set to None is left out (Plotly's "unset", which a figure built unchecked keeps as a None)."""
    if isinstance(value, dict):
        return {k: _dicts_copied(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_dicts_copied(v) for v in value]
    return value
