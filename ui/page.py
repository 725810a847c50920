"""The page pattern: everything a page script needs, in one import (README, "Add a page").

A page imports this module as `import ui.page as ui` and calls `ui.<name>`. It is: a module docstring, imports,
one function per section (each reads its own widgets, calls `cnnviz` and draws; it returns plain values), and
`main()` calling `ui.page_setup(...)` and then the sections in order.

- Defaults: the widget's own `value=`/`index=` (through `url_*`, which keep the value in the link); a grid the
  link holds as text for a box: `value=first_value(key, make)`.
- A widget's value changed by code: only in an `on_change`/`on_click` callback, through `set_widgets`.
- A widget this run may not draw (a box in a closed tab, a branch not taken): `keep_widgets(...)` first.
- A number whose widget's range another widget shrinks (a cell index when the grid shrinks): that widget's
  `on_change` callback calls `fit_widgets({key: top})`; `keep_within(key, top)` only where the change comes
  with no callback of ours (a picture read in the run).
- Bad input: `keep_last_good(key, make)` shows the error and keeps what was on screen.
- A figure: built by a function decorated with `@cached_figure` (inputs in, figure out; never mutated),
  drawn with `show_grid` (a restyled copy for the theme and the projector); `grid(Z, ...)` is the usual one.
  Several side by side: `show_grid_row([fig, ...], key=..., widths=[...])`, one element for the row.
- A picture (an array of 0..255, small): `picture(image, caption=...)`, in the page itself (no second request).
- Big numbers side by side: `metrics({"Step": "12", ...}, key=...)`, one element.
- A static table: `table(records)` (one markdown element; `st.table` draws each cell as one).
- A long part: `with folded(label, key=...) as open_: if open_: ...` runs only when opened; a page of
  several lessons shows one at a time with `lazy_tabs({label: section, ...}, key=...)`.
- Input: `input_source(...)` ("Lecture example", "Type a grid", "Random grid", "Picture"), `random_grid`,
  `image_picker` (a bundled picture or "Upload my own").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from cnnviz.draw.figures import grid_figure
from cnnviz.draw.table import markdown_table
from cnnviz.memory import start_janitor
from ui.classroom import (
    check_link_choice,
    check_link_number,
    classroom_bar,
    explain,
    first_grid_text,
    first_value,
    folded,
    keep_other_pages,
    kept_key,
    projector_mode,
    projector_style,
    set_url_grid,
    show,
    typed_grid,
    typed_grid_refused,
    url_grid,
    url_multiselect,
    url_number,
    url_select,
    url_select_slider,
    url_slider,
    url_toggle,
)
from ui.common import (
    BUNDLED,
    INPUT_SOURCES,
    LECTURE,
    PICTURE,
    RANDOM,
    TYPED,
    bundled_image,
    image_picker,
    input_source,
    keep_last_good,
    picture,
    random_grid,
)
from ui.common import page_setup as _page_setup
from ui.slides import linked_stepper, show_grid, show_grid_row
from ui.stepper import render_check_work

__all__ = [
    "BUNDLED",
    "INPUT_SOURCES",
    "LECTURE",
    "PICTURE",
    "RANDOM",
    "TYPED",
    "bundled_image",
    "cached_figure",
    "check_link_choice",
    "check_link_number",
    "explain",
    "first_grid_text",
    "first_value",
    "fit_widgets",
    "folded",
    "grid",
    "image_picker",
    "input_source",
    "keep_last_good",
    "keep_widgets",
    "keep_within",
    "kept_key",
    "lazy_tabs",
    "linked_stepper",
    "metrics",
    "page_setup",
    "picture",
    "projector_mode",
    "projector_style",
    "random_grid",
    "render_check_work",
    "set_url_grid",
    "set_widgets",
    "show",
    "show_grid",
    "show_grid_row",
    "table",
    "typed_grid",
    "typed_grid_refused",
    "url_grid",
    "url_multiselect",
    "url_number",
    "url_select",
    "url_select_slider",
    "url_slider",
    "url_toggle",
]

# Once per server process: freed memory goes back to the system after sessions leave (`cnnviz.memory`).
start_janitor()


def page_setup(title: str, icon: str = "🔲", *, intro: str = "") -> bool:
    """Page config, the menu, the title, the projector switch and Copy link; returns whether projector mode is on."""
    keep_other_pages()  # before this page's widgets: the values typed on other pages stay
    _page_setup(title, icon, intro=intro)
    return classroom_bar()


def set_widgets(values: Mapping[str, Any]) -> None:
    """Give widgets new values. Call it only from an `on_change`/`on_click` callback (it runs before the
    widgets are drawn, so they show the new values); a preset that loads its settings is the usual case."""
    for key, value in values.items():
        st.session_state[key] = value


def fit_widgets(tops: Mapping[str, int]) -> None:
    """From the `on_change` callback of a widget that changes other widgets' ranges (`{key: top}`): each
    stored value is set again, moved down to its new top if above it. A slider whose range changes is a new
    widget to Streamlit: without a value set here it starts at its default, and a link-bound one takes the
    link's old value (above the new top, it fails). Set in a callback, the value wins over both."""
    set_widgets(
        {key: min(st.session_state[key], top) for key, top in tops.items() if key in st.session_state}
    )


