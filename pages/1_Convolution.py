"""Convolution, cell by cell: the kernel slides over the input one step at a time."""

import numpy as np
import streamlit as st

from cnnviz.draw.stepper import default_region, region_cells
from cnnviz.gridcode import MAX_SIDE
from cnnviz.inputs import format_grid, parse_grid
from cnnviz.lessons.presets import EXAMPLES, KERNELS
from cnnviz.lessons.snippets import torch_snippet
from cnnviz.trace import convolution_trace, correlation_trace, fmt
from ui.classroom import (
    check_link_choice,
    check_link_number,
    classroom_bar,
    explain,
    folded,
    set_url_grid,
    url_grid,
    url_number,
    url_select,
    url_toggle,
)
from ui.common import image_picker, keep_last_good, page_setup
from ui.slides import export_buttons, keep_cell, link_cell, play_speed
from ui.stepper import render_check_work, render_stepper, selected_cell

page_setup("Convolution, cell by cell", "🔲")
projector = classroom_bar()

SOURCES = ["Worked example", "Type a grid", "Random grid", "Picture"]
EXAMPLE_KERNEL = "The worked example's kernel"
TYPED_KERNEL = "Type my own"
SIX = EXAMPLES["6x6 input, vertical edge"]
DEFAULT_KERNEL = np.array([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]])
PAD_MODES = ["valid (none)", "same", "custom"]
SIZES = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
NUMBERS_IN_POPOVERS = [
    *((f"conv_stride_{a}", 1, 10) for a in "hw"),
    *((f"conv_dil_{a}", 1, 6) for a in "hw"),
    *((f"conv_pad_{side}", 0, 10) for side in "tblr"),
    ("conv_rand_h", 2, 64),
    ("conv_rand_w", 2, 64),
    ("conv_rand_seed", 0, 10_000),
]


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


def example_stride(source: str | None, name: str | None) -> int:
    """The stride a worked example brings (1 for another input, or no example, or an unknown one)."""
    example = EXAMPLES.get(name or "")
    return example.stride if example is not None and (source or SOURCES[0]) == "Worked example" else 1


def linked_stride(axis: str) -> int:
    """A stride's first value: the link's, else the stride of the worked example the link names (so a
    hand-written `?conv_example=...` shows the example as choosing it in the box does); a bad value in
    the link gets the example's (`check_link_number` warns)."""
    raw = st.query_params.get(f"conv_stride_{axis}")
    if raw is not None and raw.isdigit() and 1 <= int(raw) <= 10:
        return int(raw)
    return example_stride(st.query_params.get("conv_source"), st.query_params.get("conv_example"))


def stride_input(label: str, axis: str) -> int:
    """A stride kept in the link by hand: the link says it whenever it differs from what the example (or
    another input) brings, so stride 1 on a strided example survives the link too."""
    key = f"conv_stride_{axis}"
    value = int(st.number_input(label, 1, 10, key=key))
    if value == example_stride(st.session_state.get("conv_source"), st.session_state.get("conv_example")):
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)
    return value


# Widgets that a worked example resets get their first values here, not from `value=` (Streamlit warns
# when a widget has both); a value in the link wins over these.
for name, first in {
    "conv_kernel_choice": EXAMPLE_KERNEL,
    "conv_stride_h": linked_stride("h"),
    "conv_stride_w": linked_stride("w"),
    "conv_dil_h": 1,
    "conv_dil_w": 1,
    "conv_pad_mode": "valid (none)",
    "conv_flip": False,
}.items():
    st.session_state.setdefault(name, first)


def _fits_link(X: np.ndarray) -> np.ndarray:
    if max(X.shape) > MAX_SIDE:
        raise ValueError(f"a grid has at most {MAX_SIDE} rows and columns")
    return X


def seed_from_link() -> None:
    """What the link holds for the settings in popovers, checked here, where a warning is seen.

    The typed grid and kernel are read from the link once; then the text boxes own them.
    """
    for key, lo, hi in NUMBERS_IN_POPOVERS:
        check_link_number(key, lo, hi)
    check_link_choice("conv_pad_mode", PAD_MODES)
    if "conv_grid" not in st.session_state:
        st.session_state["conv_grid"] = format_grid(url_grid("conv_X", SIX.input, name="input grid"))
    if "conv_kernel_text" not in st.session_state:
        linked = url_grid("conv_K", DEFAULT_KERNEL, name="kernel", check=_small_kernel)
        st.session_state["conv_kernel_text"] = format_grid(linked)


def typed_grid() -> np.ndarray | None:
    """The typed input, kept in the link."""
    text = st.text_area(
        "One row per line; numbers split by spaces or commas (1/9 and -1.5 work)", key="conv_grid", height=170
    )
    X = keep_last_good("conv_grid", lambda: _fits_link(parse_grid(text, name="input grid")))
    if X is not None:
        set_url_grid("conv_X", X, default=SIX.input)
    return X


