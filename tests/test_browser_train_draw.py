"""Train LeNet, "Try it" with the drawing canvas, in headless Chromium: AppTest cannot drive the canvas.

streamlit-drawable-canvas 0.13 is a components-v2 element: its Fabric.js canvases live in the page's own
DOM (an open shadow root, which Playwright's CSS locators pierce), not in an iframe.
"""

import math
import re

import numpy as np
import pytest
from browser_helpers import open_watched
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

STAGES = [
    "your picture, grayscale",
    "cropped to the ink",
    "fitted in 20x20, centred by mass in 28x28",
    "model input 1@32x32",
]

READ_TRY_IT = """() => {
    const stages = Array.from(document.querySelectorAll('[data-testid="stImage"]')).map(el => {
        const img = el.querySelector('img');
        const box = img.getBoundingClientRect();
        return {caption: el.innerText.trim(), w: img.naturalWidth, h: img.naturalHeight,
                shown_w: box.width, shown_h: box.height};
    });
    return {stages: stages};
}"""


def draw(page, points) -> None:
    """One stroke through canvas points (x, y) in 0..280: mouse down, move, up, as a student draws."""
    canvas = page.locator(".st-key-train_canvas canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=2)
    page.mouse.up()


def prediction(page) -> str:
    """The "Prediction: 0 (97.3%)" heading, once the rerun the stroke triggered has drawn it."""
    heading = page.get_by_role("heading", name=re.compile(r"^Prediction: "))
    heading.wait_for(timeout=60_000)
    wait_for_app(page)
    return heading.inner_text()


def no_prediction(page) -> None:
    page.get_by_role("heading", name=re.compile(r"^Prediction: ")).wait_for(state="detached", timeout=60_000)
    wait_for_app(page)


def try_it(page) -> dict:
    shown = page.evaluate(READ_TRY_IT)
    shown["stages"] = {s["caption"]: s for s in shown["stages"][-len(STAGES) :]}  # Try it comes last
    return shown


def check_stages(shown: dict) -> None:
    assert list(shown["stages"]) == STAGES, list(shown["stages"])
    for caption, stage in shown["stages"].items():  # square, about 128 px: no stage blown up past its column
        assert stage["w"] == stage["h"] and 32 <= stage["shown_h"] <= 300, (caption, stage)


def arc(cx, cy, r, start, end, n=24, ry=None):
    """Points on an ellipse arc, angles in degrees, 0 = right, 90 = down (screen coordinates)."""
    ry = ry or r
    return [
        (cx + r * math.cos(math.radians(t)), cy + ry * math.sin(math.radians(t)))
        for t in np.linspace(start, end, n)
    ]


RING = arc(140, 140, 70, -90, 270, 41, ry=95)  # a "0"
BAR = [(140, 35 + 10 * k) for k in range(22)]  # a "1": a vertical stroke 210 px long
THREE = arc(135, 90, 55, -160, 90, ry=45) + arc(135, 185, 60, -90, 160, ry=50)  # two bumps to the right
SEVEN = [(75 + 10 * k, 50) for k in range(14)] + [(205 - 5 * k, 50 + 10 * k) for k in range(1, 20)]
TWO = (
    arc(140, 95, 55, -170, 30, ry=50)
    + [(183 - 6 * k, 125 + 6.5 * k) for k in range(1, 17)]
    + [(87 + 10 * k, 230) for k in range(12)]
)
DIGITS = {"3": THREE, "0": RING, "1": BAR, "7": SEVEN, "2": TWO}


def test_drawn_digits_are_read_by_the_shipped_weights(server, browser):
    """No training first: the pretrained LeNet-5 reads a clear 3 (and 0, 1, 7, 2) drawn with the mouse."""
    context, page, errors = open_watched(browser, f"{server}/Train_LeNet", (1400, 1000))
    try:
        page.get_by_text("Using the shipped pretrained weights.").wait_for(timeout=30_000)
        page.get_by_text("Draw", exact=True).click()
        wait_for_app(page)
        page.get_by_text("Draw one digit").wait_for()
        no_prediction(page)  # the typed grid's prediction goes: a blank canvas has nothing to classify
        read = {}
        for digit, points in DIGITS.items():
            draw(page, points)
            text = prediction(page)
            check_stages(try_it(page))
            read[digit] = re.match(r"Prediction: (\d) \((\d+\.\d)%\)", text).groups()
            screenshot(page, f"train_lenet_draw_{digit}")
            page.get_by_role("button", name="Reset canvas & history").click()
            no_prediction(page)
        assert {d: guess for d, (guess, _) in read.items()} == {d: d for d in DIGITS}, read
        assert float(read["3"][1]) > 50, read
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
    finally:
        context.close()
