"""Correlation versus convolution in classroom mode, in Chromium: the two results side by side on the first
screen at both sizes, and a link that reopens the same grids, padding and cell in a fresh browser."""

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from conftest import FIGURES

pytestmark = pytest.mark.browser

CHARTS = FIGURES


def results(pg):
    """The cross-correlation, the convolution and their difference: the first row of figures."""
    pg.locator(CHARTS).nth(2).locator("svg.fig-svg").first.wait_for(timeout=60_000)
    return [pg.locator(CHARTS).nth(k) for k in range(3)]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_both_results_are_on_the_first_screen(server, browser, screen):
    context, pg = open_at(browser, f"{server}/Correlation_vs_convolution", SCREENS[screen])
    try:
        row = results(pg)
        viewport_shot(pg, f"correlation_{screen}")
        for chart, what in zip(row, ("cross-correlation", "convolution", "difference"), strict=True):
            assert_on_first_screen(pg, chart, what)
        assert_on_first_screen(pg, pg.get_by_role("combobox", name="Preset (input and kernel)"), "the preset")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_a_link_reopens_the_same_preset_padding_and_cell(server, browser):
    context, pg = open_at(browser, f"{server}/Correlation_vs_convolution", SCREENS["1366x768"])
    try:
        results(pg)
        pg.get_by_text("full", exact=True).click()
        settle(pg)
        row = pg.get_by_label("Output row i")
        row.fill("5")
        row.press("Enter")
        settle(pg)
        link = pg.url
        assert "corr_padding=full" in link and "corr_i=5" in link
        shown = [c.locator("text").all_text_contents() for c in results(pg)]
    finally:
        context.close()
    fresh, pg2 = open_at(browser, link, SCREENS["1920x1080"])
    try:
        assert [c.locator("text").all_text_contents() for c in results(pg2)] == shown
        assert pg2.get_by_label("Output row i").input_value() == "5"
        pg2.get_by_text("Output cell (5, 0)").wait_for(timeout=30_000)
    finally:
        fresh.close()


def test_projector_mode_draws_the_results_with_big_numbers(server, browser):
    context, pg = open_at(
        browser, f"{server}/Correlation_vs_convolution?projector=true", SCREENS["1920x1080"]
    )
    try:
        row = results(pg)
        viewport_shot(pg, "correlation_projector_1920x1080")
        assert_on_first_screen(pg, row[0], "the cross-correlation")
        sizes = (
            row[0]
            .locator("text.fig-cell-text")
            .evaluate_all(
                "els => els.filter(e => /^-?\\d+$/.test(e.textContent.trim()))"
                ".map(e => parseFloat(getComputedStyle(e).fontSize))"
            )
        )
        assert sizes and min(sizes) >= 24, sizes
        assert (
            pg.get_by_text("The three result grids share one colour scale").count() == 0
        )  # explanation hidden
    finally:
        context.close()
