"""Short runnable PyTorch that reproduces what a page shows: the same tensors, the same settings.

`torch_snippet(trace)` writes the `torch.nn.functional` call for a `Trace` (cross-correlation,
true convolution, or pooling) with the input and kernel typed out in full, so a student can paste it
into Python and get the grid on screen. The tests run every snippet and compare.
"""

from __future__ import annotations

import numpy as np

from cnnviz.trace import Trace, fmt, fmt_exact

__all__ = ["tensor_literal", "torch_snippet"]


def tensor_literal(A: np.ndarray, indent: int) -> str:
    """A 2-D array as a nested list literal, one row per line, aligned under the first bracket."""
    rows = [", ".join(fmt_exact(v) for v in row) for row in np.asarray(A, dtype=float)]
    pad = " " * (indent + 1)
    return "[" + f",\n{pad}".join(f"[{r}]" for r in rows) + "]"


def _pair(a: int, b: int) -> str:
    return f"({a}, {b})"


def torch_snippet(trace: Trace, cell: tuple[int, int] | None = None) -> str:
    """Python source that recomputes `trace.output` with torch.nn.functional and prints it as `Y`.

    With `cell` (i, j) it also prints that one output cell, `Y[i, j]`.
    """
    plan = trace.plan
    rows, cols = plan.rows, plan.cols
    h, w = trace.X.shape
    kh, kw = plan.kernel_shape
    lines = ["import torch", "import torch.nn.functional as F", ""]
    lines.append(
        f"X = torch.tensor({tensor_literal(trace.X, 17)}, dtype=torch.float64)  # (H, W) = ({h}, {w})"
    )
    symmetric = rows.pad_before == rows.pad_after and cols.pad_before == cols.pad_after
    stride = _pair(rows.stride, cols.stride)
    lines.append(f"x = X.reshape(1, 1, {h}, {w})  # (N, C, H, W)")
    if symmetric:
        padding = _pair(rows.pad_before, cols.pad_before)
    else:
        # F.conv2d pads both sides alike; uneven padding is added first with F.pad (left, right, top, bottom).
        pads = (cols.pad_before, cols.pad_after, rows.pad_before, rows.pad_after)
        fill = {"max": "float('-inf')", "min": "float('inf')"}.get(trace.mode, "0.0")
        lines.append(f"x = F.pad(x, {pads}, value={fill})  # uneven padding: (left, right, top, bottom)")
        padding = "(0, 0)"

    if trace.kernel is not None:
        lines.append(
            f"K = torch.tensor({tensor_literal(trace.source_kernel, 17)}, dtype=torch.float64)  # ({kh}, {kw})"
        )
        if trace.mode == "convolve":
            lines.append("K = torch.flip(K, dims=(0, 1))  # true convolution: rotate the kernel 180 degrees")
        lines.append(f"w = K.reshape(1, 1, {kh}, {kw})  # (C_out, C_in, kh, kw)")
        dilation = _pair(rows.dilation, cols.dilation)
        call, note = f"F.conv2d(x, w, stride={stride}, padding={padding}, dilation={dilation})", ""
        if trace.mode == "correlate":
            lines.append("# PyTorch's conv2d is cross-correlation: the kernel is NOT flipped")
    else:
        size = _pair(kh, kw)
        if trace.mode == "max":
            call, note = f"F.max_pool2d(x, {size}, stride={stride}, padding={padding})", ""
        elif trace.mode == "min":
            call, note = f"-F.max_pool2d(-x, {size}, stride={stride}, padding={padding})", "min = -max(-x)"
        elif trace.mode == "avg":
            call = f"F.avg_pool2d(x, {size}, stride={stride}, padding={padding})"
            note = "padding zeros are counted in the mean"
        else:  # l2: F.lp_pool2d has no padding argument, so pad with zeros first
            if padding != "(0, 0)":
                pr, pc = rows.pad_before, cols.pad_before
                lines.append(f"x = F.pad(x, ({pc}, {pc}, {pr}, {pr}))  # zero padding")
            call, note = f"F.lp_pool2d(x, 2, {size}, stride={stride})", "sqrt of the sum of squares"
    out_h, out_w = trace.shape
    lines.append(f"Y = {call}[0, 0]" + (f"  # {note}" if note else ""))
    lines.append(f"print(Y)  # ({out_h}, {out_w})")
    if cell is not None:
        i, j = cell
        lines.append(f"print(Y[{i}, {j}])  # output cell ({i}, {j}) = {fmt(trace.output[i, j])}")
    return "\n".join(lines) + "\n"
