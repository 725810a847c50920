"""Feature maps: a bank of kernels over a real picture, one filter over three colour channels, 1x1
convolutions that mix channels, and transposed and dilated convolution stepped cell by cell."""

import numpy as np
import streamlit as st

import cnnviz.lessons.featuremaps as lesson
import ui.page as ui
from cnnviz import KERNELS, conv_transpose2d, correlation_trace, format_grid, output_size, parse_grid
from cnnviz.draw.featuremaps import map_figure
from cnnviz.draw.figures import color_range, grid_figure
from cnnviz.draw.palette import WINDOW_COLOR
from cnnviz.trace import fmt

INTRO = (
    "One convolution layer is a **bank of filters**: each filter slides over the picture and gives one "
    "**feature map**, a grid that is bright where the picture looks like the filter. The tabs: a bank of the "
    "classic kernels on a real picture (then ReLU, then pooling), one filter taken apart over the red, "
    "green and blue channels, 1x1 convolutions that mix channels, and the two convolutions that change "
    "the picture's scale: transposed (up-sampling) and dilated (gaps between the taps)."
)
ROW_WIDTHS = [1.25, 2, 2, 2]  # a bank row's columns: the kernel, then its three maps
FIRST_ROWS = 3  # the bank's kernels drawn at once (the first screen at 1920x1080); the others when opened
DEFAULT_BANK = ["Vertical edge", "Horizontal edge", "Diagonal edge", "Laplacian", "Sharpen", "Box blur"]
CHANNEL_DEFAULTS = {"R": "Vertical edge", "G": "Horizontal edge", "B": "Laplacian"}
MIX_DEFAULT = next(iter(lesson.MIX_PRESETS))
DILATED_INPUT = np.arange(49).reshape(7, 7) % 10
# The settings of every tab, with their first values. Tabs run lazily and Streamlit forgets the value of a
# widget that was not drawn, so they are kept (`keep_widgets`): what a teacher typed in one tab is still
# there after a visit to another.
SETTINGS = {
    "fm_bank": DEFAULT_BANK,
    "fm_stride": 1,
    "fm_padding": 1,
    "fm_pool_mode": "max",
    "fm_pool_size": 2,
    "fm_shared": True,
    **{f"fm_rgb_preset_{c}": name for c, name in CHANNEL_DEFAULTS.items()},
    **{f"fm_rgb_kernel_{c}": format_grid(KERNELS[name].array) for c, name in CHANNEL_DEFAULTS.items()},
    "fm_rgb_bias": 0.0,
    "fm_mix_preset": MIX_DEFAULT,
    "fm_mix_text": format_grid(np.array(lesson.MIX_PRESETS[MIX_DEFAULT])),
    "fm_t_input": "1 2\n3 4",  # Dumoulin and Visin: 2x2 input, 3x3 kernel, stride 2 -> 5x5
    "fm_t_kernel": "1 1 1\n1 1 1\n1 1 1",
    "fm_t_stride": 2,
    "fm_t_padding": 0,
    "fm_d_input": format_grid(DILATED_INPUT),
    "fm_d_kernel": "1 0 -1\n1 0 -1\n1 0 -1",
    "fm_d_dilation": 2,
    "fm_d_stride": 1,
    "fm_d_padding": 0,
}
# Typed grids kept in the link (cnnviz.gridcode, e.g. `fm_rgb_KR=1_0_-1~1_0_-1~1_0_-1`): the text box's
# session key -> (link parameter, what the grid is). Left out of the link while they hold the default.
LINKED_GRIDS = {
    **{f"fm_rgb_kernel_{c}": (f"fm_rgb_K{c}", f"{c} channel kernel") for c in CHANNEL_DEFAULTS},
    "fm_rgb_bias": ("fm_rgb_b", "bias"),
    "fm_mix_text": ("fm_mix_W", "1x1 filters"),
    "fm_t_input": ("fm_t_X", "transposed input"),
    "fm_t_kernel": ("fm_t_K", "transposed kernel"),
    "fm_d_input": ("fm_d_X", "dilated input"),
    "fm_d_kernel": ("fm_d_K", "dilated kernel"),
}


