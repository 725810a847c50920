"""Correlation versus convolution: the flipped kernel, the loop order, associativity, 1-D and the FFT."""

import numpy as np
import pandas as pd
import streamlit as st

import cnnviz.lessons.compare as lesson
import ui.page as ui
from cnnviz.draw.compare import (
    associativity_figures,
    side_by_side_figures,
    smoothing_figure,
    spectrum_figure_1d,
    spectrum_figure_2d,
)
from cnnviz.inputs import format_grid
from cnnviz.lessons.presets import ONE_D_EXAMPLE
from cnnviz.lessons.snippets import torch_snippet
from cnnviz.ops import convolve1d
from cnnviz.trace import fmt

DEFAULT_PAIR = "Asymmetric: Vertical edge on the 6x6 input"
# Settings that more than one tab reads, kept while their tab is closed (tabs run lazily).
KEPT = [
    "corr_pair",
    "corr_X_text",
    "corr_K_text",
    "corr_padding",
    "corr_stride",
    "corr_i",
    "corr_j",
    "corr_1d_x",
    "corr_1d_w",
    "corr_1d_mode",
    "corr_seed",
    *(f"corr_assoc_{n}" for n in "abc"),
]
# The associativity arrays and the 1-D signals: their defaults, and the link parameters that carry them
# (cnnviz.gridcode; a 1-D signal is a grid of one row, `corr_x=1_2_3_4_5`).
ASSOC_DEFAULTS = {
    "a": np.array([[1, 2, 0], [0, 1, 3], [2, 0, 1]]),
    "b": np.array([[1, 2], [0, 3]]),
    "c": np.array([[0, 1], [2, 1]]),
}
ONE_D_DEFAULTS = {"x": np.array([ONE_D_EXAMPLE["x"]]), "w": np.array([ONE_D_EXAMPLE["w"]])}


def _one_row(X: np.ndarray) -> np.ndarray:
    if X.shape[0] != 1:
        raise ValueError(f"a signal is one row of numbers, this has {X.shape[0]} rows")
    return X


def _small_array(X: np.ndarray) -> np.ndarray:
    if max(X.shape) > 8:
        raise ValueError("an array has at most 8 rows and columns")
    return X


def _first_grid_text(which: str) -> str:
    """The first text of X or K: the link's typed grid, else the default preset's."""
    pair = lesson.PAIRS[DEFAULT_PAIR]
    if which == "X":
        linked = ui.url_grid("corr_X", None, name="input X")
        return lesson.format_exact(pair.X) if linked is None else format_grid(linked)
    linked = ui.url_grid("corr_K", None, name="kernel K")
    return lesson.format_exact(pair.K, pair.scale_text) if linked is None else format_grid(linked)


def _first_array_text(name: str) -> str:
    """The first text of an associativity array ("a", "b", "c") or 1-D signal ("x", "w"): the link's, else the default."""
    if name in ASSOC_DEFAULTS:
        linked = ui.url_grid(
            f"corr_{name.upper()}", ASSOC_DEFAULTS[name], name=f"array {name}", check=_small_array
        )
        return lesson.format_exact(linked)
    linked = ui.url_grid(f"corr_{name}", ONE_D_DEFAULTS[name], name=f"1-D {name}", check=_one_row)
    return " ".join(fmt(v) for v in linked[0])


FIRST_TEXT = {
    "corr_X_text": lambda: _first_grid_text("X"),
    "corr_K_text": lambda: _first_grid_text("K"),
    **{f"corr_assoc_{n}": (lambda n=n: _first_array_text(n)) for n in "abc"},
    **{f"corr_1d_{n}": (lambda n=n: _first_array_text(n)) for n in "xw"},
}


def text(key: str) -> str:
    """A text box's text, read by more than one tab: what the user typed, else its first text (the link's)."""
    return ui.first_value(key, FIRST_TEXT[key])


