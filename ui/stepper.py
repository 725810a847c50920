"""The stepper component and "check my work", shared by the Convolution, Pooling, Feature maps and
Correlation pages.

`render_stepper(trace, *, key)` mounts the stepper component (`ui/components/stepper/`: plain JS and
CSS, registered once at import with `st.components.v2.component`). Python sends the trace once as
data (`cnnviz.draw.stepper.stepper_payload`); next, previous, play, the scrubber, clicks and the keyboard
run in the browser with no rerun. The browser sends the selected cell back as the component's state
`{"cell": [i, j]}` only when the user pauses or picks a cell; `render_stepper` returns that cell's
`Step`. In `st.session_state` the component's state is the dict under its key:
`st.session_state[key] == {"cell": [i, j]}` (AppTest tests set it there to pick a cell).
`render_check_work(trace, *, key)` is "check my work": the student types the output grid.

Widget and state keys are `key` and `{key}_...`; pass a key with your page's prefix (e.g. "conv_step").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from cnnviz.draw.figures import MAX_NUMBERED, new_figure
from cnnviz.draw.stepper import (
    Region,
    check_figure,
    default_region,
    overview_figures,
    region_cells,
    stepper_payload,
    trace_key,
)
from cnnviz.inputs import parse_grid
from cnnviz.lessons.checkwork import check_work
from cnnviz.trace import Step, Trace, fmt
from ui.classroom import projector_mode, projector_style, show
from ui.common import component_js, keep_last_good

__all__ = ["render_check_work", "render_stepper", "selected_cell"]

_HERE = Path(__file__).parent / "components" / "stepper"
_STEPPER = st.components.v2.component(
    "cnnviz_stepper",
    css=(_HERE / "stepper.css").read_text(encoding="utf-8"),
    js=component_js(_HERE / "stepper.js"),
)


def _draw(fig, *, key: str, **kwargs) -> None:
    """A copy of `fig` (it may be a shared, cached one) for the theme and, in projector mode, the full width."""
    show(projector_style(new_figure(fig)), key=key, **kwargs)


def selected_cell(key: str, shape: tuple[int, int]) -> tuple[int, int]:
    """The cell the browser last sent (`st.session_state[key]["cell"]`), kept inside an output of `shape`.

    Anything else there (nothing yet, a malformed value) means cell (0, 0).
    """
    state = st.session_state.get(key)
    cell = state.get("cell") if isinstance(state, Mapping) else None
    try:
        i, j = (int(v) for v in cell)
    except (TypeError, ValueError):
        return 0, 0
    return int(np.clip(i, 0, shape[0] - 1)), int(np.clip(j, 0, shape[1] - 1))


def _jump(key: str, chart: str) -> None:
    """A click on the whole-output overview: select that cell (the stepper then steps its block)."""
    points = st.session_state[chart]["selection"]["points"]
    if points:
        st.session_state[key] = {"cell": [int(points[0]["y"]), int(points[0]["x"])]}


@st.cache_resource(show_spinner=False, max_entries=16)
def _cached_overview(_trace: Trace, digest: str, region: Region, projector: bool):
    """The whole input and output with the stepped block outlined, styled for the theme (and the projector
    when `projector`); shared and never mutated."""
    return tuple(projector_style(new_figure(fig)) for fig in overview_figures(_trace, region))


@st.cache_resource(show_spinner=False, max_entries=32)  # a picture's 8x8 block: about 25 kB as JSON
def _cached_payload(
    _trace: Trace, key: str, region: Region, marks: tuple, names: dict | None, **extra
) -> dict:
    """`stepper_payload` of the trace whose `trace_key` is `key`, once per content and stepped block (the
    selected cell inside the block is set on a copy); shared by every session and never mutated. `names`:
    the block's cells by the page's names for them (a function is no cache key)."""
    cell_name = None if names is None else (lambda i, j: names[i, j])
    payload = stepper_payload(_trace, region=region, marks=list(marks), cell_name=cell_name, **extra)
    # Sent as one JSON string: Streamlit then neither dumps the payload again on every rerun nor looks for a
    # table in each of its values (about 2 ms of a Convolution rerun); the browser parses it once per digest.
    return {"shared": json.dumps(payload), "digest": payload["digest"], "whole": payload["whole"]}


def _overview(trace: Trace, key: str, region: Region, digest: str) -> None:
    n_steps = trace.n_steps
    st.info(
        f"The output has {n_steps:,} cells: here it is all at once. The stepper above steps the outlined "
        f"block of output cells (rows {region[0]}..{region[2]}, columns {region[1]}..{region[3]}); click "
        "the whole output to step another block, or step past the block's last cell."
    )
    left, right = st.columns(2)
    input_fig, output_fig = _cached_overview(trace, digest, region, projector_mode())
    with left:
        show(input_fig, key=f"{key}_overview_in")
    with right:
        chart = f"{key}_overview_out"
        show(output_fig, key=chart, on_select=lambda: _jump(key, chart), selection_mode="points")


def _notes(trace: Trace, inserted, marks, caption: str) -> str:
    notes = []
    if trace.kernel is None and trace.plan.pad_mask().any():
        notes.append("Padding is -inf for max and +inf for min pooling, so it never wins.")
    if trace.plan.rows.dilation > 1 or trace.plan.cols.dilation > 1:
        notes.append("With dilation the window is the outlined taps, with gaps between them.")
    if caption and not marks:
        notes.append(caption)
    return " ".join(notes)


def _clicked_wrong(key: str, chart: str, wrong: list[tuple[int, int]]) -> None:
    """A click on a wrong cell of the marked answer shows that cell's arithmetic."""
    points = st.session_state[chart]["selection"]["points"]
    if points and (cell := (int(points[0]["y"]), int(points[0]["x"]))) in wrong:
        st.session_state[f"{key}_wrong"] = cell


