"""The Convolution page's lesson in words: does the output match the lecture's example, what the slide got wrong,
which input rows and columns no window reads. Plain functions of an `Example` and a `Trace`."""

from __future__ import annotations

import numpy as np

from cnnviz.lessons.presets import Example
from cnnviz.trace import Trace, count, fmt

__all__ = [
    "kernel_text",
    "matches_example",
    "slide_caption",
    "slide_marks",
    "slide_mistakes",
    "summary",
    "tiling_warning",
    "dense_layer_text",
]


def kernel_text(K: np.ndarray, scale: str = "") -> str:
    """ "K = 1/9 x [[1, 1, 1], ...]": a kernel's numbers on one line, with its scale when it has one."""
    rows = ", ".join("[" + ", ".join(fmt(v) for v in row) + "]" for row in K)
    return f"K = {scale + ' x ' if scale else ''}[{rows}]"


def matches_example(trace: Trace, example: Example) -> bool:
    """True when `trace` gives the example's (correct) output: the example as in the lecture."""
    return trace.shape == example.output.shape and bool(np.allclose(trace.output, example.output))


def slide_marks(example: Example) -> list[tuple[int, int]]:
    """The output cells the slide printed wrong."""
    return [(i, j) for i, j, _, _ in example.slide_errors]


def slide_caption(example: Example) -> str:
    """The stepper legend's words for the outlined cells: what the slide printed and the right value."""
    return "the slide printed " + ", ".join(f"{fmt(p)} (is {fmt(c)})" for _, _, p, c in example.slide_errors)


def slide_mistakes(example: Example) -> str:
    """The slide's wrong cells, each with the printed and the correct value, for a warning."""
    return ", ".join(f"({i}, {j}): slide {fmt(p)}, correct {fmt(c)}" for i, j, p, c in example.slide_errors)


def summary(trace: Trace, *, lecture: bool) -> str:
    """One line: the input, kernel and output sizes (markdown), and whether this is the lecture's example."""
    plan, (out_h, out_w) = trace.plan, trace.shape
    text = (
        f"Input {trace.X.shape[0]}x{trace.X.shape[1]}, kernel {plan.rows.f}x{plan.cols.f} -> "
        f"**output {out_h}x{out_w}** ({count(trace.n_steps, 'cell')})"
    )
    if lecture:
        text += " · this is the lecture's worked example, and the output matches its (correct) answer"
    return text


def tiling_warning(trace: Trace) -> str:
    """Why the windows do not tile the input, naming the rows and columns no window reads ("" when they tile)."""
    plan = trace.plan
    if plan.tiles:
        return ""
    lost = []
    if plan.rows.unvisited:
        lost.append(f"rows {plan.rows.unvisited}")
    if plan.cols.unvisited:
        lost.append(f"columns {plan.cols.unvisited}")
    never = (
        f" and input {' and '.join(lost)} are never read by any window (cross-hatched on the grid)."
        if lost
        else "."
    )
    return (
        "The windows do not tile the input: the division below is not whole, so the size is floored"
        + never
        + " PyTorch drops them silently."
    )


def dense_layer_text(shape: tuple[int, ...], units: int = 1000) -> str:
    """Why not a fully connected layer: the weights one hidden layer of `units` needs on a picture of `shape`
    (H, W) or (H, W, C), against a 3x3 kernel's 9 (markdown)."""
    h, w = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    n = h * w * channels
    return f"""
**Why not a fully connected network?** Flattened, this picture is {h} x {w}{f" x {channels}" if channels > 1 else ""}
= **{n:,} numbers**. One hidden layer of {units:,} units fed by all of them needs
({n:,} + 1) x {units:,} = **{(n + 1) * units:,} weights**, and the pattern it learns at one place
is not reused anywhere else. A convolution slides one small shared kernel over the grid instead: a 3x3 kernel
has 9 weights, wherever it looks.
"""