def _load_pair() -> None:
    """Put the chosen preset's numbers into the text boxes (they stay editable)."""
    p = lesson.PAIRS[st.session_state["corr_pair"]]
    ui.set_widgets(
        {
            "corr_X_text": lesson.format_exact(p.X),
            "corr_K_text": lesson.format_exact(p.K, p.scale_text),
            "corr_stride": p.stride,
            "corr_padding": "valid",
        }
    )
    _fit_cell()


def _fit_cell() -> None:
    """The callback of whatever sets the output's size (preset, X, K, padding, stride): keep the chosen
    output cell inside the new output. A typo changes nothing: the page keeps the last good grids."""
    try:
        _, comparison = _make_comparison(
            st.session_state.get("corr_padding", "valid"),
            st.session_state.get("corr_stride", lesson.PAIRS[DEFAULT_PAIR].stride),
        )
    except ValueError:
        return
    out_h, out_w = comparison.correlation.shape
    ui.fit_widgets({"corr_i": out_h - 1, "corr_j": out_w - 1})


def _draw_random() -> None:
    a, b, c = lesson.random_arrays(int(st.session_state.get("corr_seed", 0)))
    ui.set_widgets(
        {f"corr_assoc_{name}": lesson.format_exact(arr) for name, arr in zip("abc", (a, b, c), strict=True)}
    )


def _keep_arrays_in_link(arrays: dict) -> None:
    """Arrays or signals (by name: "a", "b", "c", "x", "w") into the link; left out at their defaults."""
    for name, X in arrays.items():
        param = f"corr_{name.upper()}" if name in ASSOC_DEFAULTS else f"corr_{name}"
        default = ASSOC_DEFAULTS.get(name, ONE_D_DEFAULTS.get(name))
        ui.set_url_grid(param, np.atleast_2d(np.asarray(X, dtype=float)), default=default)


# Results and figures are cached by their inputs, so moving one widget rebuilds only what depends on it.
@ui.cached_figure
def _compare(settings):
    X, K, padding, stride = settings
    return lesson.compare_2d(X, K, padding=padding, stride=stride)


@ui.cached_figure
def _figures_2d(settings, i, j):
    return side_by_side_figures(_compare(settings), i, j)


@ui.cached_figure
def _associativity(a, b, c):
    results = lesson.associativity(a, b, c)
    symbols = {"convolution": "∗", "cross-correlation": "★"}
    return results, {op: associativity_figures(r, symbols[op]) for op, r in results.items()}


@ui.cached_figure
def _spectrum_1d(x, w):
    return spectrum_figure_1d(lesson.fft_convolve1d(x, w))


@ui.cached_figure
def _spectrum_2d(X, K):
    return spectrum_figure_2d(lesson.fft_convolve2d(X, K))


# ---------------------------------------------------------------- side by side (2-D)


def _make_comparison(padding: str, stride: int):
    X = lesson.named_grid(text("corr_X_text"), "input X")
    K = lesson.named_grid(text("corr_K_text"), "kernel K", max_rows=15, max_cols=15)
    settings = (X, K, padding, int(stride))
    return settings, _compare(settings)


def comparison_2d(padding: str | None = None, stride: int | None = None):
    """(settings, comparison) of the typed X and K; the last good ones after a typo. Without `padding` and
    `stride`, the side-by-side tab's."""
    padding = st.session_state.get("corr_padding", "valid") if padding is None else padding
    stride = (
        st.session_state.get("corr_stride", lesson.PAIRS[DEFAULT_PAIR].stride) if stride is None else stride
    )
    return ui.keep_last_good("corr_2d", lambda: _make_comparison(padding, stride))


def _keep_grids_in_link(settings) -> None:
    """The typed X and K in the link, when they are not the preset's own."""
    X, K = settings[0], settings[1]
    pair = lesson.PAIRS[st.session_state.get("corr_pair", DEFAULT_PAIR)]
    for name, grid, preset in (("corr_X", X, pair.X), ("corr_K", K, pair.K)):
        if max(grid.shape) <= 64:
            ui.set_url_grid(name, grid, default=np.asarray(preset, dtype=float))


