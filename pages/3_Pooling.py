"""Pooling, cell by cell: max, average, min and L2 pooling; where the gradient goes; shift invariance; conv, ReLU, pool."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.figures import color_range, grid_figure
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.ops import pool2d
from cnnviz.pooling import DIRECTIONS, compare_shift, conv_relu_pool, pool_backward, winner_input_cell
from cnnviz.pooling_figures import padded_input_figure, window_box
from cnnviz.presets import EXAMPLES, KERNELS, POOL_EXAMPLES, X_IMAGE
from cnnviz.stepper import UNVISITED_COLOR
from cnnviz.stepper import WINDOW_COLOR as WINDOW
from cnnviz.trace import POOL_MODES, fmt, pool_trace
from ui.common import image_picker, keep_last_good, page_setup, plot
from ui.stepper import render_check_work, render_stepper

page_setup(
    "Pooling, cell by cell",
    "🔳",
    intro=(
        "Pooling slides a window over a grid like a convolution does, but has no weights to learn: each "
        "output cell is the **max**, **average**, **min** or **L2 norm** of the numbers under its window. "
        "It shrinks the map (a 2x2 window with stride 2 keeps one number in four) and makes it less "
        "sensitive to small shifts."
    ),
)

PRESETS = list(POOL_EXAMPLES)


@st.cache_resource(show_spinner=False, max_entries=512)
def grid(Z, **kwargs) -> go.Figure:
    """`grid_figure`, built once per (values, settings) and shared between runs: never mutate the result."""
    return grid_figure(Z, **kwargs)


SOURCES = ["Lecture example", "Type a grid", "Random grid", "Image crop"]
MODE_LABELS = {"max": "Max", "avg": "Average", "min": "Min", "l2": "L2 norm"}


def apply_preset() -> None:
    """Load the chosen lecture example's settings into the widgets (runs before the page redraws)."""
    e = POOL_EXAMPLES[st.session_state["pool_preset"]]
    st.session_state["pool_mode"] = e.pool
    st.session_state["pool_size"] = e.size
    st.session_state["pool_stride_same"] = e.stride == e.size
    st.session_state["pool_stride"] = e.stride
    st.session_state["pool_padding"] = e.padding
    st.session_state["pool_typed"] = format_grid(e.input)


if "pool_preset" not in st.session_state:
    st.session_state["pool_preset"] = PRESETS[0]
    apply_preset()
# Streamlit forgets a widget's value when the widget is not drawn in a run (the preset box while typing a
# grid, the stride slider while stride = size); writing the values back keeps them for when they return.
for _key in (
    "pool_preset",
    "pool_typed",
    "pool_mode",
    "pool_size",
    "pool_stride_same",
    "pool_stride",
    "pool_padding",
):
    if _key in st.session_state:
        st.session_state[_key] = st.session_state[_key]

