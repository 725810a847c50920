"""Convolution, cell by cell: the kernel slides over the input one step at a time."""

import numpy as np
import streamlit as st

import cnnviz.lessons.convolution as lesson
import ui.page as ui
from cnnviz.gridcode import MAX_SIDE
from cnnviz.lessons.presets import EXAMPLES, KERNELS
from cnnviz.lessons.snippets import torch_snippet
from cnnviz.trace import convolution_trace, correlation_trace

EXAMPLE_KERNEL = "The lecture example's kernel"
OLD_KERNEL_LABELS = {"The worked example's kernel": EXAMPLE_KERNEL}  # what older links say
TYPED_KERNEL = "Type my own"
DEFAULT_EXAMPLE = list(EXAMPLES)[1]
SIX = EXAMPLES["6x6 input, vertical edge"]
DEFAULT_KERNEL = np.array([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]])
PAD_MODES = ["valid (none)", "same", "custom"]
SIZES = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
# Settings in popovers, whose own link warnings would be out of sight: (key, lowest, highest).
NUMBERS_IN_POPOVERS = [
    *((f"conv_stride_{a}", 1, 10) for a in "hw"),
    *((f"conv_dil_{a}", 1, 6) for a in "hw"),
    *((f"conv_pad_{side}", 0, 10) for side in "tblr"),
    ("conv_rand_h", 2, 64),
    ("conv_rand_w", 2, 64),
    ("conv_rand_seed", 0, 10_000),
]


# --- Callbacks: a lecture example brings its own kernel and settings ----------------------------------------------


def on_example_change() -> None:
    """A lecture example brings its own kernel and settings, so its answer appears as in the lecture."""
    stride = EXAMPLES[st.session_state.get("conv_example", DEFAULT_EXAMPLE)].stride
    ui.set_widgets(
        {
            "conv_kernel_choice": EXAMPLE_KERNEL,
            "conv_stride_h": stride,
            "conv_stride_w": stride,
            "conv_dil_h": 1,
            "conv_dil_w": 1,
            "conv_pad_mode": PAD_MODES[0],
            "conv_flip": False,
        }
    )


def on_source_change() -> None:
    """A lecture example uses its own kernel; other inputs start from the vertical edge kernel."""
    if st.session_state.conv_source == ui.LECTURE:
        on_example_change()
    elif st.session_state.get("conv_kernel_choice", EXAMPLE_KERNEL) == EXAMPLE_KERNEL:
        ui.set_widgets({"conv_kernel_choice": "Vertical edge"})


# --- The stride: in the link whenever it differs from what the lecture example brings ------------------------------


def example_stride(source: str | None, name: str | None) -> int:
    """The stride a lecture example brings (1 for another input, or no example, or an unknown one)."""
    example = EXAMPLES.get(name or "")
    is_example = (source or ui.LECTURE) in (
        ui.LECTURE,
        "Worked example",
    )  # an older link says "Worked example"
    return example.stride if example is not None and is_example else 1


