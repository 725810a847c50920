"""LeNet-5's filters and one image's activations as pictures (numpy + Pillow, no Plotly, no streamlit).

A live view redrawn every 2 s must be cheap to build and to send: one PNG per group (the filters; the
activations of one image) costs a few milliseconds and a few tens of kilobytes, where a Plotly heatmap per
map costs a figure each. Each picture comes with its `Layout`: where every map sits, so that a click on the
picture can be turned back into (layer, map, row, column).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
LABEL = (40, 40, 40)
GAP = 4  # pixels between two maps
LABEL_H = 20  # pixels above a row of maps for its name
LABEL_PX = 12  # the names' font size, in the picture's pixels


@dataclass(frozen=True)
class Tile:
    """One map drawn in a picture: cell (r, c) of the map covers pixels [y + r*scale, ...) x [x + c*scale, ...)."""

    layer: str
    map: int
    x: int
    y: int
    scale: int
    h: int  # the map's rows
    w: int  # and columns

    def cell_at(self, px: float, py: float) -> tuple[int, int] | None:
        r, c = int((py - self.y) // self.scale), int((px - self.x) // self.scale)
        return (r, c) if 0 <= r < self.h and 0 <= c < self.w and py >= self.y and px >= self.x else None


@dataclass(frozen=True)
class Text:
    """A name written on a picture: its top-left corner and font size in the picture's pixels. A page can write
    it as HTML over a picture drawn without text, so that it stays readable when the picture is shrunk."""

    x: int
    y: int
    text: str
    size: int = LABEL_PX


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    tiles: tuple[Tile, ...]
    texts: tuple[Text, ...] = ()

    def hit(self, px: float, py: float) -> tuple[str, int, int, int] | None:
        """(layer, map, row, column) under picture pixel (px, py), or None between the maps."""
        for t in self.tiles:
            cell = t.cell_at(px, py)
            if cell is not None:
                return t.layer, t.map, *cell
        return None

    def tile(self, layer: str, k: int) -> Tile:
        return next(t for t in self.tiles if t.layer == layer and t.map == k)


@functools.lru_cache(maxsize=512)
def _label(text: str, size: int = 12) -> np.ndarray:
    """`text` rendered once, dark on white, as RGB (h, w, 3): labels repeat every redraw, so they are cached."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (max(1, right), max(1, bottom)), BACKGROUND)
    ImageDraw.Draw(image).text((0, 0), text, fill=LABEL, font=font)
    return np.asarray(image)


def _paste_label(pixels: np.ndarray, x: int, y: int, text: str, size: int = 12) -> None:
    """Draw a cached label into `pixels` at (x, y), clipped to the picture."""
    label = _label(text, size)
    h, w = min(label.shape[0], pixels.shape[0] - y), min(label.shape[1], pixels.shape[1] - x)
    if h > 0 and w > 0:
        pixels[y : y + h, x : x + w] = np.minimum(pixels[y : y + h, x : x + w], label[:h, :w])