# ---- the input and the settings ----

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Input and settings")
    source = st.radio("Input", SOURCES, horizontal=True, key="pool_input_source")
    preset, matches = None, False
    if source == "Lecture example":
        st.selectbox("Lecture example", PRESETS, key="pool_preset", on_change=apply_preset)
        preset = POOL_EXAMPLES[st.session_state["pool_preset"]]
        X = preset.input
    elif source == "Type a grid":
        text = st.text_area(
            "One row per line, numbers split by spaces or commas",
            key="pool_typed",
            height=140,
            help="Decimals, negatives and fractions like 1/9 are fine; pasted [brackets] are ignored.",
        )
        X = keep_last_good("pool_typed_grid", lambda: parse_grid(text, name="input grid"))
    elif source == "Random grid":
        c1, c2, c3 = st.columns(3)
        rows = c1.number_input("Rows", 2, 32, 6, key="pool_rand_rows")
        cols = c2.number_input("Columns", 2, 32, 6, key="pool_rand_cols")
        seed = c3.number_input("Seed", 0, 10_000, 0, key="pool_rand_seed")
        lo, hi = st.slider("Values from .. to", -20, 20, (0, 9), key="pool_rand_range")
        X = np.random.default_rng(int(seed)).integers(lo, hi + 1, (int(rows), int(cols))).astype(float)
    else:
        image, caption = image_picker("pool_img", max_side=128)
        if image is None:
            st.stop()
        h, w = image.shape
        crop = st.slider("Crop size (cells per side)", 2, min(32, h, w), min(12, h, w), key="pool_crop")
        top = st.slider("Crop: top row", 0, h - crop, (h - crop) // 2, key="pool_top") if h > crop else 0
        left_col = (
            st.slider("Crop: left column", 0, w - crop, (w - crop) // 2, key="pool_left") if w > crop else 0
        )
        X = image[top : top + crop, left_col : left_col + crop]
        st.caption(f"{caption}: rows {top}..{top + crop - 1}, columns {left_col}..{left_col + crop - 1}")
    if X is None:
        st.stop()

    mode = st.selectbox("Pooling", POOL_MODES, format_func=MODE_LABELS.get, key="pool_mode")
    size = st.slider("Window size f (f x f)", 1, 6, key="pool_size")
    same = st.toggle("Stride = window size (the usual choice)", key="pool_stride_same")
    stride = size if same else st.slider("Stride s", 1, 6, key="pool_stride")
    if size // 2 == 0:
        padding = 0
        st.caption("Padding: none (a 1x1 window cannot be padded: a window would hold only padding).")
    else:
        # PyTorch refuses more padding than half the window: a window could then hold only padding
        st.session_state["pool_padding"] = min(st.session_state.get("pool_padding", 0), size // 2)
        padding = st.slider(
            f"Padding p (at most half the window: {size // 2})",
            0,
            size // 2,
            key="pool_padding",
            help="Max pooling pads with -inf and min pooling with +inf, so padding never wins; "
            "average and L2 pad with zeros (average counts them, as PyTorch does by default).",
        )

trace = keep_last_good("pool_trace", lambda: pool_trace(X, size, stride=stride, padding=padding, mode=mode))
if trace is None:
    st.stop()
plan = trace.plan
out_h, out_w = trace.shape
in_h, in_w = trace.X.shape
name = MODE_LABELS[trace.mode]

with right:
    st.subheader("Output size")
    f, s, p = plan.rows.f, plan.rows.stride, plan.rows.pad_before  # the trace's own (the last good) settings
    st.markdown(f"out = floor((n + 2p - f) / s) + 1, with n = {in_h}x{in_w}, f = {f}, s = {s}, p = {p}:")
    formulas = f"rows:    {plan.rows.formula()}\ncolumns: {plan.cols.formula()}"
    totals = f"rows:    {plan.rows.formula_total_padding()}\ncolumns: {plan.cols.formula_total_padding()}"
    st.code(formulas, language=None, wrap_lines=True)
    st.caption("The same sizes with p counted over both sides together, as one of the decks writes it:")
    st.code(totals, language=None, wrap_lines=True)
    unvisited = plan.unvisited_mask()
    if unvisited.any():
        st.warning(
            f"The windows do not tile the input: {int(unvisited.sum())} input cells (shaded) are never "
            "looked at. Libraries floor the size and silently drop them.",
            icon="✂️",
        )
    if preset is not None:
        if preset.note:
            st.info(preset.note)
        matches = (mode, size, stride, padding) == (preset.pool, preset.size, preset.stride, preset.padding)
        if matches:
            same_answer = np.array_equal(trace.output, preset.output)
            st.markdown(
                f"Lecture's answer: `{format_grid(preset.output).replace(chr(10), ' | ')}`"
                + (
                    " (the output here agrees)."
                    if same_answer
                    else " (the output here DIFFERS: report this)."
                )
            )
            for i, j, printed, correct in preset.slide_errors:
                st.markdown(
                    f"The slide printed **{fmt(printed)}** for output cell ({i}, {j}); the correct value is "
                    f"**{fmt(correct)}**. Step to that cell below and read its window."
                )

    # max, min and average keep the input's range: one colour scale for both; L2 norms grow past it
    colors = color_range([trace.X, trace.output])
    in_colors = colors if trace.mode != "l2" else color_range([trace.X])
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
        plot(fig, key="pool_input")
    with c2:
        title = f"{name} pool -> {out_h}x{out_w}"
        out_colors = colors if trace.mode != "l2" else color_range([trace.output])
        plot(grid(trace.output, title=title, colors=out_colors), key="pool_output")

# ---- cell by cell ----

st.divider()
st.subheader("Step through the windows")
st.markdown(
    f"Each output cell reads one {f}x{f} window of the padded input, in reading order. "
    + (
        f"The {trace.mode} of the window is kept; the starred cell (dashed outline) is the one that won."
        if trace.mode in ("max", "min")
        else "Every cell of the window counts."
    )
)
marks = []
if preset is not None and matches:
    marks = [(i, j) for i, j, _, _ in preset.slide_errors]
step = render_stepper(
    trace,
    key="pool_step",
    titles={"output": "Output"},  # "Output (max pool)" is wider than a 2-cell panel
    marks=marks,
    caption="the slide printed a wrong value here" if marks else "",
)
winner = winner_input_cell(trace, step)
if winner is not None:
    st.markdown(
        f"The {trace.mode}, {fmt(step.value)}, is input cell {winner} (starred): in the backward "
        "pass below, this output's gradient goes to that cell alone."
    )
with st.expander("Check my work: type the whole pooled output"):
    render_check_work(trace, key="pool_check")

# ---- backpropagation ----

st.divider()
st.subheader("Backpropagation: where the gradient goes")
st.markdown(
    "In training, each pooled cell receives a gradient g = dL/dY from the layer above. Pooling has no "
    "weights, so all it does backwards is hand g to the cells of its window: **max and min** give all of "
    "g to the cell that won (the others get 0), **average** splits it evenly, g / (f x f), and **L2** sends "
    "g * x / ||window||. Where windows overlap (stride < window), a cell adds up what each window sends."
)
g_source = st.radio(
    "Upstream gradient dL/dY", ["All ones", "Type my own"], horizontal=True, key="pool_grad_source"
)
upstream = np.ones(trace.shape)
if g_source == "Type my own":
    g_key = f"pool_grad_{out_h}x{out_w}"  # a fresh box (all ones) whenever the output's shape changes
    if g_key not in st.session_state:
        st.session_state[g_key] = format_grid(upstream)
    g_text = st.text_area(f"dL/dY: {out_h}x{out_w}, one number per pooled cell", key=g_key, height=110)
    typed = keep_last_good(
        g_key, lambda: pool_backward(trace, parse_grid(g_text, name="upstream gradient")).upstream
    )
    if typed is not None:
        upstream = typed
grad = pool_backward(trace, upstream)

g_step = st.select_slider(
    "Explain output cell",
    range(trace.n_steps),
    key=f"pool_grad_cell_{out_h}x{out_w}",
    format_func=lambda n: "({}, {})".format(*trace.cell(n)),
)
gi, gj = trace.cell(g_step)
gstep = trace.step(gi, gj)
st.markdown(f"**Output cell ({gi}, {gj})**, g = {fmt(grad.upstream[gi, gj])}: {grad.explain(gi, gj)}")
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
    plot(fig, key="pool_grad_upstream")
with c2:
    plot(
        padded_input_figure(trace, gstep, colors=in_colors, title="The input and that cell's window"),
        key="pool_grad_input",
    )
with c3:
    fig = grid(
        grad.dX,
        title="dL/dX: what each input cell receives",
        colors=color_range([grad.dX]),
        outlines=[(box, WINDOW)],
    )
    plot(fig, key="pool_grad_dx")
summary = (
    f"{grad.receivers} of {grad.dX.size} input cells receive a gradient. "
    f"Sum of dL/dX = {fmt(grad.dX.sum())}; sum of dL/dY = {fmt(grad.upstream.sum())}"
)
if trace.mode == "avg" and grad.lost:
    summary += f"; {fmt(grad.lost)} went to padding and is lost."
elif trace.mode in ("max", "min", "avg"):
    summary += ": every bit of the gradient reaches an input cell."
st.markdown(summary)

# ---- shift invariance ----

st.divider()
st.subheader("Shift the input: the conv map moves with it, the pooled map changes less")
st.markdown(
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
        d: compare_shift(Xs, K, d, size=shift_size, stride=shift_stride, mode=trace.mode, use_relu=use_relu)
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
    changed = [((int(a), int(b), int(a), int(b)), WINDOW) for a, b in np.argwhere(cmp.pooled_changed_mask)]
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
                    title=f"{label}: {when}",
                    colors=color_range([before, after]),  # one scale for the pair
                    showscale=False,
                    outlines=outlines if row == 1 else (),
                    cell_px=min(40, 330 // max(Z.shape)),
                )
                plot(fig, key=f"pool_shift_{label}_{row}")
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

# ---- the X example as one pipeline ----

st.divider()
st.subheader("Convolution, then ReLU, then max pooling: the lecture's X")
st.markdown(
    'The 6x6 "X" image goes through the lecture\'s two 3x3 filters (one feature map each), then a ReLU, '
    "then 2x2 max pooling with stride 2. The lecture pools the raw maps; both routes are drawn."
)
filters = {n: KERNELS[n].array for n in ("X filter 1 (diagonal)", "X filter 2 (vertical bar)")}
pipe = conv_relu_pool(X_IMAGE, list(filters.values()))
lecture = [POOL_EXAMPLES["X filter 1 map, max pooling"], POOL_EXAMPLES["X filter 2 map, max pooling"]]
map_colors = color_range([*pipe.conv, *pipe.pooled_raw])
plot(
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
            plot(
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
        line += (
            " Here the ReLU matters: a window whose numbers are all negative pools to 0 instead of its max."
        )
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