def _default_grid(key: str) -> np.ndarray:
    default = SETTINGS[key]
    return np.array([[float(default)]]) if key == "fm_rgb_bias" else parse_grid(default)


def _one_number(X: np.ndarray) -> np.ndarray:
    if X.shape != (1, 1):
        raise ValueError("a bias is one number")
    return X


def first(key: str):
    """A setting's first value: for a typed grid the link's (a bad one warns once, and the default stays)."""
    if key not in LINKED_GRIDS:
        return SETTINGS[key]

    def from_link():
        param, name = LINKED_GRIDS[key]
        if param not in st.query_params:
            return SETTINGS[key]
        check = _one_number if key == "fm_rgb_bias" else None
        grid = ui.url_grid(param, _default_grid(key), name=f"{name} ({param})", check=check)
        return float(grid[0, 0]) if key == "fm_rgb_bias" else format_grid(grid)

    return ui.first_value(key, from_link)


def keep_grid_in_link(key: str, X) -> None:
    """Grid X, typed in the box `key`, into the link (removed when it is the default)."""
    ui.set_url_grid(
        LINKED_GRIDS[key][0], np.atleast_2d(np.asarray(X, dtype=float)), default=_default_grid(key)
    )


def draw(fig, *, key: str) -> None:
    """A map or kernel figure, restyled for the theme and, in projector mode, for the room (it is sized for it)."""
    ui.show_grid(fig, key=key, grow=False)


# --- the picture every section starts from: one row, the picker in a popover ----------------------------------


def picture_section() -> np.ndarray | None:
    """The picture as (C_in, H, W), with a thumbnail and its size; None until there is one."""
    colour_col, pick_col, show_col = st.columns([1.3, 1.2, 4], vertical_alignment="center")
    picker_errors = st.container()  # an unreadable upload is reported here, outside the popover
    with colour_col:
        colour = ui.url_toggle("Colour picture (R, G, B)", key="fm_rgb")
    with pick_col, st.popover("Picture…", width="stretch"):
        max_side = ui.url_select(
            "Largest side to work at (pixels)",
            [64, 128, 256, 512],
            index=3,
            key="fm_max_side",
            widget=st.select_slider,
            help="Bigger pictures are shrunk to this size first (keeping their shape).",
        )
        image, caption = ui.image_picker(
            "fm",
            mode="RGB" if colour else "L",
            max_side=max_side,
            default="scene.png" if colour else "shapes.png",
            bind=True,
            error_area=picker_errors,
        )
    if image is None:
        return None
    X = lesson.to_channels(image)  # (C_in, H, W)
    c_in, h, w = X.shape
    with show_col:
        thumb, text = st.columns([1, 6], vertical_alignment="center")
        with thumb:
            ui.picture(image.astype(np.uint8), width=64)
        text.markdown(
            f"**{caption}**: {h} x {w}" + (" x 3 channels (R, G, B)" if c_in == 3 else " (grayscale)")
        )
    return X


def colour_picture(X: np.ndarray) -> np.ndarray:
    """(3, H, W): the chosen picture when it is in colour, else the bundled colour scene."""
    return X if X.shape[0] == 3 else lesson.to_channels(ui.bundled_image("scene.png", mode="RGB"))


# --- 1. a bank of kernels: conv, ReLU, pool --------------------------------------------------------------------


