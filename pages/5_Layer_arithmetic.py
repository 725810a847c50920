"""Layer arithmetic: build a small network and read each layer's output shape, parameters and receptive field."""

import pandas as pd
import streamlit as st

from cnnviz.layer_figures import FieldView, field_figure, output_figure
from cnnviz.layers import (
    COLUMNS,
    KINDS,
    PRESETS,
    analyse,
    layer_to_row,
    layers_from_rows,
    shape_text,
    torch_code,
)
from cnnviz.trace import fmt
from ui.common import page_setup, plot

MAX_PICTURE = 512  # input side up to which the receptive-field pictures are drawn (a 512x512 grid is ~0.3 MB)


def _math(text: str) -> str:
    """Formulas as on a slide: 2×0 rather than 2*0 (markdown would read * as italics)."""
    return text.replace("*", "×")


page_setup(
    "Layer arithmetic",
    "🧮",
    intro=(
        "Stack convolutions, pooling, ReLU, flatten and fully connected layers over an input of C channels of "
        "H x W. Each layer's output shape comes from out = floor((n + 2p - f) / s) + 1 with your numbers filled "
        "in, its parameters from C_out * (C_in * f * f + 1) (a filter spans every input channel, plus one bias), "
        "and its receptive field from how far back one output cell reaches into the input."
    ),
)

# --- The network: a preset to start from, the input shape, the editable table of layers ------------------
names = list(PRESETS)
top = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
with top[0]:
    preset_name = st.selectbox("Start from", names, key="layers_preset")
preset = PRESETS[preset_name]
if st.session_state.get("layers_loaded") != preset_name:  # a new preset: load its input and its layers
    st.session_state["layers_loaded"] = preset_name
    st.session_state["layers_version"] = st.session_state.get("layers_version", 0) + 1
    for key, value in zip(("C", "H", "W"), preset.input_shape, strict=True):
        st.session_state[f"layers_{key}"] = value
    st.session_state["layers_zoom"] = max(preset.input_shape[1:]) > 32  # big inputs: zoom to the field
with top[1]:
    c = st.number_input("Input channels C", 1, 4096, step=1, key="layers_C")
with top[2]:
    h = st.number_input("Input height H", 1, 4096, step=1, key="layers_H")
with top[3]:
    w = st.number_input("Input width W", 1, 4096, step=1, key="layers_W")
if preset.note:
    st.caption(_math(preset.note))

table = pd.DataFrame([layer_to_row(layer) for layer in preset.layers], columns=COLUMNS)
for column in ("out", "kernel", "stride", "dilation", "in"):
    table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
table["padding"] = table["padding"].astype("string")
table["name"] = table["name"].astype("string")
st.markdown(
    "**Layers, top to bottom** (edit any cell; the + under the table adds a layer; select a row and press "
    "Delete to remove it). Blank stride = 1 for conv, = the window for pooling; blank padding = 0."
)
edited = st.data_editor(
    table,
    key=f"layers_editor_{st.session_state['layers_version']}",
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    column_config={
        "layer": st.column_config.SelectboxColumn("Layer", options=KINDS, required=True, width="small"),
        "name": st.column_config.TextColumn("Name", width="small"),
        "out": st.column_config.NumberColumn(
            "Out",
            help="conv: number of filters C_out; linear: output features",
            min_value=1,
            step=1,
            format="%d",
        ),
        "kernel": st.column_config.NumberColumn(
            "Kernel f", help="conv kernel or pooling window, f x f", min_value=1, step=1, format="%d"
        ),
        "stride": st.column_config.NumberColumn("Stride s", min_value=1, step=1, format="%d"),
        "padding": st.column_config.TextColumn(
            "Padding p", help='per side: a number, or "same" / "valid" for conv (same needs stride 1)'
        ),
        "dilation": st.column_config.NumberColumn("Dilation d", min_value=1, step=1, format="%d"),
        "in": st.column_config.NumberColumn(
            "In (linear)",
            help="optional: the input size you expect; checked against the layer before",
            format="%d",
        ),
    },
)
if st.button("Reset the table to the preset", key="layers_reset"):
    st.session_state["layers_version"] += 1
    st.rerun()

