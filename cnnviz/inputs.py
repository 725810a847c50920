"""Getting numbers in: a hand-typed grid, or an uploaded image, each as a numpy array.

Every failure is a ValueError that says what is wrong and how to fix it, so a page can show it as is.
"""

from __future__ import annotations

import io
import math
import re
import threading
import warnings
from fractions import Fraction

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnviz.memory import release_memory

__all__ = ["MAX_GRID", "MAX_PIXELS", "MAX_SIDE", "format_grid", "load_image", "parse_grid"]

MAX_GRID = 64  # rows and columns a typed grid may have
MAX_PIXELS = 40_000_000  # an uploaded image bigger than this is refused before it is decoded
MAX_SIDE = 1024  # the longest side an image is kept at: twice the largest grid a page draws (512x512)
BIG_DECODE = 4_000_000  # pixels: after decoding more, the freed memory goes back (`cnnviz.memory`)

# Minus signs that arrive when a grid is pasted from slides, PDFs or word processors.
_MINUSES = dict.fromkeys(map(ord, "\u2212\u2012\u2013\u2014\ufe63\uff0d"), "-")
_SEPARATORS = re.compile(r"[\s,;]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FRACTION = re.compile(r"^[+-]?\d+\s*/\s*\d+$")


def _parse_number(token: str, row: int, col: int) -> float:
    if _NUMBER.match(token):
        value = float(token)
        if not np.isfinite(value):  # "1e999" overflows to inf, which no window sum can use
            raise ValueError(f"row {row}, column {col}: {token!r} is too large; keep numbers below 1e308")
        return value
    if _FRACTION.match(token):
        num, den = token.split("/")
        if int(den) == 0:
            raise ValueError(f"row {row}, column {col}: {token!r} divides by zero")
        return float(Fraction(int(num), int(den)))
    raise ValueError(f"row {row}, column {col}: {token!r} is not a number (use digits like 3, -1.5 or 1/9)")


def parse_grid(
    text: str, *, max_rows: int = MAX_GRID, max_cols: int = MAX_GRID, name: str = "grid"
) -> np.ndarray:
    """A grid typed as text: one row per line, numbers split by spaces, tabs, commas or semicolons.

    Decimals, negatives (also a pasted Unicode minus) and fractions like 1/9 are accepted; brackets
    from a pasted Python list are ignored. Errors name the row and column (both counted from 1).
    """
    if not isinstance(text, str):
        raise ValueError(f"the {name} must be text, got {type(text).__name__}")
    text = text.translate(_MINUSES).replace("[", " ").replace("]", " ")
    text = re.sub(r"\s*/\s*", "/", text)  # "1 / 9" reads as one fraction
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip(" ,;")]
    if not lines:
        raise ValueError(f"the {name} is empty; type one row of numbers per line, e.g. 1 2 3")
    rows = []
    for r, line in enumerate(lines, start=1):
        tokens = [t for t in _SEPARATORS.split(line.strip(" ,;")) if t]
        rows.append([_parse_number(t, r, c) for c, t in enumerate(tokens, start=1)])
        if len(rows[-1]) != len(rows[0]):
            raise ValueError(
                f"row {r} has {len(rows[-1])} numbers but row 1 has {len(rows[0])}; every row needs the same count"
            )
    if len(rows) > max_rows or len(rows[0]) > max_cols:
        raise ValueError(
            f"the {name} is {len(rows)}x{len(rows[0])}; typed grids are limited to {max_rows}x{max_cols}"
            " (upload an image for anything larger)"
        )
    return np.array(rows, dtype=np.float64)


def format_grid(X: np.ndarray) -> str:
    """A grid as text that `parse_grid` reads back: integers without decimals, others to 4 digits."""
    X = np.asarray(X, dtype=float)
    return "\n".join(
        " ".join(f"{v:g}" if v == int(v) else f"{v:.4g}" for v in row) for row in np.atleast_2d(X)
    )


