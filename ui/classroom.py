"""Classroom habits every page can adopt: projector mode, settings kept in the link, a copy-link button.

A page calls `classroom_bar()` once (it draws the projector switch and the copy-link button in the
sidebar), makes its widgets with `url_slider`, `url_select`, `url_toggle`, `url_number` (each a Streamlit
widget bound to the URL with `bind="query-params"`; a value in the link that the widget cannot take gives
a clear `st.warning` and the default), keeps a typed grid in the link with `url_grid`/`set_url_grid`,
styles its Plotly figures with `projector_style(fig)` and draws them with `show(fig, key=...)`, and writes
explanations with `explain(...)` or `folded(...)`, which projector mode hides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import plotly.io as pio
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz.draw.figures import CLEAR
from cnnviz.draw.lite import lite_spec
from cnnviz.gridcode import MAX_SIDE, decode_grid, encode_grid
from cnnviz.inputs import format_grid, parse_grid
from ui.common import PLOTLY_CONFIG, keep_last_good, refused
from ui.figure_view import show_figure, show_figure_row

PROJECTOR_KEY = "projector"
GRID_FONT_PX = 26  # numbers in grids up to 10x10 in projector mode (>= 24 px, readable at the back)
AXIS_FONT_PX = 20  # axis labels, ticks, legends in projector mode (>= 18 px)
TITLE_FONT_PX = 24
MAX_BIG_NUMBERS = 10  # grids up to this many cells per side get the big numbers

# Figures are made with no template: Plotly deep-copies the default one (Streamlit's, set when streamlit is
# imported) into every new figure, about a third of building a grid's figure, on every rerun. The light
# figure component never reads it; a figure that goes to st.plotly_chart gets Streamlit's in `show`.
STREAMLIT_TEMPLATE = pio.templates.default
pio.templates.default = None


# --- Projector mode -------------------------------------------------------------------------------------------


def projector_mode() -> bool:
    """True when projector mode is on (the sidebar switch, or ?projector=true in the link)."""
    if PROJECTOR_KEY in st.session_state:
        return bool(st.session_state[PROJECTOR_KEY])
    return str(st.query_params.get(PROJECTOR_KEY, "")).lower() == "true"


# Streamlit leaves 6rem above a page's title; on a 768-px laptop screen that pushes the lesson below the fold.
# The page's CSS goes to the browser with the Copy link component (`copy_link_button`), not st.html: st.html
# loads its own JavaScript (and an HTML sanitiser) on a page's first visit, about 60 ms of its first render.
_COMPACT_CSS = """
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
[data-testid="stMainBlockContainer"] h1 { padding-top: 0; }
/* With the sidebar closed (projector mode opens so), Streamlit's header turns opaque over the top 60 px to hold
   the button that opens it: the title starts below it, not half under it. */
