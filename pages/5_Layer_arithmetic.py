"""Layer arithmetic: build a small network and read each layer's output shape, parameters and receptive field."""

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cnnviz.draw.layers import FieldView, field_figure, output_figure
from cnnviz.geometry import as_pair, tf_same_padding
from cnnviz.lessons.layer_rows import COLUMNS, KINDS, layer_to_row, layers_from_rows
from cnnviz.lessons.layers import PRESETS, Preset, analyse, shape_text, torch_code
from cnnviz.lessons.netcode import decode_rows, encode_rows
from cnnviz.lessons.netspec import NET_PRESETS, NetSpec, check_trainable, spec_json
from cnnviz.trace import fmt
from ui.classroom import (
    classroom_bar,
    explain,
    projector_style,
    show,
    url_number,
    url_select,
    url_toggle,
)
from ui.common import page_setup

MAX_PICTURE = 512  # input side up to which the receptive-field pictures are drawn (a 512x512 grid is ~0.3 MB)


def _math(text: str) -> str:
    """Formulas as on a slide: 2×0 rather than 2*0 (markdown would read * as italics)."""
    return text.replace("*", "×")


EDITOR_COLUMNS = {
    "layer": st.column_config.SelectboxColumn("Layer", options=KINDS, required=True, width="small"),
    "name": st.column_config.TextColumn("Name", width="small"),
    "out": st.column_config.NumberColumn(
        "Out", help="conv: number of filters C_out; linear: output features", min_value=1, step=1, format="%d"
    ),
    "kernel": st.column_config.NumberColumn(
        "Kernel f", help="conv kernel or pooling window, f x f", min_value=1, step=1, format="%d"
    ),
    "stride": st.column_config.NumberColumn("Stride s", min_value=1, step=1, format="%d"),
    "padding": st.column_config.TextColumn(
        "Padding p",
        help='per side: a number, or "same" / "valid" for conv (same needs stride 1, as in PyTorch)',
    ),
    "dilation": st.column_config.NumberColumn("Dilation d", min_value=1, step=1, format="%d"),
    "in": st.column_config.NumberColumn(
        "In (linear)",
        help="optional: the input size you expect; checked against the layer before",
        format="%d",
    ),
}


def _linked_rows() -> list[dict] | None:
    """The table of layers a link carries (`net`), or None; a bad one warns and gives the preset."""
    text = st.query_params.get("net")
    if not text:
        return None
    try:
        return decode_rows(text)
    except ValueError as err:
        st.warning(f"{err}; showing the preset instead.", icon="🔗")
        return None


def _keep_rows_in_link(rows: list[dict], preset_rows: list[dict]) -> None:
    """The edited table in the link (`net`), unless it is the preset's own."""
    current = layers_from_rows(rows)
    if current[:2] == layers_from_rows(preset_rows)[:2] and len(rows) == len(preset_rows):
        if "net" in st.query_params:
            del st.query_params["net"]
        st.session_state["layers_net_written"] = None
        return
    text = encode_rows(rows)
    st.session_state["layers_net_written"] = text
    if st.query_params.get("net") != text:
        st.query_params["net"] = text


def _arrived_net(fresh: bool) -> bool:
    """A network in the link that this page did not write: the Train page's "Edit" link, in this session."""
    text = st.query_params.get("net")
    return bool(text) and not fresh and text != st.session_state.get("layers_net_written")


page_setup("Layer arithmetic", "🧮")
projector = classroom_bar()
explain(
    "A small network layer by layer: output shapes from out = floor((n + 2p - f) / s) + 1, parameters from "
    "C_out × (C_in × f × f + 1) and receptive fields, with your numbers filled in."
)

# --- The network: a preset to start from, the input shape, the editable table of layers ------------------
TRAINABLE = {  # the Train page's presets, for the shipped 1@28x28 digits
    f"To train: {title}": Preset(
        f"To train: {title}", spec.input_shape, spec.layers, "Ready to train on the digits."
    )
    for title, spec in NET_PRESETS.items()
}
PRESETS = {**PRESETS, **TRAINABLE}
names = list(PRESETS)
top = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
with top[0]:
    preset_name = url_select("Start from", names, key="layers_preset")
