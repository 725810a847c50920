"""The lecture's worked examples and classic kernels (shared/TEACHING.md), as presets a page can load.

Each example carries the correct answer, and where the slide printed a wrong value, the slide's
numbers and a note: stepping through the arithmetic is how a student finds such a slip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

__all__ = [
    "EXAMPLES",
    "KERNELS",
    "POOL_EXAMPLES",
    "Example",
    "Kernel",
    "ONE_D_EXAMPLE",
    "X_IMAGE",
]


@dataclass(frozen=True)
class Kernel:
    """A named kernel: integer weights times a scale, shown as "1/9 x [[1, 1, 1], ...]"."""

    name: str
    weights: tuple[tuple[int, ...], ...]
    scale: Fraction = Fraction(1)
    note: str = ""

    @property
    def array(self) -> np.ndarray:
        return np.array(self.weights, dtype=float) * float(self.scale)

    @property
    def scale_text(self) -> str:
        """ "1/9" for a box blur, "" when there is no scale."""
        return "" if self.scale == 1 else str(self.scale)

    @property
    def symmetric_180(self) -> bool:
        """True when rotating by 180 degrees leaves it unchanged (correlation equals convolution)."""
        a = np.array(self.weights)
        return bool(np.array_equal(a, a[::-1, ::-1]))


def _k(name, weights, scale=1, note=""):
    return Kernel(name, tuple(tuple(r) for r in weights), Fraction(scale), note)


_VERTICAL = [[1, 0, -1]] * 3
KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in [
        _k("Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]], note="copies the input"),
        _k(
            "Vertical edge", _VERTICAL, note="bright on the left, dark on the right gives a positive response"
        ),
        _k("Vertical edge (mirror)", [[-1, 0, 1]] * 3, note="the same edge with the opposite sign"),
        _k("Horizontal edge", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], note="bright above, dark below"),
        _k(
            "Sobel (vertical)",
            [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
            note="a vertical edge that weights the centre row",
        ),
        _k(
            "Scharr (vertical)",
            [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
            note="Sobel with better rotation behaviour",
        ),
        _k("Diagonal edge", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
        _k(
            "Laplacian",
            [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            note="second derivative: responds to spots and edges",
        ),
        _k("Outline", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        _k("Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        _k("Box blur", [[1, 1, 1]] * 3, Fraction(1, 9), note="the average of the 3x3 neighbourhood"),
        _k("Gaussian blur", [[1, 2, 1], [2, 4, 2], [1, 2, 1]], Fraction(1, 16)),
        _k("Emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        _k(
            "X filter 1 (diagonal)",
            [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
            note="from the lecture's X example",
        ),
        _k("X filter 2 (vertical bar)", [[-1, 1, -1]] * 3, note="from the lecture's X example"),
    ]
}


@dataclass(frozen=True)
class Example:
    """A worked example: input, kernel and settings, the correct output, and the slide's own answer."""

    name: str
    X: tuple[tuple[float, ...], ...]
    K: tuple[tuple[float, ...], ...] | None  # None for pooling
    expected: tuple[tuple[float, ...], ...]  # the correct output (checked against torch in the tests)
    stride: int = 1
    padding: int = 0
    pool: str | None = None  # pooling mode, with `size`
    size: int | None = None
    slide: tuple[tuple[float, ...], ...] | None = None  # what the slide printed, when it differs
    note: str = ""
    kernel_name: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def input(self) -> np.ndarray:
        return np.array(self.X, dtype=float)

    @property
    def kernel(self) -> np.ndarray | None:
        return None if self.K is None else np.array(self.K, dtype=float)

    @property
    def output(self) -> np.ndarray:
        return np.array(self.expected, dtype=float)

    @property
    def slide_errors(self) -> list[tuple[int, int, float, float]]:
        """(i, j, printed, correct) for every cell the slide got wrong."""
        if self.slide is None:
            return []
        printed, correct = np.array(self.slide, float), self.output
        return [
            (int(i), int(j), float(printed[i, j]), float(correct[i, j]))
            for i, j in np.argwhere(printed != correct)
        ]


def _t(rows):
    return tuple(tuple(r) for r in rows)


def _picture(*rows: str):
    """A 0/1 picture drawn in text: "X" is 1, "." is 0."""
    return tuple(tuple(int(ch == "X") for ch in row) for row in rows)


