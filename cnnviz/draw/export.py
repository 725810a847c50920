"""Export for slides: one step of a sliding window as PNG or SVG, the walk as a GIF, the grids as CSV.

Everything is drawn here with Pillow or written as SVG text: no browser, no network, no Plotly. One
step is first laid out as a list of shapes (`Box`, `Label`); `step_png` paints them with Pillow and
`step_svg` writes them as SVG, so both show the same picture:

    padded input (padding tinted, the window outlined) | kernel | products | output so far (current cell)
    the sum written out: 3*1 + 0*0 + 1*(-1) + ... = -5

Colours follow `cnnviz.draw.palette` (window orange, padding grey, current cell blue). Numbers are written in
cells while a cell is at least `MIN_NUMBERED_PX` wide; larger grids are drawn as grey levels.
"""

from __future__ import annotations

import csv
import io
import textwrap
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnnviz.draw.palette import (
    BLACK_INK,
    CURRENT_COLOR,
    GRID_LINE,
    PAD_COLOR,
    WHITE_INK,
    WINDOW_COLOR,
    scale_rgb,
    tint,
)
from cnnviz.trace import Trace, fmt

__all__ = [
    "MAX_FRAMES",
    "Box",
    "Label",
    "csv_zip",
    "grid_csv",
    "step_layout",
    "step_png",
    "step_svg",
    "trace_csvs",
    "walk_gif",
]

MAX_FRAMES = 400  # steps one GIF may hold (a 20x20 output); choose a region for larger outputs
MIN_NUMBERED_PX = 30  # cells narrower than this show grey levels instead of numbers
MAX_CELL_PX = 64
GAP_PX = 48  # space between panels
INK, PAPER, CELL_LINE = BLACK_INK, WHITE_INK, GRID_LINE
# Light tints of the palette's colours behind numbers (black numbers stay readable on them).
TINT = {"padding": PAD_COLOR, "window": tint("window"), "current cell": tint("current cell")}


@dataclass(frozen=True)
class Box:
    """A rectangle: top-left (x, y), size (w, h), fill ("" for none), outline colour and width."""

    x: float
    y: float
    w: float
    h: float
    fill: str = ""
    stroke: str = ""
    stroke_width: float = 0


@dataclass(frozen=True)
class Label:
    """Text centred at (x, y) when `anchor` is "middle", else starting at x; `size` in pixels."""

    x: float
    y: float
    text: str
    size: int
    anchor: str = "middle"
    bold: bool = False


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    shapes: tuple[Box | Label, ...]


# --- Layout: where every cell, outline and label of one step goes -------------------------------------------


