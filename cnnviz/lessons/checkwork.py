"""Check my work: the student types the output grid, and each cell is right or wrong.

The marking is a lesson's number work; `cnnviz.draw.stepper.check_figure` draws it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_work"]


def check_work(answer, output, *, tol: float = 0.01) -> np.ndarray:
    """Boolean grid: True where the student's `answer` is within `tol` of the correct `output`."""
    answer, output = np.asarray(answer, float), np.asarray(output, float)
    if answer.shape != output.shape:
        raise ValueError(
            f"your grid is {answer.shape[0]}x{answer.shape[1]} but the output is "
            f"{output.shape[0]}x{output.shape[1]}; type one number per output cell"
        )
    return np.abs(answer - output) <= tol
