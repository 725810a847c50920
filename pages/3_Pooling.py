"""Pooling, cell by cell: max, average, min and L2 pooling; where the gradient goes; shift invariance; conv, ReLU, pool."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.draw.figures import color_range, grid_figure
from cnnviz.draw.palette import UNVISITED_COLOR
from cnnviz.draw.palette import WINDOW_COLOR as WINDOW
from cnnviz.draw.pooling import padded_input_figure, window_box
from cnnviz.draw.stepper import default_region, region_cells
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.lessons.pooling import DIRECTIONS, compare_shift, conv_relu_pool, pool_backward, winner_input_cell
from cnnviz.lessons.presets import EXAMPLES, KERNELS, POOL_EXAMPLES, X_IMAGE
from cnnviz.ops import pool2d
from cnnviz.trace import POOL_MODES, Step, fmt, pool_trace
from ui.classroom import (
    check_link_choice,
    check_link_number,
    classroom_bar,
    explain,
    folded,
    set_url_grid,
    url_grid,
    url_select,
)
from ui.common import image_picker, keep_last_good, page_setup
from ui.slides import export_buttons, keep_cell, link_cell, play_speed, show_grid
from ui.stepper import render_check_work, render_stepper, selected_cell

page_setup("Pooling, cell by cell", "🔳")
projector = classroom_bar()

PRESETS = list(POOL_EXAMPLES)
SOURCES = ["Lecture example", "Type a grid", "Random grid", "Image crop"]
MODE_LABELS = {"max": "Max", "avg": "Average", "min": "Min", "l2": "L2 norm"}
SECTIONS = ["Step through", "Backpropagation", "Shift invariance", "Conv, ReLU, pool"]
GRAD_SOURCES = ["All ones", "Type my own"]
# Settings in popovers, whose own link warnings would be out of sight: (key, lowest, highest).
NUMBERS_IN_POPOVERS = [
    ("pool_size", 1, 6),
    ("pool_stride", 1, 6),
    ("pool_padding", 0, 3),
    ("pool_rand_rows", 2, 32),
    ("pool_rand_cols", 2, 32),
    ("pool_rand_seed", 0, 10_000),
]


@st.cache_resource(show_spinner=False, max_entries=512)
def grid(Z, **kwargs) -> go.Figure:
    """`grid_figure`, built once per (values, settings) and shared between runs: never mutate the result."""
    return grid_figure(Z, **kwargs)


def apply_preset() -> None:
    """Load the chosen lecture example's settings into the widgets (runs before the page redraws)."""
    e = POOL_EXAMPLES[st.session_state["pool_preset"]]
    st.session_state["pool_mode"] = e.pool
    st.session_state["pool_size"] = e.size
    st.session_state["pool_stride_same"] = e.stride == e.size
    st.session_state["pool_stride"] = e.stride
    st.session_state["pool_padding"] = e.padding
    st.session_state["pool_typed"] = format_grid(e.input)


FIRST = POOL_EXAMPLES[PRESETS[0]]  # the widgets' defaults are the first lecture example's settings
if "pool_typed" not in st.session_state:
    # A typed grid in the link replaces the example's (read once; then the text box owns it).
    linked = url_grid("pool_X", None, name="input grid")
    st.session_state["pool_typed"] = format_grid(FIRST.input if linked is None else linked)
# Streamlit forgets a widget's value when the widget is not drawn in a run (the preset box while typing a
# grid, the stride slider while stride = size, the gradient box in another section); writing the values
# back keeps them for when they return.
for _key in (
    "pool_preset",
    "pool_typed",
    "pool_mode",
    "pool_size",
    "pool_stride_same",
    "pool_stride",
    "pool_padding",
    "pool_grad_source",
):
    if _key in st.session_state:
        st.session_state[_key] = st.session_state[_key]


# ---- the input and the settings: one row, the details in popovers ----