def random_grid() -> np.ndarray:
    r, c, s = st.columns(3)
    with r:
        h = url_number("Rows", 2, 64, 6, key="conv_rand_h")
    with c:
        w = url_number("Columns", 2, 64, 6, key="conv_rand_w")
    with s:
        seed = url_number("Seed", 0, 10_000, 0, key="conv_rand_seed")
    st.caption("Whole numbers 0..9; the same seed gives the same grid.")
    return np.random.default_rng(int(seed)).integers(0, 10, (int(h), int(w))).astype(float)


def picture() -> np.ndarray | None:
    size = url_select(
        "Downscale so the longer side is",
        SIZES,
        index=SIZES.index(16),
        key="conv_size",
        widget=st.select_slider,
    )
    X, caption = image_picker("conv_img", max_side=int(size), default="digit_7.png", bind=True)
    if X is not None:
        st.caption(f"{caption}: {X.shape[0]}x{X.shape[1]} grey levels 0..255")
    return X


def input_controls(source: str):
    """The input the source gives (and the worked example, which also names a kernel).

    Another source than a worked example shows its own settings in a popover; the example chosen last
    is kept (its kernel stays available as "The worked example's kernel").
    """
    if source != "Worked example":
        name = st.session_state.setdefault("conv_example", list(EXAMPLES)[1])
        st.session_state["conv_example"] = name  # kept while its box is not drawn
        with st.popover(f"{source}…", width="stretch"):
            if source == "Type a grid":
                return EXAMPLES[name], typed_grid()
            if source == "Random grid":
                return EXAMPLES[name], random_grid()
            return EXAMPLES[name], picture()
    example = EXAMPLES[
        url_select(
            "Worked example (lecture notes)",
            list(EXAMPLES),
            index=1,
            key="conv_example",
            on_change=on_example_change,
        )
    ]
    return example, example.input


def typed_kernel() -> np.ndarray | None:
    typed = st.text_area("Kernel, one row per line", key="conv_kernel_text", height=110)
    K = keep_last_good("conv_kernel", lambda: _small_kernel(parse_grid(typed, name="kernel")))
    if K is not None:
        set_url_grid("conv_K", K, default=DEFAULT_KERNEL)
    return K


def _small_kernel(K: np.ndarray) -> np.ndarray:
    if max(K.shape) > 15:
        raise ValueError(f"the kernel is {K.shape[0]}x{K.shape[1]}; a kernel has at most 15 rows and columns")
    return K


def kernel_controls(choice: str, example, source: str) -> np.ndarray | None:
    """The kernel (in a popover: its numbers, what it does, or the box to type one)."""
    with st.popover("K…", help="The kernel's numbers (or type your own)"):
        if choice == EXAMPLE_KERNEL:
            K, shown, scale, note = example.kernel, example.kernel, "", ""
            if source != "Worked example":
                note = f"The kernel of the worked example *{example.name}*."
        elif choice == TYPED_KERNEL:
            K = typed_kernel()
            shown, scale, note = K, "", ""
        else:
            preset = KERNELS[choice]
            K, scale, note = preset.array, preset.scale_text, preset.note
            shown = np.array(preset.weights, dtype=float) if scale else K
        if K is not None:
            st.code(kernel_text(shown, scale), language=None, wrap_lines=True)
        if note:
            st.caption(note)
    return K


def settings_controls():
    """Padding, stride, dilation and the flip, in a popover: (padding, stride, dilation, flip)."""
    with st.popover("Padding, stride, dilation…", width="stretch"):
        pad_mode = url_select("Padding", PAD_MODES, key="conv_pad_mode", widget=st.radio, horizontal=True)
        if pad_mode == "custom":
            t, b, l, r = st.columns(4)
            sides = []
            for col, side in zip((t, b, l, r), ("top", "bottom", "left", "right"), strict=True):
                with col:
                    sides.append(url_number(side, 0, 10, 1, key=f"conv_pad_{side[0]}"))
            padding = ((sides[0], sides[1]), (sides[2], sides[3]))
        else:
            padding = pad_mode.split()[0]
        sh, sw, dh, dw = st.columns(4)
        with sh:
            stride_h = stride_input("stride h", "h")
        with sw:
            stride_w = stride_input("stride w", "w")
        with dh:
            dil_h = url_number("dilation h", 1, 6, key="conv_dil_h")
        with dw:
            dil_w = url_number("dilation w", 1, 6, key="conv_dil_w")
        flip = url_toggle(
            "True convolution (flip the kernel 180°)",
            key="conv_flip",
            widget=st.checkbox,
            help="PyTorch's conv2d does NOT flip the kernel (cross-correlation); mathematics' convolution does.",
        )
    return padding, (stride_h, stride_w), (dil_h, dil_w), flip


