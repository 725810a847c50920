"""Layer arithmetic: build a small network and read each layer's output shape, parameters and receptive field."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

import ui.page as ui
from cnnviz.draw.layers import FieldView, field_figure, output_figure
from cnnviz.lessons.layer_rows import COLUMNS, KINDS, layer_to_row, layers_from_rows
from cnnviz.lessons.layers import Analysis, Preset, analyse, shape_text, torch_code
from cnnviz.lessons.layertable import (
    ALL_PRESETS,
    centre_cell,
    field_formula,
    field_layers,
    is_preset_table,
    layer_choice_label,
    link_cell,
    same_with_stride_note,
    slide_math,
    table_records,
    training_refusal,
)
from cnnviz.lessons.netcode import decode_rows, encode_rows
from cnnviz.lessons.netspec import NetSpec, spec_json

ZOOM_ABOVE = 32  # inputs with a side above this open with the field view zoomed to the field
MAX_PICTURE = 512  # input side up to which the receptive-field pictures are drawn (a 512x512 grid is ~0.3 MB)
INPUT_LABELS = {"C": "Input channels C", "H": "Input height H", "W": "Input width W"}
NUMBER_COLUMNS = ("out", "kernel", "stride", "dilation", "in")  # the editor's number columns (blank: NaN)
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


# --- The link: the edited table (`net`), the field's layer (`rf`) and cell (`cell`) ------------------------------
def _link_value(param: str, value: str, default: str) -> None:
    """Keep `value` in the link under `param`, or drop it when it is the default."""
    if value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != value:
        st.query_params[param] = value


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
    text = None if is_preset_table(rows, preset_rows) else encode_rows(rows)
    st.session_state["layers_net_written"] = text
    _link_value("net", text or "", "")


def _link_unread(param: str) -> bool:
    """Whether the link's `param` (the field's layer `rf` or cell `cell`) is still to be applied: each is
    applied once, in the first run that reaches it. Not "in the session's first run": a run can be cut short
    (a browser's rerun request arrives mid-run), and the next run must still apply what the link holds."""
    return param in st.session_state.get("layers_link_unread", ())


def _link_read(*params: str) -> None:
    """The link's `params` are applied (or no longer apply): later runs leave them to the widgets."""
    st.session_state["layers_link_unread"] = st.session_state.get("layers_link_unread", set()) - set(params)


def _arrived_net() -> bool:
    """A network in the link that this page did not write: the Train page's "Edit" link, in this session."""
    text = st.query_params.get("net")
    return bool(text) and text != st.session_state.get("layers_net_written")


# --- The network: a preset to start from, the input shape, the editable table of layers -----------------------
def _zoomed(preset: Preset) -> bool:
    """Big inputs open with the field view zoomed to the field."""
    return max(preset.input_shape[1:]) > ZOOM_ABOVE


def _load(preset: Preset, linked_rows: list[dict] | None) -> None:
    """The preset's input shape and zoom in the widgets, and a fresh table: its layers, or `linked_rows`."""
    c, h, w = preset.input_shape
    ui.set_widgets({"layers_C": c, "layers_H": h, "layers_W": w, "layers_zoom": _zoomed(preset)})
    st.session_state["layers_loaded"] = preset.title
    st.session_state["layers_version"] = st.session_state.get("layers_version", 0) + 1
    st.session_state["layers_linked"] = linked_rows


def _on_preset_change() -> None:
    _load(ALL_PRESETS[st.session_state["layers_preset"]], None)


def network_section() -> tuple[Preset, tuple[int, int, int], bool]:
    """The preset, the input shape C, H, W and the padding convention."""
    top = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
    with top[0]:
        preset_name = ui.url_select(
            "Start from", list(ALL_PRESETS), key="layers_preset", on_change=_on_preset_change
        )
    preset = ALL_PRESETS[preset_name]
    if "layers_loaded" not in st.session_state:
        # The first visit: the link's table, if any (the link's input shape wins over the preset's); its
        # field layer and cell are applied where the field is drawn.
        st.session_state["layers_link_unread"] = {"rf", "cell"}
        st.session_state["layers_linked"] = _linked_rows()
        st.session_state["layers_version"] = 0
        st.session_state["layers_loaded"] = preset_name
    elif _arrived_net():  # an address from another page, not a widget: no callback runs, so load it here
        _load(preset, _linked_rows())
    shape = []
    for col, (axis, label), default in zip(top[1:4], INPUT_LABELS.items(), preset.input_shape, strict=True):
        with col:
            shape.append(int(ui.url_number(label, 1, 4096, default, step=1, key=f"layers_{axis}")))
    with top[4], st.popover("Options…", width="stretch"):
        total_padding = ui.url_toggle(
            "Write padding as a total p (both sides together): floor((n - f + p + s) / s)",
            key="layers_total_padding",
            help="One deck writes p for both sides together; PyTorch's padding=p is per side. Same sizes either way.",
        )
    if preset.note:
        st.caption(slide_math(preset.note))
    return preset, tuple(shape), total_padding


def _reset_table() -> None:
    """A new editor (its key has a version) on the preset's own rows."""
    st.session_state["layers_version"] += 1
    st.session_state["layers_linked"] = None


def _editor_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as the editor's table: numbers as floats (blank = NaN), text as strings."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in NUMBER_COLUMNS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table.astype({"padding": "string", "name": "string"})


def _kept_rows() -> list[dict] | None:
    """The rows as the editor left them in this table's version (None: not edited since it was loaded)."""
    version, rows = st.session_state.get("layers_rows", (None, None))
    return rows if version == st.session_state["layers_version"] else None


def _editor_key() -> str:
    """The editor's key: a new version is a new editor, on new starting rows."""
    return f"layers_editor_{st.session_state['layers_version']}"


def editor_section(preset: Preset) -> list[dict]:
    """The table of layers as the user left it (the link's, else the preset's, with their edits).

    The editor is drawn only while its fold is open: its grid (JavaScript of its own, a canvas) was about
    0.15 s of the page's first render. Closed, the rows it left stand; reopened, it starts from them."""
    preset_rows = [layer_to_row(layer) for layer in preset.layers]
    with ui.folded("Edit the layers", key="layers_edit", projector=True) as open_:
        if open_:
            ui.explain(
                "Edit any cell; the + under the table adds a layer; select a row and press Delete to remove it. "
                "Blank stride = 1 for conv, = the window for pooling; blank padding = 0."
            )
            kept = _kept_rows()
            if kept is not None and _editor_key() not in st.session_state:
                # Reopened: Streamlit forgot the closed editor's edits (a widget not drawn in a run loses its
                # state), so a new editor starts from the rows it left.
                st.session_state["layers_linked"] = kept
                st.session_state["layers_version"] += 1
            edited = st.data_editor(
                _editor_frame(st.session_state["layers_linked"] or preset_rows),
                key=_editor_key(),
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                column_config=EDITOR_COLUMNS,
            )
            st.button("Reset the table to the preset", key="layers_reset", on_click=_reset_table)
            rows = edited.to_dict("records")
        else:
            kept = _kept_rows()
            rows = kept if kept is not None else st.session_state["layers_linked"] or preset_rows
    st.session_state["layers_rows"] = (st.session_state["layers_version"], rows)
    _keep_rows_in_link(rows, preset_rows)
    return rows


# --- The table of shapes, parameters and receptive fields --------------------------------------------------------
def shape_table_section(
    analysis: Analysis, layers: list, error: str | None, total_padding: bool
) -> pd.DataFrame:
    """The table with the totals under it and the note on "same" with a stride; returns the table."""
    records = table_records(analysis.rows, total_padding=total_padding)
    ui.table([{k: v for k, v in r.items() if k != "#"} for r in records], right=("Values", "Parameters"))
    if error:
        st.error(error, icon="⚠️")
        st.caption("The rows above the error are still right; fix that layer to see the rest.")
    totals = st.columns(3)
    totals[0].metric("Parameters in all", f"{analysis.params:,}")
    totals[1].metric(
        "Output shape" + (" (before the error)" if error else ""), shape_text(analysis.output.shape)
    )
    totals[2].metric("Output values", f"{analysis.output.values:,}")
    same_note = same_with_stride_note(analysis, layers)
    if same_note:
        st.info(same_note, icon="ℹ️")
    return pd.DataFrame(records).set_index("#")


def table_extras_section(table: pd.DataFrame, analysis: Analysis) -> None:
    """How to read the shapes, the table as CSV, and the network in PyTorch."""
    ui.explain(
        "Shapes are C@HxW (C maps of H rows by W columns; PyTorch's (C, H, W) without the batch axis). "
        "Values = C×H×W numbers the layer outputs (its 'neurons'). Pooling and ReLU have no parameters."
    )
    st.download_button(
        "This table (CSV)",
        table.to_csv().encode(),
        "layers.csv",
        "text/csv",
        key="layers_csv",
        on_click="ignore",
    )
    # Drawn only when opened: a highlighted code block costs the browser ~0.3 s of the page's first render.
    with ui.folded(
        "The same network in PyTorch (copy, run, compare)", key="layers_torch", projector=True
    ) as open_:
        if open_:
            st.code(torch_code(analysis), language="python")


def send_to_training_section(spec: NetSpec, rows: list[dict], parse_error: str | None) -> None:
    """The button that takes this network to the Train page, or says which layer stops it training there."""
    ui.explain(
        "Train this network on the 5,000 shipped MNIST digits (input 1@28x28, 10 classes): the Train page builds "
        "it in PyTorch from this table, trains it live and explains its conv layers."
    )
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
    refusal = training_refusal(spec, parse_error)
    if refusal:
        st.error(f"Not sent to training: {refusal}", icon="⚠️")
        st.caption("The table keeps your network: fix that layer and press Train again.")
        return
    st.session_state["designnet_rows"] = rows
    st.session_state["train_network"] = "yours"
    try:
        st.switch_page("pages/6_Train_LeNet.py", query_params={"net": encode_rows(rows)})
    except StreamlitPageNotFoundError:  # only when this page runs on its own (an AppTest of one page)
        st.info("Open the Train page: this network is waiting there.")


# --- Receptive field: which input cells one output cell sees ------------------------------------------------------
def _choose_layer(analysis: Analysis, choices: list[int]) -> int:
    """The layer whose field is drawn: the link's (`rf`) on the first load, else the last one."""
    if _link_unread("rf") and "rf" in st.query_params:
        raw = st.query_params["rf"]
        if raw.isdigit() and int(raw) in choices:
            st.session_state["layers_rf_layer"] = int(raw)
        else:
            st.warning(
                f"This link sets **rf** to `{raw}`, not one of the layers {choices}; showing the last.",
                icon="🔗",
            )
    _link_read("rf")
    if st.session_state.get("layers_rf_layer") not in choices:
        st.session_state["layers_rf_layer"] = choices[-1]
    index = st.selectbox(
        "Layer", choices, format_func=lambda k: layer_choice_label(analysis, k), key="layers_rf_layer"
    )
    _link_value("rf", str(index), str(choices[-1]))
    return index


def _linked_cell(shape: tuple[int, ...]) -> tuple[int, int] | None:
    """The cell the link carries (`cell`, "i_j") inside `shape`, or None; a bad one warns."""
    text = st.query_params.get("cell")
    if not text:
        return None
    try:
        return link_cell(text, shape)
    except ValueError as err:
        st.warning(f"This link sets **cell** to `{text}`, {err}; showing the centre cell instead.", icon="🔗")
        return None


def _start_cell(index: int, shape: tuple[int, ...]) -> None:
    """Where the cell inputs start, set before they are drawn: a click on the output grid (the chart's selection
    arrives as its state, with no callback), a new layer's centre (or the link's cell), kept inside the maps."""
    state = st.session_state.get("layers_out_chart")
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if points:
        clicked = (int(round(points[0]["y"])), int(round(points[0]["x"])))
        if clicked != st.session_state.get("layers_last_click"):
            st.session_state["layers_last_click"] = clicked
            st.session_state["layers_cell_row"], st.session_state["layers_cell_col"] = clicked
    if st.session_state.get("layers_cell_for") != (index, *shape[-2:]):  # a new layer: start at its centre
        st.session_state["layers_cell_for"] = (index, *shape[-2:])
        linked = _linked_cell(shape) if _link_unread("cell") else None
        _link_read("cell")
        st.session_state["layers_cell_row"], st.session_state["layers_cell_col"] = linked or centre_cell(
            shape
        )
    # The shape comes from the whole network, read in this run; the boxes are not bound to the link (the
    # link's cell is written by `_link_value`), so a value set before them holds.
    ui.keep_within("layers_cell_row", shape[-2] - 1)
    ui.keep_within("layers_cell_col", shape[-1] - 1)


def _choose_cell(index: int, shape: tuple[int, ...], zoomed: bool) -> tuple[tuple[int, int], bool]:
    """The output cell (row, column) and whether to zoom to its field; the cell is kept in the link."""
    _start_cell(index, shape)
    h_out, w_out = shape[-2:]
    controls = st.columns([1, 1, 2], vertical_alignment="bottom")
    with controls[0]:
        i = st.number_input(f"Output row (0..{h_out - 1})", 0, h_out - 1, step=1, key="layers_cell_row")
    with controls[1]:
        j = st.number_input(f"Output column (0..{w_out - 1})", 0, w_out - 1, step=1, key="layers_cell_col")
    with controls[2]:
        zoom = ui.url_toggle("Zoom to the field", key="layers_zoom", value=zoomed)
    _link_value("cell", f"{int(i)}_{int(j)}", "_".join(map(str, centre_cell(shape))))
    return (int(i), int(j)), zoom


@ui.cached_figure
def output_grid(
    input_shape: tuple[int, int, int], layers: tuple, index: int, cell: tuple[int, int]
) -> go.Figure:
    """Layer `index`'s output grid with `cell` marked (how many input cells each output cell sees)."""
    return output_figure(analyse(input_shape, layers), index, cell)


@ui.cached_figure
def field_picture(
    input_shape: tuple[int, int, int], layers: tuple, index: int, cell: tuple[int, int], zoom: bool
) -> go.Figure:
    """The input with `cell`'s receptive field outlined and the paths to each input cell counted."""
    return field_figure(FieldView(analyse(input_shape, layers), index, cell), zoom=zoom)


FIELD_TEXT = (
    "Each conv or pool layer with kernel extent k = d*(f - 1) + 1, stride s and padding p updates three "
    "numbers, starting from r = 1, jump = 1, start = 0 at the input:  \n"
    "`r_out = r_in + (k - 1) * jump_in`,  `jump_out = jump_in * s`,  "
    "`start_out = start_in + ((k - 1)/2 - p) * jump_in`  \n"
    "r is how many input cells one output cell depends on, jump how far apart neighbouring output cells' "
    "fields sit, start the centre of output cell 0's field (in input cells). Stacked 3x3 convolutions grow r "
    "by 2 each: 3, 5, 7; a 2x2 pool doubles the jump, so every later layer grows it twice as fast."
)
PATHS_TEXT = (
    "Paths: how many routes lead back from the chosen cell to each input pixel through the layers' windows "
    "(backpropagation with every weight 1). Pixels near the centre of the field are reached in more ways: "
    "the effective receptive field is smaller than the box. With max pooling only the winner passes a "
    "gradient, but every pixel in the box can be the winner."
)


def receptive_field_section(analysis: Analysis, layers: list, zoomed: bool) -> None:
    """Pick a layer and one of its output cells; see the input cells it reads, and by how many paths."""
    st.subheader("Receptive field: what one output cell sees")
    ui.explain(FIELD_TEXT)
    choices = field_layers(analysis)
    if not choices:
        st.info(
            "Add a conv or pooling layer to see a receptive field (ReLU, flatten and linear have no window)."
        )
        _link_read("rf", "cell")  # the link's field is not drawn: it does not wait for a later network
        return
    _, h, w = analysis.input_shape
    if max(h, w) > MAX_PICTURE:
        st.info(
            f"The receptive field is drawn for inputs up to {MAX_PICTURE}x{MAX_PICTURE}; this one is {h}x{w}. "
            "The table above still gives every layer's field size, jump and start."
        )
        _link_read("rf", "cell")
        return
    index = _choose_layer(analysis, choices)
    cell, zoom = _choose_cell(index, analysis.rows[index].shape, zoomed)
    st.markdown(FieldView(analysis, index, cell).summary())
    formula = field_formula(analysis, index)
    if formula:
        ui.explain(formula)
    left, right = st.columns([1, 2], gap="medium")
    with left:
        out_fig = output_grid(analysis.input_shape, tuple(layers), index, cell)
        ui.show_grid(out_fig, key="layers_out_chart", on_select="rerun", selection_mode="points")
    with right:
        ui.show_grid(
            field_picture(analysis.input_shape, tuple(layers), index, cell, zoom), key="layers_field"
        )
    ui.explain(PATHS_TEXT)


def main() -> None:
    ui.page_setup("Layer arithmetic", "🧮")
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: a widget here reruns only this, not the page's menu)."""
    ui.explain(
        "A small network layer by layer: output shapes from out = floor((n + 2p - f) / s) + 1, parameters from "
        "C_out × (C_in × f × f + 1) and receptive fields, with your numbers filled in."
    )
    preset, input_shape, total_padding = network_section()
    table_area = st.container()  # the table of shapes goes first on screen; the editor that drives it below
    rows = editor_section(preset)
    layers, parse_error, _ = layers_from_rows(rows)
    analysis = analyse(input_shape, layers)
    with table_area:
        table = shape_table_section(analysis, layers, analysis.error or parse_error, total_padding)
    table_extras_section(table, analysis)
    send_to_training_section(NetSpec(input_shape, tuple(layers)), rows, parse_error)
    receptive_field_section(analysis, layers, _zoomed(preset))


main()
