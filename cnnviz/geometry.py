"""Window geometry along one axis: padding, stride, dilation and the output-size arithmetic.

This is the one place where the sliding window's index arithmetic lives. Every other module (the
vectorised ops, the per-cell trace, the pages) asks an `AxisPlan` where a window starts and which
input positions its taps read; nothing else computes `i * stride + u * dilation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from numbers import Integral

import numpy as np

__all__ = [
    "AxisPlan",
    "Plan2D",
    "as_pair",
    "check_pool_padding",
    "one_d_padding",
    "output_size",
    "plan_axis",
    "plan_2d",
    "pool_padding_max",
    "pool_padding_ok",
    "same_padding",
    "tf_same_padding",
    "transposed_output_size",
]


def _check_int(value, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if value < minimum:
        if name.startswith("stride"):
            raise ValueError(
                f"{name} must be at least 1, got {value}; a stride of 1 moves the window one cell"
            )
        if name.startswith("dilation"):
            raise ValueError(f"{name} must be at least 1, got {value}; dilation 1 means no gaps between taps")
        raise ValueError(f"{name} cannot be negative, got {value}")
    return value


def as_pair(value, name: str) -> tuple:
    """An int or an (h, w) pair as an (h, w) tuple."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} takes one number or an (h, w) pair, got {len(value)} values")
        return tuple(value)
    return (value, value)