@functools.lru_cache(maxsize=8)
def _font(size: int = 12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # a Pillow built without FreeType has one bitmap size
        return ImageFont.load_default()


def diverging_rgb(Z: np.ndarray, limit: float) -> np.ndarray:
    """Values as RGB uint8 on a diverging scale centred on 0: -limit blue, 0 white, +limit red."""
    t = np.clip(np.nan_to_num(Z) / (limit or 1.0), -1, 1)[..., None]  # (..., 1)
    white, red, blue = np.array([255, 255, 255.0]), np.array([178, 24, 43.0]), np.array([33, 102, 172.0])
    rgb = np.where(t >= 0, white + t * (red - white), white - t * (blue - white))
    return rgb.astype(np.uint8)


def gray_rgb(Z: np.ndarray, top: float) -> np.ndarray:
    """Values 0..top as grey levels, black to white (activations after ReLU, the input image)."""
    g = (np.clip(np.nan_to_num(Z) / (top or 1.0), 0, 1) * 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def colour_maps(maps: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Maps (K, h, w) as RGB (K, h, w, 3): grey when none is negative, else diverging; one scale for all K."""
    peak = float(np.nanmax(np.abs(maps))) if maps.size else 1.0
    if (maps < 0).any() or limit is not None:
        return diverging_rgb(maps, limit or peak)
    return gray_rgb(maps, peak)


class Canvas:
    """A white picture that rows of labelled maps are added to, top to bottom."""

    def __init__(self, min_width: int = 0):
        self.width = min_width  # grows to fit the widest row
        self.y = 0
        self.tiles: list[Tile] = []
        self.blocks: list[tuple[int, int, np.ndarray]] = []
        self.labels: list[tuple[int, int, str]] = []
        self.bars: tuple | None = None
        self.pending = 0  # the lowest bottom of the rows placed side by side on the current line

    def add_row(
        self, label: str, layer: str, rgb: np.ndarray, scale: int, per_row: int, x0: int = 0, advance=True
    ) -> int:
        """Maps rgb (K, h, w, 3) enlarged `scale` times, `per_row` to a line, under a label, from x = `x0`.

        Returns the right edge. With `advance=False` the next row starts at the same height (side by side)."""
        k, h, w, _ = rgb.shape
        self.labels.append((x0, self.y, label))
        top = self.y + LABEL_H
        for m in range(k):
            r, c = divmod(m, per_row)
            x, y = x0 + c * (w * scale + GAP), top + r * (h * scale + GAP)
            self.blocks.append((x, y, rgb[m].repeat(scale, axis=0).repeat(scale, axis=1)))
            self.tiles.append(Tile(layer, m, x, y, scale, h, w))
            self.width = max(self.width, x + w * scale)
        rows = -(-k // per_row)
        bottom = top + rows * (h * scale + GAP) + GAP
        self.pending = max(self.pending, bottom)
        if advance:
            self.y, self.pending = self.pending, 0
        return x0 + min(k, per_row) * (w * scale + GAP)

    def add_bars(self, label: str, values: np.ndarray, names: tuple[str, ...], height: int = 40) -> None:
        """Values in [0, 1] as labelled bars, the largest in red (the class probabilities)."""
        self.labels.append((0, self.y, label))
        self.y += LABEL_H
        self.bars = (self.y, height, np.asarray(values, dtype=float), names)
        self.y += height + 14

    def texts(self) -> tuple[Text, ...]:
        """Every name on the picture: the rows' labels, and the bars' class names."""
        texts = [Text(x, y + 1, text) for x, y, text in self.labels]
        if self.bars is not None:
            y0, bar_h, p, names = self.bars
            width = min(40, (self.width - GAP * len(p)) // len(p))
            texts += [
                Text(c * (width + GAP) + 2, y0 + bar_h + 1, str(names[c])[:6], 11) for c in range(len(p))
            ]
        return tuple(texts)

    def picture(self, text: bool = True) -> tuple[bytes, Layout]:
        """The PNG and its Layout; encoded once, at low compression (fast to write, sent on every redraw).

        `text=False` leaves the names out of the pixels (the Layout still lists them, for the page to write)."""
        pixels = np.full((self.y, self.width, 3), BACKGROUND, np.uint8)
        for x, y, block in self.blocks:
            pixels[y : y + block.shape[0], x : x + block.shape[1]] = block
        for t in self.texts() if text else ():
            _paste_label(pixels, t.x, t.y, t.text, t.size)
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        if self.bars is not None:
            y0, bar_h, p, names = self.bars
            guess, base = int(np.argmax(p)), y0 + bar_h
            width = min(40, (self.width - GAP * len(p)) // len(p))
            for c, value in enumerate(p):
                x = c * (width + GAP)
                top = base - int(round(float(value) * bar_h))
                colour = (214, 39, 40) if c == guess else (150, 150, 150)
                draw.rectangle([x, top, x + width - 1, base], fill=colour)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)
        return buffer.getvalue(), Layout(self.width, self.y, tuple(self.tiles), self.texts())


def filters_picture(
    c1: np.ndarray,
    c3: np.ndarray,
    limits: tuple[float | None, float | None] = (None, None),
    *,
    text: bool = True,
):
    """The 6 C1 filters (6, 5, 5) in a row, then the C3 kernels (16, 6, 5, 5): a column per C3 filter, a row
    per S2 map it reads. Each group on its own diverging scale centred on 0. Returns (PNG bytes, Layout);
    `text=False` leaves the names to the page (`Layout.texts`)."""
    canvas = Canvas(260)
    canvas.add_row("C1: 6 filters 5x5 (red +, blue -)", "C1w", colour_maps(c1, limits[0] or _peak(c1)), 12, 6)
    n_out, n_in = c3.shape[:2]
    by_input = c3.transpose(1, 0, 2, 3).reshape(n_in * n_out, *c3.shape[2:])  # row = S2 map, column = filter
    canvas.add_row(
        "C3: 16 filters (columns) x 6 S2 maps (rows)",
        "C3w",
        colour_maps(by_input, limits[1] or _peak(c3)),
        6,
        n_out,
    )
    return canvas.picture(text)


def _peak(a: np.ndarray) -> float:
    return float(np.abs(a).max()) or 1.0


def activations_picture(A: dict[str, np.ndarray], class_names: tuple[str, ...], *, text: bool = True):
    """One image's way through the network, wide and short to fit beside the curves on one screen: input and
    C1, then S2, C3, S4 as maps, C5 and F6 as strips of cells, and the probabilities as bars.
    Returns (PNG bytes, Layout); the Layout's tiles are the maps; `text=False` leaves the names to the page."""
    x_in = A["input"].reshape(-1, *A["input"].shape[-2:])  # (1, 32, 32)
    canvas = Canvas(10 * (40 + GAP))
    right = canvas.add_row("input", "input", gray_rgb(x_in, max(1.0, float(x_in.max()))), 3, 1, 0, False)
    for name, scale, x0 in (("C1", 3, right + 2 * GAP), ("S2", 5, 0), ("C3", 4, 0), ("S4", 8, 0)):
        maps = A[name]
        k, h, w = maps.shape
        canvas.add_row(f"{name} {k}@{h}x{w}", name, colour_maps(maps), scale, 16, x0)
    for name in ("C5", "F6"):
        v = A[name][None, None, :]  # (1, 1, n): one row of cells
        canvas.add_row(f"{name} {v.shape[-1]} units", name, colour_maps(v), 4, 1)
    p = A["probabilities"]
    guess = int(np.argmax(p))
    canvas.add_bars(f"probabilities: {class_names[guess]} {p[guess]:.1%}", p, class_names)
    return canvas.picture(text)


def window_picture(X: np.ndarray, top: int, left: int, size: int, *, scale: int = 8) -> bytes:
    """A map (H, W) enlarged `scale` times with the `size` x `size` window at (top, left) outlined in orange:
    the receptive field of one activation on the layer it reads."""
    rgb = colour_maps(np.asarray(X, dtype=float)[None])[0]  # (H, W, 3)
    image = Image.fromarray(rgb.repeat(scale, axis=0).repeat(scale, axis=1))
    x0, y0 = left * scale, top * scale
    ImageDraw.Draw(image).rectangle(
        [x0 - 1, y0 - 1, x0 + size * scale, y0 + size * scale], outline=(255, 140, 0), width=3
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
