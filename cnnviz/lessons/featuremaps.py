"""Feature maps: a bank of kernels over a picture, colour channels, 1x1 mixing, transposed convolution.

Everything here is a thin layer over `cnnviz.ops`: a filter bank is one `conv2d` with C_out filters, the
RGB breakdown is one `correlate2d` per channel (and the tests prove their sum plus the bias is `conv2d`),
a 1x1 convolution is `conv2d` with 1x1 kernels, and the scatter view of a transposed convolution asks a
`Plan2D` where each input cell's stamp lands. Numbers only: the maps are drawn by `cnnviz.draw.featuremaps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cnnviz.geometry import Plan2D, as_pair, plan_2d, transposed_output_size
from cnnviz.ops import conv2d, relu, transposed_as_correlation
from cnnviz.trace import Trace, as_grid, correlation_trace, fmt, pool_trace

__all__ = [
    "CHANNEL_NAMES",
    "LUMA",
    "MIX_PRESETS",
    "BankResult",
    "ChannelBreakdown",
    "Stamp",
    "channel_breakdown",
    "filter_bank",
    "layer_summary",
    "mix_channels",
    "mixing_formula",
    "parse_mixing",
    "to_channels",
    "transposed_scatter",
    "zero_insertion",
    "centre_pixel_lines",
    "stamp_canvas",
    "strongest_cell",
    "transposed_size_text",
    "zero_insertion_text",
    "breakdown_check",
    "transposed_agree_text",
]

CHANNEL_NAMES = ("R", "G", "B")
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights: what PIL's convert("L") uses

# 1x1 convolutions that mix the three colour channels: one row of (w_R, w_G, w_B) per output map.
MIX_PRESETS: dict[str, tuple[tuple[float, ...], ...]] = {
    "Grayscale (0.299 R + 0.587 G + 0.114 B)": (LUMA,),
    "Plain average of R, G, B": ((1 / 3, 1 / 3, 1 / 3),),
    "Swap channels (RGB -> BGR): 3 filters": ((0, 0, 1), (0, 1, 0), (1, 0, 0)),
    "Colour opponents: red - green, blue - yellow": ((1, -1, 0), (-0.5, -0.5, 1)),
}


def to_channels(image) -> np.ndarray:
    """A picture as (C, H, W): a grayscale (H, W) gives C = 1, an RGB (H, W, 3) gives C = 3."""
    image = np.asarray(image, dtype=float)
    if image.ndim == 2:
        return image[None]  # (1, H, W)
    if image.ndim == 3:
        return np.ascontiguousarray(np.moveaxis(image, -1, 0))  # (H, W, C) -> (C, H, W)
    raise ValueError(f"a picture must be (H, W) or (H, W, channels), got shape {image.shape}")


# --- a bank of kernels: one conv layer with C_out filters -------------------------------------------------


@dataclass(frozen=True)
class BankResult:
    """A conv layer of named filters, then ReLU, then pooling, each stage as a (C_out, H, W) stack."""

    names: tuple[str, ...]
    weights: np.ndarray  # (C_out, C_in, kh, kw)
    maps: np.ndarray  # (C_out, H_out, W_out) before ReLU
    activated: np.ndarray  # (C_out, H_out, W_out) after ReLU
    pooled: np.ndarray  # (C_out, H_pool, W_pool) after pooling
    plan: Plan2D  # the convolution's windows
    pool_plan: Plan2D  # the pooling windows over one map

    @property
    def c_in(self) -> int:
        return self.weights.shape[1]

    @property
    def c_out(self) -> int:
        return self.weights.shape[0]


def filter_bank(
    X,
    kernels: Mapping[str, np.ndarray],
    *,
    stride=1,
    padding=0,
    pool_size=2,
    pool_stride=None,
    pool_mode: str = "max",
) -> BankResult:
    """Every kernel over `X` (C_in, H, W) at once, as one conv2d; each 2-D kernel spans all C_in channels.

    With C_in = 3 a kernel K becomes the filter (K, K, K): the same kernel on R, G and B, summed.
    """
    X = as_grid(X, "picture", ndim=3)  # (C_in, H, W)
    if not kernels:
        raise ValueError("choose at least one kernel for the bank")
    names = tuple(kernels)
    arrays = [as_grid(kernels[n], f"kernel {n!r}") for n in names]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        listed = ", ".join(f"{n} {a.shape[0]}x{a.shape[1]}" for n, a in zip(names, arrays, strict=True))
        raise ValueError(f"the kernels of one layer must share a size, got {listed}")
    c_in = X.shape[0]
    W = np.stack([np.repeat(a[None], c_in, axis=0) for a in arrays])  # (C_out, C_in, kh, kw)
    # Every filter holds the same kernel on each channel, so sum_c K * X[c] = K * (sum_c X[c]): one
    # conv2d over the summed channels gives the same maps with C_in times less work (the tests check it
    # against the full (C_out, C_in, kh, kw) filters in torch).
    summed = X.sum(axis=0, keepdims=True)  # (1, H, W)
    maps = conv2d(summed, W[:, :1], stride=stride, padding=padding)  # (C_out, H_out, W_out)
    plan = plan_2d(X.shape[1:], W.shape[2:], stride=stride, padding=padding)
    activated = relu(maps)
    pools = [pool_trace(m, pool_size, stride=pool_stride, mode=pool_mode) for m in activated]  # per map
    pooled = np.stack([p.output for p in pools])  # (C_out, H_pool, W_pool)
    return BankResult(names, W, maps, activated, pooled, plan, pools[0].plan)


def layer_summary(c_in: int, c_out: int, kernel_shape, out_shape) -> tuple[str, str]:
    """("C_out x H_out x W_out = 8 x 126 x 126", "C_out*(C_in*kh*kw + 1) = 8*(3*3*3 + 1) = 224")."""
    kh, kw = kernel_shape
    h, w = out_shape
    shape = f"C_out x H_out x W_out = {c_out} x {h} x {w} = {c_out * h * w:,} numbers"
    params = c_out * (c_in * kh * kw + 1)
    count = f"C_out*(C_in*kh*kw + 1) = {c_out}*({c_in}*{kh}*{kw} + 1) = {params:,} parameters"
    return shape, count


# --- one filter over the three colour channels (CNN Explainer's view) --------------------------------------


@dataclass(frozen=True)
class ChannelBreakdown:
    """One multi-channel filter taken apart: each channel's own map, their sum, the bias, the final map."""

    traces: tuple[Trace, ...]  # one correlation per channel
    bias: float
    final: np.ndarray  # (H_out, W_out) from conv2d: the layer's answer

    @property
    def parts(self) -> np.ndarray:
        """(C_in, H_out, W_out): channel c's kernel over channel c."""
        return np.stack([t.output for t in self.traces])

    @property
    def total(self) -> np.ndarray:
        """The channel maps summed, before the bias."""
        return self.parts.sum(axis=0)

    @property
    def plan(self) -> Plan2D:
        return self.traces[0].plan

    def pixel_lines(self, i: int, j: int, names: Sequence[str] = CHANNEL_NAMES) -> list[str]:
        """Output cell (i, j) written out: one sum per channel, then channels + bias = final."""
        steps = [t.step(i, j) for t in self.traces]
        lines = [f"{n}: {s.expression()}" for n, s in zip(names, steps, strict=False)]
        terms = " + ".join(f"({fmt(s.value)})" if s.value < 0 else fmt(s.value) for s in steps)
        bias = f"({fmt(self.bias)})" if self.bias < 0 else fmt(self.bias)
        lines.append(f"final[{i}, {j}] = {terms} + {bias} = {fmt(self.final[i, j])}")
        return lines


