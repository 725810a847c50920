"""The light figure component: a Plotly figure's JSON drawn as SVG in the browser, with no Plotly JavaScript.

`show_figure(spec, key=...)` mounts `ui/components/figure/` (plain JS and CSS, registered once at import with
`st.components.v2.component`) with `spec`, a figure's JSON from `cnnviz.draw.lite.lite_spec`. Pages call
`ui.classroom.show`, which chooses between this and st.plotly_chart. In `st.session_state[key]` a click on a
selectable figure is `{"selection": {"points": [{"x", "y", ...}], ...}}`, the shape st.plotly_chart uses.
AppTest sees the component as a "bidi_component" element named `FIGURE_NAME` whose JSON data holds "spec".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ui.common import component_js

FIGURE_NAME = "cnnviz_figure"

_HERE = Path(__file__).parent / "components" / "figure"
_FIGURE = st.components.v2.component(
    FIGURE_NAME,
    css=(_HERE / "figure.css").read_text(encoding="utf-8"),
    js=component_js(_HERE / "figure.js"),
)


def show_figure(spec: str, *, key: str, stretch: bool = False, on_select: Callable | str | None = None):
    """Draw the figure `spec` (its JSON) at its own width, or the container's (`stretch`), never wider than
    the container; `on_select`: a click on a cell or point reruns the page (and calls it, if a callback)."""
    callbacks = {}
    if on_select is not None:
        callbacks["on_selection_change"] = on_select if callable(on_select) else (lambda: None)
    data = {"spec": spec, "stretch": bool(stretch), "selectable": on_select is not None, "name": key}
    return _FIGURE(key=key, data=data, **callbacks)


def show_figure_row(specs: list[str], *, key: str, widths: list[float], stretch: bool = False):
    """Draw the figures `specs` side by side in one mount, in columns sharing the width as `widths` do (as
    `st.columns(widths)` would); each at its own width, or its column's (`stretch`). One element for the row:
    a page's first render paid about 30 ms for each element of its own."""
    names = [f"{key}_{k}" for k in range(len(specs))]
    data = {"specs": specs, "widths": list(widths), "names": names, "stretch": bool(stretch)}
    return _FIGURE(key=key, data=data)