def controls_2d():
    """One row: the preset, X and K in a popover, padding, stride; returns (padding, stride)."""
    ui.check_link_number("corr_stride", 1, 6)
    c_preset, c_edit, c_pad, c_stride = st.columns([2.6, 1, 1.8, 0.9], vertical_alignment="bottom")
    with c_preset:
        pair = ui.url_select(
            "Preset (input and kernel)",
            list(lesson.PAIRS),
            index=list(lesson.PAIRS).index(DEFAULT_PAIR),
            key="corr_pair",
            on_change=_load_pair,
            help="Symmetric kernels give equal results; asymmetric ones do not. Worked examples are the lecture's.",
        )
    with c_edit, st.popover("Edit X and K…", width="stretch"):
        st.caption(lesson.PAIRS[pair].note.replace("*", r"\*"))  # "3*1" is not italics
        for label, key, height in (
            ("Input X (one row per line)", "corr_X_text", 180),
            ("Kernel K (1/9 works)", "corr_K_text", 130),
        ):
            st.text_area(label, text(key), key=ui.kept_key(key), height=height, on_change=_fit_cell)
    with c_pad:
        padding = ui.url_select(
            "Padding",
            lesson.PADDINGS,
            key="corr_padding",
            widget=st.radio,
            horizontal=True,
            help="valid: none; same: keep the size (stride 1 only); full: f - 1 zeros on every side.",
            on_change=_fit_cell,
        )
    with c_stride:
        stride = st.number_input(
            "Stride",
            1,
            6,
            lesson.PAIRS[DEFAULT_PAIR].stride,
            step=1,
            key=ui.kept_key("corr_stride"),
            bind="query-params",
            on_change=_fit_cell,
        )
    return padding, stride


def _cell_2d(out_h: int, out_w: int) -> tuple[int, int]:
    """The chosen output cell (kept in the link); what shrinks the output keeps it inside (`_fit_cell`)."""
    for key, top in (("corr_i", out_h - 1), ("corr_j", out_w - 1)):
        ui.check_link_number(key, 0, top)
    left, right, _ = st.columns([1, 1, 4])
    i = int(
        left.number_input("Output row i", 0, out_h - 1, 0, key=ui.kept_key("corr_i"), bind="query-params")
    )
    j = int(
        right.number_input("Output column j", 0, out_w - 1, 0, key=ui.kept_key("corr_j"), bind="query-params")
    )
    return i, j


def side_by_side_section() -> None:
    padding, stride = controls_2d()
    last_good = comparison_2d(padding, stride)
    if last_good is None:
        return
    settings, comparison = last_good
    _keep_grids_in_link(settings)
    corr, conv = comparison.correlation, comparison.convolution
    (st.success if comparison.kernel_symmetric else st.warning)(comparison.verdict())
    i, j = _cell_2d(*corr.shape)
    figs = _figures_2d(settings, i, j)
    for names in (("corr", "conv", "diff"), ("X", "K", "K_flipped")):
        for column, key in zip(st.columns(3), names, strict=True):
            with column:
                ui.show_grid(figs[key], key=f"corr_fig_{key}")
    ui.explain("The three result grids share one colour scale, so equal colours mean equal numbers.")
    loops_section(corr, conv, figs, i, j)
    with ui.folded(
        "Show the PyTorch: the same two grids from torch.nn.functional.conv2d", key="corr_torch"
    ) as open_:
        if open_:
            left, right = st.columns(2)
            left.markdown("**Cross-correlation** (what `conv2d` computes)")
            left.code(torch_snippet(corr), language="python", wrap_lines=True)
            right.markdown("**True convolution** (flip K first)")
            right.code(torch_snippet(conv), language="python", wrap_lines=True)
    ui.explain(WHY_CROSS_CORRELATION)