def channel_breakdown(X, kernels, bias: float = 0.0, *, stride=1, padding=0) -> ChannelBreakdown:
    """`X` (C_in, H, W) through one filter `kernels` (C_in, kh, kw) plus `bias`, channel by channel."""
    X = as_grid(X, "picture", ndim=3)
    kernels = [as_grid(k, f"kernel of channel {c + 1}") for c, k in enumerate(kernels)]
    if len(kernels) != X.shape[0]:
        raise ValueError(f"the picture has {X.shape[0]} channels but {len(kernels)} kernels were given")
    for c, k in enumerate(kernels[1:], start=1):
        if k.shape != kernels[0].shape:
            raise ValueError(
                f"the kernel of channel {c + 1} is {k.shape[0]}x{k.shape[1]} but channel 1's is "
                f"{kernels[0].shape[0]}x{kernels[0].shape[1]}; one filter has one same-size kernel per channel"
            )
    traces = tuple(correlation_trace(X[c], k, stride=stride, padding=padding) for c, k in enumerate(kernels))
    W = np.stack(kernels)[None]  # (C_out=1, C_in, kh, kw)
    final = conv2d(X, W, [float(bias)], stride=stride, padding=padding)[0]
    return ChannelBreakdown(traces, float(bias), final)


# --- 1x1 convolution: mixing channels at every pixel ------------------------------------------------------


