"""A whole picture as one Plotly figure: seamless pixels (no gaps between cells) with a window outlined.

`cnnviz.draw.figures.grid_figure` draws grids as cells with a 1-px gap, which is right for a 6x6 grid of numbers
but turns a 256-px photo into a mesh of 1-px cells with white lines between them. Here a grayscale picture
is a heatmap with no gaps (hover still reads each pixel) and a colour picture is a Plotly `Image` trace.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.draw.figures import CLEAR, Outline, grid_axes, grid_trace, new_figure, outline_shape
from cnnviz.draw.palette import IMAGE, WINDOW_COLOR

__all__ = ["crop", "picture_figure", "png_bytes", "png_uri"]


def png_bytes(image, *, compress_level: int = 6) -> bytes:
    """A picture as PNG bytes: PNG bytes as they are, a PIL image, or an array of 0..255, (H, W) or (H, W, 3).
    A lower `compress_level` is faster and larger (1 for maps drawn on every rerun)."""
    if isinstance(image, bytes):
        return image
    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def png_uri(png: bytes) -> str:
    """PNG bytes as a data URI, a picture the page carries itself."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _trace(image: np.ndarray) -> dict:
    if image.ndim == 3:  # (H, W, 3) RGB
        return {
            "type": "image",
            "z": np.clip(image, 0, 255).astype(np.uint8),
            "hovertemplate": "row %{y}, column %{x}<br>R %{z[0]}, G %{z[1]}, B %{z[2]}<extra></extra>",
        }
    return grid_trace(
        image, colors={"colorscale": IMAGE, "zmin": 0, "zmax": 255}, numbers=False, gap=0, hover="intensity"
    )


def picture_figure(image, *, window: Outline | None = None, title: str = "", side_px: int = 420) -> go.Figure:
    """The picture (H, W) of 0..255 or (H, W, 3), its longer side `side_px` wide, `window` outlined in orange."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"a picture is (H, W) or (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    scale = side_px / max(h, w)
    axes = grid_axes(ticks=False)
    axes["xaxis"].update(showticklabels=True, dtick=None)
    axes["yaxis"].update(showticklabels=True, dtick=None)
    layout = dict(
        shapes=[outline_shape(window, color=WINDOW_COLOR, width=3)] if window else [],
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=int(h * scale) + (90 if title else 50),
        width=int(w * scale) + 60,
        margin={"l": 40, "r": 20, "t": 70 if title else 30, "b": 20},
        paper_bgcolor=CLEAR,
        plot_bgcolor=CLEAR,
        **axes,
    )
    return new_figure([_trace(image)], layout)


def crop(image: np.ndarray, top: int, left: int, h: int, w: int) -> tuple[np.ndarray, Outline]:
    """The h x w part of `image` from row `top`, column `left`, and its box (row0, col0, row1, col1)."""
    return image[top : top + h, left : left + w], (top, left, top + h - 1, left + w - 1)
