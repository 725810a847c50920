"""Draw the bundled sample images in assets/ with Pillow (nothing is downloaded).

Run once: `.venv/bin/python scripts/make_assets.py`. The PNGs are committed so the app works offline.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def digit_seven() -> Image.Image:
    """A handwritten-looking 7 on 28x28, like an MNIST digit: white stroke on black."""
    big = Image.new("L", (280, 280), 0)
    d = ImageDraw.Draw(big)
    d.line([(70, 75), (120, 68), (175, 66), (205, 70)], fill=255, width=26, joint="curve")
    d.line([(205, 70), (175, 130), (145, 190), (128, 235)], fill=255, width=26, joint="curve")
    d.line([(120, 150), (195, 145)], fill=255, width=20)
    return big.filter(ImageFilter.GaussianBlur(6)).resize((28, 28), Image.Resampling.LANCZOS)


def scene() -> Image.Image:
    """A simple RGB scene: sky, sun, a house with a window and door, grass, a tree."""
    img = Image.new("RGB", (160, 120), (135, 190, 235))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 85, 159, 119], fill=(70, 160, 60))
    d.ellipse([120, 10, 145, 35], fill=(250, 215, 50))
    d.rectangle([30, 50, 90, 95], fill=(200, 80, 60))
    d.polygon([(25, 52), (60, 22), (95, 52)], fill=(120, 60, 40))
    d.rectangle([40, 60, 55, 74], fill=(240, 240, 220))
    d.line([(47, 60), (47, 74)], fill=(90, 60, 40), width=2)
    d.line([(40, 67), (55, 67)], fill=(90, 60, 40), width=2)
    d.rectangle([67, 68, 80, 95], fill=(90, 55, 30))
    d.rectangle([112, 60, 119, 95], fill=(100, 70, 40))
    d.ellipse([98, 35, 134, 68], fill=(40, 120, 45))
    return img


def shapes() -> Image.Image:
    """Edges in every direction on 128x128 gray: a square, a disc, a triangle and a diagonal bar."""
    img = Image.new("L", (128, 128), 40)
    d = ImageDraw.Draw(img)
    d.rectangle([12, 12, 54, 54], fill=220)
    d.ellipse([72, 12, 116, 56], fill=170)
    d.polygon([(14, 116), (56, 116), (35, 72)], fill=250)
    d.line([(74, 116), (116, 72)], fill=200, width=9)
    return img


def checkerboard() -> Image.Image:
    """An 8x8-cell checkerboard on 64x64: sharp vertical and horizontal edges."""
    img = Image.new("L", (64, 64), 0)
    d = ImageDraw.Draw(img)
    for r in range(8):
        for c in range(8):
            if (r + c) % 2 == 0:
                d.rectangle([c * 8, r * 8, c * 8 + 7, r * 8 + 7], fill=255)
    return img


if __name__ == "__main__":
    ASSETS.mkdir(exist_ok=True)
    for name, make in [
        ("digit_7", digit_seven),
        ("scene", scene),
        ("shapes", shapes),
        ("checkerboard", checkerboard),
    ]:
        path = ASSETS / f"{name}.png"
        make().save(path, optimize=True)
        print(path, path.stat().st_size, "bytes")
