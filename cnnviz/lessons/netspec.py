"""Design your own network: a Layer arithmetic spec (`cnnviz.lessons.layers`) built as a PyTorch `nn.Sequential`.

One spec, one builder: `analyse` gives every layer's shape and parameter count, and `cnnviz.lenet.netbuild.build`
makes each module from the same rows through `layers.torch_call` (the call `torch_code` writes out),
checking every module's parameter count against the row's. This module imports no torch, so the Layer
arithmetic page can check a network without loading it. `check_trainable` refuses, before any training and naming the layer, a
network that cannot learn the shipped digits here: a layer that does not fit, an input other than 1x28x28,
an output other than 10 classes, more than `MAX_PARAMS` parameters, or more than `MAX_SECONDS_PER_EPOCH`
estimated seconds per epoch (see `seconds_per_epoch`).

A network travels as a small JSON document (`spec_json` / `spec_from_json`: the input shape and the table's
rows); its weights go with it in a PyTorch file (`cnnviz.lenet.netbuild.weights_bytes`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from cnnviz.lessons.layer_rows import COLUMNS, layer_to_row, layers_from_rows
from cnnviz.lessons.layers import (
    Analysis,
    Conv,
    Flatten,
    Layer,
    Linear,
    Pool,
    ReLU,
    Tanh,
    analyse,
    shape_text,
)

__all__ = [
    "INPUT_SHAPE",
    "MACS_PER_SECOND",
    "MAX_PARAMS",
    "MAX_SECONDS_PER_EPOCH",
    "SECONDS_PER_LAYER_BATCH",
    "N_CLASSES",
    "NET_PRESETS",
    "TRAIN_IMAGES",
    "NetSpec",
    "check_trainable",
    "layer_label",
    "layer_macs",
    "seconds_per_epoch",
    "spec_from_json",
    "spec_json",
]

INPUT_SHAPE = (1, 28, 28)  # the shipped MNIST digits: one grey channel of 28x28
N_CLASSES = 10
MAX_PARAMS = 2_000_000  # about 8 MB of float32 weights, Adam's two moments on top: fine for a class server
# Training costs about 3 forward passes (forward, then the gradients of the inputs and of the weights), plus
# a fixed cost per layer and batch. Measured with `cnnviz.lenet.training.train` on one core of a 2-core server, after
# a warm-up: small networks ran at 2.5-4 G multiply-adds a second with 0.5-1 ms per layer and batch, a
# 64-64-64-channel 3x3 network at 31 G/s. The estimate takes 10 G/s and 1 ms per layer and batch, so it errs
# on the slow side (LeNet-5: estimated 2.0 s per epoch, measured 1.3 s; that wide network: 44 s against 14 s).
MACS_PER_SECOND = 10e9
SECONDS_PER_LAYER_BATCH = 1e-3
BATCH_SIZE = 32  # the Train page's default batch
TRAIN_IMAGES = 4_000  # training images of the shipped digits per epoch
MAX_SECONDS_PER_EPOCH = 30.0  # a lesson can wait half a minute per pass over the digits
FORMAT = "cnnviz-net"  # in every spec document and weights file, checked on load


@dataclass(frozen=True)
class NetSpec:
    """A network as the Layer arithmetic table gives it: the input shape (C, H, W) and the layers."""

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]

    def analysis(self) -> Analysis:
        return analyse(self.input_shape, self.layers)


def layer_macs(analysis: Analysis) -> list[int]:
    """Multiply-adds (or window reads, for pooling) of each layer for one image, from the analysed shapes."""
    macs = []
    for prev, row in zip(analysis.rows, analysis.rows[1:], strict=False):
        layer = row.layer
        if isinstance(layer, Conv):
            kh, kw = row.plan.kernel_shape
            macs.append(row.values * prev.shape[0] * kh * kw)  # each output: C_in x kh x kw products
        elif isinstance(layer, Pool):
            macs.append(row.values * math.prod(row.plan.kernel_shape))
        elif isinstance(layer, Linear):
            macs.append(prev.shape[0] * row.shape[0])
        else:
            macs.append(row.values if isinstance(layer, (ReLU, Tanh)) else 0)
    return macs


def seconds_per_epoch(
    analysis: Analysis, n_images: int = TRAIN_IMAGES, batch_size: int = BATCH_SIZE
) -> float:
    """Estimated training seconds for one pass over `n_images`, on the slow side (see `MACS_PER_SECOND`):
    3 x forward multiply-adds / `MACS_PER_SECOND` + `SECONDS_PER_LAYER_BATCH` per layer and batch."""
    compute = 3 * sum(layer_macs(analysis)) * n_images / MACS_PER_SECOND
    return compute + math.ceil(n_images / batch_size) * (len(analysis.rows) - 1) * SECONDS_PER_LAYER_BATCH


def layer_label(analysis: Analysis, index: int) -> str:
    row = analysis.rows[index]
    return f"Layer {index} ({row.name + ', ' if row.name else ''}{row.what})"


def check_trainable(spec: NetSpec) -> Analysis:
    """The spec's analysis, or a ValueError naming the layer (or the input) that stops it training here."""
    if tuple(spec.input_shape) != INPUT_SHAPE:
        c, h, w = spec.input_shape
        raise ValueError(
            f"the input is {c}@{h}x{w} but the shipped digits are 1@28x28 (one grey channel); "
            "set the input to C = 1, H = 28, W = 28"
        )
    if not spec.layers:
        raise ValueError("the network has no layers; add at least a flatten and a linear layer of 10 outputs")
    analysis = spec.analysis()
    if analysis.error:
        raise ValueError(analysis.error)
    for row in analysis.rows[1:]:
        if row.values == 0:  # analyse already refuses sizes below 1; kept as a guard
            raise ValueError(f"{layer_label(analysis, row.index)}: its output has no values")
    last = len(analysis.rows) - 1
    if analysis.output.shape != (N_CLASSES,):
        raise ValueError(
            f"{layer_label(analysis, last)} gives {shape_text(analysis.output.shape)}; the last layer must give "
            f"{N_CLASSES} class scores: end with a flatten and a linear layer of {N_CLASSES} outputs"
        )
    if analysis.params > MAX_PARAMS:
        biggest = max(analysis.rows[1:], key=lambda r: r.params)
        raise ValueError(
            f"{analysis.params:,} parameters is over the cap of {MAX_PARAMS:,} for training in a lesson; "
            f"the biggest is {layer_label(analysis, biggest.index)} with {biggest.params:,}: "
            "use fewer filters or outputs, or pool before flattening"
        )
    seconds = seconds_per_epoch(analysis)
    if seconds > MAX_SECONDS_PER_EPOCH:
        macs = layer_macs(analysis)
        k = max(range(len(macs)), key=macs.__getitem__) + 1
        raise ValueError(
            f"about {seconds:.0f} s per epoch on a laptop core (3 x {sum(macs):,} multiply-adds per image x "
            f"{TRAIN_IMAGES:,} images at {MACS_PER_SECOND / 1e9:g} G/s, plus 1 ms per layer and batch), over the cap of "
            f"{MAX_SECONDS_PER_EPOCH:g} s; the costliest is {layer_label(analysis, k)} with {macs[k - 1]:,}: "
            "use fewer filters, a stride or a pool earlier"
        )
    return analysis


