"""Learn a filter in headless Chromium: the redraw timer really fires, so the weights learn without clicks."""

import re

import pytest
from conftest import FIGURES, PLOTLY, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _step(page) -> int:
    values = page.locator(".st-key-metrics_learn td").all_inner_texts()
    return int(values[0].replace(",", ""))


def test_start_learns_live_and_pause_stops_it(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{server}/Learn_a_filter")
    wait_for_app(page)
    page.wait_for_selector(f"{FIGURES} svg.fig-svg", timeout=60_000)
    assert page.locator(PLOTLY).count() == 0
    assert _step(page) == 0
    page.get_by_role("button", name=re.compile("Start learning")).click()
    # No more clicks: the fragment's run_every timer advances the fit a batch per redraw.
    page.wait_for_function(
        "() => Number(document.querySelector('.st-key-metrics_learn td').innerText.replace(',', '')) >= 10",
        timeout=60_000,
    )
    page.get_by_role("button", name=re.compile("Pause")).click()
    # Paused once the rerun that Pause asked for has drawn Start as clickable again.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "b => b.innerText.includes('Start learning') && !b.disabled)",
        timeout=60_000,
    )
    wait_for_app(page)
    paused_at = _step(page)
    page.wait_for_timeout(2000)
    assert _step(page) == paused_at >= 10
    # The learned weights are drawn as numbers in their cells, next to the target's.
    cells = page.locator(FIGURES).first.locator("text.fig-cell-text").all_text_contents()
    assert sum(t.startswith("w") for t in cells) == 9
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "learn_filter")
    assert not errors, errors
