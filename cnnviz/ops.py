"""The operations, named as in the lecture. Each returns a float64 numpy array.

Single-channel ops take their result from the sliding-window trace (`cnnviz.trace`), so the numbers a
page steps through are the numbers these functions return.
"""

from __future__ import annotations

import numpy as np

from cnnviz.geometry import as_pair, one_d_padding, plan_2d, transposed_output_size
from cnnviz.trace import (
    as_grid,
    convolution_trace,
    correlation_trace,
    pool_trace,
    rot180,
)

__all__ = [
    "conv2d",
    "conv_transpose2d",
    "convolve1d",
    "convolve2d",
    "correlate2d",
    "pool2d",
    "relu",
    "transposed_as_correlation",
]


def correlate2d(X, K, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Cross-correlation, what PyTorch calls conv2d: the kernel is NOT flipped."""
    return correlation_trace(X, K, stride=stride, padding=padding, dilation=dilation).output


def convolve2d(X, K, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """True (mathematical) convolution: the kernel IS flipped (rotated 180 degrees) before sliding."""
    return convolution_trace(X, K, stride=stride, padding=padding, dilation=dilation).output


def pool2d(X, size, *, stride=None, padding=0, mode: str = "max") -> np.ndarray:
    """Max, average ("avg"), min or L2 pooling over size x size windows; stride defaults to size."""
    return pool_trace(X, size, stride=stride, padding=padding, mode=mode).output


def relu(Y) -> np.ndarray:
    """max(0, y) cell by cell: negative responses become 0."""
    return np.maximum(np.asarray(Y, dtype=float), 0.0)


def conv2d(X, W, b=None, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Multi-channel cross-correlation (no flip), as torch.nn.functional.conv2d.

    X is (C_in, H, W) or (N, C_in, H, W); W is (C_out, C_in, kh, kw); b is (C_out,) or None.
    Each output map is the sum over input channels of that channel's 2-D correlation, plus the bias.
    """
    X = np.asarray(X)
    batched = X.ndim == 4
    if X.ndim not in (3, 4):
        raise ValueError(f"conv2d input must be (C_in, H, W) or (N, C_in, H, W), got shape {X.shape}")
    X = as_grid(X, "input", ndim=X.ndim)
    if not batched:
        X = X[None]  # (N=1, C_in, H, W)
    W = as_grid(W, "weights", ndim=4)
    n, c_in, h, w = X.shape
    c_out, w_in, kh, kw = W.shape
    if w_in != c_in:
        raise ValueError(
            f"the weights expect {w_in} input channels but the input has {c_in}; "
            "give each filter one kernel per input channel"
        )
    plan = plan_2d((h, w), (kh, kw), stride=stride, padding=padding, dilation=dilation)
    r, c = plan.rows, plan.cols
    padded = np.pad(X, ((0, 0), (0, 0), (r.pad_before, r.pad_after), (c.pad_before, c.pad_after)))
    out = np.zeros((n, c_out, *plan.shape))  # (N, C_out, H_out, W_out)
    for u in range(kh):
        for v in range(kw):
            tap = padded[:, :, r.tap_slice(u), c.tap_slice(v)]  # (N, C_in, H_out, W_out)
            out += np.einsum("oc,nchw->nohw", W[:, :, u, v], tap)
    if b is not None:
        b = as_grid(b, "bias", ndim=1)
        if b.shape != (c_out,):
            raise ValueError(f"the bias needs one number per filter ({c_out}), got {b.shape[0]}")
        out += b[None, :, None, None]
    return out if batched else out[0]


def transposed_as_correlation(X, K, *, stride=1, padding=0) -> tuple[np.ndarray, np.ndarray]:
    """The zero-insertion view of a transposed convolution (Dumoulin and Visin, 2016).

    Returns (Z, K_flipped): Z is X with stride-1 zeros inserted between neighbouring cells and a border
    of kernel-1-padding zeros (cropped where that is negative); correlating Z with the flipped kernel at
    stride 1 gives conv_transpose2d(X, K, stride, padding).
    """
    X, K = as_grid(X), as_grid(K, "kernel")
    (h, w), (kh, kw) = X.shape, K.shape
    (sh, sw), (ph, pw) = as_pair(stride, "stride"), as_pair(padding, "padding")
    out_h = transposed_output_size(h, kh, stride=sh, padding=ph)  # refuses padding that crops everything
    out_w = transposed_output_size(w, kw, stride=sw, padding=pw)
    Z = np.zeros(((h - 1) * sh + 1, (w - 1) * sw + 1))
    Z[::sh, ::sw] = X  # stride - 1 zeros between neighbours
    border_h, border_w = kh - 1 - ph, kw - 1 - pw
    Z = np.pad(Z, ((max(border_h, 0),) * 2, (max(border_w, 0),) * 2))
    crop_h, crop_w = max(-border_h, 0), max(-border_w, 0)
    Z = Z[crop_h : Z.shape[0] - crop_h, crop_w : Z.shape[1] - crop_w]  # (out_h + kh - 1, out_w + kw - 1)
    # a stride-1 kh x kw correlation over Z gives out_h x out_w
    assert Z.shape == (out_h + kh - 1, out_w + kw - 1)
    return Z, np.ascontiguousarray(rot180(K))


def conv_transpose2d(X, K, *, stride=1, padding=0) -> np.ndarray:
    """Transposed convolution (up-sampling), single channel, as torch.nn.functional.conv_transpose2d.

    Output size (n - 1)*s - 2p + k (`transposed_output_size`); computed as its zero-insertion view (`transposed_as_correlation`).
    """
    Z, flipped = transposed_as_correlation(X, K, stride=stride, padding=padding)
    return correlate2d(Z, flipped)


def convolve1d(x, w, mode: str = "full") -> np.ndarray:
    """1-D true convolution (the kernel IS flipped), with numpy.convolve's modes "full", "same", "valid"."""
    x, w = as_grid(x, "signal", ndim=1), as_grid(w, "kernel", ndim=1)
    if w.size > x.size:  # convolution commutes; slide the shorter one, as numpy does
        x, w = w, x
    padding = ((0, 0), one_d_padding(mode, w.size))  # numpy's "same": centred, length max(len(x), len(w))
    return convolve2d(x[None, :], w[None, :], padding=padding)[0]
