"""The correlation page in headless Chromium: the 1-D convolution animation plays in the browser."""

import re

import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_one_d_animation_plays_in_the_browser(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{server}/Correlation_vs_convolution")
    wait_for_app(page)
    # Every chart drawn (the page has 18 across its four tabs), no loading placeholders left.
    page.wait_for_function(
        """() => {
            const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
            return charts.length >= 18 && charts.every(c => c.querySelector('.main-svg'))
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        timeout=60_000,
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "correlation_side_by_side")

    page.get_by_role("tab", name="1-D convolution").click()
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="w flipped").first
    chart.wait_for(timeout=30_000)
    title = chart.locator(".gtitle")
    assert title.text_content().startswith("y[0] = 0*1 + 0*2 + 1*3 = 3")
    chart.get_by_text("Play").click()
    # Each frame lasts 0.9 s; no server rerun is involved, the browser steps the frames itself.
    page.wait_for_function(
        "el => /^y\\[[3-6]\\]/.test(el.textContent)", arg=title.element_handle(), timeout=15_000
    )
    step = int(re.match(r"y\[(\d)\]", title.text_content()).group(1))
    assert step >= 3
    # The output row has filled in: y[0..step] written in the cells (3, 8, 14, 20 ...).
    cell_text = chart.locator("text").all_text_contents()
    for value in ["3", "8", "14", "20"][: step + 1]:
        assert value in cell_text
    screenshot(page, "correlation_1d_playing")
    assert not errors, errors
