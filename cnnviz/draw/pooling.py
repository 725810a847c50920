"""Figures of the pooling page: the padded input with one window (and its winner) outlined.

Drawn with `cnnviz.draw.figures.grid_figure` and the stepper's colours (`cnnviz.draw.stepper`), so the backward
pass reads like the stepper above it: orange window, purple winner, grey padding. Plotly only.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.draw.figures import MAX_NUMBERED, cell_text, color_range, grid_figure, outline_shape
from cnnviz.draw.palette import PAD_COLOR, PAD_TEXT, WINDOW_COLOR, WINNER_COLOR
from cnnviz.trace import Step, Trace

__all__ = ["padded_input_figure", "window_box"]


def window_box(step: Step) -> tuple[int, int, int, int]:
    """(row0, col0, row1, col1) of the step's window, in padded coordinates."""
    return int(step.rows[0]), int(step.cols[0]), int(step.rows[-1]), int(step.cols[-1])


def padded_input_figure(
    trace: Trace, step: Step | None = None, *, colors: dict | None = None, title: str = ""
) -> go.Figure:
    """The padded input (padding grey, labelled -inf, inf or 0) with `step`'s window and winner outlined.

    Axes count from the input's cell (0, 0), so padding sits at row/column -1, -2, ... as in the stepper.
    """
    plan = trace.plan
    pad = plan.pad_mask()
    Z = np.where(pad, np.nan, trace.padded)  # padding has no colour of its own, only its label
    colors = colors or color_range([trace.X])
    origin = trace.input_position(0, 0)  # padded cell (0, 0) sits at input (-p, -p)
    fig = grid_figure(
        Z, title=title, colors=colors, shade=pad, shade_color=PAD_COLOR, origin=origin, showscale=False
    )
    if max(Z.shape) <= MAX_NUMBERED and pad.any():  # the padding's label sits on the grey layer over it
        text = np.array(cell_text(trace.padded), dtype=object)  # (padded_h, padded_w)
        fig.data[1].update(
            text=np.where(pad, text, "").tolist(), texttemplate="%{text}", textfont={"color": PAD_TEXT}
        )
    if step is not None:
        y0, x0 = origin  # padded position p is drawn at p + origin
        r0, c0, r1, c1 = window_box(step)
        shapes = [outline_shape((r0 + y0, c0 + x0, r1 + y0, c1 + x0), color=WINDOW_COLOR)]
        if step.winner is not None:
            u, v = step.winner
            r, c = int(step.rows[u]) + y0, int(step.cols[v]) + x0
            shapes.append(outline_shape((r, c, r, c), color=WINNER_COLOR, width=3))
        fig.update_layout(shapes=shapes)
    return fig