def typed_grid() -> np.ndarray | None:
    text = st.text_area(
        "One row per line, numbers split by spaces or commas",
        key="pool_typed",
        height=140,
        help="Decimals, negatives and fractions like 1/9 are fine; pasted [brackets] are ignored.",
    )
    X = keep_last_good("pool_typed_grid", lambda: parse_grid(text, name="input grid"))
    if X is not None and max(X.shape) <= 64:
        set_url_grid("pool_X", X)
    return X


def random_grid() -> np.ndarray:
    c1, c2, c3 = st.columns(3)
    rows = c1.number_input("Rows", 2, 32, 6, key="pool_rand_rows", bind="query-params")
    cols = c2.number_input("Columns", 2, 32, 6, key="pool_rand_cols", bind="query-params")
    seed = c3.number_input("Seed", 0, 10_000, 0, key="pool_rand_seed", bind="query-params")
    lo, hi = st.slider("Values from .. to", -20, 20, (0, 9), key="pool_rand_range")
    return np.random.default_rng(int(seed)).integers(lo, hi + 1, (int(rows), int(cols))).astype(float)


def image_crop() -> np.ndarray | None:
    image, caption = image_picker("pool_img", max_side=128, bind=True)
    if image is None:
        return None
    h, w = image.shape
    crop = st.slider("Crop size (cells per side)", 2, min(32, h, w), min(12, h, w), key="pool_crop")
    top = st.slider("Crop: top row", 0, h - crop, (h - crop) // 2, key="pool_top") if h > crop else 0
    left_col = (
        st.slider("Crop: left column", 0, w - crop, (w - crop) // 2, key="pool_left") if w > crop else 0
    )
    st.caption(f"{caption}: rows {top}..{top + crop - 1}, columns {left_col}..{left_col + crop - 1}")
    return image[top : top + crop, left_col : left_col + crop]


def input_controls(source: str):
    """(the lecture example or None, the input grid)."""
    if source == "Lecture example":
        preset = POOL_EXAMPLES[
            url_select("Lecture example", PRESETS, key="pool_preset", on_change=apply_preset)
        ]
        return preset, preset.input
    with st.popover(f"{source}…", width="stretch"):
        if source == "Type a grid":
            return None, typed_grid()
        if source == "Random grid":
            return None, random_grid()
        return None, image_crop()


def settings_controls() -> tuple[int, int, int]:
    """Window size, stride and padding, in a popover."""
    with st.popover("Window, stride, padding…", width="stretch"):
        size = st.slider("Window size f (f x f)", 1, 6, FIRST.size, key="pool_size", bind="query-params")
        same = st.toggle(
            "Stride = window size (the usual choice)",
            value=FIRST.stride == FIRST.size,
            key="pool_stride_same",
            bind="query-params",
        )
        stride = (
            size
            if same
            else st.slider("Stride s", 1, 6, FIRST.stride, key="pool_stride", bind="query-params")
        )
        if size // 2 == 0:
            st.caption("Padding: none (a 1x1 window cannot be padded: a window would hold only padding).")
            return size, stride, 0
        # PyTorch refuses more padding than half the window: a window could then hold only padding
        st.session_state["pool_padding"] = min(st.session_state.get("pool_padding", 0), size // 2)
        padding = st.slider(
            f"Padding p (at most half the window: {size // 2})",
            0,
            size // 2,
            FIRST.padding,
            key="pool_padding",
            bind="query-params",
            help="Max pooling pads with -inf and min pooling with +inf, so padding never wins; "
            "average and L2 pad with zeros (average counts them, as PyTorch does by default).",
        )
    return size, stride, padding


for _key, _lo, _hi in NUMBERS_IN_POPOVERS:
    check_link_number(_key, _lo, _hi)
check_link_choice("pool_stride_same", ["true", "false"])
src_col, in_col, mode_col, set_col = st.columns([1.3, 2.2, 1.2, 1.8], vertical_alignment="bottom")
with src_col:
    source = url_select("Input", SOURCES, key="pool_input_source")
with in_col:
    preset, X = input_controls(source)
with mode_col:
    mode = url_select(
        "Pooling",
        POOL_MODES,
        index=POOL_MODES.index(FIRST.pool),
        format_func=MODE_LABELS.get,
        key="pool_mode",
    )
with set_col:
    size, stride, padding = settings_controls()
if X is None:
    st.stop()
section = url_select(
    "Section", SECTIONS, key="pool_section", widget=st.radio, horizontal=True, label_visibility="collapsed"
)

trace = keep_last_good("pool_trace", lambda: pool_trace(X, size, stride=stride, padding=padding, mode=mode))
if trace is None:
    st.stop()
plan = trace.plan
out_h, out_w = trace.shape
in_h, in_w = trace.X.shape
name = MODE_LABELS[trace.mode]
matches = preset is not None
matches = matches and (mode, size, stride, padding) == (
    preset.pool,
    preset.size,
    preset.stride,
    preset.padding,
)
# max, min and average keep the input's range: one colour scale for both; L2 norms grow past it
colors = color_range([trace.X, trace.output])
in_colors = colors if trace.mode != "l2" else color_range([trace.X])


def upstream_gradient() -> np.ndarray:
    """dL/dY: all ones, or the grid typed in the Backpropagation section (or in the link) while its shape fits."""
    chosen = st.session_state.get("pool_grad_source", st.query_params.get("pool_grad_source"))
    if "pool_upstream" not in st.session_state:
        st.session_state["pool_upstream"] = url_grid("pool_g", None, name="upstream gradient")
    kept = st.session_state["pool_upstream"]
    if chosen == "Type my own" and kept is not None and kept.shape == trace.shape:
        return kept
    return np.ones(trace.shape)


def tie_note(step: Step) -> str:
    """What happens on a tie for the max (or min): PyTorch's rule, for this window."""
    if step.winner is None:
        return ""
    window = step.window
    ties = np.argwhere(window == window[step.winner])
    if len(ties) < 2:
        return ""
    taps = ", ".join(f"({int(step.rows[r])}, {int(step.cols[c])})" for r, c in ties)
    r, c = step.winner
    return (
        f"**A tie**: {fmt(window[step.winner])} is the {trace.mode} {len(ties)} times in this window (padded "
        f"input cells {taps}). PyTorch, and this page, send the whole gradient to the **first** of them in "
        f"reading (row-major) order, padded cell ({int(step.rows[r])}, {int(step.cols[c])}); the others get 0."
    )


def slide_warning() -> list[tuple[int, int]]:
    """The slide's wrong cells, named in a warning and returned for outlining, while they are on screen."""
    if not matches or not preset.slide_errors:
        if preset is not None and preset.slide_errors:
            st.caption(
                f"*{preset.name}*: the slide's mistakes are outlined only with the example's own settings."
            )
        return []
    wrong = ", ".join(f"({i}, {j}): slide {fmt(p)}, correct {fmt(c)}" for i, j, p, c in preset.slide_errors)
    st.warning(f"The slide's answer has mistakes: {wrong}. They are outlined in dashed red with ! below.")
    return [(i, j) for i, j, _, _ in preset.slide_errors]


def size_and_grids() -> None:
    """The output-size formulas and the whole input and output, as figures."""
    f, s, p = plan.rows.f, plan.rows.stride, plan.rows.pad_before  # the trace's own (the last good) settings
    st.markdown(f"out = floor((n + 2p - f) / s) + 1, with n = {in_h}x{in_w}, f = {f}, s = {s}, p = {p}:")
    formulas = f"rows:    {plan.rows.formula()}\ncolumns: {plan.cols.formula()}"
    totals = f"rows:    {plan.rows.formula_total_padding()}\ncolumns: {plan.cols.formula_total_padding()}"
    st.code(formulas, language=None, wrap_lines=True)
    st.caption("The same sizes with p counted over both sides together, as one of the decks writes it:")
    st.code(totals, language=None, wrap_lines=True)
    unvisited = plan.unvisited_mask()
    c1, c2 = st.columns(2)
    with c1:
        fig = grid(
            trace.X,
            title=f"Input {in_h}x{in_w}",
            colors=in_colors,
            shade=unvisited,
            shade_color=UNVISITED_COLOR,
            showscale=trace.mode == "l2",
        )
        show_grid(fig, key="pool_input")
    with c2:
        out_colors = colors if trace.mode != "l2" else color_range([trace.output])
        show_grid(
            grid(trace.output, title=f"{name} pool -> {out_h}x{out_w}", colors=out_colors), key="pool_output"
        )


def summary_line() -> None:
    text = (
        f"Input {in_h}x{in_w}, {name.lower()} pooling {size}x{size}, stride {stride}, padding {padding} -> "
    )
    text += f"**output {out_h}x{out_w}** ({trace.n_steps} cells)"
    if matches:
        agrees = np.array_equal(trace.output, preset.output)
        text += f" · lecture's answer `{format_grid(preset.output).replace(chr(10), ' | ')}`"
        text += " (the output here agrees)" if agrees else " (the output here DIFFERS: report this)"
    st.markdown(text)
    unvisited = plan.unvisited_mask()
    if unvisited.any():
        st.warning(
            f"The windows do not tile the input: {int(unvisited.sum())} input cells (cross-hatched) are never "
            "looked at. Libraries floor the size and silently drop them.",
            icon="✂️",
        )


@st.fragment
def stepping(marks: list[tuple[int, int]], upstream: np.ndarray) -> None:
    link_cell("pool_step", "pool_cell", trace.shape)
    speed = play_speed("pool_step", "pool_speed")
    step = render_stepper(
        trace,
        key="pool_step",
        titles={"output": "Output"},  # "Output (max pool)" is wider than a 2-cell panel
        marks=marks,
        caption="the slide printed a wrong value here" if marks else "",
        upstream=upstream,
        speed=speed,
    )
    keep_cell("pool_cell", step.index)
    cells = region_cells(default_region(trace.shape, selected_cell("pool_step", trace.shape)))
    export_buttons(trace, key="pool_export", cell=step.index, cells=cells, ms=speed, name="pooling")
    winner = winner_input_cell(trace, step)
    if winner is not None:
        st.markdown(
            f"The {trace.mode}, {fmt(step.value)}, is input cell {winner} (starred): in the backward "
            "pass, this output's gradient goes to that cell alone."
        )
    if note := tie_note(step):
        st.info(note, icon="⚖️")
    with folded("Check my work: type the whole pooled output", key="pool_check_open") as open_:
        if open_:
            render_check_work(trace, key="pool_check")


def step_section() -> None:
    summary_line()
    marks = slide_warning()
    if preset is not None and preset.note and not preset.slide_errors:
        st.caption(preset.note)
    stepping(marks, upstream_gradient())
    explain(
        "Pooling slides a window over a grid like a convolution does, but has no weights to learn: each output "
        "cell is the **max**, **average**, **min** or **L2 norm** of the numbers under its window. It shrinks "
        "the map (a 2x2 window with stride 2 keeps one number in four) and makes it less sensitive to small "
        "shifts. On a tie for the max, the first maximum in reading order wins (as in PyTorch)."
    )
    with folded("Output size, and the whole input and output", key="pool_size_open") as open_:
        if open_:
            size_and_grids()


def typed_upstream() -> np.ndarray:
    """The upstream gradient the student types (kept for the stepper's gradient panel and in the link)."""
    upstream = np.ones(trace.shape)
    if (
        url_select(
            "Upstream gradient dL/dY", GRAD_SOURCES, key="pool_grad_source", widget=st.radio, horizontal=True
        )
        == "All ones"
    ):
        return upstream
    g_key = f"pool_grad_{out_h}x{out_w}"  # a fresh box whenever the output's shape changes
    if g_key not in st.session_state:
        linked = upstream_gradient()
        st.session_state[g_key] = format_grid(linked)
    g_text = st.text_area(f"dL/dY: {out_h}x{out_w}, one number per pooled cell", key=g_key, height=110)
    typed = keep_last_good(
        g_key, lambda: pool_backward(trace, parse_grid(g_text, name="upstream gradient")).upstream
    )
    if typed is None:
        return upstream
    st.session_state["pool_upstream"] = typed
    set_url_grid("pool_g", typed, default=upstream)
    return typed


def backprop_section() -> None:
    explain(
        "In training, each pooled cell receives a gradient g = dL/dY from the layer above. Pooling has no "
        "weights, so all it does backwards is hand g to the cells of its window: **max and min** give all of "
        "g to the cell that won (the others get 0; on a tie, PyTorch picks the first in reading order), "
        "**average** splits it evenly, g / (f x f), and **L2** sends g * x / ||window||. Where windows overlap "
        "(stride < window), a cell adds up what each window sends. The stepper's gradient panel uses the "
        "dL/dY set here."
    )
    grad = pool_backward(trace, typed_upstream())
    g_step = st.select_slider(
        "Explain output cell",
        range(trace.n_steps),
        key=f"pool_grad_cell_{out_h}x{out_w}",
        format_func=lambda n: "({}, {})".format(*trace.cell(n)),
    )
    gi, gj = trace.cell(g_step)
    gstep = trace.step(gi, gj)
    st.markdown(f"**Output cell ({gi}, {gj})**, g = {fmt(grad.upstream[gi, gj])}: {grad.explain(gi, gj)}")
    if note := tie_note(gstep):
        st.info(note, icon="⚖️")
    r0, c0 = plan.rows.pad_before, plan.cols.pad_before
    b0, b1, b2, b3 = window_box(gstep)
    # the window in input coordinates, clipped to the input (dL/dX has no padding cells)
    box = (max(b0 - r0, 0), max(b1 - c0, 0), min(b2 - r0, in_h - 1), min(b3 - c0, in_w - 1))
    c1, c2, c3 = st.columns([2, 3, 3])
    with c1:
        fig = grid(
            grad.upstream,
            title="dL/dY (upstream)",
            colors=color_range([grad.upstream]),
            showscale=False,
            outlines=[((gi, gj, gi, gj), WINDOW)],
        )
        show_grid(fig, key="pool_grad_upstream")
    with c2:
        fig = padded_input_figure(trace, gstep, colors=in_colors, title="Input, that cell's window")
        show_grid(fig, key="pool_grad_input")
    with c3:
        fig = grid(
            grad.dX, title="dL/dX (to each input)", colors=color_range([grad.dX]), outlines=[(box, WINDOW)]
        )
        show_grid(fig, key="pool_grad_dx")
    summary = (
        f"{grad.receivers} of {grad.dX.size} input cells receive a gradient. "
        f"Sum of dL/dX = {fmt(grad.dX.sum())}; sum of dL/dY = {fmt(grad.upstream.sum())}"
    )
    if trace.mode == "avg" and grad.lost:
        summary += f"; {fmt(grad.lost)} went to padding and is lost."
    elif trace.mode in ("max", "min", "avg"):
        summary += ": every bit of the gradient reaches an input cell."
    st.markdown(summary)


def shift_section() -> None:
    st.markdown("**Shift the input: the conv map moves with it, the pooled map changes less**")
    explain(
        "Convolution is **equivariant**: move the input one cell and the feature map moves one cell. Pooling "
        "adds some **invariance**: a pooled cell keeps its value as long as the winning number stays inside the "
        "same window. Small windows buy little of it (try window 2 against window 4 below); bigger windows "
        "forgive bigger moves, at the price of a coarser map."
    )
    SHIFT_INPUTS = {
        "X image, zero frame (8x8)": np.pad(np.array(X_IMAGE, float), 1),
        "This page's input": trace.X,
    }
    s1, s2, s3, s4 = st.columns(4)
    shift_input = s1.selectbox("Input", list(SHIFT_INPUTS), key="pool_shift_input")
    kernel_name = s2.selectbox(
        "Kernel", list(KERNELS), index=list(KERNELS).index("X filter 1 (diagonal)"), key="pool_shift_kernel"
    )
    direction = s3.selectbox("Move the input one cell", list(DIRECTIONS), index=2, key="pool_shift_dir")
    shift_size = s4.slider("Pooling window", 2, 5, 4, key="pool_shift_size")
    t1, t2 = st.columns(2)
    use_relu = t1.toggle("ReLU after the convolution", value=True, key="pool_shift_relu")
    overlap = t2.toggle("Stride 1 (overlapping windows) instead of stride = window", key="pool_shift_overlap")
    shift_stride = 1 if overlap else shift_size
    Xs = SHIFT_INPUTS[shift_input]
    K = KERNELS[kernel_name].array

    conv_title = "conv" + (" + ReLU" if use_relu else "")
    pool_title = f"{name.lower()} pool {shift_size}x{shift_size}" + (", stride 1" if overlap else "")

    def compare_moves():
        """The comparison for each of the four moves (the table lists them all), with the titles of its maps."""
        if shift_size > min(Xs.shape):
            raise ValueError(
                f"A {shift_size}x{shift_size} pooling window does not fit the {Xs.shape[0]}x{Xs.shape[1]} "
                f"input: choose a window of at most {min(Xs.shape)}, or a bigger input."
            )
        moves = {
            d: compare_shift(
                Xs, K, d, size=shift_size, stride=shift_stride, mode=trace.mode, use_relu=use_relu
            )
            for d in DIRECTIONS
        }
        return moves, conv_title, pool_title

    shown = keep_last_good("pool_shift", compare_moves)
    if shown is not None:
        moves, conv_title, pool_title = shown  # after an error, the last good maps with their own titles
        cmp = moves[direction]
        n_feat, n_pool = cmp.feature.size, cmp.pooled.size
        moved = int(cmp.feature_moved.sum())
        edge = "" if moved == n_feat else " (the others sit at the edge, where new content came in)"
        st.markdown(
            f"**{conv_title} map**: {cmp.feature_changed} of {n_feat} cells changed value, yet {moved} of "
            f"{n_feat} equal the old map moved one cell {direction}{edge}: the map moves with the input "
            f"(equivariance).  \n**{pool_title}**: {cmp.pooled_changed} of {n_pool} cells changed "
            f"({cmp.pooled_changed / n_pool:.0%}, against {cmp.feature_changed / n_feat:.0%} of the conv map); "
            "the changed ones are outlined."
        )
        changed = [
            ((int(a), int(b), int(a), int(b)), WINDOW) for a, b in np.argwhere(cmp.pooled_changed_mask)
        ]
        panels = [
            ("input", cmp.X, cmp.X_shifted, ()),
            (conv_title, cmp.feature, cmp.feature_shifted, ()),
            (pool_title, cmp.pooled, cmp.pooled_shifted, changed),
        ]
        for row, when in enumerate(("before", f"moved {direction}")):
            for col, (label, before, after, outlines) in zip(st.columns(3), panels, strict=True):
                with col:
                    Z = before if row == 0 else after
                    fig = grid(
                        Z,
                        title=f"{label}:<br>{when}",
                        colors=color_range([before, after]),  # one scale for the pair
                        showscale=False,
                        outlines=outlines if row == 1 else (),
                        cell_px=min(40, 330 // max(Z.shape)),
                    )
                    show_grid(fig, key=f"pool_shift_{label}_{row}")
        table = []
        for d, other in moves.items():
            table.append(
                {
                    "move": d,
                    "conv cells changed": f"{other.feature_changed} of {n_feat}",
                    "conv cells = old map moved": f"{int(other.feature_moved.sum())} of {n_feat}",
                    "pooled cells changed": f"{other.pooled_changed} of {n_pool}",
                }
            )
        st.caption("All four directions, so that no single direction is cherry-picked:")
        st.dataframe(table, hide_index=True)


def pipeline_section() -> None:
    st.markdown("**Convolution, then ReLU, then max pooling: the lecture's X**")
    explain(
        'The 6x6 "X" image goes through the lecture\'s two 3x3 filters (one feature map each), then a ReLU, '
        "then 2x2 max pooling with stride 2. The lecture pools the raw maps; both routes are drawn."
    )
    filters = {n: KERNELS[n].array for n in ("X filter 1 (diagonal)", "X filter 2 (vertical bar)")}
    pipe = conv_relu_pool(X_IMAGE, list(filters.values()))
    lecture = [POOL_EXAMPLES["X filter 1 map, max pooling"], POOL_EXAMPLES["X filter 2 map, max pooling"]]
    map_colors = color_range([*pipe.conv, *pipe.pooled_raw])
    show_grid(
        grid(np.array(X_IMAGE, float), title="X image 6x6", colors=color_range([X_IMAGE]), showscale=False),
        key="pool_pipe_x",
    )
    for c, (fname, K) in enumerate(filters.items()):
        st.markdown(f"**Filter {c + 1}** ({fname})")
        stages = [
            ("kernel", K, color_range([K])),
            ("conv map", pipe.conv[c], map_colors),
            ("ReLU", pipe.rectified[c], map_colors),
            ("ReLU -> max pool", pipe.pooled[c], map_colors),
            ("max pool, no ReLU", pipe.pooled_raw[c], map_colors),
        ]
        for col, (label, Z, scale) in zip(st.columns(len(stages)), stages, strict=True):
            with col:
                show_grid(
                    grid(Z, title=label, colors=scale, showscale=False, cell_px=34),
                    key=f"pool_pipe_{c}_{label}",
                )
        ex = lecture[c]
        routes = [
            route
            for route, Z in (("without the ReLU", pipe.pooled_raw[c]), ("with the ReLU", pipe.pooled[c]))
            if np.array_equal(Z, ex.output)
        ]
        verdict = " and ".join(routes) if routes else "by neither route"
        line = f"The lecture's answer {format_grid(ex.output).replace(chr(10), ' | ')} comes out {verdict}."
        if pipe.relu_matters[c]:
            line += " Here the ReLU matters: a window whose numbers are all negative pools to 0 instead of its max."
        for i, j, printed, correct in ex.slide_errors:
            line += f" The slide printed {fmt(printed)} for cell ({i}, {j}); the max of that window is {fmt(correct)}."
        st.markdown(line)

    raw_ok = all(np.array_equal(pipe.pooled_raw[c], ex.output) for c, ex in enumerate(lecture))
    relu_ok = all(np.array_equal(pipe.pooled[c], ex.output) for c, ex in enumerate(lecture))
    if raw_ok and not relu_ok:
        st.info(
            "The lecture's pooled numbers are conv -> max pool, **without** the ReLU. A network with the ReLU "
            "(conv -> ReLU -> pool, as in every CNN after LeNet) gets the left-hand pooled maps instead."
        )
    elif relu_ok and raw_ok:
        st.info("Both routes give the lecture's pooled numbers here.")
    conv1 = EXAMPLES["X image, filter 1"]
    if conv1.slide is not None:
        slide_pooled = pool2d(np.array(conv1.slide, float), 2)
        slips = conv1.slide_errors
        st.caption(
            "The slide's filter-1 map printed "
            + " and ".join(fmt(printed) for _, _, printed, _ in slips)
            + " at cells "
            + " and ".join(f"({i}, {j})" for i, j, _, _ in slips)
            + " (correct: "
            + " and ".join(fmt(correct) for _, _, _, correct in slips)
            + "); pooling the printed map "
            + (
                "gives the same pooled numbers: the max hides the slips."
                if np.array_equal(slide_pooled, pipe.pooled_raw[0])
                else "changes the pooled numbers."
            )
        )


SHOW = {
    "Step through": step_section,
    "Backpropagation": backprop_section,
    "Shift invariance": shift_section,
    "Conv, ReLU, pool": pipeline_section,
}
SHOW[section]()
