"""The stepper: one animated Plotly figure that walks a sliding-window `Trace` cell by cell.

Four panels side by side, like the lecture's board: the padded input with the current window outlined
(each tap marked when the kernel is dilated), the kernel, the element-wise products, and the output
filling in with the current cell outlined; under them the sum written out term by term. Every step is
a Plotly animation frame, so Play, Pause and the slider run in the browser with no server round trip.

Pooling traces (kernel None) draw three panels: the window's values take the place of the products
and the max/min `winner` is marked. Everything drawn comes from `Trace.step`, so the figure shows the
numbers the library computes; no index arithmetic is done here.

Public API (used by the Convolution, Pooling and Feature maps pages):
- `stepper_figure(trace, *, cell=None, region=None, frame_ms=600, titles=None, inserted=None, marks=())`
- `default_region(shape, cell)` / `zoom_region(shape, cell)`: which output cells the animation covers.
- `overview_figures(trace, region)`: the whole input and the whole output as plain heatmaps.
- `click_targets(region, size_px=..., axis=...)`: invisible markers that make output cells clickable.
- `check_work(answer, output)` and `check_figure(answer, right)`: "check my work".
- Colours shared with other figures: `WINDOW_COLOR`, `WINNER_COLOR`, `PAD_COLOR`, `UNVISITED_COLOR`, ...

The figure is a `StepperFigure` (a `go.Figure` whose frames stay plain dicts, see there): read its
frames with `fig.to_dict()["frames"]` and treat it as read-only once drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64
from plotly.colors import get_colorscale

from cnnviz.figures import MAX_NUMBERED, cell_text, color_range, grid_figure
from cnnviz.trace import Step, Trace, fmt

__all__ = [
    "MARK_COLOR",
    "MAX_FRAMES",
    "PAD_COLOR",
    "UNVISITED_COLOR",
    "WINDOW_COLOR",
    "WINNER_COLOR",
    "ZOOM",
    "Region",
    "StepperFigure",
    "check_figure",
    "check_work",
    "click_targets",
    "default_region",
    "input_crop",
    "overview_figures",
    "region_cells",
    "stepper_figure",
    "wrap_expression",
    "zoom_region",
]

MAX_FRAMES = 144  # a whole output is animated up to this many cells (12x12); larger ones step a zoomed region
ZOOM = 8  # side of the zoomed region, in output cells
PAD_COLOR = "#e3e3e3"  # padding cells: light grey, their value in grey italics
INSERTED_COLOR = "#d6e6f5"  # zeros that are not input data (e.g. inserted by a transposed convolution)
UNVISITED_COLOR = "rgba(255, 120, 0, 0.45)"  # input cells no window ever reads
WINDOW_COLOR = "#ff9900"  # the window on the input and the current output cell
WINNER_COLOR = "#8e24aa"  # the tap max/min pooling keeps
MARK_COLOR = "#d62728"  # output cells to call out (a slide's wrong answer, a student's mistake)

Region = tuple[int, int, int, int]  # (i0, j0, i1, j1): output cells, inclusive corners


def zoom_region(shape: tuple[int, int], cell: tuple[int, int], size: int = ZOOM) -> Region:
    """The size x size block of output cells holding `cell`, aligned to multiples of `size`.

    Aligned blocks keep the zoomed view still while the window moves inside it.
    """
    (h, w), (i, j) = shape, cell
    i0, j0 = (i // size) * size, (j // size) * size
    return i0, j0, min(i0 + size, h) - 1, min(j0 + size, w) - 1


def default_region(shape: tuple[int, int], cell: tuple[int, int], max_frames: int = MAX_FRAMES) -> Region:
    """The whole output when it has at most `max_frames` cells, else the zoomed block around `cell`."""
    h, w = shape
    if h * w <= max_frames:
        return 0, 0, h - 1, w - 1
    return zoom_region(shape, cell)


def region_cells(region: Region) -> list[tuple[int, int]]:
    """The region's output cells in reading order (row by row, left to right)."""
    i0, j0, i1, j1 = region
    return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


