"""Feature maps: a bank of kernels over a real picture, one filter over three colour channels, 1x1
convolutions that mix channels, and transposed and dilated convolution stepped cell by cell."""

import numpy as np
import streamlit as st

from cnnviz import KERNELS, conv_transpose2d, correlation_trace, format_grid, output_size, parse_grid
from cnnviz.draw.featuremaps import map_figure
from cnnviz.draw.figures import color_range, grid_figure
from cnnviz.draw.palette import WINDOW_COLOR
from cnnviz.draw.stepper import default_region, region_cells
from cnnviz.lessons.featuremaps import (
    CHANNEL_NAMES,
    MIX_PRESETS,
    channel_breakdown,
    filter_bank,
    layer_summary,
    mix_channels,
    mixing_formula,
    parse_mixing,
    to_channels,
    transposed_scatter,
    zero_insertion,
)
from cnnviz.trace import fmt
from ui.classroom import (
    check_link_choice,
    check_link_number,
    classroom_bar,
    explain,
    projector_style,
    set_url_grid,
    show,
    url_grid,
    url_multiselect,
    url_select,
    url_toggle,
)
from ui.common import bundled_image, image_picker, keep_last_good, page_setup, plot
from ui.slides import export_buttons, keep_cell, link_cell, play_speed
from ui.stepper import render_stepper, selected_cell

page_setup("Feature maps", "🗺️")
projector = classroom_bar()
MAP_PX = 420 if projector else 160  # a feature map's side; in projector mode the maps fill their columns
INTRO = (
    "One convolution layer is a **bank of filters**: each filter slides over the picture and gives one "
    "**feature map**, a grid that is bright where the picture looks like the filter. The tabs: a bank of the "
    "classic kernels on a real picture (then ReLU, then pooling), one filter taken apart over the red, "
    "green and blue channels, 1x1 convolutions that mix channels, and the two convolutions that change "
    "the picture's scale: transposed (up-sampling) and dilated (gaps between the taps)."
)


def draw(fig, *, key: str, side: int | None = None) -> None:
    """A figure restyled for the theme and, in projector mode, for the room (full width, big type)."""
    show(projector_style(fig, grid_side=side), key=key)


# The settings of every section, with their defaults. They live in session_state and are written back on
# every run, so what a teacher typed in one tab is still there after a visit to another (tabs run lazily,
# and Streamlit forgets the value of a widget that was not drawn).
DEFAULT_BANK = ["Vertical edge", "Horizontal edge", "Diagonal edge", "Laplacian", "Sharpen", "Box blur"]
CHANNEL_DEFAULTS = {"R": "Vertical edge", "G": "Horizontal edge", "B": "Laplacian"}
MIX_DEFAULT = next(iter(MIX_PRESETS))
DILATED_INPUT = np.arange(49).reshape(7, 7) % 10
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
    "fm_mix_text": format_grid(np.array(MIX_PRESETS[MIX_DEFAULT])),
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


def seed_grids_from_link() -> None:
    """A link's typed grids fill their boxes once per session (a bad one warns, and the default stays)."""
    for key, (param, name) in LINKED_GRIDS.items():
        if key in st.session_state or param not in st.query_params:
            continue
        check = _one_number if key == "fm_rgb_bias" else None
        grid = url_grid(param, _default_grid(key), name=f"{name} ({param})", check=check)
        st.session_state[key] = float(grid[0, 0]) if key == "fm_rgb_bias" else format_grid(grid)


def _one_number(X: np.ndarray) -> np.ndarray:
    if X.shape != (1, 1):
        raise ValueError("a bias is one number")
    return X


def keep_grid_in_link(key: str, X) -> None:
    """Grid X, typed in the box `key`, into the link (removed when it is the default)."""
    set_url_grid(LINKED_GRIDS[key][0], np.atleast_2d(np.asarray(X, dtype=float)), default=_default_grid(key))


seed_grids_from_link()
# Settings kept in the link take their defaults from the widget (`value=`), so that a value left out of
# the link means the default; they are only written back once they exist.
BOUND = {"fm_bank", "fm_stride", "fm_padding", "fm_pool_mode", "fm_pool_size", "fm_shared"}
for _key, _default in SETTINGS.items():
    if _key not in BOUND:
        st.session_state[_key] = st.session_state.get(_key, _default)
    elif _key in st.session_state:
        st.session_state[_key] = st.session_state[_key]