def keep_widgets(*keys: str) -> None:
    """Keep the values of widgets that this run may not draw: Streamlit forgets a widget's value in a run
    that does not draw it (a box in a closed tab, a slider hidden by a toggle). Call it before the widgets."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def keep_within(key: str, top: int) -> None:
    """A stored number that a widget's new, smaller range no longer holds is moved to `top`, before the widget
    is drawn, for a change that comes with no callback (a picture read in the run). Elsewhere use
    `fit_widgets`: through a real server, a link-bound slider set here took its old value back and failed
    (Home's zoom, tests/test_real_reruns.py)."""
    if st.session_state.get(key, 0) > top:
        st.session_state[key] = top


def cached_figure(func: Callable[..., go.Figure]) -> Callable[..., go.Figure]:
    """Decorator: a figure built once per inputs (plain values and arrays) and shared by every session.

    The same object comes back on a hit (no copy): never change it; `show_grid` draws a restyled copy.
    """
    return st.cache_resource(show_spinner=False, max_entries=512)(func)


@cached_figure
def grid(Z, **kwargs) -> go.Figure:
    """`cnnviz.draw.figures.grid_figure`, cached: draw it with `show_grid(grid(Z, ...), key=...)`."""
    return grid_figure(Z, **kwargs)


def table(records: list[Mapping[str, Any]], *, right: tuple[str, ...] = ()) -> None:
    """A static table, one dict per row (`right`: the columns aligned right). One markdown element: st.table
    renders every cell as a markdown element of its own (a LeNet's layer table was 100 of them and about 0.1 s
    of the page's first render)."""
    st.markdown(markdown_table(records, right=right))


def metrics(values: Mapping[str, str], *, key: str) -> None:
    """Numbers a room reads (label: value), side by side in large type: one markdown table in a container
    keyed `metrics_{key}` (the page CSS sizes it), where a column and an st.metric each were several elements
    (Learn a filter's four: about 0.1 s of its first render)."""
    with st.container(key=f"metrics_{key}"):
        st.markdown(markdown_table([dict(values)]))


def lazy_tabs(sections: Mapping[str, Callable[[], Any]], *, key: str) -> None:
    """Tabs, the open one kept in the link under `key`; only the open tab's section runs."""
    check_link_choice(key, list(sections))
    tabs = st.tabs(list(sections), key=key, on_change="rerun", bind="query-params")
    for tab, section in zip(tabs, sections.values(), strict=True):
        if tab.open:
            with tab:
                section()