def render_stepper(
    trace: Trace,
    *,
    key: str,
    titles: dict[str, str] | None = None,
    inserted: np.ndarray | None = None,
    marks: Sequence[tuple[int, int]] = (),
    caption: str = "",
    upstream: np.ndarray | None = None,
    cell_name: Callable[[int, int], str] | None = None,
    speed: int = 600,
) -> Step:
    """The stepper for `trace`; returns the `Step` of the cell the user last paused on or picked.

    `titles`, `inserted`, `marks`, `upstream` (pooling's dL/dY) and `cell_name` go to
    `cnnviz.draw.stepper.stepper_payload`; `caption` names the marked cells (or is a note under the stepper).
    Outputs with more than `MAX_FRAMES` cells step the 8x8 block of output cells around the selected one
    in the browser, and show the whole input and output below the stepper (click there to pick a block).
    """
    cell = selected_cell(key, trace.shape)
    region = default_region(trace.shape, cell)
    marks = [(int(i), int(j)) for i, j in marks]
    names = None if cell_name is None else {c: cell_name(*c) for c in region_cells(region)}
    extra = {"inserted": inserted, "titles": titles, "upstream": upstream}
    payload = {  # the shared payload (as JSON), with this session's cell, caption, size and speed
        **_cached_payload(trace, trace_key(trace), region, tuple(marks), names, **extra),
        "cell": list(cell),
        "mark_caption": caption if marks else "",
        "big": projector_mode(),
        "speed": int(speed),
    }
    _STEPPER(key=key, data=payload, on_cell_change=lambda: None, on_speed_change=lambda: None)
    st.caption(_notes(trace, inserted, marks, caption))
    i, j = cell
    st.markdown(
        f"**Selected: output cell ({i}, {j})**, step {trace.step_number(i, j) + 1} of {trace.n_steps} "
        "(pause, or click an output cell, to select another)."
    )
    if not payload["whole"]:  # below the stepper, so that the stepper stays on the first screen
        _overview(trace, key, region, payload["digest"])
    return trace.step(i, j)


def render_check_work(
    trace: Trace, *, key: str, tol: float = 0.01, cell: tuple[int, int] | None = None
) -> np.ndarray | None:
    """The student types the whole output; every cell is marked, and a wrong one's arithmetic is shown.

    `cell`: the stepper's selected cell; its arithmetic is shown beside the student's number there.
    Returns the boolean grid of right cells, or None until a grid of the right shape is typed.
    """
    out_h, out_w = trace.shape
    if max(out_h, out_w) > MAX_NUMBERED:
        st.info(
            f"The output is {out_h}x{out_w}: check-my-work takes outputs up to {MAX_NUMBERED}x{MAX_NUMBERED}."
        )
        return None
    text = st.text_area(
        f"Your output: {out_h} rows of {out_w} numbers (spaces or commas between them)",
        key=f"{key}_answer",
        placeholder="\n".join(" ".join("?" * out_w) for _ in range(out_h)),
        height=max(90, 26 * out_h + 20),
    )
    if not text.strip():
        st.caption("Work the output out by hand, type it here, and every cell is marked right or wrong.")
        return None
    answer = keep_last_good(
        f"{key}_answer_grid", lambda: parse_grid(text, name="answer", max_rows=out_h, max_cols=out_w)
    )
    if answer is None:
        return None
    try:
        right = check_work(answer, trace.output, tol=tol)
    except ValueError as err:
        st.error(str(err), icon="⚠️")
        return None
    n_right = int(right.sum())
    if n_right == right.size:
        st.success("The cell is right." if right.size == 1 else f"All {right.size} cells are right.")
    else:
        n_wrong = right.size - n_right
        st.warning(
            f"{n_right} of {right.size} cells are right; {n_wrong} {'is' if n_wrong == 1 else 'are'} wrong (marked ✗)."
        )
    wrong = [(int(i), int(j)) for i, j in np.argwhere(~right)]
    if cell is not None:
        i, j = cell
        verdict = "right" if right[i, j] else f"wrong, the correct value is {fmt(trace.output[i, j])}"
        st.markdown(f"**Selected cell ({i}, {j})**: you wrote {fmt(answer[i, j])}, {verdict}.")
        st.code(f"Y[{i}, {j}] = {trace.step(i, j).expression()}", language=None, wrap_lines=True)
    left, right_col = st.columns([1, 2])
    with left:
        chart = f"{key}_check_figure"
        _draw(
            check_figure(answer, right),
            key=chart,
            on_select=lambda: _clicked_wrong(key, chart, wrong),
            selection_mode="points",
        )
    if wrong:
        with right_col:
            i, j = st.selectbox(
                "Show the arithmetic for a wrong cell (or click it)",
                wrong,
                format_func=lambda c: (
                    f"cell ({c[0]}, {c[1]}): you wrote {fmt(answer[c])}, correct is {fmt(trace.output[c])}"
                ),
                key=f"{key}_wrong",
            )
            st.code(f"Y[{i}, {j}] = {trace.step(i, j).expression()}", language=None, wrap_lines=True)
    return right
