"""The correlation page in headless Chromium: the 1-D convolution animation plays in the browser."""

import pytest
from conftest import FIGURES, PLOTLY, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_one_d_animation_plays_in_the_browser(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{server}/Correlation_vs_convolution")
    wait_for_app(page)
    # Every chart of the open tab drawn (the side-by-side tab has 6 until its loop orders are unfolded; tabs run
    # lazily), no placeholders left.
    # (The figures are components drawn in shadow roots: Playwright's locators see into them.)
    page.locator(f"{FIGURES} svg.fig-svg").nth(5).wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(PLOTLY).count() == 0
    screenshot(page, "correlation_side_by_side")

    page.get_by_role("tab", name="1-D convolution").click()
    stepper = page.locator('[data-testid="stepper"]').filter(has_text="Signal x")
    stepper.first.wait_for(timeout=30_000)
    stepper = stepper.first
    assert stepper.locator(".stepper-sum").text_content() == "y[0] = 0*1 + 0*2 + 1*3 = 3"
    stepper.get_by_role("button", name="▶ Play").click()
    # No server rerun is involved: the browser steps through y[0..6] itself.
    page.wait_for_function("el => +el.dataset.step >= 4", arg=stepper.element_handle(), timeout=15_000)
    step = int(stepper.get_attribute("data-step"))
    assert stepper.locator(".stepper-sum").text_content().startswith(f"y[{step - 1}] = ")
    # The output row has filled in: y[0..] written in the cells (3, 8, 14, 20 ...).
    filled = stepper.locator('.cell[data-grid="output"]').evaluate_all("els => els.map(e => e.dataset.value)")
    assert filled[:4] == ["3", "8", "14", "20"]
    screenshot(page, "correlation_1d_playing")
    assert not errors, errors