# --- The few controls that drive the stepper, on one row -----------------------------------------------------
seed_from_link()
src_col, ex_col, k_col, kx_col, set_col = st.columns([1.6, 2.4, 2.1, 0.6, 1.8], vertical_alignment="bottom")
with src_col:
    source = url_select("Input X", SOURCES, key="conv_source", on_change=on_source_change)
with ex_col:
    example, X = input_controls(source)
with k_col:
    kernel_choice = url_select("Kernel K", [EXAMPLE_KERNEL, *KERNELS, TYPED_KERNEL], key="conv_kernel_choice")
with kx_col:
    K = kernel_controls(kernel_choice, example, source)
with set_col:
    padding, stride, dilation, flip = settings_controls()

if X is None or K is None:
    st.stop()

make = convolution_trace if flip else correlation_trace
trace = keep_last_good("conv_trace", lambda: make(X, K, stride=stride, padding=padding, dilation=dilation))
if trace is None:
    st.stop()

plan = trace.plan
out_h, out_w = trace.shape
# The slide's wrong cells are marked, and its mistakes named, only while the page shows that example
# exactly as in the lecture; with other settings the warning would point at nothing.
lecture = source == "Worked example" and trace.shape == example.output.shape
lecture = lecture and np.allclose(trace.output, example.output)
marks = [(i, j) for i, j, _, _ in example.slide_errors] if lecture else []
if not marks and source == "Worked example" and example.slide_errors:
    st.caption(
        f"*{example.name}*: the slide's mistakes are outlined only with the example's own kernel and settings."
    )
summary = (
    f"Input {trace.X.shape[0]}x{trace.X.shape[1]}, kernel {plan.rows.f}x{plan.cols.f} -> "
    f"**output {out_h}x{out_w}** ({trace.n_steps} cells)"
)
if lecture:
    summary += " · this is the lecture's worked example, and the output matches its (correct) answer"
st.markdown(summary)
if not plan.tiles:
    lost = []
    if plan.rows.unvisited:
        lost.append(f"rows {plan.rows.unvisited}")
    if plan.cols.unvisited:
        lost.append(f"columns {plan.cols.unvisited}")
    st.warning(
        "The windows do not tile the input: the division below is not whole, so the size is floored"
        + (
            f" and input {' and '.join(lost)} are never read by any window (cross-hatched on the grid)."
            if lost
            else "."
        )
        + " PyTorch drops them silently."
    )


def slide_caption(example) -> str:
    """The stepper legend's words for the outlined cells: what the slide printed and the right value."""
    return "the slide printed " + ", ".join(f"{fmt(p)} (is {fmt(c)})" for _, _, p, c in example.slide_errors)


# A fragment: picking a cell in the stepper (or pausing) reruns only this section, not the inputs and
# settings above; check-my-work and the PyTorch below follow the selected cell, and the link keeps it.
@st.fragment
def stepping() -> None:
    link_cell("conv_step", "conv_cell", trace.shape)
    speed = play_speed("conv_step", "conv_speed")
    step = render_stepper(
        trace,
        key="conv_step",
        titles={"kernel": "Kernel K rotated 180° (as slid)"} if trace.mode == "convolve" else None,
        marks=marks,
        caption=slide_caption(example) if marks else "",
        speed=speed,
    )
    if marks:  # under the stepper, so that the stepper stays on the first screen (its legend names them)
        wrong = ", ".join(
            f"({i}, {j}): slide {fmt(p)}, correct {fmt(c)}" for i, j, p, c in example.slide_errors
        )
        st.warning(f"The slide's answer has mistakes: {wrong}. They are outlined in dashed red with ! above.")
    keep_cell("conv_cell", step.index)
    # The GIF's frames: the block of cells the stepper steps (the whole output when it is small).
    cells = region_cells(default_region(trace.shape, selected_cell("conv_step", trace.shape)))
    export_buttons(trace, key="conv_export", cell=step.index, cells=cells, ms=speed, name="convolution")

    explain(
        "The kernel slides over the input; at each position the numbers under it are multiplied by the kernel's "
        "weights and summed into one output cell. Deep learning's *convolution* is cross-correlation: the kernel "
        "is not flipped (tick *true convolution* under the settings to flip it)."
    )
    explain(
        f"**Output size** (per-side padding, as PyTorch): rows `{plan.rows.formula()}`, "
        f"columns `{plan.cols.formula()}`  \n"
        f"The same with total padding p (both sides together): rows `{plan.rows.formula_total_padding()}`, "
        f"columns `{plan.cols.formula_total_padding()}`"
    )
    st.subheader("Check my work")
    render_check_work(trace, key="conv_check", cell=step.index)
    with folded("Show the PyTorch: a runnable snippet that reproduces the output", key="conv_torch") as open_:
        if open_:
            st.code(torch_snippet(trace, cell=step.index), language="python")


stepping()