# --- the picture every section starts from: one row, the picker in a popover ----------------------------------
colour_col, pick_col, show_col = st.columns([1.3, 1.2, 4], vertical_alignment="center")
picker_errors = st.container()  # an unreadable upload is reported here, outside the popover
with colour_col:
    colour = url_toggle("Colour picture (R, G, B)", key="fm_rgb")
with pick_col, st.popover("Picture…", width="stretch"):
    max_side = url_select(
        "Largest side to work at (pixels)",
        [64, 128, 256, 512],
        index=3,
        key="fm_max_side",
        widget=st.select_slider,
        help="Bigger pictures are shrunk to this size first (keeping their shape).",
    )
    image, caption = image_picker(
        "fm",
        mode="RGB" if colour else "L",
        max_side=max_side,
        default="scene.png" if colour else "shapes.png",
        bind=True,
        error_area=picker_errors,
    )
if image is None:
    st.stop()
X = to_channels(image)  # (C_in, H, W)
c_in, h, w = X.shape
with show_col:
    thumb, text = st.columns([1, 6], vertical_alignment="center")
    thumb.image(image.astype(np.uint8), width=64)
    text.markdown(f"**{caption}**: {h} x {w}" + (" x 3 channels (R, G, B)" if c_in == 3 else " (grayscale)"))


def stepper_with_link(trace, prefix: str, **kwargs) -> None:
    """The stepper, its selected cell and speed kept in the link (`{prefix}_cell`), and its exports."""
    link_cell(f"{prefix}_step", f"{prefix}_cell", trace.shape)
    speed = play_speed(f"{prefix}_step", f"{prefix}_speed")
    step = render_stepper(trace, key=f"{prefix}_step", speed=speed, **kwargs)
    keep_cell(f"{prefix}_cell", step.index)
    cells = region_cells(default_region(trace.shape, selected_cell(f"{prefix}_step", trace.shape)))
    export_buttons(trace, key=f"{prefix}_export", cell=step.index, cells=cells, ms=speed, name=prefix)


def colour_picture() -> np.ndarray:
    """(3, H, W): the chosen picture when it is in colour, else the bundled colour scene."""
    return X if c_in == 3 else to_channels(bundled_image("scene.png", mode="RGB"))


TABS = ["Bank of kernels", "One filter, three channels", "1x1 convolution", "Transposed and dilated"]
check_link_choice("fm_tab", TABS)
tab_bank, tab_rgb, tab_mix, tab_up = st.tabs(
    TABS,
    key="fm_tab",
    on_change="rerun",
    bind="query-params",
)