def parse_mixing(rows, c_in: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Mixing weights as (N, c_in) and biases (N,): each row is w_1..w_c_in, optionally followed by a bias."""
    M = as_grid(rows, "mixing weights")
    if M.shape[1] not in (c_in, c_in + 1):
        raise ValueError(
            f"each row of the 1x1 filters needs {c_in} weights (one per channel) and optionally a bias, "
            f"got {M.shape[1]} numbers per row"
        )
    bias = M[:, c_in] if M.shape[1] == c_in + 1 else np.zeros(M.shape[0])
    return M[:, :c_in], bias


def mix_channels(X, weights, bias=None) -> np.ndarray:
    """A 1x1 convolution: out[n] = sum_c X[c] * weights[n, c] + bias[n], for (C_in, H, W) -> (N, H, W)."""
    weights = as_grid(weights, "mixing weights")  # (N, C_in)
    return conv2d(X, weights[:, :, None, None], bias)  # kernels (N, C_in, 1, 1)


def mixing_formula(weights, bias: float = 0.0, names: Sequence[str] = CHANNEL_NAMES) -> str:
    """ "out = R*0.299 + G*0.587 + B*0.114" (with "+ b" when there is a bias)."""
    terms = [f"{n}*{'(' + fmt(w) + ')' if w < 0 else fmt(w)}" for n, w in zip(names, weights, strict=True)]
    tail = f" + ({fmt(bias)})" if bias < 0 else (f" + {fmt(bias)}" if bias else "")
    return "out = " + " + ".join(terms) + tail


# --- transposed convolution, the scatter view ----------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """Input cell (i, j) stamping X[i, j] * K onto the full output at rows x cols."""

    index: tuple[int, int]
    rows: np.ndarray  # (kh,) full-output rows
    cols: np.ndarray  # (kw,) full-output columns
    values: np.ndarray  # (kh, kw) X[i, j] * K


def transposed_scatter(X, K, *, stride=1, padding=0) -> tuple[list[Stamp], np.ndarray, np.ndarray]:
    """Transposed convolution as scattering: every input cell adds X[i, j] * K into the output.

    The stamps land where the forward convolution's windows sit: a stride-`stride` correlation of K over
    the full (uncropped) output has one window per input cell, and the transpose writes back into it.
    Returns (stamps, full, Y): `full` is ((H-1)*s + kh) x ((W-1)*s + kw); Y crops `padding` from each side.
    Y equals `conv_transpose2d(X, K, stride, padding)`, which gets there by the zero-insertion route.
    """
    X, K = as_grid(X), as_grid(K, "kernel")
    transposed_as_correlation(X, K, stride=stride, padding=padding)  # the same checks, the same messages
    (h, w), (kh, kw) = X.shape, K.shape
    (sh, sw), (ph, pw) = as_pair(stride, "stride"), as_pair(padding, "padding")
    # the transposed output size before cropping: padding 0
    full_shape = (transposed_output_size(h, kh, stride=sh), transposed_output_size(w, kw, stride=sw))
    forward = plan_2d(full_shape, K.shape, stride=(sh, sw))  # its windows: one per input cell
    full = np.zeros(full_shape)
    stamps = []
    for i in range(h):
        for j in range(w):
            rows, cols = forward.window(i, j)
            values = X[i, j] * K
            full[np.ix_(rows, cols)] += values
            stamps.append(Stamp((i, j), rows, cols, values))
    return stamps, full, full[ph : full.shape[0] - ph, pw : full.shape[1] - pw]


def zero_insertion(X, K, *, stride=1, padding=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`transposed_as_correlation` plus a mask of Z's cells that are not input data.

    Returns (Z, K_flipped, inserted): `inserted` is True on the zeros put between input cells and on the
    border, False where a value of X sits.
    """
    X = as_grid(X)
    Z, flipped = transposed_as_correlation(X, K, stride=stride, padding=padding)
    marker, _ = transposed_as_correlation(np.ones_like(X), K, stride=stride, padding=padding)
    return Z, flipped, marker == 0


# --- the Feature maps page's lesson, in words ----------------------------------------------------------------


def strongest_cell(Y: np.ndarray) -> tuple[int, int]:
    """The cell of the strongest response |Y| inside a one-cell border (the zero padding makes edges of its own);
    the whole map when it is too small to have an inside."""
    Y = np.abs(np.asarray(Y, dtype=float))
    h, w = Y.shape
    border = 1 if min(h, w) > 2 else 0
    inner = Y[border : h - border, border : w - border]
    i, j = np.unravel_index(np.argmax(inner), inner.shape)
    return int(i) + border, int(j) + border


def centre_pixel_lines(
    X: np.ndarray, weights: np.ndarray, biases: np.ndarray, mixed: np.ndarray
) -> tuple[tuple[int, int], list[str]]:
    """The centre pixel of (3, H, W) `X` and, for each 1x1 filter, its sum written out down to its value in
    `mixed` (N, H, W), the maps `mix_channels` made: ((i, j), lines)."""
    ci, cj = X.shape[1] // 2, X.shape[2] // 2
    r, g, b = (float(X[c, ci, cj]) for c in range(3))
    lines = []
    for k in range(weights.shape[0]):
        w1, w2, w3 = weights[k]
        lines.append(
            f"map {k + 1}: {fmt(r)}*{fmt(w1)} + {fmt(g)}*{fmt(w2)} + {fmt(b)}*{fmt(w3)}"
            + (f" + {fmt(biases[k])}" if biases[k] else "")
            + f" = {fmt(mixed[k, ci, cj])}"
        )
    return (ci, cj), lines


def stamp_canvas(stamp: Stamp, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """One stamp alone on the full output (NaN where it does not land), and its box (row0, col0, row1, col1)."""
    canvas = np.full(shape, np.nan)
    canvas[np.ix_(stamp.rows, stamp.cols)] = stamp.values
    box = int(stamp.rows[0]), int(stamp.cols[0]), int(stamp.rows[-1]), int(stamp.cols[-1])
    return canvas, box


def transposed_size_text(X_shape, K_shape, *, stride: int, padding: int) -> str:
    """The transposed output size written out on the numbers, rows and columns (markdown)."""
    (h, w), (kh, kw) = X_shape, K_shape
    rows = transposed_output_size(h, kh, stride=stride, padding=padding)
    cols = transposed_output_size(w, kw, stride=stride, padding=padding)
    return (
        f"Output size `(n - 1)*s - 2p + k`: `({h} - 1)*{stride} - 2*{padding} + {kh} = {rows}` "
        f"rows, `({w} - 1)*{stride} - 2*{padding} + {kw} = {cols}` columns."
    )


def zero_insertion_text(k: int, *, stride: int, padding: int) -> str:
    """How the zero-insertion view builds Z: zeros between the cells and a border, the kernel rotated (markdown)."""
    return (
        f"**2. Zero-insertion view.** Put s - 1 = {stride - 1} zero(s) between neighbouring input cells, "
        f"surround them by a border of k - 1 - p = {k - 1 - padding} zero(s), and slide the kernel "
        "**rotated 180 degrees** over that at stride 1: an ordinary convolution that gives the same Y."
    )


def breakdown_check(breakdown: ChannelBreakdown, bias: float, kernel_shape: tuple[int, int]) -> str:
    """R + G + B + b against `conv2d`'s map, and the filter's parameter count (markdown)."""
    out_h, out_w = breakdown.final.shape
    gap = float(np.max(np.abs(breakdown.total + bias - breakdown.final)))
    kh, kw = kernel_shape
    return (
        f"Check: the largest difference between *R + G + B + b* and `conv2d`'s map is **{fmt(gap)}** "
        f"over all {out_h * out_w:,} cells (padding 1, stride 1, so the map keeps the picture's {out_h} x {out_w}). "
        f"This filter has 3 x {kh} x {kw} weights + 1 bias = **{3 * kh * kw + 1}** parameters."
    )


def transposed_agree_text(trace: Trace, Y: np.ndarray, reference: np.ndarray) -> str:
    """The zero-insertion route's sizes, and whether it, the scatter view and `conv_transpose2d` agree."""
    Z, (kh, kw) = trace.padded, trace.kernel.shape
    agree = np.allclose(trace.output, Y) and np.allclose(reference, Y)
    return (
        f"Z is {Z.shape[0]}x{Z.shape[1]} (dotted cells are inserted zeros), the flipped kernel {kh}x{kw}, "
        f"so the output is {trace.shape[0]}x{trace.shape[1]}. Scatter view and zero-insertion view "
        + ("**agree** cell for cell." if agree else "**disagree**: please report this.")
    )
