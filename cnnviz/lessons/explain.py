"""Explain one activation of LeNet-5's C1 or C3: the window on its input, the filter, the products, the sum
plus bias, the activation function, and the pooled value it feeds (what CNN Explainer shows on a click).

Everything is computed from a `Snapshot` (weights, biases and the image's activations at one moment) through
`cnnviz.correlation_trace`: the same window arithmetic the stepper draws. PyTorch's `conv2d` is a
cross-correlation (no kernel flip), so the trace is a correlation trace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.trace import Trace, correlation_trace

# The activation functions of `cnnviz.lenet.model.ACTIVATIONS`, on numpy values.
ACTIVATION_FNS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}
POOLED_BY = {"C1": "S2", "C3": "S4"}
EXPLAINABLE = tuple(POOLED_BY)


@dataclass(frozen=True)
class Explanation:
    """How activation `layer`[`map`, `row`, `col`] comes out of its input, in numbers a student can check."""

    layer: str  # "C1" or "C3"
    map: int  # which output map (filter)
    row: int
    col: int
    channel: int  # the input channel `trace` slides over (C1: always 0, the image; C3: an S2 map)
    trace: Trace  # the chosen input channel correlated with that filter's kernel for it
    channel_sums: tuple[float, ...]  # one sum of products per input channel (C1: one, C3: six)
    bias: float
    pre_activation: float  # sum of channel_sums + bias: what conv2d gives
    activation_name: str  # "relu", "tanh" or "sigmoid"
    activation: float  # the activation function of pre_activation: the value on the map
    pooled_layer: str  # "S2" or "S4"
    pooled_cell: tuple[int, int]  # the pooled map's cell this activation falls in
    pooling: str  # "max" or "avg"
    pool_window: np.ndarray  # (2, 2) the activations the pooled cell reads
    pooled: float  # the pooled value

    @property
    def input_name(self) -> str:
        return "input" if self.layer == "C1" else f"S2 map {self.channel}"

    def sum_expression(self) -> str:
        """ "sum + bias = pre-activation" written out, one term per input channel."""
        terms = " + ".join(f"{s:.4g}" for s in self.channel_sums)
        return f"{terms} + ({self.bias:.4g}) = {self.pre_activation:.4g}"


def explain(snapshot, layer: str, k: int, i: int, j: int, *, activation: str, pooling: str, channel: int = 0):
    """The Explanation of activation `layer`[k, i, j] of `snapshot` (a `cnnviz.lenet.training.Snapshot`).

    `channel` picks the S2 map the trace slides over for C3 (0..5); C1 has one input, the 32x32 image.
    """
    if layer not in EXPLAINABLE:
        raise ValueError(f"only C1 and C3 activations come from a filter; got {layer!r}")
    A = snapshot.activations
    maps = A[layer]  # (K, H, W)
    if not (0 <= k < maps.shape[0] and 0 <= i < maps.shape[1] and 0 <= j < maps.shape[2]):
        raise ValueError(
            f"{layer} has {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}; no ({k}, {i}, {j})"
        )
    if layer == "C1":
        inputs = A["input"][None] if A["input"].ndim == 2 else A["input"]  # (1, 32, 32)
        kernels = snapshot.c1[k][None]  # (1, 5, 5)
        bias = float(snapshot.c1_bias[k])
    else:
        inputs = A["S2"]  # (6, 14, 14)
        kernels = snapshot.c3[k]  # (6, 5, 5)
        bias = float(snapshot.c3_bias[k])
    if not 0 <= channel < len(inputs):
        raise ValueError(f"{layer} reads {len(inputs)} input channel(s); channel {channel} does not exist")
    conv = explain_conv(inputs, kernels[None], [bias], 0, i, j, channel=channel)  # filter k alone
    pre = conv.pre_activation
    pooled_layer = POOLED_BY[layer]
    pi, pj = i // 2, j // 2  # 2x2 pooling, stride 2
    window = maps[k, 2 * pi : 2 * pi + 2, 2 * pj : 2 * pj + 2]  # (2, 2)
    return Explanation(
        *(layer, k, i, j, channel, conv.trace, conv.channel_sums, bias, pre),  # the convolution
        *(activation, float(ACTIVATION_FNS[activation](pre))),  # the activation function
        *(pooled_layer, (pi, pj), pooling, window.copy(), float(A[pooled_layer][k, pi, pj])),  # the pooling
    )


# --- Any convolution layer of a designed network (`cnnviz.lessons.netspec`) -----------------------------------------


@dataclass(frozen=True)
class ConvExplanation:
    """How output `map`[`row`, `col`] of one conv layer comes out of its input, in numbers a student can check."""

    map: int
    row: int
    col: int
    channel: int  # the input channel `trace` slides over
    trace: Trace  # that input channel correlated with the filter's slice for it (stride, padding, dilation)
    channel_sums: tuple[float, ...]  # one sum of products per input channel
    bias: float
    pre_activation: float  # sum of channel_sums + bias: what conv2d gives

    def sum_expression(self) -> str:
        """ "sum + bias = output" written out, one term per input channel (at most 8 shown)."""
        terms = " + ".join(f"{s:.4g}" for s in self.channel_sums[:8])
        more = f" + ... ({len(self.channel_sums) - 8} more)" if len(self.channel_sums) > 8 else ""
        return f"{terms}{more} + ({self.bias:.4g}) = {self.pre_activation:.4g}"


def explain_conv(
    X, weight, bias, k: int, i: int, j: int, *, stride=1, padding=0, dilation=1, channel: int = 0
):
    """The ConvExplanation of output [k, i, j] of a conv layer with `weight` (C_out, C_in, kh, kw) and `bias`
    (C_out,) on its input `X` (C_in, H, W)."""
    X, weight = np.asarray(X, dtype=float), np.asarray(weight, dtype=float)
    if not 0 <= k < weight.shape[0]:
        raise ValueError(f"this layer has {weight.shape[0]} filters; there is no filter {k}")
    if not 0 <= channel < X.shape[0]:
        raise ValueError(f"this layer reads {X.shape[0]} input channel(s); channel {channel} does not exist")
    traces = [
        correlation_trace(X[c], weight[k, c], stride=stride, padding=padding, dilation=dilation)
        for c in range(X.shape[0])
    ]
    h, w = traces[0].output.shape
    if not (0 <= i < h and 0 <= j < w):
        raise ValueError(f"this layer's maps are {h}x{w}; there is no cell ({i}, {j})")
    sums = tuple(float(t.output[i, j]) for t in traces)
    b = float(np.asarray(bias)[k])
    return ConvExplanation(k, i, j, channel, traces[channel], sums, b, float(np.sum(sums) + b))
