"""Typed grids and uploaded images become numpy arrays, or errors a student can act on."""

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz import format_grid, load_image, parse_grid


def test_parse_grid_accepts_the_usual_separators_and_signs():
    text = "1 2\t3\n4,5;6\n\u22127 -8.5  .5\n"
    np.testing.assert_array_equal(parse_grid(text), [[1, 2, 3], [4, 5, 6], [-7, -8.5, 0.5]])


def test_parse_grid_reads_fractions_brackets_and_blank_lines():
    np.testing.assert_allclose(parse_grid("[[1/9, 1 / 9],\n\n [2/4, 1e-1]]"), [[1 / 9, 1 / 9], [0.5, 0.1]])


def test_format_grid_round_trips():
    X = np.array([[1, -2, 0.5], [3.25, 0, -1]])
    np.testing.assert_array_equal(parse_grid(format_grid(X)), X)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2 3\n4 x 6", r"row 2, column 2: 'x' is not a number"),
        ("1 2 3\n4 5", "row 2 has 2 numbers but row 1 has 3"),
        ("   \n\n", "the grid is empty"),
        ("1/0", "divides by zero"),
        ("\n".join(["1 " * 70] * 2), "limited to 64x64"),
        ("1 2\n3 4..5", r"row 2, column 2: '4..5' is not a number"),
        ("1 2\n3 -1e999", r"row 2, column 2: '-1e999' is too large; keep numbers below 1e308"),
    ],
)
def test_parse_grid_errors_name_row_and_column(text, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(text)


def png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_load_image_grayscale_and_rgb():
    img = Image.new("RGB", (4, 3), (255, 0, 0))
    gray = load_image(png_bytes(img))
    assert gray.shape == (3, 4) and gray.dtype == np.float64
    assert gray[0, 0] == pytest.approx(76, abs=1)  # ITU-R 601 luma of pure red
    rgb = load_image(png_bytes(img), mode="RGB")
    assert rgb.shape == (3, 4, 3) and rgb[0, 0].tolist() == [255, 0, 0]


def test_load_image_lays_transparency_on_white():
    img = Image.new("RGBA", (2, 2), (0, 0, 0, 0))
    assert load_image(png_bytes(img)).tolist() == [[255, 255], [255, 255]]


def test_load_image_honours_exif_orientation():
    img = Image.new("L", (6, 2), 0)  # wide; orientation 6 = rotate 90 degrees to display
    exif = Image.Exif()
    exif[0x0112] = 6
    arr = load_image(png_bytes(img.convert("RGB"), "JPEG", exif=exif))
    assert arr.shape == (6, 2)


def test_load_image_downscales_keeping_aspect():
    img = Image.new("L", (400, 200), 128)
    assert load_image(png_bytes(img), max_side=32).shape == (16, 32)
    assert load_image(png_bytes(img), max_side=1000).shape == (200, 400)  # never enlarged


def test_load_image_refuses_huge_images_before_decoding():
    with pytest.raises(ValueError, match="more than the 100 allowed; shrink it"):
        load_image(png_bytes(Image.new("L", (20, 20))), max_pixels=100)


@pytest.mark.parametrize("data", [b"not an image at all", b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30])
def test_load_image_rejects_non_images_in_words(data):
    with pytest.raises(ValueError, match="could not read this file as an image; upload a PNG, JPEG"):
        load_image(data)


def test_load_image_reads_the_bundled_assets():
    from pathlib import Path

    assets = Path(__file__).resolve().parent.parent / "assets"
    for name in ["digit_7.png", "scene.png", "shapes.png", "checkerboard.png"]:
        arr = load_image(assets / name)
        assert arr.ndim == 2 and arr.min() >= 0 and arr.max() <= 255 and arr.std() > 10


def test_a_decompression_bomb_gets_the_pixel_cap_message_not_upload_a_png():
    """15000x13000 = 195 million pixels: Pillow refuses it in `Image.open`, before the app's own check."""
    huge = png_bytes(Image.new("1", (15000, 13000)))
    with pytest.raises(
        ValueError, match=r"more pixels than the .* allowed .*shrink it before uploading"
    ) as err:
        load_image(huge)
    assert "upload a PNG" not in str(err.value)