# --- Presets: networks to start from, all for the shipped 1@28x28 digits -------------------------------------


def _preset(*layers: Layer) -> NetSpec:
    return NetSpec(INPUT_SHAPE, tuple(layers))


NET_PRESETS: dict[str, NetSpec] = {
    # The Train LeNet page's model: C1 pads the 28x28 digit by 2, as that page pads the image to 32x32.
    "LeNet-5": _preset(
        Conv(6, 5, padding=2, name="C1"),
        ReLU(),
        Pool("max", 2, name="S2"),
        Conv(16, 5, name="C3"),
        ReLU(),
        Pool("max", 2, name="S4"),
        Flatten(),
        Linear(120, name="C5"),
        ReLU(),
        Linear(84, name="F6"),
        ReLU(),
        Linear(10, name="output"),
    ),
    "No pooling (stride-2 convolutions)": _preset(
        Conv(8, 3, stride=2, padding=1, name="conv1"),
        ReLU(),
        Conv(16, 3, stride=2, padding=1, name="conv2"),
        ReLU(),
        Flatten(),
        Linear(10, name="output"),
    ),
    "1x1 convolutions (mix channels, keep the size)": _preset(
        Conv(16, 3, padding=1, name="conv1"),
        ReLU(),
        Conv(4, 1, name="squeeze 1x1"),
        ReLU(),
        Pool("max", 2),
        Conv(16, 3, padding=1, name="conv2"),
        ReLU(),
        Conv(4, 1, name="squeeze 1x1 b"),
        ReLU(),
        Pool("max", 2),
        Flatten(),
        Linear(10, name="output"),
    ),
    "Global average pooling (no flatten + big linear)": _preset(
        Conv(16, 3, padding=1, name="conv1"),
        ReLU(),
        Pool("max", 2),
        Conv(32, 3, padding=1, name="conv2"),
        ReLU(),
        Pool("max", 2),
        Conv(10, 1, name="class maps 1x1"),
        Pool("avg", 7, name="global average"),
        Flatten(),
    ),
}


# --- The spec and its weights as files ------------------------------------------------------------------------


def spec_json(spec: NetSpec) -> str:
    """The spec as a small JSON document: the input shape and one row of the table per layer."""
    rows = [{k: v for k, v in layer_to_row(layer).items() if v not in (None, "")} for layer in spec.layers]
    return json.dumps({"format": FORMAT, "input": list(spec.input_shape), "layers": rows}, indent=1)


def spec_from_json(text: str | bytes) -> NetSpec:
    """A spec read back from `spec_json`'s document, or a ValueError that says what is wrong."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("this file is not JSON; download the network again from Layer arithmetic") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'this JSON is not a cnnviz network (it has no "format": "{FORMAT}")')
    shape, rows = doc.get("input"), doc.get("layers")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) for v in shape)):
        raise ValueError('the network\'s "input" must be three whole numbers [C, H, W]')
    if not (isinstance(rows, list) and all(isinstance(r, dict) and set(r) <= set(COLUMNS) for r in rows)):
        raise ValueError(f'the network\'s "layers" must be a list of rows with the keys {", ".join(COLUMNS)}')
    layers, error, _ = layers_from_rows(rows)
    if error:
        raise ValueError(error)
    return NetSpec(tuple(shape), tuple(layers))
