"""The stepper's Streamlit controls, shared by the Convolution, Pooling and Feature maps pages.

`render_stepper(trace, *, key)` draws: Previous / Next buttons, a jump to any output cell (row and
column), the playback speed, a scrubber over every step, the whole input and output at once when the
output is too large to animate cell by cell, the animated figure (`cnnviz.stepper.stepper_figure`:
Play, Pause and its slider run in the browser), and the selected cell's sum written out.
`render_check_work(trace, *, key)` is "check my work": the student types the output grid.

Widget and state keys are `{key}_...`; pass a key with your page's prefix (e.g. "conv_step").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import streamlit as st

from cnnviz.figures import MAX_NUMBERED
from cnnviz.inputs import parse_grid
from cnnviz.stepper import (
    Region,
    check_figure,
    check_work,
    default_region,
    overview_figures,
    stepper_figure,
)
from cnnviz.trace import Step, Trace, fmt
from ui.common import keep_last_good, plot

__all__ = ["SPEEDS", "render_check_work", "render_stepper"]

SPEEDS = {"slow (1.2 s a step)": 1200, "normal (0.6 s)": 600, "fast (0.25 s)": 250, "very fast (0.1 s)": 100}


def _digest(trace: Trace, *extra) -> str:
    """A key for the figure cache: everything the figure is drawn from."""
    h = hashlib.blake2b(digest_size=16)
    h.update(trace.mode.encode())
    h.update(repr((trace.plan, trace.padded.shape, extra)).encode())
    h.update(np.ascontiguousarray(trace.padded).tobytes())
    if trace.kernel is not None:
        h.update(np.ascontiguousarray(trace.kernel).tobytes())
    return h.hexdigest()


@st.cache_resource(show_spinner=False, max_entries=64)
def _cached_figure(digest: str, _trace: Trace, cell, region, frame_ms, titles, _inserted, marks):
    """The stepper figure, built once per (input, kernel, settings, cell); shared and never mutated."""
    return stepper_figure(
        _trace,
        cell=cell,
        region=region,
        frame_ms=frame_ms,
        titles=dict(titles) if titles else None,
        inserted=_inserted,
        marks=marks,
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _cached_overview(digest: str, _trace: Trace, region: Region):
    """The whole input and output with the stepped block outlined; shared and never mutated."""
    return overview_figures(_trace, region)


def _sync_from_step(key: str, out_w: int) -> None:
    """Scrubber moved (or a button set it): point the row/column jump at its cell."""
    k = st.session_state[f"{key}_k"] - 1
    st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = divmod(k, out_w)


def _sync_from_cell(key: str, out_w: int) -> None:
    """Row or column chosen: move the scrubber to that cell."""
    st.session_state[f"{key}_k"] = st.session_state[f"{key}_row"] * out_w + st.session_state[f"{key}_col"] + 1
    _sync_from_step(key, out_w)


def _clicked(key: str, chart: str, out_w: int) -> None:
    """A click on an output cell of the figure (or the whole output map): step to that cell."""
    points = st.session_state[chart]["selection"]["points"]
    if points:
        i, j = int(points[0]["y"]), int(points[0]["x"])  # the marker sits on the cell's centre
        st.session_state[f"{key}_k"] = i * out_w + j + 1
        _sync_from_step(key, out_w)


def _clicked_wrong(key: str, chart: str, wrong: list[tuple[int, int]]) -> None:
    """A click on a wrong cell of the marked answer shows that cell's arithmetic."""
    points = st.session_state[chart]["selection"]["points"]
    if points and (cell := (int(points[0]["y"]), int(points[0]["x"]))) in wrong:
        st.session_state[f"{key}_wrong"] = cell


def _move(key: str, out_w: int, n_steps: int, delta: int) -> None:
    st.session_state[f"{key}_k"] = int(np.clip(st.session_state[f"{key}_k"] + delta, 1, n_steps))
    _sync_from_step(key, out_w)