def bank_controls() -> dict:
    """The kernels of the layer, and in a popover stride, padding, pooling and the colour scale."""
    for key, lo, hi in (("fm_stride", 1, 4), ("fm_padding", 0, 3), ("fm_pool_size", 1, 4)):
        ui.check_link_number(key, lo, hi)  # their own warnings would be inside the closed popover
    ui.check_link_choice("fm_pool_mode", ["max", "avg", "min", "l2"])
    a, b = st.columns([5, 1.4], vertical_alignment="bottom")
    with a:
        names = ui.url_multiselect(
            "Kernels (filters of the layer)", list(KERNELS), DEFAULT_BANK, key="fm_bank"
        )
    with b, st.popover("Stride, padding, pooling…", width="stretch"):
        stride = st.number_input("Stride", 1, 4, 1, key=ui.kept_key("fm_stride"), bind="query-params")
        padding = st.number_input(
            "Padding (each side)", 0, 3, 1, key=ui.kept_key("fm_padding"), bind="query-params"
        )
        pool_mode = ui.url_select("Pooling", ["max", "avg", "min", "l2"], key="fm_pool_mode")
        pool_size = st.number_input(
            "Pool window (stride = window)", 1, 4, 2, key=ui.kept_key("fm_pool_size"), bind="query-params"
        )
        shared = ui.url_toggle(
            "One colour scale for all maps of a stage (compare strengths across kernels)",
            key="fm_shared",
            value=True,
        )
    return {
        "names": names,
        "stride": stride,
        "padding": padding,
        "pool_mode": pool_mode,
        "pool_size": pool_size,
        "shared": shared,
    }


def bank_row(bank, k: int, stages: dict, scales: dict, shared: bool) -> None:
    """Kernel `k`'s row: the kernel, its map before and after ReLU, and after pooling (one element)."""
    map_px = 420 if ui.projector_mode() else 160  # in projector mode the maps fill their columns
    kernel = KERNELS[bank.names[k]]
    title = f"{bank.names[k]}" + (f"<br>x {kernel.scale_text}" if kernel.scale_text else "")
    figs = [grid_figure(kernel.weights, title=title, showscale=False, cell_px=26)]
    for stage, maps in stages.items():
        Z = maps[k]
        figs.append(
            map_figure(
                Z,
                title=f"{stage}: {Z.shape[0]}x{Z.shape[1]}",
                colors=scales[stage] if shared else color_range([Z]),
                side_px=map_px,
            )
        )
    ui.show_grid_row(figs, key=f"fm_row_{k}", widths=ROW_WIDTHS, grow=False)


def bank_maps(bank, pool_mode: str, shared: bool) -> None:
    """One row per kernel: the first `FIRST_ROWS` on the page, the others drawn when their fold is opened
    (each row is four Plotly figures, about a tenth of a second each for the browser)."""
    stages = {
        "before ReLU": bank.maps,
        "after ReLU": bank.activated,
        f"after {pool_mode} pooling": bank.pooled,
    }
    scales = {stage: color_range([maps]) for stage, maps in stages.items()}
    head = st.columns(ROW_WIDTHS)
    for col, text in zip(head, ["**Kernel**", *(f"**Feature map {s}**" for s in stages)], strict=True):
        col.markdown(text)
    for k in range(min(FIRST_ROWS, len(bank.names))):
        bank_row(bank, k, stages, scales, shared)
    more = bank.names[FIRST_ROWS:]
    if not more:
        return
    label = (
        f"The maps of {', '.join(more)}" if len(more) <= 3 else f"The maps of the other {len(more)} kernels"
    )
    with ui.folded(label, key="fm_bank_more", projector=True) as open_:
        if open_:
            for k in range(FIRST_ROWS, len(bank.names)):
                bank_row(bank, k, stages, scales, shared)


def bank_section(X: np.ndarray) -> None:
    c = bank_controls()
    if not c["names"]:
        st.error("Choose at least one kernel for the bank.", icon="⚠️")
        bank = st.session_state.get("_last_good_fm_bank_result")
    else:
        kernels = {n: KERNELS[n].array for n in c["names"]}
        settings = {k: c[k] for k in ("stride", "padding", "pool_size", "pool_mode")}
        bank = ui.keep_last_good("fm_bank_result", lambda: lesson.filter_bank(X, kernels, **settings))
    if bank is None:
        return
    shape_text, params_text = lesson.layer_summary(
        bank.c_in, bank.c_out, bank.weights.shape[2:], bank.maps.shape[1:]
    )
    p_h, p_w = bank.pool_plan.shape
    pool_mode, pool_size = c["pool_mode"], c["pool_size"]
    st.markdown(
        f"**Output shape** `{shape_text}` · **parameters** `{params_text}` · after {pool_mode} pooling "
        f"{pool_size}x{pool_size}: `{bank.c_out} x {p_h} x {p_w}`"
    )
    ui.explain(
        f"`H_out = {bank.plan.rows.formula()}`; `W_out = {bank.plan.cols.formula()}`. Pooling works on "
        "each map on its own and has no parameters. Each chosen kernel is one filter of the layer; on a "
        "colour picture a 3x3 kernel K becomes a 3 x 3 x 3 filter: the same K on R, G and B, the three "
        "results summed (so it sees R + G + B)."
    )
    bank_maps(bank, pool_mode, c["shared"])


