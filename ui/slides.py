"""Classroom pieces of the stepper pages: the selected cell and the play speed kept in the link, and
export for slides.

`link_cell(step_key, param, shape)` makes a link's cell (`?conv_cell=2_3`: row 2, column 3) the
stepper's starting cell (it seeds the component's state once per session, before the stepper mounts);
`keep_cell(param, cell)` writes the selected cell back into the link. `play_speed(step_key, param)` is
the speed the stepper plays at (from the browser, else from the link). `export_buttons(trace, ...)` puts
the current step as PNG and SVG, the stepped walk as an animated GIF at that speed, and the grids as CSV
beside the stepper; the files are built only when a button is pressed (`cnnviz.draw.export`, Pillow only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import streamlit as st

from cnnviz.draw.figures import new_figure
from cnnviz.draw.stepper import default_region, region_cells
from cnnviz.trace import Step, Trace
from ui.classroom import export_buttons as classroom_export_buttons
from ui.classroom import projector_mode, projector_style, show, show_row
from ui.stepper import render_stepper, selected_cell

SPEEDS_MS = (1200, 600, 250, 100)  # the stepper's play speeds (stepper.js), slow to very fast
DEFAULT_SPEED_MS = 600


def _link_warning(param: str, raw: str, why: str, fallback: str) -> None:
    st.warning(f"This link sets **{param}** to `{raw}`: {why}; {fallback}.", icon="🔗")


def parse_cell(raw: str) -> tuple[int, int]:
    """ "2_3" -> (2, 3); a ValueError says what a cell in a link looks like."""
    parts = str(raw).split("_")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError("that is not a cell (a cell looks like 2_3: row 2, column 3)")
    return int(parts[0]), int(parts[1])


def link_cell(step_key: str, param: str, shape: tuple[int, int]) -> None:
    """A link's cell becomes the stepper's starting cell; a bad or out-of-range one warns and is not used."""
    raw = st.query_params.get(param)
    if raw is None:
        return
    try:
        i, j = parse_cell(raw)
    except ValueError as err:
        _link_warning(param, raw, str(err), "starting at cell (0, 0)")
        return
    if i >= shape[0] or j >= shape[1]:
        _link_warning(
            param, raw, f"the output is {shape[0]}x{shape[1]}, so that cell is outside it", "starting nearby"
        )
    seeded = f"_{step_key}_from_link"
    if seeded not in st.session_state:
        st.session_state[seeded] = True
        st.session_state.setdefault(step_key, {"cell": [i, j]})


def keep_cell(param: str, cell: tuple[int, int]) -> None:
    """The selected cell in the link as "i_j" (left out at the first cell, (0, 0))."""
    text = f"{int(cell[0])}_{int(cell[1])}"
    if tuple(cell) == (0, 0):
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != text:
        st.query_params[param] = text


def play_speed(step_key: str, param: str) -> int:
    """ms a step: the speed the user chose in the stepper, else the link's, else the default; kept in the link."""
    state = st.session_state.get(step_key)
    chosen = state.get("speed") if isinstance(state, Mapping) else None
    raw = st.query_params.get(param)
    if chosen in SPEEDS_MS:
        ms = int(chosen)
    elif raw is None:
        ms = DEFAULT_SPEED_MS
    elif raw.isdigit() and int(raw) in SPEEDS_MS:
        ms = int(raw)
    else:
        ms = DEFAULT_SPEED_MS
        speeds = ", ".join(map(str, SPEEDS_MS))
        _link_warning(param, raw, f"the play speed is one of {speeds} ms a step", "playing at 600 ms")
    if ms == DEFAULT_SPEED_MS:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != str(ms):
        st.query_params[param] = str(ms)
    return ms


def export_buttons(
    trace: Trace, *, key: str, cell: tuple[int, int], cells: Sequence[tuple[int, int]], ms: int, name: str
) -> None:
    """ "Export for slides" and `ui.classroom.export_buttons`: the step at `cell` as PNG and SVG, the walk over
    `cells` (the stepped block) as a GIF at `ms` a frame, the grids as CSV; built only when clicked."""
    label, buttons = st.columns([1, 4], vertical_alignment="center")
    label.markdown("**Export for slides**")
    with buttons:
        classroom_export_buttons(
            trace, trace.step_number(*cell), ms_per_frame=ms, key=key, cells=list(cells), name=name
        )


PROJECTOR_GROW = 1.6  # projector mode draws a fixed-height figure this much taller, so its grid grows too


def _restyled(fig, grow: bool):
    """A restyled copy of a (possibly shared, cached) grid figure: see `show_grid`."""
    fig = new_figure(fig)
    z = getattr(fig.data[0], "z", None) if fig.data else None
    side = max(np.shape(z)) if z is not None else None
    tall = grow and projector_mode() and fig.layout.height
    height = int(fig.layout.height * PROJECTOR_GROW) if tall else None
    fig = projector_style(fig, grid_side=side, height=height)
    if projector_mode() and "<br>" in (fig.layout.title.text or ""):
        fig.update_layout(margin_t=(fig.layout.margin.t or 70) + 30)  # room for a two-line title in big type
    return fig


def show_grid(fig, *, key: str, grow: bool = True, **kwargs) -> None:
    """Draw a (possibly shared, cached) grid figure as a restyled copy: the theme's background, and in
    projector mode the full width, a taller figure (unless `grow=False`: a figure already sized for the
    room) and big type (24 px or more on grids up to 10x10)."""
    show(_restyled(fig, grow), key=key, **kwargs)


def show_grid_row(figs: Sequence, *, key: str, widths: Sequence[float], grow: bool = True) -> None:
    """Grid figures side by side in columns sharing the width as `widths` do, each restyled as `show_grid`
    does, in one element (`ui.classroom.show_row`)."""
    show_row([_restyled(fig, grow) for fig in figs], key=key, widths=widths)


def linked_stepper(trace: Trace, prefix: str, *, name: str, cells=None, **kwargs) -> Step:
    """The stepper (`{prefix}_step`) with its selected cell (`?{prefix}_cell=`) and play speed
    (`?{prefix}_speed=`) kept in the link, and Export for slides under it; returns the selected `Step`.

    `cells`: the output cells the GIF walks (by default the block the stepper steps); `kwargs` go to
    `ui.stepper.render_stepper`; `name` starts the exported files' names.
    """
    step_key = f"{prefix}_step"
    link_cell(step_key, f"{prefix}_cell", trace.shape)
    speed = play_speed(step_key, f"{prefix}_speed")
    step = render_stepper(trace, key=step_key, speed=speed, **kwargs)
    keep_cell(f"{prefix}_cell", step.index)
    if cells is None:
        cells = region_cells(default_region(trace.shape, selected_cell(step_key, trace.shape)))
    export_buttons(trace, key=f"{prefix}_export", cell=step.index, cells=cells, ms=speed, name=name)
    return step