def render_stepper(
    trace: Trace,
    *,
    key: str,
    titles: dict[str, str] | None = None,
    inserted: np.ndarray | None = None,
    marks: Sequence[tuple[int, int]] = (),
    caption: str = "",
) -> Step:
    """The stepper with its controls; returns the selected output cell's `Step`.

    `titles`, `inserted` and `marks` are passed to `stepper_figure`; `caption` is shown under the figure.
    Outputs with more than `MAX_FRAMES` cells show the whole input and output first and animate the
    8x8 block of output cells around the selected one.
    """
    out_h, out_w = trace.shape
    n_steps = trace.n_steps
    k_key = f"{key}_k"
    # Keep the selection inside the output when the settings change its size.
    k = int(np.clip(st.session_state.get(k_key, 1), 1, n_steps))
    st.session_state[k_key] = k
    st.session_state[f"{key}_row"], st.session_state[f"{key}_col"] = divmod(k - 1, out_w)

    prev, nxt, row, col, speed = st.columns([1, 1, 1, 1, 2], vertical_alignment="bottom")
    prev.button(
        "◀ Previous step",
        key=f"{key}_prev",
        on_click=_move,
        args=(key, out_w, n_steps, -1),
        disabled=k <= 1,
        width="stretch",
    )
    nxt.button(
        "Next step ▶",
        key=f"{key}_next",
        on_click=_move,
        args=(key, out_w, n_steps, 1),
        disabled=k >= n_steps,
        width="stretch",
    )
    row.number_input(
        "Output row", 0, out_h - 1, step=1, key=f"{key}_row", on_change=_sync_from_cell, args=(key, out_w)
    )
    col.number_input(
        "Output column", 0, out_w - 1, step=1, key=f"{key}_col", on_change=_sync_from_cell, args=(key, out_w)
    )
    frame_ms = SPEEDS[
        speed.select_slider("Play speed", list(SPEEDS), value="normal (0.6 s)", key=f"{key}_speed")
    ]
    if n_steps > 1:
        st.slider(
            f"Step (all {n_steps} output cells, row by row)",
            1,
            n_steps,
            key=k_key,
            on_change=_sync_from_step,
            args=(key, out_w),
        )
    k = st.session_state[k_key]
    cell = trace.cell(k - 1)
    region: Region = default_region(trace.shape, cell)
    whole = region == (0, 0, out_h - 1, out_w - 1)

    if not whole:
        st.info(
            f"The output has {n_steps:,} cells: here it is all at once. The stepper below animates the "
            f"outlined block of output cells ({region[0]}..{region[2]}, {region[1]}..{region[3]}); "
            "choose another row/column to move it."
        )
        left, right = st.columns(2)
        input_fig, output_fig = _cached_overview(_digest(trace, "overview"), trace, region)
        with left:
            plot(input_fig, key=f"{key}_overview_in")
        with right:
            chart = f"{key}_overview_out"
            plot(
                output_fig, key=chart, on_select=lambda: _clicked(key, chart, out_w), selection_mode="points"
            )

    marks = tuple((int(i), int(j)) for i, j in marks)
    titles_key = tuple(sorted((titles or {}).items()))
    inserted_key = None if inserted is None else np.asarray(inserted, bool).tobytes()
    digest = _digest(trace, cell, region, frame_ms, titles_key, inserted_key, marks)
    fig = _cached_figure(digest, trace, cell, region, frame_ms, titles_key, inserted, marks)
    chart = f"{key}_figure"
    plot(
        fig,
        key=chart,
        theme=None,  # the figure's own fonts and colours, not Streamlit's theme
        on_select=lambda: _clicked(key, chart, out_w),
        selection_mode="points",
    )

    notes = [
        "**▶ Play** animates in your browser from the shown cell; drag the slider under the figure to scrub."
    ]
    if trace.plan.pad_mask().any():
        notes.append(
            "Grey cells are padding" + (" (-inf/+inf never win a max/min)." if trace.kernel is None else ".")
        )
    if inserted is not None and np.any(inserted):
        notes.append("Blue cells are inserted zeros, not input data.")
    if trace.plan.unvisited_mask().any():
        notes.append("Orange-tinted input cells are never read by any window.")
    if trace.plan.rows.dilation > 1 or trace.plan.cols.dilation > 1:
        notes.append("With dilation the small boxes mark the taps the kernel actually reads.")
    if marks:
        notes.append("Dashed red output cells: " + (caption or "marked cells") + ".")
    elif caption:
        notes.append(caption)
    st.caption(" ".join(notes))

    step = trace.step(*cell)
    st.markdown(f"**Selected: output cell ({cell[0]}, {cell[1]})**, step {k} of {n_steps}:")
    st.code(f"Y[{cell[0]}, {cell[1]}] = {step.expression()}", language=None, wrap_lines=True)
    return step


def render_check_work(trace: Trace, *, key: str, tol: float = 0.01) -> np.ndarray | None:
    """The student types the whole output; every cell is marked, and a wrong one's arithmetic is shown.

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
            f"{n_right} of {right.size} cells are right; {n_wrong} {'is' if n_wrong == 1 else 'are'} wrong (in red)."
        )
    wrong = [(int(i), int(j)) for i, j in np.argwhere(~right)]
    left, right_col = st.columns([1, 2])
    with left:
        chart = f"{key}_check_figure"
        plot(
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