preset = PRESETS[preset_name]
fresh = "layers_loaded" not in st.session_state
arrived = _arrived_net(fresh)
if st.session_state.get("layers_loaded") != preset_name or arrived:  # load the preset's input and layers
    st.session_state["layers_loaded"] = preset_name
    st.session_state["layers_version"] = st.session_state.get("layers_version", 0) + 1
    st.session_state["layers_linked"] = _linked_rows() if fresh or arrived else None
    for key, value in zip(("C", "H", "W"), preset.input_shape, strict=True):
        st.session_state[f"layers_{key}"] = value  # a value in the link wins over this on the first load
    st.session_state["layers_zoom"] = max(preset.input_shape[1:]) > 32  # big inputs: zoom to the field
with top[1]:
    c = url_number("Input channels C", 1, 4096, step=1, key="layers_C")
with top[2]:
    h = url_number("Input height H", 1, 4096, step=1, key="layers_H")
with top[3]:
    w = url_number("Input width W", 1, 4096, step=1, key="layers_W")
with top[4], st.popover("Options…", width="stretch"):
    total_padding = url_toggle(
        "Write padding as a total p (both sides together): floor((n - f + p + s) / s)",
        key="layers_total_padding",
        help="One deck writes p for both sides together; PyTorch's padding=p is per side. Same sizes either way.",
    )
if preset.note:
    st.caption(_math(preset.note))
table_area = st.container()  # the table of shapes goes first on screen; the editor that drives it below

preset_rows = [layer_to_row(layer) for layer in preset.layers]
table = pd.DataFrame(st.session_state["layers_linked"] or preset_rows, columns=COLUMNS)
for column in ("out", "kernel", "stride", "dilation", "in"):
    table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
table["padding"] = table["padding"].astype("string")
table["name"] = table["name"].astype("string")
with st.expander("Edit the layers", expanded=not projector):
    explain(
        "Edit any cell; the + under the table adds a layer; select a row and press Delete to remove it. "
        "Blank stride = 1 for conv, = the window for pooling; blank padding = 0."
    )
    edited = st.data_editor(
        table,
        key=f"layers_editor_{st.session_state['layers_version']}",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config=EDITOR_COLUMNS,
    )
    if st.button("Reset the table to the preset", key="layers_reset"):
        st.session_state["layers_version"] += 1
        st.session_state["layers_linked"] = None
        st.rerun()

rows = edited.to_dict("records")
layers, parse_error, _ = layers_from_rows(rows)
_keep_rows_in_link(rows, preset_rows)
analysis = analyse((int(c), int(h), int(w)), layers)
error = analysis.error or parse_error


# --- The table of shapes, parameters and receptive fields ---------------------------------------------------
def _pair(a, b) -> str:
    return a if a == b else f"{a} x {b}"


def _table(rows) -> pd.DataFrame:
    records = []
    for row in rows:
        fields = row.field
        records.append(
            {
                "#": row.index,
                "Name": row.name if row.index else "input",
                "Layer": row.what,
                "Output C@HxW": shape_text(row.shape),
                "Values": f"{row.values:,}",
                "Output size": _math(row.size_formula_total if total_padding else row.size_formula),
                "Parameters": f"{row.params:,}",
                "Parameter formula": _math(row.params_formula),
                "Receptive field": _pair(*(str(f.size) for f in fields)) if fields else "whole input",
                "Jump": _pair(*(str(f.jump) for f in fields)) if fields else "",
                "Start": _pair(*(fmt(f.start) for f in fields)) if fields else "",
            }
        )
    return pd.DataFrame(records).set_index("#")