# --- 2. one filter over the three colour channels ---------------------------------------------------------------


def _fill_kernel(channel: str) -> None:
    """The preset chosen for a channel replaces that channel's typed kernel."""
    name = st.session_state[f"fm_rgb_preset_{channel}"]
    ui.set_widgets({f"fm_rgb_kernel_{channel}": format_grid(KERNELS[name].array)})


def _parse_kernel(text: str, label: str) -> np.ndarray:
    """A typed channel kernel; an error says which channel's box holds the typo."""
    try:
        return parse_grid(text, max_rows=7, max_cols=7, name=f"{label} kernel")
    except ValueError as err:
        raise ValueError(f"{label} kernel: {err}") from err


def rgb_kernels() -> tuple[dict, float]:
    """A preset and a typed kernel per channel, and the bias: ({"R": K or None, ...}, b)."""
    kernels = {}
    for col, channel in zip(st.columns(3), lesson.CHANNEL_NAMES, strict=True):
        with col:
            label = {"R": "Red", "G": "Green", "B": "Blue"}[channel]
            preset = f"fm_rgb_preset_{channel}"
            presets = list(KERNELS)
            st.selectbox(
                f"{label} kernel preset",
                presets,
                index=presets.index(first(preset)),
                key=preset,
                on_change=_fill_kernel,
                args=(channel,),
            )
            key = f"fm_rgb_kernel_{channel}"
            text = st.text_area(
                f"{label} kernel (one row per line)", first(key), key=ui.kept_key(key), height=110
            )
            kernels[channel] = ui.keep_last_good(
                key, lambda text=text, label=label: _parse_kernel(text, label)
            )
            if kernels[channel] is not None:
                keep_grid_in_link(key, kernels[channel])
    bias = st.number_input(
        "Bias b (one number per filter)", value=first("fm_rgb_bias"), step=1.0, key="fm_rgb_bias"
    )
    keep_grid_in_link("fm_rgb_bias", [[bias]])
    return kernels, bias


def rgb_figures(rgb: np.ndarray, breakdown, bias: float) -> None:
    """Each channel and its map, then R + G + B, + bias, = the feature map."""
    parts = breakdown.parts
    scale = color_range([parts, breakdown.total, breakdown.final])
    for col, channel, c, tint in zip(
        st.columns(3), lesson.CHANNEL_NAMES, range(3), ["Reds", "Greens", "Blues"], strict=True
    ):
        with col:
            colors = {"colorscale": tint, "zmin": 0, "zmax": 255}
            fig = map_figure(rgb[c], title=f"{channel} channel", colors=colors, side_px=240, showscale=False)
            draw(fig, key=f"fm_rgb_in_{channel}")
            fig = map_figure(parts[c], title=f"{channel} channel * its kernel", colors=scale, side_px=240)
            draw(fig, key=f"fm_rgb_part_{channel}")
    cols = st.columns(3)
    with cols[0]:
        draw(
            map_figure(breakdown.total, title="R + G + B maps", colors=scale, side_px=240),
            key="fm_rgb_total",
        )
    with cols[1]:
        st.markdown(f"### + bias\n## b = {fmt(bias)}")
        st.caption("one number, added to every cell of the map")
    with cols[2]:
        fig = map_figure(breakdown.final, title="= feature map (conv2d)", colors=scale, side_px=240)
        draw(fig, key="fm_rgb_final")