def same_padding(f: int, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) that keeps the size at stride 1, split like PyTorch's padding="same".

    For an even kernel the total d*(f-1) is odd; PyTorch puts the extra cell after (bottom/right).
    """
    total = dilation * (f - 1)
    return total // 2, total - total // 2


def tf_same_padding(n: int, f: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) of TensorFlow's padding="SAME": ceil(n / stride) outputs at any stride.

    PyTorch refuses padding="same" with stride > 1; TensorFlow pads just enough for the windows to
    cover ceil(n / s) outputs, the extra cell (if any) after: total = max((ceil(n/s) - 1)*s + d*(f-1) + 1 - n, 0).
    At stride 1 this is `same_padding`.
    """
    out = -(-n // stride)  # ceil(n / stride)
    total = max((out - 1) * stride + dilation * (f - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def _same_with_stride(n: int, f: int, stride: int, dilation: int) -> str:
    """Why "same" and a stride > 1 do not go together here, and the numbers that would."""
    before, after = tf_same_padding(n, f, stride, dilation)
    out = -(-n // stride)
    return (
        f'padding="same" only works with stride 1 (got stride {stride}), as in PyTorch: at stride {stride} '
        f'no padding keeps the size {n}. TensorFlow\'s "same" means ceil({n}/{stride}) = {out} outputs, '
        f"which here is padding {before} before and {after} after; use a number for the padding "
        "or set the stride to 1"
    )


@dataclass(frozen=True)
class AxisPlan:
    """Where the windows sit along one axis of the padded input.

    Positions are indices into the padded axis (0 .. n + pad_before + pad_after - 1); input position
    `x` of the unpadded axis is padded position `x + pad_before`.
    """

    n: int  # input length along this axis
    f: int  # kernel taps along this axis
    stride: int = 1
    pad_before: int = 0
    pad_after: int = 0
    dilation: int = 1

    @property
    def extent(self) -> int:
        """Cells one window spans: d*(f-1)+1 (the dilated kernel's size)."""
        return self.dilation * (self.f - 1) + 1

    @property
    def padded(self) -> int:
        return self.n + self.pad_before + self.pad_after

    @property
    def size(self) -> int:
        """Output length: floor((n + p_before + p_after - extent) / stride) + 1."""
        return (self.padded - self.extent) // self.stride + 1

    @property
    def leftover(self) -> int:
        """Padded cells after the last window that no window reaches (0 when the windows tile)."""
        return (self.padded - self.extent) % self.stride

    @property
    def tiles(self) -> bool:
        """True when (n + 2p - extent) / stride is a whole number: the last window ends at the edge."""
        return self.leftover == 0

    def to_input(self, p):
        """Input position of padded position `p` (an int or an array); values outside 0..n-1 are padding."""
        return p - self.pad_before

    def to_padded(self, x):
        """Padded position of input position `x` (an int or an array)."""
        return x + self.pad_before

    @property
    def input_slice(self) -> slice:
        """The padded positions that hold the input: `padded[input_slice]` is the unpadded axis."""
        return slice(self.pad_before, self.pad_before + self.n)

    def reads_input(self, p):
        """True where padded position `p` holds an input cell, False on padding (works on arrays)."""
        x = self.to_input(p)
        return (x >= 0) & (x < self.n)

    def start(self, i: int) -> int:
        """Padded position of the first tap of output cell `i`."""
        return i * self.stride

    def taps(self, i: int) -> np.ndarray:
        """Padded positions read by output cell `i`, one per kernel tap."""
        return self.start(i) + np.arange(self.f) * self.dilation

    @cached_property
    def tap_index(self) -> np.ndarray:
        """(size, f) padded positions: row `i` holds `taps(i)`."""
        return (
            np.stack([self.taps(i) for i in range(self.size)])
            if self.size > 0
            else np.zeros((0, self.f), int)
        )

    def tap_slice(self, u: int) -> slice:
        """The padded positions that kernel tap `u` reads over all output cells, as one strided slice.

        Equal to `tap_index[:, u]`; the vectorised ops use it to do one array operation per tap.
        """
        first = self.taps(0)[u]
        return slice(first, first + self.stride * (self.size - 1) + 1, self.stride)

    @cached_property
    def visits(self) -> np.ndarray:
        """How many (window, tap) pairs read each padded position: shape (padded,)."""
        counts = np.zeros(self.padded, dtype=int)
        np.add.at(counts, self.tap_index.ravel(), 1)
        return counts

    @property
    def unvisited(self) -> list[int]:
        """Input positions (unpadded, 0-based) that no window tap ever reads."""
        inner = self.visits[self.input_slice]
        return [int(x) for x in np.flatnonzero(inner == 0)]

    def formula(self) -> str:
        """The output-size formula with this axis's numbers filled in (PyTorch's per-side padding)."""
        pad = (
            f"2*{self.pad_before}"
            if self.pad_before == self.pad_after
            else f"{self.pad_before} + {self.pad_after}"
        )
        f = f"({self.dilation}*({self.f} - 1) + 1)" if self.dilation > 1 else f"{self.f}"
        num = self.padded - self.extent
        quotient = f"{num / self.stride:.4g}"
        floor = "" if self.tiles else f" = floor({quotient}) + 1"
        return f"floor(({self.n} + {pad} - {f}) / {self.stride}) + 1 = floor({num}/{self.stride}) + 1{floor} = {self.size}"

    def formula_total_padding(self) -> str:
        """The same size in the convention with total padding p (both sides): floor((n - f + p + s) / s)."""
        p = self.pad_before + self.pad_after
        return (
            f"floor(({self.n} - {self.extent} + {p} + {self.stride}) / {self.stride})"
            f" = floor({self.n - self.extent + p + self.stride}/{self.stride}) = {self.size}"
        )


def plan_axis(n, f, *, stride=1, padding=0, dilation=1, axis: str = "", check_fit: bool = True) -> AxisPlan:
    """Validate one axis's settings and return its plan.

    `padding` is an int (each side), a (before, after) pair, or "same"/"valid".
    """
    suffix = f" ({axis})" if axis else ""
    stride = _check_int(stride, f"stride{suffix}", minimum=1)
    dilation = _check_int(dilation, f"dilation{suffix}", minimum=1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            before = after = 0
        elif mode == "same":
            if stride != 1:
                raise ValueError(_same_with_stride(int(n), int(f), stride, dilation))
            before, after = same_padding(f, dilation)
        else:
            raise ValueError(f'padding must be a number, "same" or "valid", got {padding!r}')
    elif isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(f"padding{suffix} per side takes (before, after), got {len(padding)} values")
        before = _check_int(padding[0], f"padding{suffix}", minimum=0)
        after = _check_int(padding[1], f"padding{suffix}", minimum=0)
    else:
        before = after = _check_int(padding, f"padding{suffix}", minimum=0)
    plan = AxisPlan(int(n), int(f), stride, before, after, dilation)
    if check_fit and plan.extent > plan.padded:
        raise ValueError(_too_large([plan]))
    return plan


def _too_large(plans: list[AxisPlan]) -> str:
    """ "kernel 5x5 is larger than the padded input 4x4; add padding or shrink the kernel"."""
    kernel = "x".join(str(p.f) for p in plans)
    dilated = any(p.dilation > 1 for p in plans)
    extent = " (dilated to " + "x".join(str(p.extent) for p in plans) + ")" if dilated else ""
    padded = "x".join(str(p.padded) for p in plans)
    fix = "add padding or shrink the kernel" + (" or its dilation" if dilated else "")
    return f"kernel {kernel}{extent} is larger than the padded input {padded}; {fix}"


def output_size(n: int, f: int, *, stride=1, padding=0, dilation=1) -> int:
    """Output length along one axis: floor((n + 2p - d*(f-1) - 1) / s) + 1."""
    return plan_axis(n, f, stride=stride, padding=padding, dilation=dilation).size


def transposed_output_size(n: int, f: int, *, stride=1, padding=0, output_padding=0, dilation=1) -> int:
    """Transposed-convolution output length, as PyTorch's ConvTranspose: (n - 1)*s - 2p + d*(f-1) + op + 1.

    It inverts `output_size`: a stride-s convolution of the result has n outputs again. Padding crops
    `padding` cells from each side; `output_padding` (less than the stride or the dilation) adds cells
    after, to pick one of the sizes that a stride-s convolution maps to n.
    """
    n = _check_int(n, "input length", minimum=1)
    f = _check_int(f, "kernel size", minimum=1)
    stride = _check_int(stride, "stride", minimum=1)
    dilation = _check_int(dilation, "dilation", minimum=1)
    padding = _check_int(padding, "padding", minimum=0)
    output_padding = _check_int(output_padding, "output padding", minimum=0)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output padding {output_padding} must be smaller than the stride ({stride}) or the dilation "
            f"({dilation}); it only picks among the sizes one strided convolution maps to the same length"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (f - 1) + output_padding + 1
    if size < 1:
        extent = f"{dilation}*({f} - 1) + 1" if dilation > 1 else f"{f}"
        raise ValueError(
            f"padding {padding} crops the transposed output to nothing for a kernel of {f}: "
            f"({n} - 1)*{stride} - 2*{padding} + {extent} = {size}; use less padding"
        )
    return size


ONE_D_MODES = ("full", "same", "valid")


def one_d_padding(mode: str, m: int) -> tuple[int, int]:
    """Padding (before, after) of numpy.convolve's mode for a length-m kernel at stride 1.

    "full": m - 1 on each side (every overlap); "valid": none; "same": m - 1 in all, the extra cell before,
    so that the output is numpy's full[(m - 1)//2 : (m - 1)//2 + n].
    """
    if mode == "full":
        return m - 1, m - 1
    if mode == "valid":
        return 0, 0
    if mode == "same":
        start = (m - 1) // 2  # numpy's "same" keeps full[start : start + n]
        return m - 1 - start, start
    raise ValueError(f'unknown mode {mode!r}; choose "full", "same" or "valid"')


@dataclass(frozen=True)
class Plan2D:
    """The row plan and the column plan of a 2-D sliding window."""

    rows: AxisPlan
    cols: AxisPlan

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.size, self.cols.size

    @property
    def padded_shape(self) -> tuple[int, int]:
        return self.rows.padded, self.cols.padded

    @property
    def kernel_shape(self) -> tuple[int, int]:
        return self.rows.f, self.cols.f

    @property
    def tiles(self) -> bool:
        return self.rows.tiles and self.cols.tiles

    def to_input(self, r, c) -> tuple:
        """Input (row, column) of padded cell (r, c); a value outside the input's range means padding."""
        return self.rows.to_input(r), self.cols.to_input(c)

    def to_padded(self, r, c) -> tuple:
        """Padded (row, column) of input cell (r, c)."""
        return self.rows.to_padded(r), self.cols.to_padded(c)

    def window(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Padded (row taps, column taps) read by output cell (i, j)."""
        return self.rows.taps(i), self.cols.taps(j)

    @property
    def input_slices(self) -> tuple[slice, slice]:
        """(rows, columns) of the padded grid that hold the input: `padded[plan.input_slices]` is the input."""
        return self.rows.input_slice, self.cols.input_slice

    def unvisited_mask(self) -> np.ndarray:
        """(n_rows, n_cols) boolean mask of input cells that no window reads."""
        r = self.rows.visits[self.rows.input_slice] == 0
        c = self.cols.visits[self.cols.input_slice] == 0
        return r[:, None] | c[None, :]

    def pad_mask(self) -> np.ndarray:
        """(padded_rows, padded_cols) boolean mask: True on padding cells."""
        mask = np.ones(self.padded_shape, dtype=bool)
        mask[self.input_slices] = False
        return mask


def plan_2d(input_shape, kernel_shape, *, stride=1, padding=0, dilation=1) -> Plan2D:
    """Validate 2-D settings (each an int or an (h, w) pair; padding may be "same"/"valid") and plan them."""
    (h, w), (kh, kw) = input_shape, kernel_shape
    sh, sw = as_pair(stride, "stride")
    dh, dw = as_pair(dilation, "dilation")
    if isinstance(padding, str):
        ph = pw = padding
    elif (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(p, (tuple, list)) for p in padding)
    ):
        ph, pw = tuple(padding[0]), tuple(padding[1])  # ((top, bottom), (left, right))
    else:
        ph, pw = as_pair(padding, "padding")
    rows = plan_axis(h, kh, stride=sh, padding=ph, dilation=dh, axis="rows", check_fit=False)
    cols = plan_axis(w, kw, stride=sw, padding=pw, dilation=dw, axis="columns", check_fit=False)
    if rows.extent > rows.padded or cols.extent > cols.padded:
        raise ValueError(_too_large([rows, cols]))
    return Plan2D(rows, cols)


def pool_padding_max(f: int) -> int:
    """The most padding a pooling window of f cells allows (PyTorch's rule): half the window, f // 2."""
    return f // 2


def pool_padding_ok(f: int, pad: int) -> bool:
    """True when `pad` cells of padding leave every window of f cells at least one input cell."""
    return 2 * pad <= f


def check_pool_padding(plan: Plan2D) -> None:
    """Refuse pooling padding over half the window (a window could then hold only padding), in words."""
    for axis in (plan.rows, plan.cols):
        pad = max(axis.pad_before, axis.pad_after)
        if not pool_padding_ok(axis.f, pad):
            rows, cols = plan.kernel_shape
            raise ValueError(
                f"pooling padding {pad} is more than half the {rows}x{cols} window, so a window could hold "
                f"only padding; PyTorch's pooling allows at most {pool_padding_max(axis.f)}: "
                "lower the padding or widen the window"
            )