def loops_section(corr, conv, figs, i: int, j: int) -> None:
    st.subheader(f"Output cell ({i}, {j}): the two loops over the kernel")
    st.markdown(
        f"- **Cross-correlation**: `{corr.step(i, j).expression()}`\n"
        f"- **Convolution**: `{conv.step(i, j).expression()}`"
    )
    ui.explain(
        "Both loops run over the kernel entries K[u, v] in reading order. Correlation pairs K[u, v] with the "
        "input at offset (u, v) from the window's anchor, so it reads the input offsets (-1,-1), (-1,0) ... "
        "(1,1) in reading order. Convolution pairs K[u, v] with the input at offset (-u, -v), "
        "A[i - u, j - v], so it reads the same cells **in reverse**. In the fold below, each cell shows "
        "**the loop step that reads it**, its offset, and input × kernel entry."
    )
    # Below the first screen: drawn when opened (two figures and two tables the first render need not wait for).
    with ui.folded("Each loop's visiting order, step by step", key="corr_loops", projector=True) as open_:
        if not open_:
            return
        for column, trace in zip(st.columns(2), (corr, conv), strict=True):
            with column:
                ui.show_grid(figs[f"order_{trace.mode}"], key=f"corr_fig_order_{trace.mode}")
                table = pd.DataFrame(lesson.loop_table(trace, lesson.loop_order(trace, i, j)))
                st.dataframe(table, hide_index=True, key=f"corr_table_{trace.mode}")


WHY_CROSS_CORRELATION = (
    "**Why deep learning uses cross-correlation.** In a CNN the kernel is **learned**. If the network needed the "
    "flipped kernel, gradient descent would simply learn the flipped numbers: flipping changes nothing but the "
    "bookkeeping, and skipping the flip saves a step. So PyTorch's `torch.nn.functional.conv2d`, TensorFlow's "
    "`tf.nn.conv2d` and every other DL framework compute **cross-correlation** and call it convolution. The flip "
    "matters when the kernel is *given* (a blur, an edge detector from a textbook, a signal-processing filter), "
    "and for the algebra: only true convolution is associative, and only true convolution is a product of spectra."
)
INTRO = (
    "What PyTorch and TensorFlow call *convolution* is **cross-correlation**: the kernel K slides over the input "
    "as it is. **True convolution**, as mathematics and signal processing define it, first rotates K by 180 "
    "degrees. Here both run on the same numbers, side by side."
)


# ---------------------------------------------------------------- associativity


def _make_assoc():
    return tuple(
        lesson.named_grid(text(f"corr_assoc_{n}"), f"array {n}", max_rows=8, max_cols=8) for n in "abc"
    )


def associativity_section() -> None:
    st.markdown(
        "True convolution is associative: **(a ∗ b) ∗ c = a ∗ (b ∗ c)**, so a stack of linear filters can be "
        "merged into one. Cross-correlation (★) is not, in general: (a ★ b) ★ c ≠ a ★ (b ★ c). Both use *full* "
        "padding here, so every overlap counts and nothing is cut off."
    )
    cols = st.columns([1, 1, 1, 1])
    for column, name in zip(cols[:3], "abc", strict=True):
        key = f"corr_assoc_{name}"
        column.text_area(f"Array {name}", text(key), key=key, height=130)
    with cols[3]:
        st.number_input("Seed", min_value=0, max_value=10_000, value=0, step=1, key="corr_seed")
        st.button("Draw random arrays", key="corr_assoc_draw", on_click=_draw_random)
    arrays = ui.keep_last_good("corr_assoc", _make_assoc)
    if arrays is None:
        return
    _keep_arrays_in_link(dict(zip("abc", arrays, strict=True)))
    results, assoc_figs = _associativity(*arrays)
    for op, symbol in (("convolution", "∗"), ("cross-correlation", "★")):
        st.markdown(lesson.associativity_line(op, symbol, results[op]))
        for column, fig, key in zip(st.columns(3), assoc_figs[op], ("left", "right", "diff"), strict=True):
            with column:
                ui.show_grid(fig, key=f"corr_fig_assoc_{op}_{key}")


