"""Pooling, cell by cell: max, average, min and L2 pooling; where the gradient goes; shift invariance; conv, ReLU, pool."""

import numpy as np
import streamlit as st

import cnnviz.lessons.pooling as lesson
import ui.page as ui
from cnnviz.draw.figures import color_range
from cnnviz.draw.palette import UNVISITED_COLOR
from cnnviz.draw.palette import WINDOW_COLOR as WINDOW
from cnnviz.draw.picture import crop
from cnnviz.draw.pooling import padded_input_figure
from cnnviz.geometry import pool_padding_max
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.lessons.convolution import slide_marks, slide_mistakes
from cnnviz.lessons.presets import EXAMPLES, KERNELS, POOL_EXAMPLES, X_IMAGE
from cnnviz.trace import POOL_MODES, fmt, pool_trace

PRESETS = list(POOL_EXAMPLES)
FIRST = POOL_EXAMPLES[PRESETS[0]]  # the widgets' defaults are the first lecture example's settings
MODE_LABELS = {"max": "Max", "avg": "Average", "min": "Min", "l2": "L2 norm"}
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
# Widgets a run may not draw (the preset box while typing a grid, the stride slider while stride = size,
# the gradient box in another section): their values are kept for when they return.
KEPT = [
    "pool_preset",
    "pool_typed",
    "pool_mode",
    "pool_size",
    "pool_stride_same",
    "pool_stride",
    "pool_padding",
    "pool_grad_source",
]


def apply_preset() -> None:
    """Load the chosen lecture example's settings into the widgets (runs before the page redraws)."""
    e = POOL_EXAMPLES[st.session_state["pool_preset"]]
    ui.set_widgets(
        {
            "pool_mode": e.pool,
            "pool_size": e.size,
            "pool_stride_same": e.stride == e.size,
            "pool_stride": e.stride,
            "pool_padding": e.padding,
            "pool_typed": format_grid(e.input),
        }
    )


def fit_crop(h: int, w: int) -> None:
    """The crop size's callback: the top row and left column keep their values, inside their new ranges."""
    side = st.session_state["pool_crop"]
    ui.fit_widgets({"pool_top": h - side, "pool_left": w - side})


def fit_padding() -> None:
    """The window size's callback: a smaller window allows less padding (at most half the window)."""
    ui.fit_widgets({"pool_padding": pool_padding_max(st.session_state["pool_size"])})


def link_padding_most() -> int:
    """The most padding the link's window allows (the slider's top): half the window the link asks for (or
    the default window's, when the link names none or a bad one)."""
    raw = st.query_params.get("pool_size", "")
    size = int(raw) if raw.isdigit() and 1 <= int(raw) <= 6 else FIRST.size
    return pool_padding_max(size)


# ---- the input and the settings: one row, the details in popovers ----


TYPED_X = {"key": "pool_typed", "param": "pool_X", "default": FIRST.input, "name": "input grid"}


def typed_grid() -> np.ndarray | None:
    """The typed grid, kept in the link (`pool_X`)."""
    label = "One row per line, numbers split by spaces or commas"
    help_ = "Decimals, negatives and fractions like 1/9 are fine; pasted [brackets] are ignored."
    return ui.typed_grid(label, height=140, help=help_, **TYPED_X)