# --- 1. a bank of kernels: conv, ReLU, pool --------------------------------------------------------------------
if tab_bank.open:  # tabs run lazily: only the open one computes
    with tab_bank:
        for key, lo, hi in (("fm_stride", 1, 4), ("fm_padding", 0, 3), ("fm_pool_size", 1, 4)):
            check_link_number(key, lo, hi)  # their own warnings would be inside the closed popover
        check_link_choice("fm_pool_mode", ["max", "avg", "min", "l2"])
        a, b = st.columns([5, 1.4], vertical_alignment="bottom")
        with a:
            names = url_multiselect(
                "Kernels (filters of the layer)", list(KERNELS), DEFAULT_BANK, key="fm_bank"
            )
        with b, st.popover("Stride, padding, pooling…", width="stretch"):
            stride = st.number_input("Stride", 1, 4, 1, key="fm_stride", bind="query-params")
            padding = st.number_input("Padding (each side)", 0, 3, 1, key="fm_padding", bind="query-params")
            pool_mode = url_select("Pooling", ["max", "avg", "min", "l2"], key="fm_pool_mode")
            pool_size = st.number_input(
                "Pool window (stride = window)", 1, 4, 2, key="fm_pool_size", bind="query-params"
            )
            shared = url_toggle(
                "One colour scale for all maps of a stage (compare strengths across kernels)",
                key="fm_shared",
                value=True,
            )
        if not names:
            st.error("Choose at least one kernel for the bank.", icon="⚠️")
        bank = (
            keep_last_good(
                "fm_bank_result",
                lambda: filter_bank(
                    X,
                    {n: KERNELS[n].array for n in names},
                    stride=stride,
                    padding=padding,
                    pool_size=pool_size,
                    pool_mode=pool_mode,
                ),
            )
            if names
            else st.session_state.get("_last_good_fm_bank_result")
        )
        if bank is not None:
            shape_text, params_text = layer_summary(
                bank.c_in, bank.c_out, bank.weights.shape[2:], bank.maps.shape[1:]
            )
            p_h, p_w = bank.pool_plan.shape
            st.markdown(
                f"**Output shape** `{shape_text}` · **parameters** `{params_text}` · after {pool_mode} pooling "
                f"{pool_size}x{pool_size}: `{bank.c_out} x {p_h} x {p_w}`"
            )
            explain(
                f"`H_out = {bank.plan.rows.formula()}`; `W_out = {bank.plan.cols.formula()}`. Pooling works on "
                "each map on its own and has no parameters. Each chosen kernel is one filter of the layer; on a "
                "colour picture a 3x3 kernel K becomes a 3 x 3 x 3 filter: the same K on R, G and B, the three "
                "results summed (so it sees R + G + B)."
            )
            stages = {
                "before ReLU": bank.maps,
                "after ReLU": bank.activated,
                f"after {pool_mode} pooling": bank.pooled,
            }
            scales = {stage: color_range([maps]) for stage, maps in stages.items()}
            head = st.columns([1.25, 2, 2, 2])
            for col, text in zip(
                head, ["**Kernel**", *(f"**Feature map {s}**" for s in stages)], strict=True
            ):
                col.markdown(text)
            for k, name in enumerate(bank.names):
                row = st.columns([1.25, 2, 2, 2])
                kernel = KERNELS[name]
                with row[0]:
                    fig = grid_figure(
                        kernel.weights,
                        title=f"{name}" + (f"<br>x {kernel.scale_text}" if kernel.scale_text else ""),
                        showscale=False,
                        cell_px=26,
                    )
                    draw(fig, key=f"fm_kernel_{k}", side=max(np.shape(kernel.weights)))
                for col, (stage, maps) in zip(row[1:], stages.items(), strict=True):
                    with col:
                        Z = maps[k]
                        fig = map_figure(
                            Z,
                            title=f"{stage}: {Z.shape[0]}x{Z.shape[1]}",
                            colors=scales[stage] if shared else color_range([Z]),
                            side_px=MAP_PX,
                        )
                        draw(fig, key=f"fm_map_{k}_{stage}", side=max(Z.shape))

# --- 2. one filter over the three colour channels ---------------------------------------------------------------


def _fill_kernel(channel: str) -> None:
    """The preset chosen for a channel replaces that channel's typed kernel."""
    name = st.session_state[f"fm_rgb_preset_{channel}"]
    st.session_state[f"fm_rgb_kernel_{channel}"] = format_grid(KERNELS[name].array)


def _parse_kernel(text: str, label: str) -> np.ndarray:
    """A typed channel kernel; an error says which channel's box holds the typo."""
    try:
        return parse_grid(text, max_rows=7, max_cols=7, name=f"{label} kernel")
    except ValueError as err:
        raise ValueError(f"{label} kernel: {err}") from err