layers, parse_error, _ = layers_from_rows(edited.to_dict("records"))
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


st.subheader("Shapes and parameters, layer by layer")
total_padding = st.toggle(
    "Write padding as a total p (both sides together): floor((n - f + p + s) / s)",
    key="layers_total_padding",
    help="One deck writes p for both sides together; PyTorch's padding=p is per side. Same sizes either way.",
)
st.table(_table(analysis.rows))
if error:
    st.error(error, icon="⚠️")
    st.caption("The rows above the error are still right; fix that layer to see the rest.")
totals = st.columns(3)
totals[0].metric("Parameters in all", f"{analysis.params:,}")
totals[1].metric("Output shape" + (" (before the error)" if error else ""), shape_text(analysis.output.shape))
totals[2].metric("Output values", f"{analysis.output.values:,}")
st.caption(
    "Shapes are C@HxW (C maps of H rows by W columns; PyTorch's (C, H, W) without the batch axis). "
    "Values = C×H×W numbers the layer outputs (its 'neurons'). Pooling and ReLU have no parameters."
)
with st.expander("The same network in PyTorch (copy, run, compare)"):
    st.code(torch_code(analysis), language="python")

# --- Receptive field: which input cells one output cell sees -----------------------------------------------
st.subheader("Receptive field: what one output cell sees")
st.markdown(
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
index = st.selectbox(
    "Layer",
    choices,
    index=len(choices) - 1,
    format_func=lambda k: (
        f"{k}: {analysis.rows[k].name + ', ' if analysis.rows[k].name else ''}"
        f"{analysis.rows[k].what} -> {shape_text(analysis.rows[k].shape)}"
    ),
    key="layers_rf_layer",
)
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
    st.session_state["layers_cell_row"], st.session_state["layers_cell_col"] = h_out // 2, w_out // 2
st.session_state["layers_cell_row"] = min(st.session_state["layers_cell_row"], h_out - 1)
st.session_state["layers_cell_col"] = min(st.session_state["layers_cell_col"], w_out - 1)

controls = st.columns([1, 1, 2], vertical_alignment="bottom")
with controls[0]:
    i = st.number_input(f"Output row (0..{h_out - 1})", 0, h_out - 1, step=1, key="layers_cell_row")
with controls[1]:
    j = st.number_input(f"Output column (0..{w_out - 1})", 0, w_out - 1, step=1, key="layers_cell_col")
with controls[2]:
    zoom = st.toggle("Zoom to the field", key="layers_zoom")

view = FieldView(analysis, index, (int(i), int(j)))
st.markdown(view.summary())
prev = analysis.rows[index - 1]
if row.plan is not None:
    rows_text = prev.field[0].after_formula(row.plan.rows)
    cols_text = prev.field[1].after_formula(row.plan.cols)
    st.markdown(
        f"Layer {index}: `{rows_text}`"
        if rows_text == cols_text
        else f"Layer {index}, rows: `{rows_text}`  \nColumns: `{cols_text}`"
    )
left, right = st.columns([1, 2], gap="medium")
with left:
    plot(
        output_figure(analysis, index, view.cell),
        key="layers_out_chart",
        on_select="rerun",
        selection_mode="points",
    )
with right:
    plot(field_figure(view, zoom=zoom), key="layers_field")
st.caption(
    "Paths: how many routes lead back from the chosen cell to each input pixel through the layers' windows "
    "(backpropagation with every weight 1). Pixels near the centre of the field are reached in more ways: the "
    "effective receptive field is smaller than the box. With max pooling only the winner passes a gradient, but "
    "every pixel in the box can be the winner."
)