def picture_crop() -> np.ndarray | None:
    """A square crop of a bundled or uploaded picture."""
    image, caption = ui.image_picker("pool_img", max_side=128, bind=True)
    if image is None:
        return None
    h, w = image.shape
    # A smaller picture is read in this run, with no callback of ours (a larger crop: `fit_crop`); these
    # sliders are not in the link, so a value set before them holds.
    ui.keep_within("pool_crop", min(32, h, w))
    side = st.slider(
        "Crop size (cells per side)",
        2,
        min(32, h, w),
        min(12, h, w),
        key="pool_crop",
        on_change=fit_crop,
        args=(h, w),
    )
    ui.keep_within("pool_top", h - side)
    ui.keep_within("pool_left", w - side)
    top = st.slider("Crop: top row", 0, h - side, (h - side) // 2, key="pool_top") if h > side else 0
    left = st.slider("Crop: left column", 0, w - side, (w - side) // 2, key="pool_left") if w > side else 0
    part, (r0, c0, r1, c1) = crop(image, top, left, side, side)
    st.caption(f"{caption}: rows {r0}..{r1}, columns {c0}..{c1}")
    return part


def input_section(source: str):
    """(the lecture example or None, the input grid)."""
    if source == ui.LECTURE:
        preset = POOL_EXAMPLES[
            ui.url_select("Lecture example", PRESETS, key="pool_preset", on_change=apply_preset)
        ]
        return preset, preset.input
    with st.popover(f"{source}…", width="stretch"):
        if source == ui.TYPED:
            return None, typed_grid()
        if source == ui.RANDOM:
            keys = ("pool_rand_rows", "pool_rand_cols", "pool_rand_seed")
            return None, ui.random_grid(keys, max_side=32, values=(0, 9), values_key="pool_rand_range")
        return None, picture_crop()


def settings_section() -> tuple[int, int, int]:
    """Window size, stride and padding, in a popover."""
    with st.popover("Window, stride, padding…", width="stretch"):
        size = st.slider(
            "Window size f (f x f)",
            1,
            6,
            FIRST.size,
            key=ui.kept_key("pool_size"),
            bind="query-params",
            on_change=fit_padding,
        )
        same = st.toggle(
            "Stride = window size (the usual choice)",
            value=FIRST.stride == FIRST.size,
            key=ui.kept_key("pool_stride_same"),
            bind="query-params",
        )
        stride = (
            size
            if same
            else st.slider(
                "Stride s", 1, 6, FIRST.stride, key=ui.kept_key("pool_stride"), bind="query-params"
            )
        )
        most = pool_padding_max(size)  # PyTorch refuses more: a window could then hold only padding
        if most == 0:
            st.caption("Padding: none (a 1x1 window cannot be padded: a window would hold only padding).")
            return size, stride, 0
        padding = st.slider(
            f"Padding p (at most half the window: {most})",
            0,
            most,
            FIRST.padding,
            key=ui.kept_key("pool_padding"),
            bind="query-params",
            help="Max pooling pads with -inf and min pooling with +inf, so padding never wins; "
            "average and L2 pad with zeros (average counts them, as PyTorch does by default).",
        )
    return size, stride, padding


def controls_section():
    """The input, the pooling and its settings on one row: (the example or None, X, mode, size, stride, padding)."""
    for key, lo, hi in NUMBERS_IN_POPOVERS:
        ui.check_link_number(key, lo, link_padding_most() if key == "pool_padding" else hi)
    ui.check_link_choice("pool_stride_same", ["true", "false"])
    ui.first_grid_text(**TYPED_X)  # a bad grid in the link warns here, outside the popover
    ui.keep_widgets(*KEPT)
    src_col, in_col, mode_col, set_col = st.columns([1.3, 2.2, 1.2, 1.8], vertical_alignment="bottom")
    with src_col:
        source = ui.input_source("Input", key="pool_input_source")
    with in_col:
        preset, X = input_section(source)
    with mode_col:
        mode = ui.url_select(
            "Pooling",
            POOL_MODES,
            index=POOL_MODES.index(FIRST.pool),
            format_func=MODE_LABELS.get,
            key="pool_mode",
        )
    with set_col:
        size, stride, padding = settings_section()
    if source == ui.TYPED:
        ui.typed_grid_refused(TYPED_X["key"], f"{source}…")
    return preset, X, mode, size, stride, padding


# ---- Step through ----


def colours(trace) -> tuple[dict, dict]:
    """(one scale for input and output, the input's own): max, min and average keep the input's range,
    L2 norms grow past it."""
    both = color_range([trace.X, trace.output])
    return both, (both if trace.mode != "l2" else color_range([trace.X]))


def upstream_gradient(trace) -> np.ndarray:
    """dL/dY: all ones, or the grid typed in the Backpropagation section (or in the link) while its shape fits."""
    chosen = st.session_state.get("pool_grad_source", st.query_params.get("pool_grad_source"))
    kept = ui.first_value("pool_upstream", lambda: ui.url_grid("pool_g", None, name="upstream gradient"))
    if chosen == "Type my own" and kept is not None and kept.shape == trace.shape:
        return kept
    return np.ones(trace.shape)


def slide_warning(preset, matches: bool) -> list[tuple[int, int]]:
    """The slide's wrong cells, named in a warning and returned for outlining, while they are on screen."""
    if not matches or not preset.slide_errors:
        if preset is not None and preset.slide_errors:
            st.caption(
                f"*{preset.name}*: the slide's mistakes are outlined only with the example's own settings."
            )
        return []
    st.warning(
        f"The slide's answer has mistakes: {slide_mistakes(preset)}. They are outlined in dashed red with ! below."
    )
    return slide_marks(preset)


def size_and_grids(trace) -> None:
    """The output-size formulas and the whole input and output, as figures."""
    plan, (in_h, in_w), (out_h, out_w) = trace.plan, trace.X.shape, trace.shape
    f, s, p = plan.rows.f, plan.rows.stride, plan.rows.pad_before  # the trace's own (the last good) settings
    st.markdown(f"out = floor((n + 2p - f) / s) + 1, with n = {in_h}x{in_w}, f = {f}, s = {s}, p = {p}:")
    st.code(f"rows:    {plan.rows.formula()}\ncolumns: {plan.cols.formula()}", language=None, wrap_lines=True)
    st.caption("The same sizes with p counted over both sides together, as one of the decks writes it:")
    totals = f"rows:    {plan.rows.formula_total_padding()}\ncolumns: {plan.cols.formula_total_padding()}"
    st.code(totals, language=None, wrap_lines=True)
    colors, in_colors = colours(trace)
    c1, c2 = st.columns(2)
    with c1:
        fig = ui.grid(
            trace.X,
            title=f"Input {in_h}x{in_w}",
            colors=in_colors,
            shade=plan.unvisited_mask(),
            shade_color=UNVISITED_COLOR,
            showscale=trace.mode == "l2",
        )
        ui.show_grid(fig, key="pool_input")
    with c2:
        out_colors = colors if trace.mode != "l2" else color_range([trace.output])
        title = f"{MODE_LABELS[trace.mode]} pool -> {out_h}x{out_w}"
        ui.show_grid(ui.grid(trace.output, title=title, colors=out_colors), key="pool_output")


@st.fragment
def stepping(trace, marks: list[tuple[int, int]], upstream: np.ndarray) -> None:
    """The stepper (a fragment: picking a cell reruns only this), the winner, a tie, check my work."""
    step = ui.linked_stepper(
        trace,
        "pool",
        name="pooling",
        titles={"output": "Output"},  # "Output (max pool)" is wider than a 2-cell panel
        marks=marks,
        caption="the slide printed a wrong value here" if marks else "",
        upstream=upstream,
    )
    winner = lesson.winner_input_cell(trace, step)
    if winner is not None:
        st.markdown(
            f"The {trace.mode}, {fmt(step.value)}, is input cell {winner} (starred): in the backward "
            "pass, this output's gradient goes to that cell alone."
        )
    if note := lesson.tie_note(trace, step):
        st.info(note, icon="⚖️")
    with ui.folded("Check my work: type the whole pooled output", key="pool_check_open") as open_:
        if open_:
            ui.render_check_work(trace, key="pool_check")


def step_section(trace, preset, matches: bool) -> None:
    st.markdown(lesson.pool_summary(trace, preset if matches else None, mode_name=MODE_LABELS[trace.mode]))
    if warning := lesson.untiled_warning(trace):
        st.warning(warning, icon="✂️")
    marks = slide_warning(preset, matches)
    if preset is not None and preset.note and not preset.slide_errors:
        st.caption(preset.note)
    stepping(trace, marks, upstream_gradient(trace))
    ui.explain(
        "Pooling slides a window over a grid like a convolution does, but has no weights to learn: each output "
        "cell is the **max**, **average**, **min** or **L2 norm** of the numbers under its window. It shrinks "
        "the map (a 2x2 window with stride 2 keeps one number in four) and makes it less sensitive to small "
        "shifts. On a tie for the max, the first maximum in reading order wins (as in PyTorch)."
    )
    with ui.folded("Output size, and the whole input and output", key="pool_size_open") as open_:
        if open_:
            size_and_grids(trace)


# ---- Backpropagation ----


def typed_upstream(trace) -> np.ndarray:
    """The upstream gradient the student types (kept for the stepper's gradient panel and in the link)."""
    upstream = np.ones(trace.shape)
    source = ui.url_select(
        "Upstream gradient dL/dY", GRAD_SOURCES, key="pool_grad_source", widget=st.radio, horizontal=True
    )
    if source == "All ones":
        return upstream
    out_h, out_w = trace.shape
    g_key = f"pool_grad_{out_h}x{out_w}"  # a fresh box whenever the output's shape changes
    g_text = st.text_area(
        f"dL/dY: {out_h}x{out_w}, one number per pooled cell",
        format_grid(upstream_gradient(trace)),
        key=g_key,
        height=110,
    )
    typed = ui.keep_last_good(
        g_key, lambda: lesson.pool_backward(trace, parse_grid(g_text, name="upstream gradient")).upstream
    )
    if typed is None:
        return upstream
    st.session_state["pool_upstream"] = typed
    ui.set_url_grid("pool_g", typed, default=upstream)
    return typed


def gradient_figures(trace, grad, gi: int, gj: int) -> None:
    """dL/dY with the cell outlined, the input with that cell's window, dL/dX with the window outlined."""
    gstep = trace.step(gi, gj)
    c1, c2, c3 = st.columns([2, 3, 3])
    with c1:
        fig = ui.grid(
            grad.upstream,
            title="dL/dY (upstream)",
            colors=color_range([grad.upstream]),
            showscale=False,
            outlines=[((gi, gj, gi, gj), WINDOW)],
        )
        ui.show_grid(fig, key="pool_grad_upstream")
    with c2:
        fig = padded_input_figure(trace, gstep, colors=colours(trace)[1], title="Input, that cell's window")
        ui.show_grid(fig, key="pool_grad_input")
    with c3:
        box = lesson.input_window(trace, gstep)
        fig = ui.grid(
            grad.dX, title="dL/dX (to each input)", colors=color_range([grad.dX]), outlines=[(box, WINDOW)]
        )
        ui.show_grid(fig, key="pool_grad_dx")


def backprop_section(trace) -> None:
    ui.explain(
        "In training, each pooled cell receives a gradient g = dL/dY from the layer above. Pooling has no "
        "weights, so all it does backwards is hand g to the cells of its window: **max and min** give all of "
        "g to the cell that won (the others get 0; on a tie, PyTorch picks the first in reading order), "
        "**average** splits it evenly, g / (f x f), and **L2** sends g * x / ||window||. Where windows overlap "
        "(stride < window), a cell adds up what each window sends. The stepper's gradient panel uses the "
        "dL/dY set here."
    )
    grad = lesson.pool_backward(trace, typed_upstream(trace))
    out_h, out_w = trace.shape
    g_step = st.select_slider(
        "Explain output cell",
        range(trace.n_steps),
        key=f"pool_grad_cell_{out_h}x{out_w}",
        format_func=lambda n: "({}, {})".format(*trace.cell(n)),
    )
    gi, gj = trace.cell(g_step)
    st.markdown(f"**Output cell ({gi}, {gj})**, g = {fmt(grad.upstream[gi, gj])}: {grad.explain(gi, gj)}")
    if note := lesson.tie_note(trace, trace.step(gi, gj)):
        st.info(note, icon="⚖️")
    gradient_figures(trace, grad, gi, gj)
    st.markdown(lesson.gradient_summary(grad, trace.mode))


# ---- Shift invariance ----


def shift_controls(trace) -> dict:
    """The shift lesson's settings: input, kernel, direction, window, ReLU, stride."""
    inputs = {"X image, zero frame (8x8)": np.pad(np.array(X_IMAGE, float), 1), "This page's input": trace.X}
    s1, s2, s3, s4 = st.columns(4)
    shift_input = s1.selectbox("Input", list(inputs), key="pool_shift_input")
    kernel_name = s2.selectbox(
        "Kernel", list(KERNELS), index=list(KERNELS).index("X filter 1 (diagonal)"), key="pool_shift_kernel"
    )
    direction = s3.selectbox(
        "Move the input one cell", list(lesson.DIRECTIONS), index=2, key="pool_shift_dir"
    )
    size = s4.slider("Pooling window", 2, 5, 4, key="pool_shift_size")
    t1, t2 = st.columns(2)
    use_relu = t1.toggle("ReLU after the convolution", value=True, key="pool_shift_relu")
    overlap = t2.toggle("Stride 1 (overlapping windows) instead of stride = window", key="pool_shift_overlap")
    return {
        "X": inputs[shift_input],
        "K": KERNELS[kernel_name].array,
        "direction": direction,
        "size": size,
        "stride": 1 if overlap else size,
        "use_relu": use_relu,
        "conv_title": "conv" + (" + ReLU" if use_relu else ""),
        "pool_title": f"{MODE_LABELS[trace.mode].lower()} pool {size}x{size}"
        + (", stride 1" if overlap else ""),
    }


def shift_panels(cmp, conv_title: str, pool_title: str) -> None:
    """Input, conv map and pooled map, before and after the move; the pooled cells that changed outlined."""
    changed = [((int(a), int(b), int(a), int(b)), WINDOW) for a, b in np.argwhere(cmp.pooled_changed_mask)]
    panels = [
        ("input", cmp.X, cmp.X_shifted, ()),
        (conv_title, cmp.feature, cmp.feature_shifted, ()),
        (pool_title, cmp.pooled, cmp.pooled_shifted, changed),
    ]
    for row, when in enumerate(("before", f"moved {cmp.direction}")):
        for col, (label, before, after, outlines) in zip(st.columns(3), panels, strict=True):
            with col:
                Z = before if row == 0 else after
                fig = ui.grid(
                    Z,
                    title=f"{label}:<br>{when}",
                    colors=color_range([before, after]),  # one scale for the pair
                    showscale=False,
                    outlines=outlines if row == 1 else (),
                    cell_px=min(40, 330 // max(Z.shape)),
                )
                ui.show_grid(fig, key=f"pool_shift_{label}_{row}")


def shift_section(trace) -> None:
    st.markdown("**Shift the input: the conv map moves with it, the pooled map changes less**")
    ui.explain(
        "Convolution is **equivariant**: move the input one cell and the feature map moves one cell. Pooling "
        "adds some **invariance**: a pooled cell keeps its value as long as the winning number stays inside the "
        "same window. Small windows buy little of it (try window 2 against window 4 below); bigger windows "
        "forgive bigger moves, at the price of a coarser map."
    )
    c = shift_controls(trace)

    def compare_moves():
        """Every move compared (the table lists them all), with the titles of its maps."""
        moves = lesson.shift_moves(
            c["X"], c["K"], size=c["size"], stride=c["stride"], mode=trace.mode, use_relu=c["use_relu"]
        )
        return moves, c["conv_title"], c["pool_title"]

    shown = ui.keep_last_good("pool_shift", compare_moves)
    if shown is None:
        return
    moves, conv_title, pool_title = shown  # after an error, the last good maps with their own titles
    cmp = moves[c["direction"]]
    st.markdown(lesson.shift_verdict(cmp, conv_title, pool_title))
    shift_panels(cmp, conv_title, pool_title)
    st.caption("All four directions, so that no single direction is cherry-picked:")
    st.dataframe(lesson.shift_table(moves), hide_index=True)


# ---- Conv, ReLU, pool ----


def pipeline_section() -> None:
    st.markdown("**Convolution, then ReLU, then max pooling: the lecture's X**")
    ui.explain(
        'The 6x6 "X" image goes through the lecture\'s two 3x3 filters (one feature map each), then a ReLU, '
        "then 2x2 max pooling with stride 2. The lecture pools the raw maps; both routes are drawn."
    )
    filters = {n: KERNELS[n].array for n in ("X filter 1 (diagonal)", "X filter 2 (vertical bar)")}
    pipe = lesson.conv_relu_pool(X_IMAGE, list(filters.values()))
    lecture = [POOL_EXAMPLES["X filter 1 map, max pooling"], POOL_EXAMPLES["X filter 2 map, max pooling"]]
    map_colors = color_range([*pipe.conv, *pipe.pooled_raw])
    X = np.array(X_IMAGE, float)
    ui.show_grid(
        ui.grid(X, title="X image 6x6", colors=color_range([X_IMAGE]), showscale=False), key="pool_pipe_x"
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
                fig = ui.grid(Z, title=label, colors=scale, showscale=False, cell_px=34)
                ui.show_grid(fig, key=f"pool_pipe_{c}_{label}")
        st.markdown(lesson.pipeline_verdict(pipe, c, lecture[c]))
    if conclusion := lesson.pipeline_conclusion(pipe, lecture):
        st.info(conclusion)
    if note := lesson.slide_map_note(EXAMPLES["X image, filter 1"], pipe.pooled_raw[0]):
        st.caption(note)


def main() -> None:
    ui.page_setup("Pooling, cell by cell", "🔳")
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: a widget here reruns only this, not the page's menu)."""
    preset, X, mode, size, stride, padding = controls_section()
    if X is None:
        return
    trace = ui.keep_last_good(
        "pool_trace", lambda: pool_trace(X, size, stride=stride, padding=padding, mode=mode)
    )
    if trace is None:
        return
    matches = lesson.matches_example(preset, mode, size, stride, padding)
    ui.lazy_tabs(
        {
            "Step through": lambda: step_section(trace, preset, matches),
            "Backpropagation": lambda: backprop_section(trace),
            "Shift invariance": lambda: shift_section(trace),
            "Conv, ReLU, pool": pipeline_section,
        },
        key="pool_section",
    )


main()
