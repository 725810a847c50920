"""Convolution, cell by cell: the kernel slides over the input one step at a time."""

import numpy as np
import streamlit as st

from cnnviz.inputs import format_grid, parse_grid
from cnnviz.presets import EXAMPLES, KERNELS
from cnnviz.snippets import torch_snippet
from cnnviz.trace import convolution_trace, correlation_trace, fmt
from ui.common import image_picker, keep_last_good, page_setup
from ui.stepper import render_check_work, render_stepper

page_setup(
    "Convolution, cell by cell",
    "🔲",
    intro=(
        "The kernel slides over the input; at each position the numbers under it are multiplied by the "
        "kernel's weights and summed into one output cell. Choose an input and a kernel, set padding, stride "
        "and dilation, then step (or play) through every cell. Deep learning's *convolution* is "
        "cross-correlation: the kernel is not flipped (tick *true convolution* to flip it)."
    ),
)

SOURCES = ["Worked example", "Type a grid", "Random grid", "Picture"]
EXAMPLE_KERNEL = "The worked example's kernel"
TYPED_KERNEL = "Type my own"


def on_example_change() -> None:
    """A worked example brings its own kernel and settings, so its answer appears as in the lecture."""
    ex = EXAMPLES[st.session_state.conv_example]
    st.session_state.conv_kernel_choice = EXAMPLE_KERNEL
    st.session_state.conv_stride_h = st.session_state.conv_stride_w = ex.stride
    st.session_state.conv_dil_h = st.session_state.conv_dil_w = 1
    st.session_state.conv_pad_mode = "valid (none)"
    st.session_state.conv_flip = False


def on_source_change() -> None:
    """A worked example uses its own kernel; other inputs start from the vertical edge kernel."""
    if st.session_state.conv_source == "Worked example":
        on_example_change()
    elif st.session_state.conv_kernel_choice == EXAMPLE_KERNEL:
        st.session_state.conv_kernel_choice = "Vertical edge"


def kernel_text(K: np.ndarray, scale: str = "") -> str:
    rows = ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in K)
    return f"K = {scale + ' x ' if scale else ''}[{rows}]"


# Widgets that a worked example resets get their first values here, not from `value=` (Streamlit warns
# when a widget has both).
for name, first in {
    "conv_kernel_choice": EXAMPLE_KERNEL,
    "conv_stride_h": 1,
    "conv_stride_w": 1,
    "conv_dil_h": 1,
    "conv_dil_w": 1,
    "conv_pad_mode": "valid (none)",
    "conv_flip": False,
}.items():
    st.session_state.setdefault(name, first)

inputs, kernels, settings = st.columns([4, 3, 3], gap="large")

with inputs:
    st.subheader("Input X")
    source = st.radio(
        "Input",
        SOURCES,
        horizontal=True,
        key="conv_source",
        label_visibility="collapsed",
        on_change=on_source_change,
    )
    example = EXAMPLES[
        st.selectbox(
            "Worked example (lecture notes)",
            list(EXAMPLES),
            index=1,
            key="conv_example",
            on_change=on_example_change,
            disabled=source != "Worked example",
        )
    ]
    if source == "Worked example":
        X = example.input
        if example.slide_errors:
            wrong = ", ".join(
                f"({i}, {j}): slide {fmt(p)}, correct {fmt(c)}" for i, j, p, c in example.slide_errors
            )
            st.warning(f"The slide's answer has mistakes: {wrong}. They are outlined in dashed red below.")
        elif example.note:
            st.caption(f"Note: `{example.note}`")
    elif source == "Type a grid":
        text = st.text_area(
            "One row per line; numbers split by spaces or commas (1/9 and -1.5 work)",
            value=format_grid(EXAMPLES["6x6 input, vertical edge"].input),
            key="conv_grid",
            height=170,
        )
        X = keep_last_good("conv_grid", lambda: parse_grid(text, name="input grid"))
    elif source == "Random grid":
        r, c, s = st.columns(3)
        h = r.number_input("Rows", 2, 64, 6, key="conv_rand_h")
        w = c.number_input("Columns", 2, 64, 6, key="conv_rand_w")
        seed = s.number_input("Seed", 0, 10_000, 0, key="conv_rand_seed")
        X = np.random.default_rng(int(seed)).integers(0, 10, (int(h), int(w))).astype(float)
        st.caption("Whole numbers 0..9; the same seed gives the same grid.")
    else:
        size = st.select_slider(
            "Downscale so the longer side is",
            [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256],
            16,
            key="conv_size",
        )
        X, caption = image_picker("conv_img", max_side=int(size), default="digit_7.png")
        if X is not None:
            st.caption(f"{caption}: {X.shape[0]}x{X.shape[1]} grey levels 0..255")

