"""Layer arithmetic: a small network as a list of layer specs, its shapes, parameters and receptive fields.

Each layer is a frozen dataclass (`Conv`, `Pool`, `ReLU`, `Flatten`, `Linear`). `analyse(input_shape,
layers)` walks them in order and returns one `Row` per layer: the output shape, the output-size formula
(from `cnnviz.geometry`, where the window arithmetic lives), the parameter count with its formula filled
in, and the receptive field (size, jump, start). A layer that does not fit stops the walk with an error
that names it; the rows before it stay. Shapes are (C, H, W) for maps and (features,) after `Flatten`,
with no batch axis, as PyTorch prints them after `x[0]`.

This module imports neither streamlit nor torch; `torch_code` writes the same network as PyTorch source,
which the tests run to check every shape and parameter count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from cnnviz.geometry import AxisPlan, Plan2D, as_pair, check_pool_padding, plan_2d
from cnnviz.trace import count, fmt

__all__ = [
    "PRESETS",
    "Analysis",
    "Conv",
    "Field",
    "Flatten",
    "Layer",
    "Linear",
    "Pool",
    "Preset",
    "ReLU",
    "Row",
    "Tanh",
    "analyse",
    "axis_paths",
    "axis_reach",
    "paths",
    "shape_text",
    "torch_call",
    "torch_code",
]

Shape = tuple[int, ...]  # (C, H, W) for feature maps, (features,) once flattened


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution layer (cross-correlation, as in PyTorch): C_out filters of C_in x kh x kw, plus biases."""

    out_channels: int  # C_out: how many filters, i.e. output feature maps
    kernel: int | tuple[int, int] = 3  # f, or (kh, kw)
    stride: int | tuple[int, int] = 1
    padding: int | str | tuple[int, int] = 0  # per side, or "same" / "valid" (PyTorch's convention)
    dilation: int | tuple[int, int] = 1  # 1 = no gaps between kernel taps
    name: str = ""

    kind = "conv"

    def describe(self) -> str:
        kh, kw = as_pair(self.kernel, "kernel")
        parts = [f"conv {kh}x{kw}, {count(self.out_channels, 'filter')}"]
        if as_pair(self.stride, "stride") != (1, 1):
            parts.append(f"stride {_pair_text(self.stride)}")
        if self.padding not in (0, "valid", (0, 0)):
            parts.append(f"padding {_pair_text(self.padding)}")
        if as_pair(self.dilation, "dilation") != (1, 1):
            parts.append(f"dilation {_pair_text(self.dilation)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Pool:
    """Max or average pooling, channel by channel: no parameters."""

    mode: str = "max"  # "max" or "avg"
    size: int | tuple[int, int] = 2  # the window f
    stride: int | tuple[int, int] | None = None  # None: the same as the window, as PyTorch does
    padding: int | tuple[int, int] = 0  # per side; PyTorch allows at most half the window

    name: str = ""

    kind = "pool"

    @property
    def step(self) -> int | tuple[int, int]:
        return self.size if self.stride is None else self.stride

    def describe(self) -> str:
        kh, kw = as_pair(self.size, "pool size")
        parts = [f"{self.mode} pool {kh}x{kw}"]
        if as_pair(self.step, "stride") != (kh, kw):
            parts.append(f"stride {_pair_text(self.step)}")
        if self.padding not in (0, (0, 0)):
            parts.append(f"padding {_pair_text(self.padding)}")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Reshaping:
    """A layer with no settings and no parameters; `kind` names it, `label` describes it."""

    name: str = ""

    kind = ""
    label = ""

    def describe(self) -> str:
        return self.label


class ReLU(_Reshaping):
    """max(0, x) element by element: same shape, no parameters."""

    kind, label = "relu", "ReLU"


class Tanh(_Reshaping):
    """tanh(x) element by element, squashing into (-1, 1): same shape, no parameters."""

    kind, label = "tanh", "tanh"


class Flatten(_Reshaping):
    """C x H x W maps laid out as one vector of C*H*W features (what goes into a fully connected layer)."""

    kind, label = "flatten", "flatten"


@dataclass(frozen=True)
class Linear:
    """A fully connected layer: every input feature to every output, plus one bias per output."""

    out_features: int
    in_features: int | None = None  # None: whatever the previous layer gives; a number is checked against it
    name: str = ""

    kind = "linear"

    def describe(self) -> str:
        return f"linear, {count(self.out_features, 'output')}"


Layer = Conv | Pool | ReLU | Tanh | Flatten | Linear


def _pair_text(value) -> str:
    if isinstance(value, str):
        return value
    a, b = as_pair(value, "value")
    return f"{a}" if a == b else f"({a}, {b})"


def shape_text(shape: Shape) -> str:
    """(6, 28, 28) -> "6@28x28" (LeNet's notation: C maps of H x W); (400,) -> "400"."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{c}@{h}x{w}"
    return f"{shape[0]:,}"


@dataclass(frozen=True)
class Field:
    """The receptive field along one axis, in input cells.

    `size`: how many input cells one output cell depends on (padding included); `jump`: how far apart, in
    input cells, two neighbouring output cells' fields sit; `start`: the input position of the centre of
    output cell 0's field (0 = the centre of input cell 0; negative or half-integer values are fine).
    """

    size: int
    jump: int
    start: float

    def after(self, plan: AxisPlan) -> Field:
        """The field one conv/pool layer later: r + (k_eff - 1) * j, j * s, start + ((k_eff - 1)/2 - p) * j."""
        k_eff, p = plan.extent, plan.pad_before
        return Field(
            size=self.size + (k_eff - 1) * self.jump,
            jump=self.jump * plan.stride,
            start=self.start + ((k_eff - 1) / 2 - p) * self.jump,
        )

    def after_formula(self, plan: AxisPlan) -> str:
        """The recurrence of `after` with this layer's numbers filled in."""
        k = f"({plan.dilation}*({plan.f} - 1) + 1)" if plan.dilation > 1 else f"{plan.f}"
        new = self.after(plan)
        return (
            f"r = {self.size} + ({k} - 1)*{self.jump} = {new.size};  "
            f"jump = {self.jump}*{plan.stride} = {new.jump};  "
            f"start = {fmt(self.start)} + (({k} - 1)/2 - {plan.pad_before})*{self.jump} = {fmt(new.start)}"
        )

    def region(self, i: int) -> tuple[int, int]:
        """Input positions (first, last) the field of output cell `i` spans; may reach into the padding."""
        centre = self.start + i * self.jump
        half = (self.size - 1) / 2
        return int(round(centre - half)), int(round(centre + half))


INPUT_FIELD = Field(1, 1, 0.0)


@dataclass(frozen=True)
class Row:
    """One layer of the table: what it does, its output shape, its parameters and its receptive field."""

    index: int  # 0 for the input, 1.. for the layers
    name: str
    what: str
    shape: Shape
    params: int = 0
    params_formula: str = "0"
    size_formula: str = ""
    plan: Plan2D | None = None  # conv and pool only
    field: tuple[Field, Field] | None = None  # (rows, columns); None once the maps are flattened
    layer: Layer | None = None

    @property
    def values(self) -> int:
        """How many numbers this layer outputs ("neurons"): C*H*W or the feature count."""
        return math.prod(self.shape)

    @property
    def size_formula_total(self) -> str:
        """The output size in the other convention, padding p as a total: floor((n - f + p + s) / s)."""
        return self.size_formula if self.plan is None else _size_formula(self.plan, total=True)


@dataclass(frozen=True)
class Analysis:
    """Every layer's row (the input first), and the first error if a layer does not fit."""

    input_shape: Shape
    rows: tuple[Row, ...]
    error: str | None = None
    error_index: int | None = None  # the layer number (1-based) that failed

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def output(self) -> Row:
        return self.rows[-1]

    @property
    def spatial_rows(self) -> list[Row]:
        """The input and every layer whose output is still a stack of maps (with a receptive field)."""
        return [r for r in self.rows if r.field is not None]

    def plans(self, upto: int) -> list[Plan2D]:
        """The conv/pool plans from the input to the output of row `upto` (ReLU changes no geometry)."""
        return [r.plan for r in self.rows[1 : upto + 1] if r.plan is not None]


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{what} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _size_formula(plan: Plan2D, *, total: bool = False) -> str:
    """The output-size formula of both axes, once when they agree; `total`: padding as both sides together."""
    if total:
        rows, cols = plan.rows.formula_total_padding(), plan.cols.formula_total_padding()
    else:
        rows, cols = plan.rows.formula(), plan.cols.formula()
    return f"H = W = {rows}" if rows == cols else f"H = {rows};  W = {cols}"


def _conv_row(index: int, layer: Conv, shape: Shape, field) -> Row:
    c_in, h, w = shape
    c_out = _check_count(layer.out_channels, "the number of filters (C_out)")
    plan = plan_2d(
        (h, w),
        as_pair(layer.kernel, "kernel"),
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
    )
    kh, kw = plan.kernel_shape
    params = c_out * (c_in * kh * kw + 1)  # one C_in x kh x kw filter and one bias per output map
    return Row(
        index,
        layer.name,
        layer.describe(),
        (c_out, *plan.shape),
        params,
        f"{c_out}*({c_in}*{kh}*{kw} + 1) = {params:,}",
        _size_formula(plan),
        plan,
        (field[0].after(plan.rows), field[1].after(plan.cols)),
        layer,
    )


def _pool_row(index: int, layer: Pool, shape: Shape, field) -> Row:
    if layer.mode not in ("max", "avg"):
        raise ValueError(f'pooling is "max" or "avg", got {layer.mode!r}')
    if isinstance(layer.padding, str):
        raise ValueError(
            "pooling padding must be a number: PyTorch's pooling layers have no 'same' or 'valid'"
        )
    c, h, w = shape
    plan = plan_2d((h, w), as_pair(layer.size, "pool size"), stride=layer.step, padding=layer.padding)
    check_pool_padding(plan)
    return Row(
        index,
        layer.name,
        layer.describe(),
        (c, *plan.shape),
        0,
        "0 (nothing to learn)",
        _size_formula(plan),
        plan,
        (field[0].after(plan.rows), field[1].after(plan.cols)),
        layer,
    )


def _linear_row(index: int, layer: Linear, shape: Shape) -> Row:
    out = _check_count(layer.out_features, "the number of outputs")
    n_in = shape[0]
    if layer.in_features is not None and layer.in_features != n_in:
        raise ValueError(
            f"this linear layer expects {layer.in_features:,} inputs but the layer before gives {n_in:,}; "
            f"set its input size to {n_in:,} (or leave it blank to take what comes)"
        )
    params = (n_in + 1) * out  # a weight from every input plus a bias, for each output
    return Row(
        index,
        layer.name,
        layer.describe(),
        (out,),
        params,
        f"({n_in:,} + 1)*{out:,} = {params:,}",
        layer=layer,
    )


def _row(index: int, layer: Layer, shape: Shape, field) -> Row:
    flat = len(shape) == 1
    if isinstance(layer, (Conv, Pool)) and flat:
        raise ValueError(
            f"a {layer.kind} layer needs C@HxW maps but gets a flat vector of {shape[0]:,} features; "
            "move it before the flatten"
        )
    if isinstance(layer, Conv):
        return _conv_row(index, layer, shape, field)
    if isinstance(layer, Pool):
        return _pool_row(index, layer, shape, field)
    if isinstance(layer, (ReLU, Tanh)):
        return Row(index, layer.name, layer.describe(), shape, field=field, layer=layer)
    if isinstance(layer, Flatten):
        n = math.prod(shape)
        formula = "*".join(str(s) for s in shape) + f" = {n:,}" if not flat else f"{n:,} (already flat)"
        return Row(index, layer.name, layer.describe(), (n,), size_formula=formula, layer=layer)
    if isinstance(layer, Linear):
        if not flat:
            raise ValueError(
                f"a linear layer needs a flat vector but gets maps {shape_text(shape)}; "
                f"add a flatten layer before it ({'*'.join(map(str, shape))} = {math.prod(shape):,} features)"
            )
        return _linear_row(index, layer, shape)
    raise ValueError(f"unknown layer {layer!r}")


def analyse(input_shape: Sequence[int], layers: Sequence[Layer]) -> Analysis:
    """Walk the layers over an input of shape (C, H, W): one row per layer, stopping at the first misfit."""
    if len(input_shape) != 3:
        raise ValueError(f"the input shape is (C, H, W), got {len(input_shape)} numbers")
    shape = tuple(
        _check_count(v, f"the input's {n}")
        for v, n in zip(input_shape, ("channels C", "height H", "width W"), strict=True)
    )
    rows = [Row(0, "input", "input", shape, field=(INPUT_FIELD, INPUT_FIELD))]
    for index, layer in enumerate(layers, start=1):
        prev = rows[-1]
        try:
            rows.append(_row(index, layer, prev.shape, prev.field))
        except ValueError as err:
            label = f"{layer.name}, " if getattr(layer, "name", "") else ""
            return Analysis(shape, tuple(rows), f"Layer {index} ({label}{layer.describe()}): {err}", index)
    return Analysis(shape, tuple(rows))


# --- Which input cells one output cell sees -----------------------------------------------------------------


def axis_paths(plans: Sequence[AxisPlan], i: int, n: int) -> np.ndarray:
    """Along one axis: for each input position, how many window paths lead from output cell `i` back to it.

    Backpropagation with every weight 1: each layer sends an output position's count to the positions its
    window reads (`AxisPlan.tap_index`), and what lands on padding is dropped (padding is a constant zero,
    not an input). Nonzero entries are the input cells the output cell really depends on. `n` is the
    input's length: with no plans at all (only ReLUs) a cell sees just itself.
    """
    counts = np.zeros(plans[-1].size if plans else n)
    counts[i] = 1.0
    for plan in reversed(plans):
        padded = np.zeros(plan.padded)
        live = np.flatnonzero(counts)  # only the windows that carry a count (cheap for long axes)
        np.add.at(padded, plan.tap_index[live], counts[live, None])  # every tap of those windows
        counts = padded[plan.input_slice]
    return counts


def axis_reach(plans: Sequence[AxisPlan], n: int) -> np.ndarray:
    """(outputs, n) booleans along one axis: row `i` marks the input positions output `i` depends on.

    The same sets as `axis_paths(plans, i, n) != 0` for every `i` at once, built forwards: an output reaches
    what its window's taps reach, and a tap on padding reaches nothing.
    """
    reach = np.eye(n, dtype=bool)  # (positions, input positions): at the input each cell reaches itself
    for plan in plans:
        padded = np.zeros((plan.padded, n), dtype=bool)
        padded[plan.input_slice] = reach
        reach = np.zeros((plan.size, n), dtype=bool)
        for u in range(plan.f):
            reach |= padded[plan.tap_index[:, u]]  # what tap u of every window reaches
    return reach


def paths(plans: Sequence[Plan2D], cell: tuple[int, int], input_hw: tuple[int, int]) -> np.ndarray:
    """(H, W) path counts from output cell (i, j) back to the input: a window is a row range times a column range."""
    rows = axis_paths([p.rows for p in plans], cell[0], input_hw[0])
    cols = axis_paths([p.cols for p in plans], cell[1], input_hw[1])
    return np.outer(rows, cols)


# --- The same network in PyTorch --------------------------------------------------------------------------


def torch_call(in_shape: Shape, layer: Layer) -> tuple[str, tuple, dict]:
    """The `torch.nn` class, positional and keyword arguments of `layer` given its input shape.

    The one place a spec becomes PyTorch: `torch_code` writes these calls out and `cnnviz.lessons.netspec.build`
    makes them, so the code shown and the module trained are the same.
    """
    if isinstance(layer, Conv):
        kwargs = {"kernel_size": layer.kernel}
        for key, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if getattr(layer, key) != default:
                kwargs[key] = getattr(layer, key)
        return "Conv2d", (in_shape[0], layer.out_channels), kwargs
    if isinstance(layer, Pool):
        kwargs = {"kernel_size": layer.size, "stride": layer.step}
        if layer.padding != 0:
            kwargs["padding"] = layer.padding
        return ("MaxPool2d" if layer.mode == "max" else "AvgPool2d"), (), kwargs
    if isinstance(layer, Linear):
        return "Linear", (in_shape[0], layer.out_features), {}
    return {"relu": "ReLU", "tanh": "Tanh", "flatten": "Flatten"}[layer.kind], (), {}


def torch_code(analysis: Analysis) -> str:
    """The analysed layers (up to any error) as a runnable `nn.Sequential`, each line commented with its shape."""
    lines = [
        "import torch",
        "from torch import nn",
        "",
        "model = nn.Sequential(",
    ]
    rows = analysis.rows
    for prev, row in zip(rows, rows[1:], strict=False):
        cls, args, kwargs = torch_call(prev.shape, row.layer)
        text = ", ".join([*map(str, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        label = f"{row.name}: " if row.name else ""
        lines.append(f"    nn.{cls}({text}),  # {label}-> {tuple(row.shape)}, {row.params:,} parameters")
    c, h, w = analysis.input_shape
    lines += [
        ")",
        f"x = torch.zeros(1, {c}, {h}, {w})  # (N, C, H, W): a batch of one",
        "print(model(x).shape)  # torch.Size([1, " + ", ".join(map(str, analysis.output.shape)) + "])",
        f"print(sum(p.numel() for p in model.parameters()))  # {analysis.params:,}",
    ]
    return "\n".join(lines)


# --- Presets: the lecture's networks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    title: str
    input_shape: Shape  # (C, H, W)
    layers: tuple[Layer, ...]
    note: str = ""


def _notes_layer(padding: str, conv: Conv, note: str) -> Preset:
    """The notes' example: one layer of 32 filters 5x5 on a 100x100x3 image, with `padding` in its title."""
    return Preset(f"100x100x3, 32 filters 5x5, {padding}", (3, 100, 100), (conv,), note)


PRESETS: dict[str, Preset] = {
    p.title: p
    for p in (
        Preset(
            "LeNet-5 (32x32 digits)",
            (1, 32, 32),
            (
                Conv(6, 5, name="C1"),
                Pool("max", 2, name="S2"),
                Conv(16, 5, name="C3"),
                Pool("max", 2, name="S4"),
                Conv(120, 5, name="C5"),
                Flatten(),
                Linear(84, name="F6"),
                Linear(10, name="output"),
            ),
            "LeCun et al. 1998, with full C3 connectivity and the modern max pooling (the original averaged; "
            "the shapes and counts are the same). Parameters 156, 2,416, 48,120, 10,164 and 850: 61,706 in all. "
            "C5 is a 5x5 convolution over 5x5 maps, so its output is 120@1x1.",
        ),
        Preset(
            "AlexNet's first layer (227x227x3)",
            (3, 227, 227),
            (Conv(96, 11, stride=4, name="conv1"),),
            "F = 11, S = 4, P = 0: (227 - 11)/4 + 1 = 55, so 55x55x96 = 290,400 neurons, each seeing "
            "11x11x3 = 363 weights plus a bias: 96*(363 + 1) = 34,944 parameters.",
        ),
        _notes_layer(
            "same, stride 1",
            Conv(32, 5, padding="same"),
            "Same padding p = (5 - 1)/2 = 2 keeps 100x100. Parameters 5*5*3*32 + 32 = 2,400 + 32 = 2,432 "
            "(the notes print 2,430: one more hand-arithmetic slip for students to find).",
        ),
        _notes_layer(
            "same padding, stride 2",
            Conv(32, 5, stride=2, padding=2),
            'The same padding p = 2 with stride 2 halves the size: floor(99/2) + 1 = 50. PyTorch\'s padding="same" '
            "refuses stride 2, so the padding is written as the number 2. Still 2,432 parameters: the stride "
            "changes the output size, never the filter.",
        ),
        _notes_layer(
            "valid",
            Conv(32, 5, padding="valid"),
            "No padding: 100 - 5 + 1 = 96, so 96x96x32, with the same 2,432 parameters.",
        ),
        Preset(
            "Fully connected on a 64x64x3 image",
            (3, 64, 64),
            (Flatten(), Linear(1000, name="hidden"), ReLU(), Linear(1, name="output")),
            "Why not a fully connected net: 64*64*3 = 12,288 features; (12,288 + 1)*1,000 + (1,000 + 1)*1 = "
            "12,290,001 parameters, against 2,432 for 32 convolution filters of 5x5x3.",
        ),
        Preset(
            "Stacked 3x3 convolutions (receptive field 3, 5, 7)",
            (1, 16, 16),
            (Conv(8, 3, padding=1), ReLU(), Conv(8, 3, padding=1), ReLU(), Conv(8, 3, padding=1)),
            "Each 3x3 layer at stride 1 adds 2 to the receptive field: 3, 5, 7. Three 3x3 layers see as far "
            "as one 7x7 with fewer parameters.",
        ),
        Preset(
            "Stacked 5x5 convolutions (receptive field 5, 9, 13)",
            (1, 20, 20),
            (Conv(4, 5), Conv(4, 5), Conv(4, 5)),
            "Each 5x5 layer at stride 1 adds 4: 5, 9, 13.",
        ),
        Preset(
            "Pooling multiplies the growth",
            (1, 32, 32),
            (Conv(4, 3), Pool("max", 2), Conv(4, 3), Pool("max", 2), Conv(4, 3)),
            "After a 2x2 pool the jump doubles, so the next 3x3 adds 2 x 2 = 4 instead of 2: 3, 4, 8, 10, 18.",
        ),
    )
}