def rgb_cell(breakdown) -> None:
    """One output cell written out, starting on the strongest response inside the border."""
    out_h, out_w = breakdown.final.shape
    st.markdown(
        "**One output cell, written out** (it starts on the strongest response inside the border; "
        "the picture is padded by 1):"
    )
    strongest = lesson.strongest_cell(breakdown.final)
    # A smaller picture is read in this run, with no callback of ours; these boxes are not in the link, so a
    # value set before them holds.
    ui.keep_within("fm_rgb_row", out_h - 1)
    ui.keep_within("fm_rgb_col", out_w - 1)
    pi, pj = st.columns(2)
    i = pi.number_input("Output row", 0, out_h - 1, strongest[0], key="fm_rgb_row")
    j = pj.number_input("Output column", 0, out_w - 1, strongest[1], key="fm_rgb_col")
    st.code("\n".join(breakdown.pixel_lines(int(i), int(j))), language=None, wrap_lines=True)


def rgb_section(X: np.ndarray) -> None:
    rgb = colour_picture(X)
    if X.shape[0] == 1:
        st.info(
            "Switch on **Colour picture** above to use your own; meanwhile the bundled scene.png is used."
        )
    st.markdown(
        "A filter over a colour picture holds **one kernel per channel**. Each kernel slides over its own "
        "channel (a plain 2-D cross-correlation); the three channel maps are **added**, the filter's **bias** "
        "is added, and that is the feature map, exactly what `conv2d` computes. Edit any kernel below."
    )
    kernels, bias = rgb_kernels()
    if any(k is None for k in kernels.values()):
        return
    breakdown = ui.keep_last_good(
        "fm_rgb_breakdown", lambda: lesson.channel_breakdown(rgb, list(kernels.values()), bias, padding=1)
    )
    if breakdown is None:
        return
    rgb_figures(rgb, breakdown, bias)
    st.markdown(lesson.breakdown_check(breakdown, bias, kernels["R"].shape))
    rgb_cell(breakdown)


# --- 3. 1x1 convolution: mixing channels -------------------------------------------------------------------------


def _fill_mixing() -> None:
    ui.set_widgets(
        {"fm_mix_text": format_grid(np.array(lesson.MIX_PRESETS[st.session_state["fm_mix_preset"]]))}
    )


def mix_section(X: np.ndarray) -> None:
    mix_input = colour_picture(X)
    st.markdown(
        "A **1x1 convolution** looks at one pixel at a time, across its channels: "
        "`out(i, j) = R(i, j)*w1 + G(i, j)*w2 + B(i, j)*w3 (+ b)`. Each row below is one 1x1 filter; "
        "N rows give N maps. Type w1 w2 w3, and optionally a bias, on each line."
        + (
            ""
            if X.shape[0] == 3
            else " (Using the bundled colour scene: switch on **Colour picture** for yours.)"
        )
    )
    presets = list(lesson.MIX_PRESETS)
    st.selectbox(
        "Preset",
        presets,
        index=presets.index(first("fm_mix_preset")),
        key="fm_mix_preset",
        on_change=_fill_mixing,
    )
    mix_text = st.text_area(
        "1x1 filters (one per line: w1 w2 w3 [b])",
        first("fm_mix_text"),
        key=ui.kept_key("fm_mix_text"),
        height=110,
    )
    mixing = ui.keep_last_good(
        "fm_mix", lambda: lesson.parse_mixing(parse_grid(mix_text, name="1x1 filters"))
    )
    if mixing is None:
        return
    keep_grid_in_link("fm_mix_text", parse_grid(mix_text, name="1x1 filters"))
    weights, biases = mixing
    mixed = lesson.mix_channels(mix_input, weights, biases)  # (N, H, W)
    n = weights.shape[0]
    shape_text, params_text = lesson.layer_summary(3, n, (1, 1), mixed.shape[1:])
    st.markdown(f"**Output shape** `{shape_text}`  \n**Parameters** `{params_text}`")
    scale = color_range([mixed], image=True)
    for start in range(0, n, 4):
        for col, k in zip(st.columns(4), range(start, min(n, start + 4)), strict=False):
            with col:
                draw(
                    map_figure(mixed[k], title=f"Map {k + 1}", colors=scale, side_px=260),
                    key=f"fm_mix_map_{k}",
                )
                st.caption(f"`{lesson.mixing_formula(weights[k], biases[k])}`")
    (ci, cj), lines = lesson.centre_pixel_lines(mix_input, weights, biases, mixed)
    r, g, b = (mix_input[c, ci, cj] for c in range(3))
    st.markdown(f"**The centre pixel ({ci}, {cj})**: R = {fmt(r)}, G = {fmt(g)}, B = {fmt(b)}")
    st.code("\n".join(lines), language=None)


