"""The Train LeNet page in headless Chromium: start training, watch the curves move, see the run finish."""

import re

import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def curve_points(page) -> int:
    """How many points the train-loss line has drawn (the first trace of the curves chart)."""
    return page.evaluate(
        """() => {
            for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
                const anns = (el.layout && el.layout.annotations) || [];
                if (anns.some(a => a.text === 'Accuracy')) {
                    const x = el.data[0].x;
                    return x ? x.length : 0;
                }
            }
            return -1;
        }"""
    )


def test_training_runs_live_in_the_browser(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/Train_LeNet")
    wait_for_app(page)
    assert "Train LeNet-5" in page.locator("h1").first.inner_text()
    epochs = page.get_by_label("Epochs")
    epochs.fill("3")
    epochs.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Start training").click()
    # The live view redraws once a second while the thread trains: the curve gains points.
    page.wait_for_function("() => document.body.innerText.includes('samples/s')", timeout=30_000)
    page.wait_for_function("() => /step [1-9]\\d* of/.test(document.body.innerText)", timeout=30_000)
    first = curve_points(page)
    page.wait_for_timeout(2500)
    second = curve_points(page)
    screenshot(page, "train_lenet_live")
    page.get_by_text("4. After training").wait_for(timeout=60_000)
    wait_for_app(page)
    final = curve_points(page)
    assert final > max(first, 0) and second >= first, (first, second, final)
    progress = page.locator('[data-testid="stProgress"]').first.inner_text()
    assert re.search(r"finished.*step (\d+) of \1", progress), progress
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "train_lenet_finished")
    assert not errors, errors


def test_closing_the_tab_stops_its_training_thread(server, browser):
    """A session that is closed leaves no training thread behind (the slot count drops back)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    first = context.new_page()
    first.goto(f"{server}/Train_LeNet")
    wait_for_app(first)
    epochs = first.get_by_label("Epochs")
    epochs.fill("100")
    epochs.press("Enter")
    wait_for_app(first)
    first.get_by_role("button", name="Start training").click()
    first.wait_for_function("() => /step [1-9]\\d* of/.test(document.body.innerText)", timeout=30_000)
    first.get_by_role("button", name="Pause training").click()  # a rerun reports the slot the thread holds
    first.get_by_text("training on this server now: 1 of").wait_for(timeout=30_000)
    context.close()  # the student closes the tab

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    second = other.new_page()
    try:
        deadline = 20
        for _ in range(deadline):
            second.goto(f"{server}/Train_LeNet")
            wait_for_app(second)
            if "training on this server now: 0 of" in second.locator("body").inner_text():
                break
            second.wait_for_timeout(1000)
        else:
            raise AssertionError("the closed session's training thread is still holding its slot")
    finally:
        other.close()