with kernels:
    st.subheader("Kernel K")
    kernel_choice = st.selectbox("Kernel", [EXAMPLE_KERNEL, *KERNELS, TYPED_KERNEL], key="conv_kernel_choice")
    scale = ""
    if kernel_choice == EXAMPLE_KERNEL:
        K = example.kernel
        if source != "Worked example":
            st.caption(f"The kernel of the worked example *{example.name}*.")
    elif kernel_choice == TYPED_KERNEL:
        typed = st.text_area(
            "Kernel, one row per line", "1 0 -1\n1 0 -1\n1 0 -1", key="conv_kernel_text", height=110
        )
        K = keep_last_good("conv_kernel", lambda: parse_grid(typed, name="kernel", max_rows=15, max_cols=15))
    else:
        preset = KERNELS[kernel_choice]
        K, scale = preset.array, preset.scale_text
        if scale:
            K_shown = np.array(preset.weights, dtype=float)
        if preset.note:
            st.caption(preset.note)
    if K is not None:
        st.code(kernel_text(K_shown if scale else K, scale), language=None, wrap_lines=True)
    flip = st.checkbox(
        "True convolution (flip the kernel 180°)",
        key="conv_flip",
        help="PyTorch's conv2d does NOT flip the kernel (cross-correlation); mathematics' convolution does.",
    )

with settings:
    st.subheader("Padding, stride, dilation")
    pad_mode = st.radio("Padding", ["valid (none)", "same", "custom"], horizontal=True, key="conv_pad_mode")
    if pad_mode == "custom":
        t, b, l, r = st.columns(4)
        padding = (
            (
                t.number_input("top", 0, 10, 1, key="conv_pad_t"),
                b.number_input("bottom", 0, 10, 1, key="conv_pad_b"),
            ),
            (
                l.number_input("left", 0, 10, 1, key="conv_pad_l"),
                r.number_input("right", 0, 10, 1, key="conv_pad_r"),
            ),
        )
    else:
        padding = pad_mode.split()[0]
    sh, sw, dh, dw = st.columns(4)
    stride = (
        sh.number_input("stride h", 1, 10, key="conv_stride_h"),
        sw.number_input("stride w", 1, 10, key="conv_stride_w"),
    )
    dilation = (
        dh.number_input("dilation h", 1, 6, key="conv_dil_h"),
        dw.number_input("dilation w", 1, 6, key="conv_dil_w"),
    )

if X is None or K is None:
    st.stop()

make = convolution_trace if flip else correlation_trace
trace = keep_last_good("conv_trace", lambda: make(X, K, stride=stride, padding=padding, dilation=dilation))
if trace is None:
    st.stop()

plan = trace.plan
out_h, out_w = trace.shape
st.markdown(
    f"**Output size** (per-side padding, as PyTorch): rows `{plan.rows.formula()}`, "
    f"columns `{plan.cols.formula()}`  \n"
    f"The same with total padding p (both sides together): rows `{plan.rows.formula_total_padding()}`, "
    f"columns `{plan.cols.formula_total_padding()}`  \n"
    f"Input {trace.X.shape[0]}x{trace.X.shape[1]}, kernel {plan.rows.f}x{plan.cols.f} -> "
    f"**output {out_h}x{out_w}** ({trace.n_steps} cells)"
)
if not plan.tiles:
    lost = []
    if plan.rows.unvisited:
        lost.append(f"rows {plan.rows.unvisited}")
    if plan.cols.unvisited:
        lost.append(f"columns {plan.cols.unvisited}")
    st.warning(
        "The windows do not tile the input: the division above is not whole, so the size is floored"
        + (
            f" and input {' and '.join(lost)} are never read by any window (cross-hatched on the grid)."
            if lost
            else "."
        )
        + " PyTorch drops them silently."
    )

# The slide's wrong cells are marked only when the page shows that example exactly as in the lecture.
lecture = source == "Worked example" and trace.shape == example.output.shape
lecture = lecture and np.allclose(trace.output, example.output)
marks = [(i, j) for i, j, _, _ in example.slide_errors] if lecture else []
if lecture:
    st.success("This is the lecture's worked example, and the output below matches its (correct) answer.")

st.subheader("Step through it")


# A fragment: picking a cell in the stepper (or pausing) reruns only this section, not the inputs and
# settings above; check-my-work and the PyTorch below follow the selected cell.
@st.fragment
def stepping() -> None:
    step = render_stepper(
        trace,
        key="conv_step",
        titles={"kernel": "Kernel K rotated 180° (as slid)"} if trace.mode == "convolve" else None,
        marks=marks,
        caption="cells the slide printed wrong" if marks else "",
    )
    st.subheader("Check my work")
    render_check_work(trace, key="conv_check", cell=step.index)

    st.subheader("Show the PyTorch")
    big = max(trace.X.shape) > 16
    with st.expander("A runnable snippet that reproduces the output above", expanded=not big):
        st.code(torch_snippet(trace, cell=step.index), language="python")


stepping()