def _same_with_stride_note(layers) -> str | None:
    """Why "same" padding and stride 2 meet here only as a number, with this network's numbers."""
    for index, layer in enumerate(layers, start=1):
        if getattr(layer, "kind", "") != "conv" or as_pair(layer.stride, "stride") == (1, 1):
            continue
        f, s = as_pair(layer.kernel, "kernel")[0], as_pair(layer.stride, "stride")[0]
        n = analysis.rows[index - 1].shape[-1] if index - 1 < len(analysis.rows) else None
        wants_same = layer.padding == "same" or (layer.padding, layer.dilation) == ((f - 1) // 2, 1) and f % 2
        if n is None or not wants_same:
            continue
        before, after = tf_same_padding(n, f, s, as_pair(layer.dilation, "dilation")[0])
        return (
            f"**\"Same\" padding with stride {s}** (layer {index}): PyTorch refuses `padding='same'` when the "
            f"stride is above 1, and so do this page and the Convolution page; write the padding as a number. "
            f"p = (f - 1)/2 = {(f - 1) // 2} per side gives floor(({n} + 2×{(f - 1) // 2} - {f})/{s}) + 1 = "
            f"{(n + 2 * ((f - 1) // 2) - f) // s + 1}. TensorFlow's `padding='same'` instead aims at ceil({n}/{s}) = "
            f"{-(-n // s)} outputs and pads {before} before and {after} after (the extra cell at the bottom/right)."
        )
    return None


with table_area:
    st.table(_table(analysis.rows))
    if error:
        st.error(error, icon="⚠️")
        st.caption("The rows above the error are still right; fix that layer to see the rest.")
    totals = st.columns(3)
    totals[0].metric("Parameters in all", f"{analysis.params:,}")
    totals[1].metric(
        "Output shape" + (" (before the error)" if error else ""), shape_text(analysis.output.shape)
    )
    totals[2].metric("Output values", f"{analysis.output.values:,}")
    same_note = _same_with_stride_note(layers)
    if same_note:
        st.info(same_note, icon="ℹ️")
explain(
    "Shapes are C@HxW (C maps of H rows by W columns; PyTorch's (C, H, W) without the batch axis). "
    "Values = C×H×W numbers the layer outputs (its 'neurons'). Pooling and ReLU have no parameters."
)
st.download_button(
    "This table (CSV)",
    _table(analysis.rows).to_csv().encode(),
    "layers.csv",
    "text/csv",
    key="layers_csv",
    on_click="ignore",
)
with st.expander("The same network in PyTorch (copy, run, compare)"):
    st.code(torch_code(analysis), language="python")


def _send_to_training() -> None:
    """The button that takes this network to the Train page, or says which layer stops it training there."""
    spec = NetSpec((int(c), int(h), int(w)), tuple(layers))
    cols = st.columns([1, 1, 3], vertical_alignment="center")
    cols[1].download_button(
        "This network (JSON)",
        spec_json(spec),
        "network.json",
        "application/json",
        key="layers_json",
        on_click="ignore",
    )
    if not cols[0].button("Train this network", key="layers_train", type="primary"):
        return
    try:
        if parse_error:
            raise ValueError(parse_error)
        check_trainable(spec)
    except ValueError as err:
        st.error(f"Not sent to training: {err}", icon="⚠️")
        st.caption("The table keeps your network: fix that layer and press Train again.")
        return
    st.session_state["designnet_rows"] = rows
    st.session_state["train_network"] = "yours"
    try:
        st.switch_page("pages/6_Train_LeNet.py", query_params={"net": encode_rows(rows)})
    except StreamlitPageNotFoundError:  # only when this page runs on its own (an AppTest of one page)
        st.info("Open the Train page: this network is waiting there.")


explain(
    "Train this network on the 5,000 shipped MNIST digits (input 1@28x28, 10 classes): the Train page builds it "
    "in PyTorch from this table, trains it live and explains its conv layers."
)
_send_to_training()


# --- Receptive field: which input cells one output cell sees -----------------------------------------------
def _linked_cell(param: str, shape: tuple[int, int]) -> tuple[int, int] | None:
    """An (i, j) the link carries as "i_j" inside `shape`, or None; a bad one warns."""
    text = st.query_params.get(param)
    if not text:
        return None
    try:
        i, j = (int(v) for v in text.split("_"))
        if not (0 <= i < shape[0] and 0 <= j < shape[1]):
            raise ValueError
    except ValueError:
        st.warning(
            f"This link sets **{param}** to `{text}`, not a cell of the {shape[0]}x{shape[1]} output "
            "(it should look like 3_4); showing the centre cell instead.",
            icon="🔗",
        )
        return None
    return i, j


def _choose_layer(choices: list[int]) -> int:
    """The layer whose field is drawn: the link's (`rf`) on the first load, else the last one."""
    if fresh and "rf" in st.query_params:
        raw = st.query_params["rf"]
        if raw.isdigit() and int(raw) in choices:
            st.session_state["layers_rf_layer"] = int(raw)
        else:
            st.warning(
                f"This link sets **rf** to `{raw}`, not one of the layers {choices}; showing the last.",
                icon="🔗",
            )
    if st.session_state.get("layers_rf_layer") not in choices:
        st.session_state["layers_rf_layer"] = choices[-1]
    index = st.selectbox(
        "Layer",
        choices,
        format_func=lambda k: (
            f"{k}: {analysis.rows[k].name + ', ' if analysis.rows[k].name else ''}"
            f"{analysis.rows[k].what} -> {shape_text(analysis.rows[k].shape)}"
        ),
        key="layers_rf_layer",
    )
    _link_value("rf", str(index), str(choices[-1]))
    return index


def _link_value(param: str, value: str, default: str) -> None:
    """Keep `value` in the link under `param`, or drop it when it is the default."""
    if value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


st.subheader("Receptive field: what one output cell sees")
explain(
    "Each conv or pool layer with kernel extent k = d*(f - 1) + 1, stride s and padding p updates three numbers, "
    "starting from r = 1, jump = 1, start = 0 at the input:  \n"
    "`r_out = r_in + (k - 1) * jump_in`,  `jump_out = jump_in * s`,  "
    "`start_out = start_in + ((k - 1)/2 - p) * jump_in`  \n"
    "r is how many input cells one output cell depends on, jump how far apart neighbouring output cells' fields "
    "sit, start the centre of output cell 0's field (in input cells). Stacked 3x3 convolutions grow r by 2 each: "
    "3, 5, 7; a 2x2 pool doubles the jump, so every later layer grows it twice as fast."
)
choices = [r.index for r in analysis.spatial_rows if r.index > 0]
if not choices:
    st.info("Add a conv or pooling layer to see a receptive field (ReLU, flatten and linear have no window).")
    st.stop()
if max(h, w) > MAX_PICTURE:
    st.info(
        f"The receptive field is drawn for inputs up to {MAX_PICTURE}x{MAX_PICTURE}; this one is {h}x{w}. "
        "The table above still gives every layer's field size, jump and start."
    )
    st.stop()
index = _choose_layer(choices)
row = analysis.rows[index]
_, h_out, w_out = row.shape

# A click on the output grid (read from the chart's state before the cell inputs exist) moves the cell.
state = st.session_state.get("layers_out_chart")
points = (state or {}).get("selection", {}).get("points", []) if state else []
if points:
    clicked = (int(round(points[0]["y"])), int(round(points[0]["x"])))
    if clicked != st.session_state.get("layers_last_click"):
        st.session_state["layers_last_click"] = clicked
        st.session_state["layers_cell_row"], st.session_state["layers_cell_col"] = clicked
if st.session_state.get("layers_cell_for") != (index, h_out, w_out):  # a new layer: start at its centre
    st.session_state["layers_cell_for"] = (index, h_out, w_out)
    linked = _linked_cell("cell", (h_out, w_out)) if fresh else None
    st.session_state["layers_cell_row"], st.session_state["layers_cell_col"] = linked or (
        h_out // 2,
        w_out // 2,
    )
st.session_state["layers_cell_row"] = min(st.session_state["layers_cell_row"], h_out - 1)
st.session_state["layers_cell_col"] = min(st.session_state["layers_cell_col"], w_out - 1)

controls = st.columns([1, 1, 2], vertical_alignment="bottom")
with controls[0]:
    i = st.number_input(f"Output row (0..{h_out - 1})", 0, h_out - 1, step=1, key="layers_cell_row")
with controls[1]:
    j = st.number_input(f"Output column (0..{w_out - 1})", 0, w_out - 1, step=1, key="layers_cell_col")
with controls[2]:
    zoom = url_toggle("Zoom to the field", key="layers_zoom")
_link_value("cell", f"{int(i)}_{int(j)}", f"{h_out // 2}_{w_out // 2}")

view = FieldView(analysis, index, (int(i), int(j)))
st.markdown(view.summary())
prev = analysis.rows[index - 1]
if row.plan is not None:
    rows_text = prev.field[0].after_formula(row.plan.rows)
    cols_text = prev.field[1].after_formula(row.plan.cols)
    explain(
        f"Layer {index}: `{rows_text}`"
        if rows_text == cols_text
        else f"Layer {index}, rows: `{rows_text}`  \nColumns: `{cols_text}`"
    )
left, right = st.columns([1, 2], gap="medium")
with left:
    out_fig = projector_style(output_figure(analysis, index, view.cell), grid_side=max(h_out, w_out))
    show(out_fig, key="layers_out_chart", on_select="rerun", selection_mode="points")
with right:
    show(projector_style(field_figure(view, zoom=zoom)), key="layers_field")
explain(
    "Paths: how many routes lead back from the chosen cell to each input pixel through the layers' windows "
    "(backpropagation with every weight 1). Pixels near the centre of the field are reached in more ways: the "
    "effective receptive field is smaller than the box. With max pooling only the winner passes a gradient, but "
    "every pixel in the box can be the winner."
)
