"""Train LeNet, "Try it" with the drawing canvas, in headless Chromium: AppTest cannot drive the canvas.

streamlit-drawable-canvas 0.13 is a components-v2 element: its Fabric.js canvases live in the page's own
DOM (an open shadow root, which Playwright's CSS locators pierce), not in an iframe.
"""

import math
import re

import numpy as np
import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser

STAGES = [
    "your picture, grayscale",
    "cropped to the ink",
    "fitted in a 32x32 box",
    "4x4 blocks averaged: 8x8",
    "model input 1@32x32",
]

READ_TRY_IT = """() => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(el => el.data.length);
    const title = el => (el.layout.title && el.layout.title.text) || '';
    const inputs = plots.filter(el => title(el).includes('input 1@32x32'));
    const vectors = plots.filter(el => (el.layout.annotations || []).some(a => a.text === 'softmax probabilities'));
    const stages = Array.from(document.querySelectorAll('[data-testid="stImage"]')).map(el => {
        const img = el.querySelector('img');
        const box = img.getBoundingClientRect();
        return {caption: el.innerText.trim(), w: img.naturalWidth, h: img.naturalHeight,
                shown_w: box.width, shown_h: box.height};
    });
    const probs = vectors[vectors.length - 1]._fullData;
    return {
        input: Array.from(inputs[inputs.length - 1]._fullData[0].z, row => Array.from(row)),
        probabilities: Array.from(probs[probs.length - 1].y),
        classes: Array.from(probs[probs.length - 1].x),
        stages: stages,
    };
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
    heading.wait_for(timeout=30_000)
    wait_for_app(page)
    return heading.inner_text()


def no_prediction(page) -> None:
    page.get_by_role("heading", name=re.compile(r"^Prediction: ")).wait_for(state="detached", timeout=15_000)
    wait_for_app(page)


def try_it(page) -> dict:
    shown = page.evaluate(READ_TRY_IT)
    shown["input"] = np.array(shown["input"], dtype=float)
    shown["probabilities"] = np.array(shown["probabilities"], dtype=float)
    shown["stages"] = {s["caption"]: s for s in shown["stages"][-len(STAGES) :]}  # Try it comes last
    return shown


def check_prediction(text: str, shown: dict) -> int:
    """The heading names the most probable class with its probability; the bars are a distribution."""
    p = shown["probabilities"]
    assert p.shape == (10,) and (p >= 0).all() and abs(p.sum() - 1) < 1e-5, p
    guess = int(np.argmax(p))
    assert text == f"Prediction: {shown['classes'][guess]} ({p[guess]:.1%})", (text, p)
    assert list(shown["stages"]) == STAGES, list(shown["stages"])
    for caption, stage in shown["stages"].items():  # square, about 128 px: no stage blown up past its column
        assert stage["w"] == stage["h"] and 32 <= stage["shown_h"] <= 300, (caption, stage)
    return guess


RING = [(140 + 70 * math.sin(t), 140 - 95 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 41)]
BAR = [(140, 35 + 10 * k) for k in range(22)]  # a "1": a vertical stroke 210 px long


def test_drawn_digits_are_preprocessed_and_predicted(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/Train_LeNet")
    wait_for_app(page)
    epochs = page.get_by_label("Epochs")  # a short run on the embedded digits: about a second of training
    epochs.fill("3")
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("4. After training").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("Using the network as trained.").count() == 1

    page.get_by_text("Draw", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Draw one digit").wait_for()
    no_prediction(page)  # the typed grid's prediction goes: a blank canvas has nothing to classify

    draw(page, RING)
    ring_text = prediction(page)
    ring = try_it(page)
    ring_guess = check_prediction(ring_text, ring)
    crop = ring["stages"]["cropped to the ink"]
    assert crop["w"] >= 128  # the ring's ink box, about 158x208, is drawn whole
    X = ring["input"]
    assert X.shape == (32, 32) and X[16, 16] < 0.2 and X.max() > 0.5  # ink round a hole: a zero
    assert ring_guess == 0, ring["probabilities"]
    screenshot(page, "train_lenet_draw_ring")

    page.get_by_role("button", name="Reset canvas & history").click()
    no_prediction(page)

    draw(page, BAR)
    bar_text = prediction(page)
    bar = try_it(page)
    check_prediction(bar_text, bar)
    X = bar["input"]
    outer = X[:, :10].sum() + X[:, -10:].sum()
    assert outer < 0.05 * X.sum() and (X.max(axis=1) > 0.2).sum() >= 24, X  # a tall stroke down the middle
    assert bar["stages"]["cropped to the ink"]["w"] >= 128  # the 18x228 crop on a grey square, not stretched
    assert np.abs(bar["input"] - ring["input"]).max() > 0.5
    assert np.abs(bar["probabilities"] - ring["probabilities"]).max() > 0.05
    page.get_by_text("model input 1@32x32").last.scroll_into_view_if_needed()
    screenshot(page, "train_lenet_draw_bar")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not errors, errors