# --- 4. transposed and dilated convolution --------------------------------------------------------------------


def x_and_k(prefix: str, numbers: list[tuple[str, int, int]], *, x_height: int) -> tuple[str, str, list[int]]:
    """Input X and kernel K typed side by side, and the settings `numbers` ((label, lowest, highest) under
    `{prefix}_...` keys) beside them: (X text, K text, the numbers)."""
    a, b, c = st.columns([1, 1, 1])
    with a:
        x_text = st.text_area(
            "Input X", first(f"{prefix}_input"), key=ui.kept_key(f"{prefix}_input"), height=x_height
        )
    with b:
        k_text = st.text_area(
            "Kernel K", first(f"{prefix}_kernel"), key=ui.kept_key(f"{prefix}_kernel"), height=110
        )
    with c:
        values = [st.number_input(label, lo, hi, first(key), key=key) for label, lo, hi, key in numbers]
    return x_text, k_text, values


def _transposed(t_text: str, k_text: str, stride: int, padding: int):
    """Everything the transposed part draws, from one set of settings (a bad edit keeps them all together)."""
    Xt = parse_grid(t_text, max_rows=8, max_cols=8, name="input X")
    Kt = parse_grid(k_text, max_rows=5, max_cols=5, name="kernel K")
    stamps, full, Y = lesson.transposed_scatter(Xt, Kt, stride=stride, padding=padding)
    Z, K_flipped, inserted = lesson.zero_insertion(Xt, Kt, stride=stride, padding=padding)
    reference = conv_transpose2d(Xt, Kt, stride=stride, padding=padding)
    settings = {"stride": stride, "padding": padding}
    return Xt, Kt, stamps, full, Y, correlation_trace(Z, K_flipped), inserted, reference, settings


def stamps_view(Xt, stamps, full, Y, padding: int) -> None:
    """The scatter view: the first stamps, each alone, then their sum and the cropped Y."""
    stamp_scale = color_range([full] + [s.values for s in stamps])
    shown = stamps[:8]
    for start in range(0, len(shown), 4):
        for col, stamp in zip(st.columns(4), shown[start : start + 4], strict=False):
            with col:
                canvas, box = lesson.stamp_canvas(stamp, full.shape)
                i, j = stamp.index
                fig = grid_figure(
                    np.nan_to_num(canvas),
                    title=f"X[{i},{j}] = {fmt(Xt[i, j])} stamps {fmt(Xt[i, j])}*K",
                    colors=stamp_scale,
                    outlines=[(box, WINDOW_COLOR)],
                    shade=np.isnan(canvas),
                    showscale=False,
                    cell_px=26,
                )
                draw(fig, key=f"fm_stamp_{i}_{j}")
    if len(stamps) > len(shown):
        st.caption(f"Showing the first {len(shown)} of {len(stamps)} stamps.")
    cols = st.columns(2)
    with cols[0]:
        draw(grid_figure(full, title="Sum of all stamps", colors=stamp_scale, cell_px=30), key="fm_t_full")
    with cols[1]:
        crop = f"after cropping p = {padding} from each side" if padding else "(p = 0: nothing cropped)"
        draw(grid_figure(Y, title=f"Y {crop}", colors=stamp_scale, cell_px=30), key="fm_t_scatter_out")