# ---------------------------------------------------------------- 1-D


def one_d(mode: str | None = None):
    """(x, w, mode, stepped) of the typed signal and kernel; after a typo, the last good ones with the mode they
    were stepped in. Without `mode`, the 1-D tab's."""
    mode = st.session_state.get("corr_1d_mode", "full") if mode is None else mode

    def make():
        x = lesson.parse_signal(text("corr_1d_x"), "signal x")
        w = lesson.parse_signal(text("corr_1d_w"), "kernel w")
        return x, w, mode, lesson.convolve1d_steps(x, w, mode)

    return ui.keep_last_good("corr_1d", make)


def one_d_stepper(stepped):
    """The 1-D stepper, its cell kept in the link (`corr_1d_cell`), with its exports; returns its Step."""
    trace = lesson.one_d_trace(stepped)
    return ui.linked_stepper(
        trace,
        "corr_1d",
        name="convolution_1d",
        cells=[trace.cell(k) for k in range(trace.n_steps)][:144],
        titles={
            "input": "Signal x (zero-padded)",
            "kernel": "Kernel w flipped (as slid)",
            "products": "Products",
            "output": "Output y",
        },
        cell_name=lambda i, t: f"y[{t}]",
        caption="Output cell t is y[t]; the kernel slides flipped, as convolution does.",
    )


def one_d_section() -> None:
    st.markdown(
        "**Patients and doses.** Patients arrive on days 0..4: x = [1, 2, 3, 4, 5]. Each patient takes 3 doses on "
        "the first day, 2 on the second and 1 on the third: w = [3, 2, 1]. The doses needed on day t are "
        "y[t] = Σₐ x[t − a] · w[a]: a true convolution. Sliding, the kernel is **flipped**: on day 2 the "
        "newest patients (x[2]) take w[0], yesterday's x[1] take w[1], and so on."
    )
    left, mid, right = st.columns([2, 2, 2])
    left.text_input("Signal x", text("corr_1d_x"), key="corr_1d_x")
    mid.text_input("Kernel w", text("corr_1d_w"), key="corr_1d_w")
    mode = right.radio("Mode", ("full", "same", "valid"), key="corr_1d_mode", horizontal=True)
    result = one_d(mode)
    if result is not None:
        x, w, mode, stepped = result
        _keep_arrays_in_link({"x": x, "w": w})
        if stepped.swapped:
            st.info("w is longer than x: convolution commutes, so the shorter one slides (as numpy does).")
        t = one_d_stepper(stepped).index[1]
        st.markdown(f"**y[{t}]** = `{stepped.steps[t].terms()}` = `{stepped.steps[t].expression()}`")
        one_d_check(x, w, mode, stepped)
    smoothing_section()


def one_d_check(x, w, mode: str, stepped) -> None:
    """Our `convolve1d` against `numpy.convolve`, and what each mode keeps."""
    st.markdown(lesson.convolve1d_check(x, w, mode, stepped))
    st.caption(
        f"full: length n + m − 1 = {x.size} + {w.size} − 1 (every overlap); same: length max(n, m), centred; "
        "valid: only positions where the kernel lies wholly on the signal."
    )


def smoothing_window():
    """The smoothing settings: ((weights, name) of the window, or None after a typo with no good one yet;
    the noise level; the noise seed)."""
    a1, a2, a3, a4 = st.columns(4)
    kind = a1.radio("Window", lesson.SMOOTHERS, key="corr_smooth_kind", horizontal=True)
    width = a2.slider("Window length", 1, 31, 9, step=1, key="corr_smooth_width")
    noise = a3.slider("Noise level", 0.0, 1.5, 0.4, step=0.05, key="corr_smooth_noise")
    seed = a4.number_input("Noise seed", 0, 10_000, 0, key="corr_smooth_seed")
    custom = (
        st.text_input("Custom window (one line)", "1 2 3 2 1", key="corr_smooth_custom")
        if kind == "Custom"
        else ""
    )

    def make():
        if kind == "Box":
            return lesson.box_window(width), f"box({width})"
        if kind == "Gaussian":
            return lesson.gaussian_window(width), f"gaussian({width})"
        return lesson.parse_signal(custom, "custom window"), "custom window"

    return ui.keep_last_good("corr_smooth_window", make), noise, seed