X_IMAGE = _picture(
    "X....X",
    ".X..X.",
    "..XX..",
    "X...X.",
    ".X..X.",
    "..X.X.",
)
_SIX = _t(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)
_SEVEN = _t(
    [
        [2, 3, 7, 4, 6, 2, 9],
        [6, 6, 9, 8, 7, 4, 3],
        [3, 4, 8, 3, 8, 9, 7],
        [7, 8, 3, 6, 6, 3, 4],
        [4, 2, 1, 8, 3, 4, 6],
        [3, 2, 4, 1, 9, 8, 3],
        [0, 1, 3, 9, 2, 1, 3],
    ]
)
_X1 = KERNELS["X filter 1 (diagonal)"].weights
_X2 = KERNELS["X filter 2 (vertical bar)"].weights

EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in [
        Example(
            "3x3 input, 2x2 kernel",
            _t([[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
            _t([[0, 1], [2, 3]]),
            _t([[19, 25], [37, 43]]),
            note="0*0 + 1*1 + 3*2 + 4*3 = 19 (d2l's corr2d example)",
        ),
        Example(
            "6x6 input, vertical edge",
            _SIX,
            _t(_VERTICAL),
            _t([[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]),
            note="3*1 + 0*1 + 1*(-1) + 1*1 + 5*0 + 8*(-1) + 2*1 + 7*0 + 2*(-1) = -5",
            kernel_name="Vertical edge",
        ),
        Example(
            "Step edge, vertical kernel",
            _t([[10, 10, 10, 0, 0, 0]] * 6),
            _t(_VERTICAL),
            _t([[0, 30, 30, 0]] * 4),
            note="the bright band in the output is the detected edge",
            kernel_name="Vertical edge",
        ),
        Example(
            "Step edge, horizontal kernel",
            _t([[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3),
            _t([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
            _t([[0, 0, 0, 0], [30, 10, -10, -30], [30, 10, -10, -30], [0, 0, 0, 0]]),
            kernel_name="Horizontal edge",
        ),
        Example(
            "X image, filter 1",
            X_IMAGE,
            _X1,
            _t([[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]]),
            slide=_t([[3, -1, -3, -1], [-3, -1, 0, -3], [-3, -2, 0, 1], [3, -2, -2, -1]]),
            note="the slide prints -1 and -2 for cells (1,1) and (2,1); the correct values are 1 and -3",
            kernel_name="X filter 1 (diagonal)",
        ),
        Example(
            "X image, filter 2",
            X_IMAGE,
            _X2,
            _t([[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]]),
            kernel_name="X filter 2 (vertical bar)",
        ),
        Example(
            "X image, filter 1, stride 3",
            X_IMAGE,
            _X1,
            _t([[3, -1], [3, -1]]),
            stride=3,
            kernel_name="X filter 1 (diagonal)",
        ),
        Example(
            "7x7 input, stride 2",
            _SEVEN,
            _t([[3, 4, 4], [1, 0, 2], [-1, 0, 3]]),
            _t([[91, 100, 88], [69, 91, 117], [44, 72, 71]]),
            stride=2,
            slide=_t([[91, 100, 83], [69, 91, 127], [44, 72, 74]]),
            note="the slide prints 83, 127 and 74 for cells (0,2), (1,2) and (2,2); the correct values are 88, 117 and 71",
        ),
    ]
}

_POOL_INPUT = _t([[2, 4, 7, 4], [6, 6, 9, 8], [3, 4, 8, 3], [7, 5, 3, 6]])
POOL_EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in [
        Example("4x4 max pooling", _POOL_INPUT, None, _t([[6, 9], [7, 8]]), stride=2, pool="max", size=2),
        Example(
            "4x4 average pooling", _POOL_INPUT, None, _t([[4.5, 7], [4.75, 5]]), stride=2, pool="avg", size=2
        ),
        Example(
            "X filter 1 map, max pooling",
            EXAMPLES["X image, filter 1"].expected,
            None,
            _t([[3, 0], [3, 1]]),
            stride=2,
            pool="max",
            size=2,
            note="convolution with filter 1, then 2x2 max pooling",
        ),
        Example(
            "X filter 2 map, max pooling",
            EXAMPLES["X image, filter 2"].expected,
            None,
            _t([[-1, 1], [0, 3]]),
            stride=2,
            pool="max",
            size=2,
            slide=_t([[-1, -1], [0, 3]]),
            note="the slide prints -1 for the top-right cell; max(-1, -2, -1, 1) = 1",
        ),
    ]
}

# Patients per day convolved with doses per patient over three days: doses needed per day.
ONE_D_EXAMPLE = {"x": (1, 2, 3, 4, 5), "w": (3, 2, 1), "full": (3, 8, 14, 20, 26, 14, 5)}
