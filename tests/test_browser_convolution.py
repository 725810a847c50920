"""The Convolution page in headless Chromium: Play animates the stepper in the browser, cell by cell."""

import re

import pytest
from conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _step_label(chart) -> str:
    """The "Step k of N · output cell (i, j)" line the current animation frame writes under the panels."""
    texts = chart.locator(".annotation-text").all_text_contents()
    return next(t for t in texts if t.startswith("Step "))


def _outlines(chart) -> list[str]:
    """The drawn shapes' paths: the window on the input and the current output cell move with each frame."""
    return chart.locator(".shapelayer path").evaluate_all("els => els.map(e => e.getAttribute('d'))")


def test_play_moves_the_window_and_the_output_cell(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.goto(f"{server}/Convolution")
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.scroll_into_view_if_needed()

    before = _step_label(chart)
    assert re.match(r"Step 1 of 16 · output cell \(0, 0\)", before), before
    shapes_before = _outlines(chart)
    # The lecture's first cell is on screen, term by term.
    assert any("= -5" in t for t in chart.locator(".annotation-text").all_text_contents())

    chart.locator(".updatemenu-button").filter(has_text="Play").click()
    page.wait_for_timeout(2600)  # about four frames at the normal speed (0.6 s a step)
    chart.locator(".updatemenu-button").filter(has_text="Pause").click()
    page.wait_for_timeout(300)
    after = _step_label(chart)
    match = re.match(r"Step (\d+) of 16 · output cell \((\d), (\d)\)", after)
    assert match, after
    step, i, j = (int(g) for g in match.groups())
    assert step > 1 and (i, j) == divmod(step - 1, 4)  # the highlighted cell moved along in reading order
    assert _outlines(chart) != shapes_before  # the outlines were redrawn at the new cell
    screenshot(page, "convolution_playing")

    # Clicking an output cell selects it on the server (an invisible marker sits on each cell).
    target = chart.locator(".scatterlayer .point").nth(11)  # output cell (2, 3) in reading order
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("Selected: output cell (2, 3)").wait_for(timeout=30_000)
    wait_for_app(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    assert _step_label(chart).startswith("Step 12 of 16 · output cell (2, 3)")
    assert page.get_by_text("= -7", exact=False).count() >= 1

    # Check my work: two wrong cells, (1, 0) shown first; clicking the red cell (3, 3) shows its arithmetic.
    answer = page.locator("textarea").last
    answer.fill("-5 -4 0 8\n-11 -2 2 3\n0 -2 -4 -7\n-3 -2 -3 -15")
    answer.press("Control+Enter")
    page.get_by_text("14 of 16 cells are right; 2 are wrong").wait_for(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_text("Y[1, 0] = 1*1 + 5*0", exact=False).count() == 1
    assert page.get_by_text("Y[3, 3] = ", exact=False).count() == 0
    check = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Your answer")
    check.scroll_into_view_if_needed()  # a mouse click lands only inside the viewport
    box = check.locator(".scatterlayer .point").nth(15).bounding_box()  # cell (3, 3)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("Y[3, 3] = 1*1 + 7*0 + 8*(-1)", exact=False).wait_for(timeout=30_000)
    # Pause interrupts Plotly's running animate() call, whose promise plotly.js rejects with `undefined`
    # (its own play/pause recipe does the same); any other page error is a real failure.
    assert [e for e in errors if e != "undefined"] == [], errors