if tab_rgb.open:  # tabs run lazily: only the open one computes
    with tab_rgb:
        rgb = colour_picture()
        if c_in == 1:
            st.info(
                "Switch on **Colour picture** above to use your own; meanwhile the bundled scene.png is used."
            )
        st.markdown(
            "A filter over a colour picture holds **one kernel per channel**. Each kernel slides over its own "
            "channel (a plain 2-D cross-correlation); the three channel maps are **added**, the filter's **bias** "
            "is added, and that is the feature map, exactly what `conv2d` computes. Edit any kernel below."
        )
        kernels = {}
        for col, channel in zip(st.columns(3), CHANNEL_NAMES, strict=True):
            with col:
                label = {"R": "Red", "G": "Green", "B": "Blue"}[channel]
                st.selectbox(
                    f"{label} kernel preset",
                    list(KERNELS),
                    key=f"fm_rgb_preset_{channel}",
                    on_change=_fill_kernel,
                    args=(channel,),
                )
                key = f"fm_rgb_kernel_{channel}"
                text = st.text_area(f"{label} kernel (one row per line)", key=key, height=110)
                kernels[channel] = keep_last_good(
                    key, lambda text=text, label=label: _parse_kernel(text, label)
                )
                if kernels[channel] is not None:
                    keep_grid_in_link(key, kernels[channel])
        bias = st.number_input("Bias b (one number per filter)", step=1.0, key="fm_rgb_bias")
        keep_grid_in_link("fm_rgb_bias", [[bias]])
        breakdown = None
        if all(k is not None for k in kernels.values()):
            breakdown = keep_last_good(
                "fm_rgb_breakdown", lambda: channel_breakdown(rgb, list(kernels.values()), bias, padding=1)
            )
        if breakdown is not None:
            parts = breakdown.parts
            out_h, out_w = breakdown.final.shape
            scale = color_range([parts, breakdown.total, breakdown.final])
            cols = st.columns(3)
            for col, channel, c, tint in zip(
                cols, CHANNEL_NAMES, range(3), ["Reds", "Greens", "Blues"], strict=True
            ):
                with col:
                    fig = map_figure(
                        rgb[c],
                        title=f"{channel} channel",
                        colors={"colorscale": tint, "zmin": 0, "zmax": 255},
                        side_px=240,
                        showscale=False,
                    )
                    draw(fig, key=f"fm_rgb_in_{channel}", side=max(rgb[c].shape))
                    fig = map_figure(
                        parts[c], title=f"{channel} channel * its kernel", colors=scale, side_px=240
                    )
                    draw(fig, key=f"fm_rgb_part_{channel}", side=max(parts[c].shape))
            cols = st.columns(3)
            with cols[0]:
                draw(
                    map_figure(breakdown.total, title="R + G + B maps", colors=scale, side_px=240),
                    key="fm_rgb_total",
                    side=max(breakdown.total.shape),
                )
            with cols[1]:
                st.markdown(f"### + bias\n## b = {fmt(bias)}")
                st.caption("one number, added to every cell of the map")
            with cols[2]:
                draw(
                    map_figure(breakdown.final, title="= feature map (conv2d)", colors=scale, side_px=240),
                    key="fm_rgb_final",
                    side=max(breakdown.final.shape),
                )
            gap = float(np.max(np.abs(breakdown.total + bias - breakdown.final)))
            st.markdown(
                f"Check: the largest difference between *R + G + B + b* and `conv2d`'s map is **{fmt(gap)}** "
                f"over all {out_h * out_w:,} cells (padding 1, stride 1, so the map keeps the picture's {out_h} x {out_w}). "
                f"This filter has 3 x {kernels['R'].shape[0]} x {kernels['R'].shape[1]} weights + 1 bias = "
                f"**{3 * kernels['R'].size + 1}** parameters."
            )
            st.markdown(
                "**One output cell, written out** (it starts on the strongest response inside the border; "
                "the picture is padded by 1):"
            )
            # Start on the strongest response inside the border (the zero padding makes edges of its own).
            border = 1 if min(out_h, out_w) > 2 else 0
            inner = np.abs(breakdown.final)[border : out_h - border, border : out_w - border]
            strongest = np.add(np.unravel_index(np.argmax(inner), inner.shape), border)
            for name, top in (("fm_rgb_row", out_h - 1), ("fm_rgb_col", out_w - 1)):
                if st.session_state.get(name, 0) > top:  # a smaller picture: stay inside the map
                    st.session_state[name] = top
            pi, pj = st.columns(2)
            i = pi.number_input("Output row", 0, out_h - 1, int(strongest[0]), key="fm_rgb_row")
            j = pj.number_input("Output column", 0, out_w - 1, int(strongest[1]), key="fm_rgb_col")
            st.code(
                "\n".join(breakdown.pixel_lines(int(i), int(j))),
                language=None,
                wrap_lines=True,
            )

# --- 3. 1x1 convolution: mixing channels -------------------------------------------------------------------------


def _fill_mixing() -> None:
    st.session_state["fm_mix_text"] = format_grid(np.array(MIX_PRESETS[st.session_state["fm_mix_preset"]]))