def input_crop(trace: Trace, region: Region) -> Region:
    """Padded-input cells (r0, c0, r1, c1) the stepper draws for `region`.

    The whole padded input when the region is the whole output (so cells no window visits show too),
    else the span from the region's first window to its last.
    """
    out_h, out_w = trace.shape
    if region == (0, 0, out_h - 1, out_w - 1):
        return 0, 0, trace.padded.shape[0] - 1, trace.padded.shape[1] - 1
    i0, j0, i1, j1 = region
    first, last = trace.step(i0, j0), trace.step(i1, j1)
    return int(first.rows[0]), int(first.cols[0]), int(last.rows[-1]), int(last.cols[-1])


def wrap_expression(text: str, width: int) -> list[str]:
    """Split "a*b + c*d + ... = v" into lines of at most about `width` characters, breaking after a " + "."""
    lines, line = [], ""
    for part in text.split(" + "):
        piece = part if not line else f" + {part}"
        if line and len(line) + len(piece) > width:
            lines.append(line + " +")
            line = part
        else:
            line += piece
    lines.append(line)
    return lines


def _finite(Z: np.ndarray) -> np.ndarray:
    """Non-finite values (pooling's -inf/+inf padding) as NaN: drawn blank, their text written separately."""
    Z = np.asarray(Z, dtype=float)
    return np.where(np.isfinite(Z), Z, np.nan)


def _texts(Z: np.ndarray, mask: np.ndarray | None = None) -> list[list[str]]:
    """Each cell's number (also "-inf"), or "" where `mask` is False or the value is NaN."""
    return [
        [fmt(v) if (mask is None or m) and not np.isnan(v) else "" for v, m in zip(row, mrow, strict=True)]
        for row, mrow in zip(Z, np.ones_like(Z, bool) if mask is None else mask, strict=True)
    ]


def _ref(name: str, n: int) -> str:
    """Plotly's name for panel `n`'s axis: "x" (not "x1") for the first, then "x2", "x3", ..."""
    return name if n == 1 else f"{name}{n}"


def _layer(mask: np.ndarray, color: str, *, text=None, x0: int, y0: int, axis: int, hover: str) -> dict:
    """A single-colour heatmap over the cells where `mask` is True (padding, inserted zeros, unvisited)."""
    trace = {
        "type": "heatmap",
        "z": np.where(mask, 1.0, np.nan),
        "x0": x0,
        "y0": y0,
        "dx": 1,
        "dy": 1,
        "colorscale": [[0, color], [1, color]],
        "zmin": 0,
        "zmax": 1,
        "showscale": False,
        "xgap": 1,
        "ygap": 1,
        "hovertemplate": f"row %{{y}}, column %{{x}}: {hover}<extra></extra>",
        "xaxis": _ref("x", axis),
        "yaxis": _ref("y", axis),
    }
    if text is not None:
        trace.update(text=text, texttemplate="%{text}", textfont={"color": "#707070"})
    return trace


def _heatmap(Z, colors: dict, *, x0: int, y0: int, axis: int, name: str, numbers: bool) -> dict:
    Z = np.asarray(Z, dtype=float)
    trace = {
        "type": "heatmap",
        "z": _finite(Z),
        "x0": x0,
        "y0": y0,
        "dx": 1,
        "dy": 1,
        "showscale": False,
        "xgap": 1,
        "ygap": 1,
        "name": name,
        "hovertemplate": f"row %{{y}}, column %{{x}}<br>{name} %{{z:.4~g}}<extra></extra>",
        "xaxis": _ref("x", axis),
        "yaxis": _ref("y", axis),
        **colors,
        # Named scales like "gray" or "RdBu_r" are Plotly-Python names that plotly.js does not know; the
        # figure skips Python-side validation (which would expand them), so expand them here.
        "colorscale": get_colorscale(colors["colorscale"]),
    }
    if numbers:
        trace.update(text=_texts(Z), texttemplate="%{text}")
    return trace


