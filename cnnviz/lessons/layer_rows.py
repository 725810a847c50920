"""The network builder's table: one dict per layer, the way a teacher types it, and back.

`layers_from_rows` reads a table (keys from `COLUMNS`; blanks as None, NaN or "") up to its first bad row and
says which row is wrong and why; `layer_to_row` writes a layer spec (`cnnviz.lessons.layers`) as a row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

from cnnviz.lessons.layers import Conv, Flatten, Layer, Linear, Pool, ReLU, Tanh

__all__ = ["COLUMNS", "KINDS", "layer_from_row", "layer_to_row", "layers_from_rows"]


KINDS = ("conv", "max pool", "avg pool", "ReLU", "tanh", "flatten", "linear")


COLUMNS = ("layer", "name", "out", "kernel", "stride", "padding", "dilation", "in")


def _missing(value) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _whole(value, what: str, *, default=None, minimum: int = 1):
    """A table cell as a whole number (1.0 is fine, 1.5 is not); blank gives `default`."""
    if _missing(value):
        if default is None:
            raise ValueError(f"give the {what}")
        return default
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"the {what} must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, Real) or value != int(value):
        raise ValueError(f"the {what} must be a whole number, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"the {what} must be at least {minimum}, got {value}")
    return value


def _padding(value, *, words: bool):
    if _missing(value):
        return 0
    text = str(value).strip().lower()
    if words and text in ("same", "valid"):
        return text
    try:
        return _whole(float(text), "padding", minimum=0)
    except ValueError:
        allowed = 'a number, "same" or "valid"' if words else "a number"
        raise ValueError(f"padding must be {allowed}, got {value!r}") from None


def layer_from_row(row: dict) -> Layer:
    """One row of the builder's table (keys from `COLUMNS`; blanks are None/NaN/"") as a layer spec."""
    kind = str(row.get("layer") or "").strip()
    name = "" if _missing(row.get("name")) else str(row["name"]).strip()
    if kind == "conv":
        return Conv(
            out_channels=_whole(row.get("out"), "number of filters C_out (column out)"),
            kernel=_whole(row.get("kernel"), "kernel size"),
            stride=_whole(row.get("stride"), "stride", default=1),
            padding=_padding(row.get("padding"), words=True),
            dilation=_whole(row.get("dilation"), "dilation", default=1),
            name=name,
        )
    if kind in ("max pool", "avg pool"):
        size = _whole(row.get("kernel"), "pooling window (column kernel)")
        stride = _whole(row.get("stride"), "stride", default=size)
        return Pool(
            kind.split()[0],
            size,
            None if stride == size else stride,
            _padding(row.get("padding"), words=False),
            name,
        )
    if kind == "ReLU":
        return ReLU(name)
    if kind == "tanh":
        return Tanh(name)
    if kind == "flatten":
        return Flatten(name)
    if kind == "linear":
        n_in = None if _missing(row.get("in")) else _whole(row.get("in"), "input size (column in)")
        return Linear(_whole(row.get("out"), "number of outputs (column out)"), n_in, name)
    raise ValueError(f"the layer kind must be one of {', '.join(KINDS)}; got {kind!r}")


def layer_to_row(layer: Layer) -> dict:
    """A layer spec as a row of the builder's table (square kernels; blanks as None)."""
    row = dict.fromkeys(COLUMNS)
    row["name"] = layer.name
    if isinstance(layer, Conv):
        row.update(
            layer="conv",
            out=layer.out_channels,
            kernel=layer.kernel,
            stride=layer.stride,
            padding=str(layer.padding),
            dilation=layer.dilation,
        )
    elif isinstance(layer, Pool):
        row.update(
            layer=f"{layer.mode} pool", kernel=layer.size, stride=layer.step, padding=str(layer.padding)
        )
    elif isinstance(layer, Linear):
        row.update(layer="linear", out=layer.out_features, **{"in": layer.in_features})
    else:
        row["layer"] = {"relu": "ReLU", "tanh": "tanh"}.get(layer.kind, "flatten")
    return row


def layers_from_rows(rows: Sequence[dict]) -> tuple[list[Layer], str | None, int | None]:
    """The layers of a table, read up to the first bad row: (layers, error or None, its 1-based number)."""
    layers: list[Layer] = []
    for index, row in enumerate(rows, start=1):
        if all(_missing(row.get(k)) for k in COLUMNS):
            continue  # an empty row the editor just added
        try:
            layers.append(layer_from_row(row))
        except ValueError as err:
            kind = str(row.get("layer") or "?")
            return layers, f"Layer {index} ({kind}): {err}", index
    return layers, None, None