if tab_mix.open:  # tabs run lazily: only the open one computes
    with tab_mix:
        mix_input = colour_picture()
        st.markdown(
            "A **1x1 convolution** looks at one pixel at a time, across its channels: "
            "`out(i, j) = R(i, j)*w1 + G(i, j)*w2 + B(i, j)*w3 (+ b)`. Each row below is one 1x1 filter; "
            "N rows give N maps. Type w1 w2 w3, and optionally a bias, on each line."
            + (
                ""
                if c_in == 3
                else " (Using the bundled colour scene: switch on **Colour picture** for yours.)"
            )
        )
        st.selectbox("Preset", list(MIX_PRESETS), key="fm_mix_preset", on_change=_fill_mixing)
        mix_text = st.text_area("1x1 filters (one per line: w1 w2 w3 [b])", key="fm_mix_text", height=110)
        mixing = keep_last_good("fm_mix", lambda: parse_mixing(parse_grid(mix_text, name="1x1 filters")))
        if mixing is not None:
            keep_grid_in_link("fm_mix_text", parse_grid(mix_text, name="1x1 filters"))
            weights, biases = mixing
            mixed = mix_channels(mix_input, weights, biases)  # (N, H, W)
            n = weights.shape[0]
            shape_text, params_text = layer_summary(3, n, (1, 1), mixed.shape[1:])
            st.markdown(f"**Output shape** `{shape_text}`  \n**Parameters** `{params_text}`")
            scale = color_range([mixed], image=True)
            for start in range(0, n, 4):
                for col, k in zip(st.columns(4), range(start, min(n, start + 4)), strict=False):
                    with col:
                        fig = map_figure(mixed[k], title=f"Map {k + 1}", colors=scale, side_px=260)
                        draw(fig, key=f"fm_mix_map_{k}", side=max(mixed[k].shape))
                        st.caption(f"`{mixing_formula(weights[k], biases[k])}`")
            ci, cj = mix_input.shape[1] // 2, mix_input.shape[2] // 2
            r, g, b_ = (mix_input[c, ci, cj] for c in range(3))
            lines = [
                f"map {k + 1}: {fmt(r)}*{fmt(weights[k, 0])} + {fmt(g)}*{fmt(weights[k, 1])} + {fmt(b_)}*{fmt(weights[k, 2])}"
                + (f" + {fmt(biases[k])}" if biases[k] else "")
                + f" = {fmt(mixed[k, ci, cj])}"
                for k in range(n)
            ]
            st.markdown(f"**The centre pixel ({ci}, {cj})**: R = {fmt(r)}, G = {fmt(g)}, B = {fmt(b_)}")
            st.code("\n".join(lines), language=None)

# --- 4. transposed and dilated convolution --------------------------------------------------------------------