def _cell_px(trace: Trace, max_width: int) -> tuple[int, int]:
    """Cell sizes (grids, kernel panels) that fit the panels side by side in `max_width` pixels.

    The kernel and products panels keep cells big enough for numbers even when the input is a picture.
    """
    pw, kw, ow = trace.padded.shape[1], trace.plan.kernel_shape[1], trace.shape[1]
    kernel_cell = MAX_CELL_PX if (pw + 2 * kw + ow) * MIN_NUMBERED_PX <= max_width else 48
    panels = 2 if trace.kernel is not None else 1
    room = max_width - panels * (kw * kernel_cell + GAP_PX) - 2 * GAP_PX
    cell = int(max(2, min(MAX_CELL_PX, room // (pw + ow))))
    return cell, kernel_cell


def _kernel_shape(trace: Trace) -> tuple[int, int]:
    return trace.plan.kernel_shape


def _shade(v: float, lo: float, hi: float) -> str:
    """A cell too small for its number, on the pages' scales: grey for a picture of 0..255, viridis for
    other magnitudes, the diverging scale centred on zero for signed values (white for padding)."""
    if not np.isfinite(v):
        return PAPER
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        color = scale_rgb(v / m, "diverging")
    elif hi > 15 and hi <= 255:
        color = scale_rgb(v / 255, "grey")
    else:
        color = scale_rgb((v - lo) / ((hi - lo) or 1.0), "magnitude")
    return "#{:02X}{:02X}{:02X}".format(*color)


def _grid(Z: np.ndarray, x0: float, y0: float, cell: int, *, fills=None, numbers: bool) -> list:
    """Cells of Z as boxes (white, or coloured on the scales without numbers) and, when they fit, their numbers."""
    shapes = []
    finite = Z[np.isfinite(Z)] if np.isfinite(Z).any() else np.zeros(1)
    lo, hi = float(finite.min()), float(finite.max())
    font = int(cell * 0.42)
    for (r, c), v in np.ndenumerate(Z):
        x, y = x0 + c * cell, y0 + r * cell
        fill = (fills or {}).get((r, c)) or (PAPER if numbers else _shade(v, lo, hi))
        shapes.append(Box(x, y, cell, cell, fill, CELL_LINE if numbers else "", 1 if numbers else 0))
        if numbers and not np.isnan(v):
            text = fmt(v)
            size = int(min(font, cell * 0.9 / (0.6 * len(text))))  # long numbers shrink to fit the cell
            shapes.append(Label(x + cell / 2, y + cell / 2, text, size))
    return shapes


def _outline(r0: int, c0: int, r1: int, c1: int, x0: float, y0: float, cell: int, color: str) -> Box:
    width = max(3, cell // 10)
    return Box(x0 + c0 * cell, y0 + r0 * cell, (c1 - c0 + 1) * cell, (r1 - r0 + 1) * cell, "", color, width)


def _step_grids(trace: Trace, k: int) -> list[tuple[str, np.ndarray, dict | None, bool]]:
    """(title, grid, cell fills, is a kernel panel) of step k: input, kernel, products, output so far."""
    i, j = trace.cell(k)
    step = trace.step(i, j)
    pad_mask = trace.plan.pad_mask()
    fills = {(r, c): TINT["padding"] for r, c in zip(*np.nonzero(pad_mask), strict=True)}
    fills.update({(int(r), int(c)): TINT["window"] for r in step.rows for c in step.cols})
    so_far = np.full(trace.shape, np.nan)
    so_far.flat[: k + 1] = trace.output.flat[: k + 1]  # reading order: every cell up to this step
    grids = [("Padded input" if pad_mask.any() else "Input", trace.padded, fills, False)]
    if step.kernel is not None:
        grids += [(_kernel_title(trace), step.kernel, None, True), ("Products", step.products, None, True)]
    else:
        grids.append((f"{trace.mode} of the window", step.window, None, True))
    return [*grids, ("Output so far", so_far, {(i, j): TINT["current cell"]}, False)]


def _panels(trace: Trace, k: int, cells: tuple[int, int], top: float, title_px: int) -> tuple[list, float]:
    """The grids of step k side by side; returns their shapes and the x where they end."""
    i, j = trace.cell(k)
    step = trace.step(i, j)
    shapes, x = [], GAP_PX / 2
    for title, Z, fills, small in _step_grids(trace, k):
        cell = cells[1] if small else cells[0]
        numbers = cell >= MIN_NUMBERED_PX
        shapes.append(Label(x, top - title_px * 0.8, title, title_px, anchor="start", bold=True))
        shapes += _grid(Z, x, top, cell, fills=fills if numbers else None, numbers=numbers)
        if title.endswith("input"):
            corners = (step.rows[0], step.cols[0], step.rows[-1], step.cols[-1])
            shapes.append(_outline(*corners, x, top, cell, WINDOW_COLOR))
        if title == "Output so far":
            shapes.append(_outline(i, j, i, j, x, top, cell, CURRENT_COLOR))
        x += max(Z.shape[1] * cell, _text_px(title, title_px)) + GAP_PX
    return shapes, x


def _text_px(text: str, size: int) -> float:
    """About how wide `text` is at `size` px (the bundled font averages about 0.6 em per character)."""
    return len(text) * size * 0.6


def _kernel_title(trace: Trace) -> str:
    if trace.kernel is None:
        return f"{trace.mode} pool"
    return "Kernel (rotated 180°)" if trace.mode == "convolve" else "Kernel"


def step_layout(trace: Trace, k: int, *, max_width: int = 2400) -> Layout:
    """Shapes of step k (0-based, reading order): title, the grids, and the sum written out."""
    cells = _cell_px(trace, max_width)
    title_px = max(22, int(cells[1] * 0.45))
    top = title_px * 4
    shapes, right = _panels(trace, k, cells, top, title_px)
    width = int(max(right, 600))
    i, j = trace.cell(k)
    heading = f"Step {k + 1} of {trace.n_steps}: output cell ({i}, {j})"
    shapes.insert(0, Label(GAP_PX / 2, title_px, heading, title_px, anchor="start", bold=True))
    text_px = title_px
    chars = max(20, int((width - GAP_PX) / (text_px * 0.6)))
    expression = trace.step(i, j).expression()
    lines = textwrap.wrap(expression, chars, break_on_hyphens=False)
    y = top + max(
        trace.padded.shape[0] * cells[0], trace.plan.kernel_shape[0] * cells[1], trace.shape[0] * cells[0]
    )
    for line in lines:
        y += text_px * 1.4
        shapes.append(Label(GAP_PX / 2, y, line, text_px, anchor="start"))
    return Layout(width, int(y + text_px * 1.5), tuple(shapes))


# --- Painting: Pillow for PNG and GIF, text for SVG ---------------------------------------------------------


def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # Pillow >= 10.1: a scalable TrueType font, bundled


def _paint(layout: Layout) -> Image.Image:
    image = Image.new("RGB", (layout.width, layout.height), PAPER)
    draw = ImageDraw.Draw(image)
    for s in layout.shapes:
        if isinstance(s, Box):
            box = (s.x, s.y, s.x + s.w - 1, s.y + s.h - 1)
            draw.rectangle(box, fill=s.fill or None, outline=s.stroke or None, width=int(s.stroke_width))
        else:
            anchor = "mm" if s.anchor == "middle" else "lm"
            font = _font(s.size, s.bold)
            draw.text(
                (s.x, s.y),
                s.text,
                fill=INK,
                font=font,
                anchor=anchor,
                stroke_width=1 if s.bold else 0,
                stroke_fill=INK,
            )
    return image


def step_png(trace: Trace, k: int, *, max_width: int = 2400) -> bytes:
    """Step k as a PNG (bytes), for pasting on a slide."""
    out = io.BytesIO()
    _paint(step_layout(trace, k, max_width=max_width)).save(out, format="PNG")
    return out.getvalue()


def _svg_shape(s: Box | Label) -> str:
    if isinstance(s, Box):
        fill = s.fill or "none"
        stroke = f' stroke="{s.stroke}" stroke-width="{s.stroke_width}"' if s.stroke else ""
        return f'<rect x="{s.x:g}" y="{s.y:g}" width="{s.w:g}" height="{s.h:g}" fill="{fill}"{stroke}/>'
    anchor = "middle" if s.anchor == "middle" else "start"
    weight = ' font-weight="bold"' if s.bold else ""
    return (
        f'<text x="{s.x:g}" y="{s.y:g}" font-size="{s.size}" text-anchor="{anchor}" '
        f'dominant-baseline="central"{weight}>{escape(s.text)}</text>'
    )


def step_svg(trace: Trace, k: int, *, max_width: int = 2400) -> str:
    """Step k as an SVG document (text), the same picture as `step_png`, sharp at any size."""
    layout = step_layout(trace, k, max_width=max_width)
    body = "\n".join(_svg_shape(s) for s in layout.shapes)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" height="{layout.height}" '
        f'viewBox="0 0 {layout.width} {layout.height}" font-family="DejaVu Sans, Arial, sans-serif" fill="{INK}">\n'
        f'<rect width="100%" height="100%" fill="{PAPER}"/>\n{body}\n</svg>\n'
    )


def walk_gif(
    trace: Trace, ms_per_frame: int, *, cells: Sequence[tuple[int, int]] | None = None, max_width: int = 1280
) -> bytes:
    """The walk as an animated GIF: one frame per output cell (all, or `cells` in the order given)."""
    if not (isinstance(ms_per_frame, int | np.integer) and 20 <= ms_per_frame <= 10_000):
        raise ValueError(
            f"the frame time must be a whole number of ms from 20 to 10000, got {ms_per_frame!r}"
        )
    steps = (
        [trace.step_number(*_check_cell(trace, c)) for c in cells]
        if cells is not None
        else range(trace.n_steps)
    )
    steps = list(steps)
    if not steps or len(steps) > MAX_FRAMES:
        raise ValueError(
            f"a GIF holds 1 to {MAX_FRAMES} steps, this walk has {len(steps)}; choose a smaller region of the output"
        )
    frames = [_paint(step_layout(trace, k, max_width=max_width)) for k in steps]
    size = (max(f.width for f in frames), max(f.height for f in frames))
    frames = [_on_canvas(f, size).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=ms_per_frame,
        loop=0,
        optimize=False,
    )
    return out.getvalue()


def _check_cell(trace: Trace, cell: tuple[int, int]) -> tuple[int, int]:
    i, j = (int(v) for v in cell)
    trace.step(i, j)  # a ValueError names a cell outside the output
    return i, j


def _on_canvas(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    if frame.size == size:
        return frame
    canvas = Image.new("RGB", size, PAPER)
    canvas.paste(frame, (0, 0))
    return canvas


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv_number(v: float) -> str:
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def grid_csv(Z) -> str:
    """A 2-D grid as CSV text, one row per line, every number written so it reads back exactly."""
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2:
        raise ValueError(f"CSV export takes a 2-D grid, got shape {Z.shape}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in Z:
        writer.writerow([_csv_number(v) for v in row])
    return out.getvalue()


def trace_csvs(trace: Trace) -> dict[str, str]:
    """input.csv, kernel.csv (as given, before any flip; absent for pooling) and output.csv of a trace."""
    files = {"input.csv": grid_csv(trace.X)}
    if trace.source_kernel is not None:
        files["kernel.csv"] = grid_csv(trace.source_kernel)
    files["output.csv"] = grid_csv(trace.output)
    return files


def csv_zip(trace: Trace) -> bytes:
    """The CSV files of `trace_csvs` in one zip (one download button)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in trace_csvs(trace).items():
            z.writestr(name, text)
    return out.getvalue()


def curves_csv(train: dict[str, Sequence[float]], test: dict[str, Sequence[float]]) -> str:
    """A run's loss and accuracy curves as CSV: epoch, train loss, train accuracy, test loss, test accuracy.

    `train` and `test` are {"epoch": [...], "loss": [...], "accuracy": [...]} (a TrainingJob's view). One row
    per epoch either curve has a point at; a curve with no point there leaves its cells empty.
    """
    rows: dict[float, list] = {}
    for offset, curve in ((0, train), (2, test)):
        for epoch, loss, accuracy in zip(curve["epoch"], curve["loss"], curve["accuracy"], strict=True):
            row = rows.setdefault(float(epoch), ["", "", "", ""])
            row[offset], row[offset + 1] = repr(float(loss)), repr(float(accuracy))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"])
    for epoch in sorted(rows):
        writer.writerow([repr(epoch), *rows[epoch]])
    return out.getvalue()