def _rect(r0, c0, r1, c1, axis: int, color: str, *, width: float = 4, dash: str | None = None, inset=0.0):
    line = {"color": color, "width": width}
    if dash:
        line["dash"] = dash
    return {
        "type": "rect",
        "xref": _ref("x", axis),
        "yref": _ref("y", axis),
        "x0": c0 - 0.5 + inset,
        "x1": c1 + 0.5 - inset,
        "y0": r0 - 0.5 + inset,
        "y1": r1 + 0.5 - inset,
        "line": line,
    }


def stepper_figure(
    trace: Trace,
    *,
    cell: tuple[int, int] | None = None,
    region: Region | None = None,
    frame_ms: int = 600,
    titles: dict[str, str] | None = None,
    inserted: np.ndarray | None = None,
    marks: Sequence[tuple[int, int]] = (),
) -> go.Figure:
    """The animated stepper for `trace`, showing output cell `cell` first.

    - `cell`: the output cell (i, j) drawn before Play is pressed (default: the region's first cell).
    - `region`: the output cells to animate, (i0, j0, i1, j1) inclusive; default `default_region`.
    - `frame_ms`: milliseconds per step while playing.
    - `titles`: panel titles to override, keys "input", "kernel", "products", "output".
    - `inserted`: boolean mask shaped like `trace.padded` of cells that are not input data (e.g. the zeros
      a transposed convolution inserts); drawn like padding, in blue.
    - `marks`: output cells outlined in dashed red on every frame (e.g. where a slide's answer is wrong).

    Axes use input coordinates: padding sits at row/column -1, -2, ...; output axes use output indices.
    Built from plain dicts and wrapped without Plotly's validation (slow with many frames); the tests
    validate it.
    """
    out_h, out_w = trace.shape
    cell = cell if cell is not None else (0, 0)
    region = region if region is not None else default_region(trace.shape, cell)
    cells = region_cells(region)
    if cell not in cells:
        cell = cells[0]
    steps: list[Step] = [trace.step(i, j) for i, j in cells]
    pooling = trace.kernel is None
    plan = trace.plan
    pb_r, pb_c = plan.rows.pad_before, plan.cols.pad_before

    # Input panel: the padded crop, in input coordinates (padding at -1, n, ...).
    r0, c0, r1, c1 = input_crop(trace, region)
    P = trace.padded[r0 : r1 + 1, c0 : c1 + 1]
    y0_in, x0_in = r0 - pb_r, c0 - pb_c
    pad = plan.pad_mask()[r0 : r1 + 1, c0 : c1 + 1]
    ins = (
        np.zeros_like(pad)
        if inserted is None
        else np.asarray(inserted, bool)[r0 : r1 + 1, c0 : c1 + 1] & ~pad
    )
    unvisited = np.zeros(plan.padded_shape, bool)
    unvisited[pb_r : pb_r + plan.rows.n, pb_c : pb_c + plan.cols.n] = plan.unvisited_mask()
    unvisited = unvisited[r0 : r1 + 1, c0 : c1 + 1]
    numbered_in = max(P.shape) <= MAX_NUMBERED
    data_cells = ~pad & ~ins
    inner = P[data_cells] if data_cells.any() else np.zeros(1)
    # A zoomed crop comes from a big input, a picture most likely: grey levels when it holds 0..255.
    in_colors = color_range([inner], image=not numbered_in or region != (0, 0, out_h - 1, out_w - 1))

    # Products (or the pooling window) and the output share one scale: the products sum to the output.
    Y = trace.output[region[0] : region[2] + 1, region[1] : region[3] + 1]
    out_colors = color_range([Y] + [s.products for s in steps])
    kh, kw = plan.kernel_shape
    numbered_out = max(Y.shape) <= MAX_NUMBERED

    names = {
        "input": "Input X" + (" (padded)" if pad.any() else ""),
        "kernel": "Kernel K" + (" rotated 180° (as slid)" if trace.mode == "convolve" else ""),
        "products": "Window values" if pooling else "Products X·K",
        "output": "Output Y" if not pooling else f"Output ({trace.mode} pool)",
    }
    names.update(titles or {})

    # Panels: (name, rows, cols, axis number). The kernel panel is left out for pooling.
    panels = [("input", P.shape[0], P.shape[1])]
    if not pooling:
        panels.append(("kernel", kh, kw))
    panels += [("products", kh, kw), ("output", Y.shape[0], Y.shape[1])]
    axis = {name: n + 1 for n, (name, _, _) in enumerate(panels)}

    total_cols = sum(w for _, _, w in panels)
    max_rows = max(h for _, h, _ in panels)
    cell_px = int(max(12, min(46, 1000 // (total_cols + 2 * len(panels)), 520 // max_rows)))
    gap = max(50, cell_px)  # room for the next panel's row numbers
    # Each panel gets at least its title's width (bold 14 px, about 8.5 px a character), so titles never overlap.
    slot = {name: max(w * cell_px, int(8.5 * len(names[name]))) for name, _, w in panels}
    plot_w = sum(slot.values()) + gap * (len(panels) - 1)
    plot_h = max_rows * cell_px
    min_width = 900  # room for the sum written out and the controls, however small the grids
    right_px = max(20, min_width - plot_w - 40)

    layout: dict = {
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"size": 13},
        "showlegend": False,
        "hovermode": "closest",
        "dragmode": False,
    }
    x_px = 0
    domains = {}
    for name, h, w in panels:
        n = axis[name]
        domains[name] = (x_px / plot_w, (x_px + w * cell_px) / plot_w, 1 - h * cell_px / plot_h)
        ticks = max(h, w) <= MAX_NUMBERED
        common = {
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
            "showticklabels": ticks,
            "dtick": 1 if ticks else None,
            "ticks": "",
            "tickfont": {"size": 11, "color": "#666"},
        }
        ox, oy = {"input": (x0_in, y0_in), "output": (region[1], region[0])}.get(name, (0, 0))
        layout[_ref("xaxis", n)] = {
            **common,
            "domain": [domains[name][0], domains[name][1]],
            "range": [ox - 0.5, ox + w - 0.5],
            "side": "top",
            "anchor": _ref("y", n),
        }
        layout[_ref("yaxis", n)] = {
            **common,
            "domain": [domains[name][2], 1.0],
            "range": [oy + h - 0.5, oy - 0.5],  # reversed: row 0 at the top
            "anchor": _ref("x", n),
        }
        x_px += slot[name] + gap

    # Static traces: input, its padding / inserted / unvisited layers, the kernel.
    data = [
        _heatmap(
            np.where(data_cells, P, np.nan),
            in_colors,
            x0=x0_in,
            y0=y0_in,
            axis=1,
            name="value",
            numbers=numbered_in,
        )
    ]
    data.append(
        _layer(
            pad,
            PAD_COLOR,
            text=_texts(P, pad) if numbered_in else None,
            x0=x0_in,
            y0=y0_in,
            axis=1,
            hover="padding",
        )
    )
    if ins.any():
        data.append(
            _layer(
                ins,
                INSERTED_COLOR,
                text=_texts(P, ins) if numbered_in else None,
                x0=x0_in,
                y0=y0_in,
                axis=1,
                hover="inserted zero",
            )
        )
    if unvisited.any():
        data.append(_layer(unvisited, UNVISITED_COLOR, x0=x0_in, y0=y0_in, axis=1, hover="never visited"))
    if not pooling:
        data.append(
            _heatmap(
                trace.kernel,
                color_range([trace.kernel]),
                x0=0,
                y0=0,
                axis=axis["kernel"],
                name="weight",
                numbers=True,
            )
        )
    products_index, output_index = len(data), len(data) + 1
    data.append(
        _heatmap(
            steps[0].products, out_colors, x0=0, y0=0, axis=axis["products"], name="product", numbers=True
        )
    )
    data.append(
        _heatmap(
            Y,
            out_colors,
            x0=region[1],
            y0=region[0],
            axis=axis["output"],
            name="output",
            numbers=numbered_out,
        )
    )

    # Static annotations: panel titles, and the operator between the panels.
    titles_ann = []
    for name, _, _ in panels:
        left, _, _ = domains[name]
        titles_ann.append(
            {
                "text": f"<b>{names[name]}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": left,
                "y": 1.0,
                "yshift": 34,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
        )
    chars = max(40, int((plot_w + right_px - 10) / 9.8))  # 16 px monospace
    max_lines = max(len(wrap_expression(_expression(s), chars)) for s in steps)
    expr_px = 24 * max_lines + 30

    static_marks = [
        _rect(i, j, i, j, axis["output"], MARK_COLOR, width=3, dash="dash")
        for i, j in marks
        if region[0] <= i <= region[2] and region[1] <= j <= region[3]
    ]

    def frame_parts(n: int) -> tuple[list, list, list]:
        """(products z/text, output z/text) trace updates, shapes and annotations of step n."""
        step = steps[n]
        i, j = step.index
        rows, cols = step.rows - pb_r, step.cols - pb_c  # input coordinates
        shapes = [_rect(rows[0], cols[0], rows[-1], cols[-1], 1, WINDOW_COLOR, width=4)]
        if plan.rows.dilation > 1 or plan.cols.dilation > 1:
            shapes += [_rect(r, c, r, c, 1, WINDOW_COLOR, width=2, inset=0.12) for r in rows for c in cols]
        if step.winner is not None:
            u, v = step.winner
            shapes.append(_rect(rows[u], cols[v], rows[u], cols[v], 1, WINNER_COLOR, width=3, inset=0.1))
            shapes.append(_rect(u, v, u, v, axis["products"], WINNER_COLOR, width=4, inset=0.06))
        shapes.append(_rect(i, j, i, j, axis["output"], WINDOW_COLOR, width=4))
        shapes += static_marks
        filled = np.zeros(Y.shape, bool)
        filled.ravel()[: n + 1] = True  # the region's cells up to this step, in reading order
        Yn = np.where(filled, Y, np.nan)
        products = {"type": "heatmap", "z": _finite(step.products), "text": _texts(step.products)}
        output = {"type": "heatmap", "z": Yn}
        if numbered_out:
            output["text"] = _texts(Y, filled)
        label = f"Step {trace.step_number(i, j) + 1} of {trace.n_steps} · output cell ({i}, {j})"
        expr = "<br>".join(wrap_expression(_expression(step), chars))
        annotation = {
            "text": f"<b>{label}</b><br><span style='font-family:monospace'>{expr}</span>",
            "xref": "paper",
            "yref": "paper",
            "x": 0.0,
            "y": 0.0,
            "yshift": -12,
            "xanchor": "left",
            "yanchor": "top",
            "align": "left",
            "showarrow": False,
            "font": {"size": 16, "family": "monospace"},
        }
        return [products, output], shapes, titles_ann + [annotation]

    names_k = [f"s{trace.step_number(i, j)}" for i, j in cells]
    frames = []
    for n in range(len(steps)):
        updates, shapes, annotations = frame_parts(n)
        frames.append(
            {
                "name": names_k[n],
                "data": updates,
                "traces": [products_index, output_index],
                "layout": {"shapes": shapes, "annotations": annotations},
            }
        )
    current = cells.index(cell)
    updates, shapes, annotations = frame_parts(current)
    data[products_index].update(updates[0])
    data[output_index].update(updates[1])

    controls_px = 120 if len(steps) > 1 else 0
    margin = {"l": 40, "r": right_px, "t": 84, "b": expr_px + controls_px}
    layout.update(
        shapes=shapes,
        annotations=annotations,
        width=plot_w + margin["l"] + margin["r"],
        height=plot_h + margin["t"] + margin["b"],
        margin=margin,
    )
    if len(steps) > 1:
        play = {
            "frame": {"duration": int(frame_ms), "redraw": True},
            "transition": {"duration": 0},
            "fromcurrent": True,
            "mode": "immediate",
        }
        pause = {
            "frame": {"duration": 0, "redraw": False},
            "transition": {"duration": 0},
            "mode": "immediate",
        }
        layout["updatemenus"] = [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "xanchor": "left",
                "y": 0.0,
                "yanchor": "top",
                "pad": {"t": expr_px + 4},
                "buttons": [
                    # Play starts from the shown cell; after the slider moved, from the slider's cell.
                    {"label": "▶ Play", "method": "animate", "args": [names_k[current:], play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ]
        layout["sliders"] = [
            {
                "active": current,
                # Right of the Play/Pause buttons (about 180 px), across the figure's whole width; in fractions
                # of the plot area, which is narrower than the figure when the grids are small.
                "x": 185 / plot_w,
                "len": (plot_w + right_px - 20 - 185) / plot_w,
                "xanchor": "left",
                "y": 0.0,
                "yanchor": "top",
                "pad": {"t": expr_px, "b": 0},
                "currentvalue": {"visible": False},  # the step is written out above the slider
                "font": {"color": "rgba(0,0,0,0)", "size": 1},  # one label per step would overlap
                "ticklen": 3,
                "steps": [
                    {
                        "label": f"step {trace.step_number(i, j) + 1}: output cell ({i}, {j})",
                        "method": "animate",
                        "args": [
                            [name],
                            {
                                "frame": {"duration": 0, "redraw": True},
                                "transition": {"duration": 0},
                                "mode": "immediate",
                            },
                        ],
                    }
                    for name, (i, j) in zip(names_k, cells, strict=True)
                ],
            }
        ]
    # Numbers as large as the cells allow: the longest text of each grid (over all frames) must fit.
    longest = {products_index: max(len(fmt(v)) for s in steps for v in s.products.ravel())}
    for n, trace_dict in enumerate(data):
        if "text" in trace_dict:
            chars_in_cell = longest.get(n) or max(len(t) for row in trace_dict["text"] for t in row)
            size = min(15, int((cell_px - 4) / (0.6 * max(chars_in_cell, 1))))
            trace_dict.setdefault("textfont", {})["size"] = max(7, size)
    # Invisible markers over the output cells: Plotly reports clicks on them (not on heatmaps), so a page
    # using `st.plotly_chart(on_select=...)` can jump to the clicked cell. Last, so frame indices hold.
    data.append(click_targets(region, size_px=cell_px, axis=axis["output"]))
    return StepperFigure(data, layout, frames)


class StepperFigure(go.Figure):
    """A `go.Figure` whose animation frames stay plain dicts until it is serialised.

    Plotly validates every frame of a Figure it builds (about 10 ms a frame here, so a second for a
    64-frame zoomed region); the frames are written with Plotly's own property names and the tests
    check the whole figure with full validation (`go.Figure(fig.to_dict())`). Read the frames with
    `fig.to_dict()["frames"]` (`fig.frames` is empty). The figure is read-only once drawn: `to_dict`
    serialises it on its first call and returns that on every later call (a cached figure then costs
    a page rerun no more than its JSON encoding).
    """

    def __init__(self, data: list[dict], layout: dict, frames: list[dict]):
        super().__init__({"data": data, "layout": layout}, _validate=False)
        self._raw_frames = frames
        self._serialised: dict | None = None

    def to_dict(self) -> dict:
        """Data, layout and frames as Plotly's JSON dict; worked out once, then reused on every rerun."""
        if self._serialised is None:
            res = super().to_dict()
            frames = {"frames": deepcopy(self._raw_frames)}
            convert_to_base64(frames)  # numpy arrays as Plotly's {dtype, bdata}, like the data
            res["frames"] = frames["frames"]
            self._serialised = res
        return dict(self._serialised)


def _expression(step: Step) -> str:
    i, j = step.index
    return f"Y[{i}, {j}] = {step.expression()}"


def click_targets(
    region: Region, *, size_px: float, axis: int = 1, hover: str = "click to step here"
) -> dict:
    """A transparent square marker on the centre (x=j, y=i) of every output cell of `region`, named "click"."""
    cells = np.array(region_cells(region))  # (n, 2) rows of (i, j)
    return {
        "type": "scatter",
        "name": "click",
        "mode": "markers",
        "x": cells[:, 1],
        "y": cells[:, 0],
        "marker": {"symbol": "square", "size": max(2.0, 0.9 * size_px), "opacity": 0},
        "hovertemplate": f"output cell (%{{y}}, %{{x}}): {hover}<extra></extra>",
        "showlegend": False,
        "xaxis": _ref("x", axis),
        "yaxis": _ref("y", axis),
    }


def overview_figures(trace: Trace, region: Region) -> tuple[go.Figure, go.Figure]:
    """The whole input and the whole output as plain heatmaps, with the stepped region outlined on both."""
    r0, c0, r1, c1 = input_crop(trace, region)
    pb_r, pb_c = trace.plan.rows.pad_before, trace.plan.cols.pad_before
    X = trace.X
    shade = trace.plan.unvisited_mask()
    input_fig = grid_figure(
        X,
        title="Whole input: the outlined cells are stepped below",
        colors=color_range([X], image=True),
        numbers=False,
        outlines=[((r0 - pb_r, c0 - pb_c, r1 - pb_r, c1 - pb_c), "#ff9900")],
        shade=shade if shade.any() else None,
        shade_color=UNVISITED_COLOR,
        showscale=False,
        cell_px=max(1, 380 // max(X.shape)),
    )
    Y = trace.output
    input_fig.update_traces(xgap=0, ygap=0)  # at a few pixels a cell, gaps would hide the picture
    output_fig = grid_figure(
        Y,
        title=f"Whole output {Y.shape[0]}x{Y.shape[1]}",
        numbers=False,
        outlines=[(region, "#ff9900")],
        showscale=True,
        cell_px=max(1, 380 // max(Y.shape)),
    )
    output_fig.update_traces(xgap=0, ygap=0)
    if Y.size <= 128 * 128:  # beyond that, choose the cell by row and column
        _make_clickable(output_fig, Y.shape, max(1, 380 // max(Y.shape)))
    return input_fig, output_fig


def _make_clickable(fig: go.Figure, shape: tuple[int, int], cell_px: float, **kwargs) -> None:
    """Add `click_targets` over every cell of a one-grid figure, keeping its axes on the grid."""
    h, w = shape
    fig.add_trace(go.Scatter(click_targets((0, 0, h - 1, w - 1), size_px=cell_px, **kwargs)))
    fig.update_xaxes(range=[-0.5, w - 0.5], autorange=False)  # the markers must not widen the axes
    fig.update_yaxes(range=[h - 0.5, -0.5], autorange=False)


def check_work(answer, output, *, tol: float = 0.01) -> np.ndarray:
    """Boolean grid: True where the student's `answer` is within `tol` of the correct `output`."""
    answer, output = np.asarray(answer, float), np.asarray(output, float)
    if answer.shape != output.shape:
        raise ValueError(
            f"your grid is {answer.shape[0]}x{answer.shape[1]} but the output is "
            f"{output.shape[0]}x{output.shape[1]}; type one number per output cell"
        )
    return np.abs(answer - output) <= tol


def check_figure(
    answer, right: np.ndarray, *, title: str = "Your answer: green right, red wrong"
) -> go.Figure:
    """The student's numbers on green (right) or red (wrong) cells, wrong ones outlined; cells clickable."""
    answer = np.asarray(answer, float)
    colors = {"colorscale": [[0, "#f4b6b6"], [1, "#b9e4b9"]], "zmin": 0, "zmax": 1}
    fig = grid_figure(right.astype(float), title=title, colors=colors, numbers=False, showscale=False)
    fig.data[0].update(text=cell_text(answer, max_numbered=10**9), texttemplate="%{text}", hoverinfo="skip")
    fig.update_layout(
        shapes=[
            {**_rect(i, j, i, j, 1, MARK_COLOR, width=3), "xref": "x", "yref": "y"}
            for i, j in np.argwhere(~right)
        ]
    )
    cell_px = max(6, min(48, 520 // max(right.shape)))  # grid_figure's cell size
    fig.data[0].update(textfont={"size": max(9, min(16, cell_px // 3))})
    _make_clickable(fig, right.shape, cell_px, hover="click to see its arithmetic")
    return fig