def linked_stride(axis: str) -> int:
    """A stride's first value: the link's, else the stride of the lecture example the link names (so a
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
    value = int(st.number_input(label, 1, 10, linked_stride(axis), key=key))
    if value == example_stride(st.session_state.get("conv_source"), st.session_state.get("conv_example")):
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)
    return value


# --- The input X ------------------------------------------------------------------------------------------------


def _fits_link(X: np.ndarray) -> np.ndarray:
    if max(X.shape) > MAX_SIDE:
        raise ValueError(f"a grid has at most {MAX_SIDE} rows and columns")
    return X


def _small_kernel(K: np.ndarray) -> np.ndarray:
    if max(K.shape) > 15:
        raise ValueError(f"the kernel is {K.shape[0]}x{K.shape[1]}; a kernel has at most 15 rows and columns")
    return K


# The typed input and kernel: each box's key, the link parameter that carries its grid, its default.
TYPED_X = {
    "key": "conv_grid",
    "param": "conv_X",
    "default": SIX.input,
    "name": "input grid",
    "check": _fits_link,
}
TYPED_K = {
    "key": "conv_kernel_text",
    "param": "conv_K",
    "default": DEFAULT_KERNEL,
    "name": "kernel",
    "check": _small_kernel,
}


def typed_grid() -> np.ndarray | None:
    """The typed input, kept in the link (`conv_X`)."""
    label = "One row per line; numbers split by spaces or commas (1/9 and -1.5 work)"
    return ui.typed_grid(label, height=170, **TYPED_X)


def picture() -> np.ndarray | None:
    """A bundled or uploaded picture, downscaled to a grid the stepper can show."""
    size = ui.url_select_slider("Downscale so the longer side is", SIZES, value=16, key="conv_size")
    X, caption = ui.image_picker("conv_img", max_side=int(size), default="digit_7.png", bind=True)
    if X is not None:
        st.caption(f"{caption}: {X.shape[0]}x{X.shape[1]} grey levels 0..255")
    return X


def input_section(source: str):
    """(the lecture example, the input X). Another source than a lecture example shows its own settings in a
    popover; the example chosen last is kept (its kernel stays available as "The lecture example's kernel")."""
    if source == ui.LECTURE:
        name = ui.url_select(
            "Lecture example",
            list(EXAMPLES),
            index=1,
            key="conv_example",
            on_change=on_example_change,
        )
        return EXAMPLES[name], EXAMPLES[name].input
    ui.keep_widgets("conv_example")  # its box is not drawn in this run
    example = EXAMPLES[st.session_state.get("conv_example", DEFAULT_EXAMPLE)]
    with st.popover(f"{source}…", width="stretch"):
        if source == ui.TYPED:
            return example, typed_grid()
        if source == ui.RANDOM:
            return example, ui.random_grid(("conv_rand_h", "conv_rand_w", "conv_rand_seed"), max_side=64)
        return example, picture()


# --- The kernel K and the settings ------------------------------------------------------------------------------


def typed_kernel() -> np.ndarray | None:
    """The typed kernel, kept in the link (`conv_K`)."""
    return ui.typed_grid("Kernel, one row per line", height=110, **TYPED_K)


def kernel_section(choice: str, example, source: str) -> np.ndarray | None:
    """The kernel chosen in the box: its numbers, what it does, or the box to type one, in a popover."""
    with st.popover("K…", help="The kernel's numbers (or type your own)"):
        if choice == EXAMPLE_KERNEL:
            K, shown, scale = example.kernel, example.kernel, ""
            note = f"The kernel of the lecture example *{example.name}*." if source != ui.LECTURE else ""
        elif choice == TYPED_KERNEL:
            K = shown = typed_kernel()
            scale = note = ""
        else:
            preset = KERNELS[choice]
            K, scale, note = preset.array, preset.scale_text, preset.note
            shown = np.array(preset.weights, dtype=float) if scale else K
        if K is not None:
            st.code(lesson.kernel_text(shown, scale), language=None, wrap_lines=True)
        if note:
            st.caption(note)
    return K


def padding_input():
    """The padding: "valid", "same", or ((top, bottom), (left, right)) typed per side."""
    pad_mode = ui.url_select("Padding", PAD_MODES, key="conv_pad_mode", widget=st.radio, horizontal=True)
    if pad_mode != "custom":
        return pad_mode.split()[0]
    sides = []
    for col, side in zip(st.columns(4), ("top", "bottom", "left", "right"), strict=True):
        with col:
            sides.append(ui.url_number(side, 0, 10, 1, key=f"conv_pad_{side[0]}"))
    return (sides[0], sides[1]), (sides[2], sides[3])


def settings_section():
    """Padding, stride, dilation and the flip, in a popover: (padding, stride, dilation, flip)."""
    with st.popover("Padding, stride, dilation…", width="stretch"):
        padding = padding_input()
        sh, sw, dh, dw = st.columns(4)
        with sh:
            stride_h = stride_input("stride h", "h")
        with sw:
            stride_w = stride_input("stride w", "w")
        with dh:
            dil_h = ui.url_number("dilation h", 1, 6, 1, key="conv_dil_h")
        with dw:
            dil_w = ui.url_number("dilation w", 1, 6, 1, key="conv_dil_w")
        flip = ui.url_toggle(
            "True convolution (flip the kernel 180°)",
            key="conv_flip",
            widget=st.checkbox,
            help="PyTorch's conv2d does NOT flip the kernel (cross-correlation); mathematics' convolution does.",
        )
    return padding, (stride_h, stride_w), (dil_h, dil_w), flip


def controls_section():
    """The few controls that drive the stepper, on one row: (source, example, X, K, padding, stride, dilation,
    flip). The settings in popovers are checked against the link here, where a warning is seen."""
    for key, lo, hi in NUMBERS_IN_POPOVERS:
        ui.check_link_number(key, lo, hi)
    ui.check_link_choice("conv_pad_mode", PAD_MODES)
    for typed in (TYPED_X, TYPED_K):  # a bad grid in the link warns here, outside the popovers
        ui.first_grid_text(**typed)
    src_col, ex_col, k_col, kx_col, set_col = st.columns(
        [1.55, 2.0, 2.3, 0.75, 2.0],
        vertical_alignment="bottom",  # each choice reads in full at 1366x768
    )
    with src_col:
        source = ui.input_source("Input X", key="conv_source", on_change=on_source_change)
    with ex_col:
        example, X = input_section(source)
    with k_col:
        choices = [EXAMPLE_KERNEL, *KERNELS, TYPED_KERNEL]
        choice = ui.url_select("Kernel K", choices, key="conv_kernel_choice", old_labels=OLD_KERNEL_LABELS)
    with kx_col:
        K = kernel_section(choice, example, source)
    with set_col:
        padding, stride, dilation, flip = settings_section()
    if source == ui.TYPED:
        ui.typed_grid_refused(TYPED_X["key"], f"{source}…")
    if choice == TYPED_KERNEL:
        ui.typed_grid_refused(TYPED_K["key"], "K…")
    return source, example, X, K, padding, stride, dilation, flip


# --- What the settings give, and the stepper -------------------------------------------------------------------


def summary_section(trace, example, source: str) -> list[tuple[int, int]]:
    """The sizes, the lecture's example recognised, the windows that do not tile; returns the cells to mark.

    The slide's wrong cells are marked only while the page shows that example exactly as in the lecture;
    with other settings the warning would point at nothing.
    """
    lecture = source == ui.LECTURE and lesson.matches_example(trace, example)
    marks = lesson.slide_marks(example) if lecture else []
    if not marks and source == ui.LECTURE and example.slide_errors:
        st.caption(
            f"*{example.name}*: the slide's mistakes are outlined only with the example's own kernel and settings."
        )
    st.markdown(lesson.summary(trace, lecture=lecture))
    if warning := lesson.tiling_warning(trace):
        st.warning(warning)
    return marks


# A fragment: picking a cell in the stepper (or pausing) reruns only this section, not the inputs and
# settings above; check-my-work and the PyTorch below follow the selected cell, and the link keeps it.
@st.fragment
def stepper_section(trace, example, marks: list[tuple[int, int]]) -> None:
    """The stepper, the slide's mistakes under it, the formulas, check my work and the PyTorch."""
    step = ui.linked_stepper(
        trace,
        "conv",
        name="convolution",
        titles={"kernel": "Kernel K rotated 180° (as slid)"} if trace.mode == "convolve" else None,
        marks=marks,
        caption=lesson.slide_caption(example) if marks else "",
    )
    if marks:  # under the stepper, so that the stepper stays on the first screen (its legend names them)
        st.warning(
            f"The slide's answer has mistakes: {lesson.slide_mistakes(example)}. "
            "They are outlined in dashed red with ! above."
        )
    ui.explain(
        "The kernel slides over the input; at each position the numbers under it are multiplied by the kernel's "
        "weights and summed into one output cell. Deep learning's *convolution* is cross-correlation: the kernel "
        "is not flipped (tick *true convolution* under the settings to flip it)."
    )
    rows, cols = trace.plan.rows, trace.plan.cols
    ui.explain(
        f"**Output size** (per-side padding, as PyTorch): rows `{rows.formula()}`, columns `{cols.formula()}`  \n"
        f"The same with total padding p (both sides together): rows `{rows.formula_total_padding()}`, "
        f"columns `{cols.formula_total_padding()}`"
    )
    st.subheader("Check my work")
    ui.render_check_work(trace, key="conv_check", cell=step.index)
    with ui.folded(
        "Show the PyTorch: a runnable snippet that reproduces the output", key="conv_torch"
    ) as open_:
        if open_:
            st.code(torch_snippet(trace, cell=step.index), language="python")


def main() -> None:
    ui.page_setup("Convolution, cell by cell", "🔲")
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: a widget here reruns only this, not the page's menu)."""
    source, example, X, K, padding, stride, dilation, flip = controls_section()
    if X is None or K is None:
        return
    make = convolution_trace if flip else correlation_trace
    trace = ui.keep_last_good(
        "conv_trace", lambda: make(X, K, stride=stride, padding=padding, dilation=dilation)
    )
    if trace is None:
        return
    marks = summary_section(trace, example, source)
    stepper_section(trace, example, marks)


main()
