"""The Pooling page in real Chromium: figures draw with square cells; the stepper shows the winner and
the gradient each window sends back, stepping in the browser; screenshots are kept."""

import pytest
from conftest import ARTIFACTS, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def screenshot_path(name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_pooling_page_draws_square_grids_and_steps(server, page):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{server}/Pooling")
    wait_for_app(page)
    page.get_by_text("Output size, and the whole input and output").click()  # unfold the whole grids
    page.locator('[data-testid="cnnvizFigure"] svg.fig-svg').nth(1).wait_for(timeout=90_000)
    wait_for_app(page)
    assert page.get_by_test_id("stException").count() == 0

    # the pooled output: its plot area is square (2x2 cells) and its numbers are drawn in the cells
    output = page.get_by_test_id("cnnvizFigure").nth(1)
    box = output.locator("g.fig-heatmap").first.bounding_box()
    assert box and box["width"] > 40 and abs(box["width"] - box["height"]) <= 2
    numbers = output.locator("text.fig-cell-text").all_text_contents()
    assert {"6", "9", "7", "8"} <= {t.strip() for t in numbers}

    screenshot(page, "pooling_top")
    stepper = page.locator('[data-testid="stepper"]').first
    stepper.scroll_into_view_if_needed()

    def drawn() -> dict:
        return stepper.evaluate(
            """root => ({
                sum: root.querySelector('.stepper-sum').textContent,
                winners: [...root.querySelectorAll('.panel-input .look-winner')].length,
                star: [...root.querySelectorAll('.panel-products .winner-glyph')].length,
                grad: [...root.querySelectorAll('.cell[data-grid="gradient"]')].map(c => c.dataset.value),
                gradTitle: root.querySelector('.panel-gradient .panel-title').textContent,
            })"""
        )

    first = drawn()
    assert first["sum"] == "Y[0, 0] = max(2, 4, 6, 6) = 6"
    assert first["winners"] == 1 and first["star"] == 1  # the winner, marked on the input and the window
    assert first["grad"] == ["0", "0", "1", "0"] and first["gradTitle"].endswith("(g = 1)")
    stepper.get_by_role("button", name="Next ▶").click()
    after = drawn()
    assert after["sum"] == "Y[0, 1] = max(7, 4, 9, 8) = 9" and after["grad"] == ["0", "0", "1", "0"]
    # The page's words under the stepper follow it once the stepping stops (they named the max of (0, 0)).
    page.get_by_text("The max, 9, is input cell (1, 2)").wait_for(timeout=30_000)
    assert page.get_by_text("The max, 6, is input cell").count() == 0
    stepper.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_path("pooling_stepper")))
    # Full screen puts the stepper alone on the screen (the Fullscreen API on the component's element).
    stepper.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => !!document.fullscreenElement", timeout=5_000)
    page.screenshot(path=str(screenshot_path("pooling_stepper_fullscreen")))
    stepper.get_by_role("button", name="Full screen").click()  # the same button leaves full screen
    page.wait_for_function("() => !document.fullscreenElement", timeout=5_000)
    for section in ("Backpropagation", "Shift+invariance", "Conv%2C+ReLU%2C+pool"):
        page.goto(f"{server}/Pooling?pool_section={section}")
        wait_for_app(page)
        page.wait_for_selector(
            '[data-testid="cnnvizFigure"] svg.fig-svg, [data-testid="stPlotlyChart"] svg', timeout=60_000
        )
        assert page.get_by_test_id("stException").count() == 0
        screenshot(page, f"pooling_{section.split('+')[0].split('%')[0].lower()}")