[data-testid="stApp"]:has([data-testid="stSidebar"][data-collapsed="true"]) [data-testid="stMainBlockContainer"] {
  padding-top: 4rem;
}
/* Tables (`ui.table`, one markdown element) as compact as st.table's. */
[data-testid="stMarkdownContainer"] table { font-size: 0.875rem; }
[data-testid="stMarkdownContainer"] th, [data-testid="stMarkdownContainer"] td {
  padding: 0.2rem 0.45rem; line-height: 1.35;
}
/* `ui.metrics`: a one-row table of labels over large numbers, spread over the width like st.metric columns. */
[class*="st-key-metrics_"] table { width: 100%; table-layout: fixed; border: none; margin: 0; }
[class*="st-key-metrics_"] tr, [class*="st-key-metrics_"] th, [class*="st-key-metrics_"] td {
  border: none; padding: 0 0.5rem 0 0; text-align: left; background: transparent;
}
[class*="st-key-metrics_"] th { font-weight: 400; font-size: 0.875rem; }
[class*="st-key-metrics_"] td { font-size: 2.25rem; line-height: 1.25; }
@media (max-height: 820px) {
  [data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; }
  [data-testid="stMarkdownContainer"] table { font-size: 0.85rem; }
}
"""
# Projector mode: tables, metrics and captions at sizes a room can read.
_PROJECTOR_CSS = """
[data-testid="stMarkdownContainer"] table { font-size: 1.35rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3rem; }
[class*="st-key-metrics_"] td { font-size: 3rem; }
[class*="st-key-metrics_"] th { font-size: 1.25rem; }
[data-testid="stCaptionContainer"], [data-testid="stMarkdown"] p, [data-testid="stAlert"] p { font-size: 1.25rem; }
"""


def classroom_bar() -> bool:
    """The projector switch and the copy-link button in the sidebar; returns whether projector mode is on.

    It also tightens the space above the page's title, so the main visual fits a laptop's first screen.
    """
    with st.sidebar:
        on = url_toggle(
            "Projector mode",
            key=PROJECTOR_KEY,
            help="Figures fill the width with big numbers and labels; explanations are hidden. Kept in the link.",
        )
        copy_link_button(css=_COMPACT_CSS + (_PROJECTOR_CSS if on else ""))
    return on


def explain(text: str, **kwargs) -> None:
    """Markdown that teaches; hidden in projector mode (the lecturer says it aloud)."""
    if not projector_mode():
        st.markdown(text, **kwargs)


@contextmanager
def folded(label: str, *, key: str, projector: bool = False) -> Iterator[bool]:
    """An expander whose body runs only when it is open (yields whether it is); absent in projector mode
    unless `projector=True` (a result the room may want to open, not prose).

    with folded("The formulas", key="x_formulas") as open_:
        if open_:
            st.latex(...)
    """
    if projector_mode() and not projector:
        yield False
        return
    box = st.expander(label, key=key, on_change="rerun")
    with box:
        yield bool(box.open)


def projector_style(fig, *, grid_side: int | None = None, height: int | None = None):
    """`fig` restyled for the projector (when it is on) and for the theme (always): returns the figure.

    Backgrounds become transparent so the figure follows Streamlit's light or dark theme. In projector
    mode titles, axes and legends get `AXIS_FONT_PX`/`TITLE_FONT_PX`, and numbers in heatmap cells get
    `GRID_FONT_PX` when the grid (`grid_side`, its larger side) has at most `MAX_BIG_NUMBERS` cells per side.
    `height` (pixels) replaces the figure's height in either mode.
    """
    if fig.layout.paper_bgcolor != CLEAR or fig.layout.plot_bgcolor != CLEAR:  # (an update costs ~1 ms)
        fig.update_layout(paper_bgcolor=CLEAR, plot_bgcolor=CLEAR)
    if height is not None:
        fig.update_layout(height=height)
    if not projector_mode():
        return fig
    fig.update_layout(font={"size": AXIS_FONT_PX}, title_font={"size": TITLE_FONT_PX}, width=None)
    fig.update_xaxes(tickfont={"size": AXIS_FONT_PX}, title_font={"size": AXIS_FONT_PX})
    fig.update_yaxes(tickfont={"size": AXIS_FONT_PX}, title_font={"size": AXIS_FONT_PX})
    for annotation in fig.layout.annotations or ():
        annotation.font.size = max(annotation.font.size or 0, AXIS_FONT_PX)
    if grid_side is not None and grid_side <= MAX_BIG_NUMBERS:
        fig.update_traces(textfont={"size": GRID_FONT_PX}, selector={"type": "heatmap"})
    return fig


def show(fig, *, key: str, width: str = "content", on_select=None, selection_mode=None, **kwargs):
    """Draw a figure at its own size (or `width="stretch"`), the full width in projector mode.

    A figure the light figure component draws (`cnnviz.draw.lite`: grids and curves) goes there, with no
    Plotly JavaScript; any other goes to st.plotly_chart. `on_select` ("rerun" or a callback) makes a click
    on a cell or point select it: `st.session_state[key]["selection"]["points"]` as with Plotly.
    """
    if projector_mode():
        width = "stretch"
    if width == "stretch" and fig.layout.width is not None:
        fig.update_layout(width=None)  # the container decides (a shared figure styled so is left untouched)
    spec = None if kwargs else lite_spec(fig)
    if spec is not None:
        return show_figure(spec, key=key, stretch=width == "stretch", on_select=on_select)
    if on_select is not None:
        kwargs.update(on_select=on_select, selection_mode=selection_mode or "points")
    if STREAMLIT_TEMPLATE and fig.layout.template.to_plotly_json() == {}:
        fig.update_layout(template=STREAMLIT_TEMPLATE)  # the look Plotly figures had (see STREAMLIT_TEMPLATE)
    return st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width=width, **kwargs)


def show_row(figs: Sequence, *, key: str, widths: Sequence[float]) -> None:
    """Figures side by side, as `show` draws each in `st.columns(widths)`, but in one element when the light
    component draws them all (each element of its own cost a page's first render about 30 ms)."""
    stretch = projector_mode()
    for fig in figs:
        if stretch and fig.layout.width is not None:
            fig.update_layout(width=None)
    specs = [lite_spec(fig) for fig in figs]
    if all(spec is not None for spec in specs):
        show_figure_row(specs, key=key, widths=list(widths), stretch=stretch)
        return
    for k, (col, fig) in enumerate(zip(st.columns(list(widths)), figs, strict=True)):
        with col:
            show(fig, key=f"{key}_{k}")


# --- Copy link --------------------------------------------------------------------------------------------

_COPY_HTML = """
<div class="copy-link">
  <button type="button" data-testid="copyLinkButton">Copy link</button>
  <span class="status" role="status"></span>
  <input class="url" type="text" readonly hidden aria-label="Link to this screen">
</div>
"""
_COPY_CSS = """
.copy-link { font-family: inherit; }
.copy-link button {
  font: inherit; cursor: pointer; padding: 0.35rem 0.75rem; border-radius: 0.5rem;
  color: var(--st-text-color, inherit); background: transparent;
  border: 1px solid var(--st-border-color, rgba(128, 128, 128, 0.5));
}
.copy-link button:hover { border-color: var(--st-primary-color, #E69F00); }
.copy-link .status { margin-left: 0.5rem; font-size: 0.9em; color: var(--st-text-color, inherit); }
.copy-link .url { width: 100%; margin-top: 0.4rem; font: inherit; }
"""
# The clipboard API needs a secure page (https or localhost); on a classroom server reached over plain http
# the link is shown selected in a text box instead, so Ctrl+C copies it.
_COPY_JS = """
export default function (component) {
  // The page's CSS (data.css): one style element in the document's head, replaced by each full run's.
  let style = document.getElementById("cnnviz-page-css");
  if (!style) {
    style = document.createElement("style");
    style.id = "cnnviz-page-css";
    document.head.appendChild(style);
  }
  style.textContent = (component.data && component.data.css) || "";
  const root = component.parentElement;
  const button = root.querySelector("button");
  const status = root.querySelector(".status");
  const box = root.querySelector(".url");
  button.onclick = async () => {
    const url = window.location.href;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = "Link copied";
      box.hidden = true;
    } catch (err) {
      box.value = url;
      box.hidden = false;
      box.select();
      status.textContent = "Press Ctrl+C to copy";
    }
  };
}
"""
_copy_link = st.components.v2.component("cnnviz.copy_link", html=_COPY_HTML, css=_COPY_CSS, js=_COPY_JS)


def copy_link_button(key: str = "copy_link", *, css: str = "") -> None:
    """A button that copies the page's address (every setting bound to the URL is in it); no network. It also
    puts `css` in the page (the page's own look: `classroom_bar`)."""
    _copy_link(key=key, data={"css": css})


# --- Settings kept in the link ----------------------------------------------------------------------------


def _raw(key: str) -> str | None:
    values = st.query_params.get_all(key)
    return values[-1] if values else None


def _warn_link(key: str, raw: str, expected: str) -> None:
    st.warning(
        f"This link sets **{key}** to `{raw}`, which is not a valid value ({expected}); "
        "showing the default instead.",
        icon="🔗",
    )


def _check(key: str, valid: Callable[[str], bool], expected: str) -> None:
    raw = _raw(key)
    if raw is not None and not _safe(valid, raw):
        _warn_link(key, raw, expected)


def _safe(valid: Callable[[str], bool], raw: str) -> bool:
    try:
        return bool(valid(raw))
    except (ValueError, TypeError, OverflowError):
        return False


def _number_between(lo, hi, integer: bool) -> Callable[[str], bool]:
    def valid(raw: str) -> bool:
        value = float(raw)
        if integer and value != int(value):
            return False
        return bool(np.isfinite(value)) and lo <= value <= hi

    return valid


# The widgets whose values a page keeps in its link, and the pages that draw each (page script hashes): what
# `keep_other_pages` keeps while another page runs. The same for every session, filled as pages run.
_PAGE_KEYS: dict[str, set[str]] = {}
_PAGE_KEYS_LOCK = threading.Lock()
_KEPT_VALUES = "_kept_values"  # this session's copy of those values: {key: value}


def kept_key(key: str) -> str:
    """Note that this page draws the widget `key` and remember its value (see `keep_other_pages`); returns
    `key`. Call it where the widget is drawn, before it: the value is the one this run starts from."""
    ctx = get_script_run_ctx()
    if ctx is not None and key != PROJECTOR_KEY:  # the projector switch is drawn on every page
        with _PAGE_KEYS_LOCK:
            _PAGE_KEYS.setdefault(key, set()).add(ctx.page_script_hash)
    if key in st.session_state:
        st.session_state.setdefault(_KEPT_VALUES, {})[key] = st.session_state[key]
    return key


def keep_other_pages() -> None:
    """Keep the other pages' values while this page runs (call it before this page's widgets).

    Streamlit forgets a widget's value in a run that does not draw it, and a page link opens a page without
    its link's values: a student who typed a grid, went to another page and came back found the lecture's
    grid again. The values are kept as they were; the page draws them again when the student comes back.
    """
    ctx = get_script_run_ctx()
    here = ctx.page_script_hash if ctx is not None else ""
    with _PAGE_KEYS_LOCK:
        others = [key for key, pages in _PAGE_KEYS.items() if here not in pages]
    # A widget first drawn in a fragment's run is gone from the session state by the next full run: its value
    # comes from the copy `kept_key` made.
    copies = st.session_state.get(_KEPT_VALUES, {})
    for key in others:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
        elif key in copies:
            st.session_state[key] = copies[key]


def url_slider(label: str, min_value, max_value, value, *, key: str, step=None, **kwargs):
    """st.slider kept in the link under `key`; an out-of-range or non-numeric link value warns."""
    integer = all(isinstance(v, int) for v in (min_value, max_value, value))
    _check(key, _number_between(min_value, max_value, integer), f"a number from {min_value} to {max_value}")
    return st.slider(
        label, min_value, max_value, value, step, key=kept_key(key), bind="query-params", **kwargs
    )


def url_number(label: str, min_value, max_value, value=None, *, key: str, **kwargs):
    """st.number_input kept in the link under `key` (whole numbers when the bounds are ints)."""
    integer = isinstance(min_value, int) and isinstance(max_value, int)
    _check(key, _number_between(min_value, max_value, integer), f"a number from {min_value} to {max_value}")
    if value is not None:
        kwargs["value"] = value
    return st.number_input(label, min_value, max_value, key=kept_key(key), bind="query-params", **kwargs)


def url_select(
    label: str,
    options: Sequence,
    *,
    key: str,
    widget: Callable = st.selectbox,
    index: int = 0,
    format_func: Callable = str,
    old_labels: Mapping[str, str] | None = None,
    **kwargs,
) -> Any:
    """A selectbox (or `widget=st.radio`, `st.select_slider`...) kept in the link by the option's label.

    The link holds `format_func(option)`, so keep labels short (describe the options in `help`).
    `old_labels` maps a label an older link may hold to today's label, so that old links keep working.
    """
    names = [str(format_func(o)) for o in options]
    _follow_old_label(key, old_labels or {}, names, options)
    valid = lambda raw: raw in names or raw in (old_labels or {})  # noqa: E731
    _check(key, valid, "one of " + ", ".join(names[:8]) + (", ..." if len(names) > 8 else ""))
    kwargs.update(key=kept_key(key), bind="query-params", format_func=format_func)
    if widget is st.select_slider:
        return widget(label, options, value=options[index], **kwargs)
    return widget(label, options, index=index, **kwargs)


def url_select_slider(label: str, options: Sequence, *, value, key: str, **kwargs) -> Any:
    """st.select_slider kept in the link, starting at `value` (one of `options`)."""
    return url_select(
        label, options, key=key, widget=st.select_slider, index=list(options).index(value), **kwargs
    )


def _follow_old_label(key: str, old_labels: Mapping[str, str], names: list[str], options: Sequence) -> None:
    """A link that holds an old label opens on the option that label became (once, before the widget)."""
    raw = _raw(key)
    if raw in old_labels and old_labels[raw] in names and key not in st.session_state:
        st.session_state[key] = options[names.index(old_labels[raw])]


def url_multiselect(label: str, options: Sequence, default: Sequence, *, key: str, **kwargs) -> list:
    """st.multiselect kept in the link (one repeated parameter per choice)."""
    raw = st.query_params.get_all(key)
    bad = [v for v in raw if v not in [str(o) for o in options]]
    if bad:
        _warn_link(key, ", ".join(bad), "each one of " + ", ".join(map(str, options)))
    return st.multiselect(label, options, default=default, key=kept_key(key), bind="query-params", **kwargs)


def url_toggle(label: str, *, key: str, value: bool = False, widget: Callable = st.toggle, **kwargs) -> bool:
    """st.toggle (or st.checkbox) kept in the link as true/false."""
    _check(key, lambda raw: raw.lower() in ("true", "false"), "true or false")
    return widget(label, value=value, key=kept_key(key), bind="query-params", **kwargs)


def url_grid(
    key: str, default: np.ndarray, *, name: str = "grid", check: Callable | None = None
) -> np.ndarray:
    """The grid the link carries under `key` (see `cnnviz.gridcode`), else `default`.

    A bad or hand-edited value shows a warning naming what is wrong and gives the default. `check(X)` may
    raise a ValueError for a grid that decodes but does not fit (e.g. a kernel that must be 3x3).
    """
    raw = _raw(key)
    if raw is None:
        return default
    try:
        X = decode_grid(raw, name=name)
        if check is not None:
            X = check(X)
    except ValueError as err:
        st.warning(f"This link's {name} could not be used: {err}. Showing the default instead.", icon="🔗")
        return default
    return X


def first_value(key: str, make: Callable[[], Any]) -> Any:
    """The value a widget under `key` starts from when the link holds it in another form (a grid in the link,
    the text in its box): the widget's own value once it has one, else `make()`, called once per session (so a
    bad link warns once). Pass it as the widget's `value=`; other sections may read it too."""
    if key in st.session_state:
        return st.session_state[key]
    first = st.session_state.setdefault("_first_values", {})
    if key not in first:
        first[key] = make()
    return first[key]


def first_grid_text(
    key: str, param: str, default: np.ndarray, *, name: str, check: Callable | None = None
) -> str:
    """The first text of the box `key` that types a grid kept in the link under `param`: the link's grid, else
    `default` (`first_value`: read once; call it where a warning is seen, not only inside a popover)."""
    return first_value(key, lambda: format_grid(url_grid(param, default, name=name, check=check)))


def typed_grid(
    label: str,
    *,
    key: str,
    param: str,
    default: np.ndarray,
    name: str,
    check: Callable | None = None,
    **kwargs,
) -> np.ndarray | None:
    """A grid typed in a text box (`key`), kept in the link under `param` (left out while it is `default`).

    The box starts from the link's grid, else `default`; a typo shows the error and keeps the last good grid.
    `check(X)` may refuse a grid that parses (a ValueError in words); `kwargs` go to `st.text_area`.
    """
    text = st.text_area(
        label, first_grid_text(key, param, default, name=name, check=check), key=kept_key(key), **kwargs
    )
    X = keep_last_good(key, lambda: (check or _any_grid)(parse_grid(text, name=name)))
    if X is not None and max(X.shape) <= MAX_SIDE:
        set_url_grid(param, X, default=default)
    return X


def typed_grid_refused(key: str, where: str) -> None:
    """Under the popover `where` that holds the box `key` (`typed_grid`), drawn in this run: a typed grid that
    was refused says so where it is seen. The box's own message is inside the popover, gone when it closes,
    and the page goes on showing the last good grid."""
    err = refused(key)
    if err:
        st.warning(
            f"Your typed grid was not used: {err}. Fix it in **{where}**; meanwhile the last good one is shown.",
            icon="⚠️",
        )


def _any_grid(X: np.ndarray) -> np.ndarray:
    return X


def set_url_grid(key: str, X, default=None) -> None:
    """Keep grid X in the link under `key` (removed when it equals `default`)."""
    if default is not None and np.array_equal(np.asarray(X, dtype=float), np.asarray(default, dtype=float)):
        if key in st.query_params:
            del st.query_params[key]
        return
    text = encode_grid(X)
    if st.query_params.get(key) != text:
        st.query_params[key] = text


# --- Export buttons for a stepper page ---------------------------------------------------------------------


def export_buttons(trace, step: int, *, ms_per_frame: int, key: str, cells=None, name: str = "step") -> None:
    """Download buttons for slides: this step as PNG and SVG, the walk as a GIF, the grids as CSV (zipped).

    The files are made only when a button is clicked (Streamlit calls the function then), so a page pays
    nothing for them on a rerun. `cells` limits the GIF to a region of output cells (see `walk_gif`).
    """
    from cnnviz.draw.export import csv_zip, step_png, step_svg, walk_gif

    buttons = [
        ("Step as PNG", lambda: step_png(trace, step), f"{name}_{step + 1}.png", "image/png"),
        ("Step as SVG", lambda: step_svg(trace, step), f"{name}_{step + 1}.svg", "image/svg+xml"),
        ("Walk as GIF", lambda: walk_gif(trace, ms_per_frame, cells=cells), f"{name}_walk.gif", "image/gif"),
        ("Grids as CSV", lambda: csv_zip(trace), f"{name}_grids.zip", "application/zip"),
    ]
    for column, (label, make, file_name, mime) in zip(st.columns(len(buttons)), buttons, strict=True):
        column.download_button(
            label, make, file_name=file_name, mime=mime, key=f"{key}_{file_name}", on_click="ignore"
        )


# --- Link values whose widget is out of sight ----------------------------------------------------------------


def check_link_number(key: str, min_value, max_value) -> None:
    """Warn here when the link's `key` is not a number from `min_value` to `max_value`.

    For a `url_number`/`url_slider` inside a popover or a folded section, whose own warning is out of sight
    until it is opened.
    """
    integer = isinstance(min_value, int) and isinstance(max_value, int)
    _check(key, _number_between(min_value, max_value, integer), f"a number from {min_value} to {max_value}")


def check_link_choice(key: str, names: Sequence[str]) -> None:
    """Warn here when the link's `key` is not one of `names` (for a `url_select` out of sight)."""
    _check(key, list(names).__contains__, "one of " + ", ".join(names))