def load_image(
    data,
    *,
    mode: str = "L",
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> np.ndarray:
    """An uploaded image as an array of 0..255 values: (H, W) for mode "L", (H, W, 3) for "RGB".

    `data` is bytes, a path or a file-like object. The photo is turned upright by its EXIF orientation,
    transparency is laid on white, and it is shrunk (keeping its aspect) so its longer side is at most
    `max_side` pixels, never more than MAX_SIDE. Images over `max_pixels` are refused before decoding.

    Memory stays near the size asked for: a JPEG is decoded straight at 1/2, 1/4 or 1/8 scale
    (Pillow's `draft`), any other picture is reduced by a whole factor right after decoding, and the
    float array is made only from the small picture.
    """
    if mode not in ("L", "RGB"):
        raise ValueError(f'mode must be "L" (grayscale) or "RGB", got {mode!r}')
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    target = min(max_side or MAX_SIDE, MAX_SIDE)
    if isinstance(data, (bytes, bytearray)):
        data = io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(data)
            if img.width * img.height > max_pixels:
                raise ValueError(
                    f"the image is {img.width}x{img.height} = {img.width * img.height:,} pixels, more than the "
                    f"{max_pixels:,} allowed; shrink it before uploading"
                )
            scale = target / max(img.size)
            if scale < 1 and img.format == "JPEG":
                img.draft(img.mode, (math.ceil(img.width * scale), math.ceil(img.height * scale)))
            big = img.width * img.height > BIG_DECODE
            img = _decoded_small(img, target)
            if big:  # the full-size picture is freed now: its pages go back to the system
                release_memory(collect=False)
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        # Pillow refuses a huge picture in `Image.open` before our own pixel check can speak.
        raise ValueError(
            f"the image has more pixels than the {max_pixels:,} allowed (Pillow refused it as a possible "
            "decompression bomb); shrink it before uploading"
        ) from err
    except (UnidentifiedImageError, OSError, SyntaxError, Warning) as err:
        raise ValueError(
            "could not read this file as an image; upload a PNG, JPEG, GIF, BMP or WebP picture"
            f" ({type(err).__name__})"
        ) from err
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    img = img.convert(mode)
    scale = target / max(img.size)
    if scale < 1:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(img, dtype=np.float64)


# One big picture is decoded at a time per process: five students uploading 40-megapixel photos at once
# raised the server's memory by 805 MB (160 MB each, decoded at full size), one after the other by 165 MB.
_BIG_DECODES = threading.Lock()


def _decoded_small(img: Image.Image, target: int) -> Image.Image:
    """`img` decoded and reduced by `_reduce`; over BIG_DECODE pixels, one at a time."""
    if img.width * img.height <= BIG_DECODE:
        img.load()
        return _reduce(img, target)
    with _BIG_DECODES:
        img.load()
        return _reduce(img, target)


def _reduce(img: Image.Image, target: int) -> Image.Image:
    """`img` shrunk by a whole factor (box averaging, cheap) while its longer side stays >= 3 x `target`.

    LANCZOS then makes the final size from this smaller picture, as `resize(reducing_gap=3)` would, but
    before the full-size picture is copied by the EXIF turn, the transparency and the mode conversion.
    """
    factor = max(img.size) // (3 * target)
    if factor < 2:
        return img
    if img.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):  # palette and 1-bit pictures cannot be reduced
        has_alpha = img.mode in ("PA", "La") or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
    if img.mode not in ("LA", "RGBA"):
        return img.reduce(factor)
    # Pillow reduces a picture with alpha through a premultiplied copy of the whole picture (160 MB more for
    # 40 megapixels, measured): reduce it a strip of rows at a time, each strip's copy a few MB.
    rows = factor * max(1, (4 << 20) // (4 * img.width * factor))  # about 4 MB of the picture per strip
    out = Image.new(img.mode, (-(-img.width // factor), -(-img.height // factor)))  # rounded up, as Pillow's
    for top in range(0, img.height, rows):
        strip = img.crop((0, top, img.width, min(top + rows, img.height)))
        out.paste(strip.reduce(factor), (0, top // factor))
    return out