if tab_up.open:  # tabs run lazily: only the open one computes
    with tab_up:
        st.subheader("Transposed convolution: up-sampling")
        st.markdown(
            "A stride-2 3x3 convolution takes a 5x5 input to 2x2 "
            f"(floor((5 - 3) / 2) + 1 = {output_size(5, 3, stride=2)}). Its **transpose** goes back the other way, "
            "2x2 to 5x5: the example of Dumoulin and Visin's *guide to convolution arithmetic*. Two ways to see it, "
            "and they give the same numbers."
        )
        a, b, c = st.columns([1, 1, 1])
        with a:
            t_text = st.text_area("Input X", key="fm_t_input", height=110)
        with b:
            k_text = st.text_area("Kernel K", key="fm_t_kernel", height=110)
        with c:
            t_stride = st.number_input("Stride s", 1, 4, key="fm_t_stride")
            t_padding = st.number_input("Padding p (cropped from each side)", 0, 3, key="fm_t_padding")

        def _transposed():
            Xt = parse_grid(t_text, max_rows=8, max_cols=8, name="input X")
            Kt = parse_grid(k_text, max_rows=5, max_cols=5, name="kernel K")
            stamps, full, Y = transposed_scatter(Xt, Kt, stride=t_stride, padding=t_padding)
            Z, K_flipped, inserted = zero_insertion(Xt, Kt, stride=t_stride, padding=t_padding)
            reference = conv_transpose2d(Xt, Kt, stride=t_stride, padding=t_padding)
            # Everything drawn below comes from these settings, so a bad edit keeps them all together.
            settings = {"stride": t_stride, "padding": t_padding}
            return Xt, Kt, stamps, full, Y, correlation_trace(Z, K_flipped), inserted, reference, settings

        transposed = keep_last_good("fm_transposed", _transposed)
        if transposed is not None:
            Xt, Kt, stamps, full, Y, trace, inserted, reference, settings = transposed
            keep_grid_in_link("fm_t_input", Xt)
            keep_grid_in_link("fm_t_kernel", Kt)
            t_stride, t_padding, Z = settings["stride"], settings["padding"], trace.padded
            (h_t, w_t), (kh, kw) = Xt.shape, Kt.shape
            st.markdown(
                f"Output size `(n - 1)*s - 2p + k`: `({h_t} - 1)*{t_stride} - 2*{t_padding} + {kh} = {Y.shape[0]}` "
                f"rows, `({w_t} - 1)*{t_stride} - 2*{t_padding} + {kw} = {Y.shape[1]}` columns."
            )
            st.markdown(
                "**1. Scatter view.** Each input cell stamps `X[i, j] * K` onto the output, its corner at "
                "`(i*s, j*s)`; where stamps overlap they add up. The stamps land exactly where the forward "
                "convolution's windows sit."
            )
            stamp_scale = color_range([full] + [s.values for s in stamps])
            shown = stamps[:8]
            for start in range(0, len(shown), 4):
                for col, stamp in zip(st.columns(4), shown[start : start + 4], strict=False):
                    with col:
                        canvas = np.full(full.shape, np.nan)
                        canvas[np.ix_(stamp.rows, stamp.cols)] = stamp.values
                        (i, j), r, cc = stamp.index, stamp.rows, stamp.cols
                        fig = grid_figure(
                            np.nan_to_num(canvas),
                            title=f"X[{i},{j}] = {fmt(Xt[i, j])} stamps {fmt(Xt[i, j])}*K",
                            colors=stamp_scale,
                            outlines=[((int(r[0]), int(cc[0]), int(r[-1]), int(cc[-1])), WINDOW_COLOR)],
                            shade=np.isnan(canvas),
                            showscale=False,
                            cell_px=26,
                        )
                        plot(fig, key=f"fm_stamp_{i}_{j}")
            if len(stamps) > len(shown):
                st.caption(f"Showing the first {len(shown)} of {len(stamps)} stamps.")
            cols = st.columns(2)
            with cols[0]:
                plot(
                    grid_figure(full, title="Sum of all stamps", colors=stamp_scale, cell_px=30),
                    key="fm_t_full",
                )
            with cols[1]:
                crop = (
                    f"after cropping p = {t_padding} from each side"
                    if t_padding
                    else "(p = 0: nothing cropped)"
                )
                plot(
                    grid_figure(Y, title=f"Y {crop}", colors=stamp_scale, cell_px=30), key="fm_t_scatter_out"
                )

            st.markdown(
                f"**2. Zero-insertion view.** Put s - 1 = {t_stride - 1} zero(s) between neighbouring input cells, "
                f"surround them by a border of k - 1 - p = {kh - 1 - t_padding} zero(s), and slide the kernel "
                "**rotated 180 degrees** over that at stride 1: an ordinary convolution that gives the same Y."
            )
            agree = np.allclose(trace.output, Y) and np.allclose(reference, Y)
            st.markdown(
                f"Z is {Z.shape[0]}x{Z.shape[1]} (dotted cells are inserted zeros), the flipped kernel {kh}x{kw}, "
                f"so the output is {trace.shape[0]}x{trace.shape[1]}. Scatter view and zero-insertion view "
                + ("**agree** cell for cell." if agree else "**disagree**: please report this.")
            )
            stepper_with_link(
                trace,
                "fm_t",
                inserted=inserted,
                titles={"input": "Z (zeros inserted)", "kernel": "K rotated 180 degrees"},
            )

        st.divider()
        st.subheader("Dilated convolution: gaps between the taps")
        st.markdown(
            "Dilation d spreads the kernel's taps d cells apart: a 3x3 kernel with d = 2 covers 5x5 cells with "
            "the same 9 weights, so the map sees further without more parameters."
        )
        a, b, c = st.columns([1, 1, 1])
        with a:
            d_text = st.text_area("Input X", key="fm_d_input", height=180)
        with b:
            dk_text = st.text_area("Kernel K", key="fm_d_kernel", height=110)
        with c:
            dilation = st.number_input("Dilation d", 1, 4, key="fm_d_dilation")
            d_stride = st.number_input("Stride", 1, 3, key="fm_d_stride")
            d_padding = st.number_input("Padding", 0, 4, key="fm_d_padding")
        dilated = keep_last_good(
            "fm_dilated",
            lambda: correlation_trace(
                parse_grid(d_text, max_rows=16, max_cols=16, name="input X"),
                parse_grid(dk_text, max_rows=5, max_cols=5, name="kernel K"),
                stride=d_stride,
                padding=d_padding,
                dilation=dilation,
            ),
        )
        if dilated is not None:
            keep_grid_in_link("fm_d_input", dilated.X)
            keep_grid_in_link("fm_d_kernel", dilated.source_kernel)
            rows = dilated.plan.rows
            st.markdown(
                f"Kernel extent `d*(k - 1) + 1 = {rows.dilation}*({rows.f} - 1) + 1 = {rows.extent}` cells; "
                f"output rows `{rows.formula()}`."
            )
            stepper_with_link(dilated, "fm_d")

explain(INTRO)
