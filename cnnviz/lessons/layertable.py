"""The Layer arithmetic table as a lesson: the presets to start from, the table's rows as text, its notes.

Built on `cnnviz.lessons.layers` (the analysis) and `cnnviz.geometry` (every size). What the page shows
about a network, as plain dicts and strings: the table of shapes, parameters and receptive fields with the
formulas written as on a slide, why "same" padding and a stride meet only as a number, the receptive-field
recurrence for one layer, the cells of a layer's output, and why a network cannot be sent to training.
No streamlit, no pandas: the page makes its widgets from these.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnviz.geometry import as_pair, plan_axis, tf_same_padding
from cnnviz.lessons.layer_rows import layers_from_rows
from cnnviz.lessons.layers import PRESETS, Analysis, Conv, Layer, Preset, Row, shape_text
from cnnviz.lessons.netspec import NET_PRESETS, NetSpec, check_trainable
from cnnviz.trace import fmt

__all__ = [
    "ALL_PRESETS",
    "centre_cell",
    "field_formula",
    "field_layers",
    "is_preset_table",
    "layer_choice_label",
    "link_cell",
    "same_with_stride_note",
    "slide_math",
    "table_records",
    "training_refusal",
]

TRAINABLE = {  # the Train page's presets, for the shipped 1@28x28 digits
    f"To train: {title}": Preset(
        f"To train: {title}", spec.input_shape, spec.layers, "Ready to train on the digits."
    )
    for title, spec in NET_PRESETS.items()
}
ALL_PRESETS: dict[str, Preset] = {**PRESETS, **TRAINABLE}  # the lecture's networks, then the trainable ones


def slide_math(text: str) -> str:
    """Formulas as on a slide: 2×0 rather than 2*0 (markdown would read * as italics)."""
    return text.replace("*", "×")


def _pair(a: str, b: str) -> str:
    return a if a == b else f"{a} x {b}"


def table_records(rows: Sequence[Row], *, total_padding: bool = False) -> list[dict]:
    """One dict per row of the table (the input first): shape, values, sizes and parameters with their
    formulas, and the receptive field's size, jump and start (rows x columns when they differ).

    `total_padding` writes the output size with p as the total of both sides, floor((n - f + p + s) / s).
    """
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
                "Output size": slide_math(row.size_formula_total if total_padding else row.size_formula),
                "Parameters": f"{row.params:,}",
                "Parameter formula": slide_math(row.params_formula),
                "Receptive field": _pair(*(str(f.size) for f in fields)) if fields else "whole input",
                "Jump": _pair(*(str(f.jump) for f in fields)) if fields else "",
                "Start": _pair(*(fmt(f.start) for f in fields)) if fields else "",
            }
        )
    return records


def _wants_same(layer: Conv, f: int) -> bool:
    """ "same" written as a word, or as the number (f - 1)/2 for an odd undilated kernel."""
    return layer.padding == "same" or ((layer.padding, layer.dilation) == ((f - 1) // 2, 1) and f % 2 == 1)


def same_with_stride_note(analysis: Analysis, layers: Sequence[Layer]) -> str | None:
    """Why "same" padding and a stride above 1 meet here only as a number, with this network's numbers.

    For the first strided conv layer that asks for "same": PyTorch's per-side p = (f - 1)/2 and its output
    size, beside TensorFlow's "same" (ceil(n / s) outputs, padded before and after by `tf_same_padding`).
    """
    for index, layer in enumerate(layers, start=1):
        if not isinstance(layer, Conv) or as_pair(layer.stride, "stride") == (1, 1):
            continue
        f, s = as_pair(layer.kernel, "kernel")[0], as_pair(layer.stride, "stride")[0]
        if index - 1 >= len(analysis.rows) or not _wants_same(layer, f):
            continue
        n = analysis.rows[index - 1].shape[-1]  # the layer's input width
        p = (f - 1) // 2
        before, after = tf_same_padding(n, f, s, as_pair(layer.dilation, "dilation")[0])
        torch_out = plan_axis(n, f, stride=s, padding=p, check_fit=False).size
        tf_out = plan_axis(n, 1, stride=s, check_fit=False).size  # ceil(n / s): one window per stride
        return (
            f"**\"Same\" padding with stride {s}** (layer {index}): PyTorch refuses `padding='same'` when the "
            f"stride is above 1, and so do this page and the Convolution page; write the padding as a number. "
            f"p = (f - 1)/2 = {p} per side gives floor(({n} + 2×{p} - {f})/{s}) + 1 = {torch_out}. "
            f"TensorFlow's `padding='same'` instead aims at ceil({n}/{s}) = {tf_out} outputs and pads {before} "
            f"before and {after} after (the extra cell at the bottom/right)."
        )
    return None


def is_preset_table(rows: Sequence[dict], preset_rows: Sequence[dict]) -> bool:
    """True when the edited table describes the preset's own layers (so a link need not carry it)."""
    return len(rows) == len(preset_rows) and layers_from_rows(rows)[:2] == layers_from_rows(preset_rows)[:2]


def training_refusal(spec: NetSpec, parse_error: str | None = None) -> str | None:
    """Why this network cannot be trained on the Train page (naming the layer), or None when it can."""
    if parse_error:
        return parse_error
    try:
        check_trainable(spec)
    except ValueError as err:
        return str(err)
    return None


# --- Receptive field: one layer, one output cell ------------------------------------------------------------


def field_layers(analysis: Analysis) -> list[int]:
    """The layers with a receptive field to draw: every conv or pool layer before the maps are flattened."""
    return [r.index for r in analysis.spatial_rows if r.index > 0]


def layer_choice_label(analysis: Analysis, index: int) -> str:
    """ "3: C3, conv 5x5, 16 filters -> 16@10x10": a layer as the field view's layer picker lists it."""
    row = analysis.rows[index]
    return f"{index}: {row.name + ', ' if row.name else ''}{row.what} -> {shape_text(row.shape)}"


def centre_cell(shape: Sequence[int]) -> tuple[int, int]:
    """The output cell a new layer's field view starts at: the middle of its (H, W) maps."""
    h, w = shape[-2:]
    return h // 2, w // 2


def link_cell(text: str, shape: Sequence[int]) -> tuple[int, int]:
    """The cell a link writes as "i_j", inside (H, W) maps; a ValueError says what a cell looks like."""
    h, w = shape[-2:]
    try:
        i, j = (int(v) for v in text.split("_"))
    except ValueError:
        i = j = -1
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(f"not a cell of the {h}x{w} output (it should look like 3_4)")
    return i, j


def field_formula(analysis: Analysis, index: int) -> str | None:
    """Layer `index`'s receptive-field recurrence with its numbers (rows and columns apart when they differ)."""
    row, prev = analysis.rows[index], analysis.rows[index - 1]
    if row.plan is None:
        return None
    rows_text = prev.field[0].after_formula(row.plan.rows)
    cols_text = prev.field[1].after_formula(row.plan.cols)
    if rows_text == cols_text:
        return f"Layer {index}: `{rows_text}`"
    return f"Layer {index}, rows: `{rows_text}`  \nColumns: `{cols_text}`"
