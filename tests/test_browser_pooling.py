"""The Pooling page in real Chromium: figures draw with square cells, the stepper moves, a screenshot is kept."""

import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_pooling_page_draws_square_grids_and_steps(server, page):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{server}/Pooling")
    wait_for_app(page)
    # a busy 2-core machine can take ~20 s to draw the page's ~25 figures on a freshly started server
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] svg').length > 20", timeout=90_000
    )
    assert page.get_by_test_id("stException").count() == 0

    # the pooled output: its plot area is square (2x2 cells) and its numbers are drawn in the cells
    output = page.get_by_test_id("stPlotlyChart").nth(1)
    box = output.locator(".nsewdrag").first.bounding_box()
    assert box and box["width"] > 40 and abs(box["width"] - box["height"]) <= 2
    numbers = output.locator("g.textpoint, text").all_text_contents()
    assert {"6", "9", "7", "8"} <= {t.strip() for t in numbers}

    screenshot(page, "pooling_top")
    page.get_by_role("button", name="Next step ▶").click()
    wait_for_app(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stCode\"]')]"
        ".some(e => e.innerText.includes('Y[0, 1] = max(7, 4, 9, 8) = 9'))",
        timeout=60_000,
    )
    main = page.get_by_test_id("stMain")
    main.evaluate("m => m.scrollTo(0, 2400)")
    page.wait_for_timeout(500)
    screenshot(page, "pooling_backprop_shift")
    main.evaluate("m => m.scrollTo(0, m.scrollHeight)")
    page.wait_for_timeout(500)
    screenshot(page, "pooling_pipeline")