def transposed_section() -> None:
    st.subheader("Transposed convolution: up-sampling")
    st.markdown(
        "A stride-2 3x3 convolution takes a 5x5 input to 2x2 "
        f"(floor((5 - 3) / 2) + 1 = {output_size(5, 3, stride=2)}). Its **transpose** goes back the other way, "
        "2x2 to 5x5: the example of Dumoulin and Visin's *guide to convolution arithmetic*. Two ways to see it, "
        "and they give the same numbers."
    )
    numbers = [
        ("Stride s", 1, 4, "fm_t_stride"),
        ("Padding p (cropped from each side)", 0, 3, "fm_t_padding"),
    ]
    t_text, k_text, (t_stride, t_padding) = x_and_k("fm_t", numbers, x_height=110)
    transposed = ui.keep_last_good("fm_transposed", lambda: _transposed(t_text, k_text, t_stride, t_padding))
    if transposed is None:
        return
    Xt, Kt, stamps, full, Y, trace, inserted, reference, settings = transposed
    keep_grid_in_link("fm_t_input", Xt)
    keep_grid_in_link("fm_t_kernel", Kt)
    t_stride, t_padding = settings["stride"], settings["padding"]
    st.markdown(lesson.transposed_size_text(Xt.shape, Kt.shape, stride=t_stride, padding=t_padding))
    st.markdown(
        "**1. Scatter view.** Each input cell stamps `X[i, j] * K` onto the output, its corner at "
        "`(i*s, j*s)`; where stamps overlap they add up. The stamps land exactly where the forward "
        "convolution's windows sit."
    )
    stamps_view(Xt, stamps, full, Y, t_padding)
    st.markdown(lesson.zero_insertion_text(Kt.shape[0], stride=t_stride, padding=t_padding))
    st.markdown(lesson.transposed_agree_text(trace, Y, reference))
    titles = {"input": "Z (zeros inserted)", "kernel": "K rotated 180 degrees"}
    ui.linked_stepper(trace, "fm_t", name="fm_t", inserted=inserted, titles=titles)


def dilated_section() -> None:
    st.subheader("Dilated convolution: gaps between the taps")
    st.markdown(
        "Dilation d spreads the kernel's taps d cells apart: a 3x3 kernel with d = 2 covers 5x5 cells with "
        "the same 9 weights, so the map sees further without more parameters."
    )
    numbers = [
        ("Dilation d", 1, 4, "fm_d_dilation"),
        ("Stride", 1, 3, "fm_d_stride"),
        ("Padding", 0, 4, "fm_d_padding"),
    ]
    d_text, dk_text, (dilation, d_stride, d_padding) = x_and_k("fm_d", numbers, x_height=180)
    dilated = ui.keep_last_good(
        "fm_dilated",
        lambda: correlation_trace(
            parse_grid(d_text, max_rows=16, max_cols=16, name="input X"),
            parse_grid(dk_text, max_rows=5, max_cols=5, name="kernel K"),
            stride=d_stride,
            padding=d_padding,
            dilation=dilation,
        ),
    )
    if dilated is None:
        return
    keep_grid_in_link("fm_d_input", dilated.X)
    keep_grid_in_link("fm_d_kernel", dilated.source_kernel)
    rows = dilated.plan.rows
    st.markdown(
        f"Kernel extent `d*(k - 1) + 1 = {rows.dilation}*({rows.f} - 1) + 1 = {rows.extent}` cells; "
        f"output rows `{rows.formula()}`."
    )
    ui.linked_stepper(dilated, "fm_d", name="fm_d")


def up_section() -> None:
    transposed_section()
    st.divider()
    dilated_section()


def main() -> None:
    ui.page_setup("Feature maps", "🗺️")
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: a widget here reruns only this, not the page's menu)."""
    ui.keep_widgets(*SETTINGS)
    X = picture_section()
    if X is None:
        return
    ui.lazy_tabs(
        {
            "Bank of kernels": lambda: bank_section(X),
            "One filter, three channels": lambda: rgb_section(X),
            "1x1 convolution": lambda: mix_section(X),
            "Transposed and dilated": up_section,
        },
        key="fm_tab",
    )
    ui.explain(INTRO)


main()