def smoothing_section() -> None:
    st.subheader("Smoothing a noisy sensor")
    st.markdown(
        "s[t] = Σₐ x[t − a] · w[a] with weights that sum to 1 is a weighted moving average: the noise averages "
        "out, the slow sine survives (mode 'same', so the output lines up with the input)."
    )
    chosen, noise, seed = smoothing_window()
    if chosen is None:
        return
    window_w, window_name = chosen
    tt, clean, noisy = lesson.noisy_sine(160, seed=int(seed), noise=noise)
    smooth = convolve1d(noisy, window_w, "same")
    ui.show_grid(smoothing_figure(tt, clean, noisy, smooth, window_name=window_name), key="corr_fig_smooth")
    st.markdown(lesson.smoothing_report(window_w, clean, noisy, smooth))
    if abs(window_w.sum() - 1) > 1e-9:
        st.caption("These weights do not sum to 1, so the smoothed curve is also scaled by their sum.")


# ---------------------------------------------------------------- FFT


def fft_1d_section() -> None:
    st.subheader("1-D: the signal and kernel of the 1-D tab")
    result = one_d()
    if result is None:
        return
    x, w, _, _ = result
    r1 = lesson.fft_convolve1d(x, w)
    c1, c2 = st.columns([2, 3])
    with c1:
        table = {"t": np.arange(r1.direct.size), "direct": r1.direct, "via FFT": np.round(r1.via_fft, 12)}
        st.dataframe(pd.DataFrame(table), hide_index=True, key="corr_fft_table")
        st.markdown(f"max |direct − FFT| = **{r1.max_difference:.2e}** (rounding only)")
    with c2:
        ui.show_grid(_spectrum_1d(x, w), key="corr_fig_fft_1d")


def fft_2d_section() -> None:
    st.subheader("2-D: the input and kernel of the side-by-side tab")
    last_good = comparison_2d()
    if last_good is None:
        return
    comparison = last_good[1]
    X, K = comparison.correlation.X, comparison.K
    r2 = lesson.fft_convolve2d(X, K)
    st.markdown(
        f"Full convolution of the {'x'.join(map(str, X.shape))} input with the {'x'.join(map(str, K.shape))} "
        f"kernel, both zero-padded to {'x'.join(map(str, r2.direct.shape))}: "
        f"max |direct − FFT| = **{r2.max_difference:.2e}**."
    )
    ui.show_grid(_spectrum_2d(X, K), key="corr_fig_fft_2d")
    st.caption("log(1 + magnitude), zero frequency in the centre. The product's spectrum is the output's.")


def fft_section() -> None:
    st.markdown(
        "**Convolution is multiplication in the frequency domain.** Zero-pad both inputs to the full length "
        "(n + m − 1, so nothing wraps around), take their FFTs, multiply them number by number, and take the "
        "inverse FFT: the result is the full convolution. The direct sum costs about n·m multiplications "
        "(O(n²) when both are long); the FFT route costs O(n log n)."
    )
    fft_1d_section()
    fft_2d_section()
    st.markdown(lesson.fft_cost_text(1_000_000))


def main() -> None:
    ui.page_setup("Correlation versus convolution", "🔁")
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: a widget here reruns only this, not the page's menu)."""
    ui.keep_widgets(*KEPT)
    for key in FIRST_TEXT:  # every grid in the link is checked on arrival, whichever tab it opens on
        text(key)
    ui.lazy_tabs(
        {
            "Side by side (2-D)": side_by_side_section,
            "Associativity": associativity_section,
            "1-D convolution": one_d_section,
            "Multiplication in frequency": fft_section,
        },
        key="corr_tab",
    )
    ui.explain(INTRO)


main()
