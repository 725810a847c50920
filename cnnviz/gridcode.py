"""A typed grid as a short URL-safe string and back: how a link carries a grid or a kernel.

Numbers in a row are joined by "_", rows by "~" (both unreserved in URLs, so nothing is percent-encoded):

    [[1, 0, -1], [2, 0, -2], [0.5, 0, -0.25]]  <->  "1_0_-1~2_0_-2~0.5_0_-0.25"

Each number is written in the shortest form that reads back exactly (`repr` of a float, without a
trailing ".0"), so `decode_grid(encode_grid(X))` equals X bit for bit. A bad string (a hand-edited link)
raises a ValueError that says where and what is wrong.
"""

from __future__ import annotations

import re

import numpy as np

from cnnviz.trace import fmt_exact

__all__ = ["MAX_SIDE", "decode_grid", "encode_grid"]

MAX_SIDE = 64  # rows and columns a grid in a link may have (the typed-grid limit)
ROW, CELL = "~", "_"
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$")


def encode_grid(X) -> str:
    """A 2-D grid of finite numbers as "1_0_-1~2_0_-2" (rows joined by "~", cells by "_")."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"only a non-empty 2-D grid can go in a link, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("a grid with NaN or infinite values cannot go in a link")
    if max(X.shape) > MAX_SIDE:
        raise ValueError(
            f"the grid is {X.shape[0]}x{X.shape[1]}; a link carries grids up to {MAX_SIDE}x{MAX_SIDE}"
        )
    return ROW.join(CELL.join(fmt_exact(v) for v in row) for row in X)


def decode_grid(text: str, *, name: str = "grid") -> np.ndarray:
    """The grid a link carries; a ValueError names the row and cell (counted from 1) of a bad number."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"the link's {name} is empty; it should look like 1_0_-1~2_0_-2")
    rows = text.strip().split(ROW)
    if len(rows) > MAX_SIDE:
        raise ValueError(f"the link's {name} has {len(rows)} rows; a link carries at most {MAX_SIDE}")
    grid = []
    for r, row in enumerate(rows, start=1):
        cells = row.split(CELL)
        if len(cells) > MAX_SIDE:
            raise ValueError(f"row {r} of the link's {name} has {len(cells)} numbers; at most {MAX_SIDE}")
        for c, cell in enumerate(cells, start=1):
            if not _NUMBER.match(cell.lower()):
                raise ValueError(
                    f"the link's {name} is not valid: row {r}, cell {c} is {cell!r}, not a number "
                    "(a grid in a link looks like 1_0_-1~2_0_-2)"
                )
        grid.append([float(cell) for cell in cells])
        if len(grid[-1]) != len(grid[0]):
            raise ValueError(
                f"the link's {name} is not valid: row {r} has {len(grid[-1])} numbers but row 1 has {len(grid[0])}"
            )
    X = np.array(grid, dtype=float)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"the link's {name} holds a number too large to use; keep numbers below 1e308")
    return X
