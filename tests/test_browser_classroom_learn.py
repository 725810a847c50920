"""Learn a filter in Chromium: Start and the live view share the first screen; a link reopens the same run setup."""

import re

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from conftest import FIGURES
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CHARTS = FIGURES


@pytest.mark.parametrize("screen", list(SCREENS))
def test_start_and_the_learned_filter_are_on_the_first_screen(server, browser, screen):
    context, pg = open_at(browser, f"{server}/Learn_a_filter", SCREENS[screen])
    try:
        pg.wait_for_selector(f"{CHARTS} svg.fig-svg", timeout=60_000)
        viewport_shot(pg, f"learn_filter_{screen}")
        assert_on_first_screen(pg, pg.get_by_role("button", name=re.compile("Start learning")), "Start")
        assert_on_first_screen(pg, pg.locator(CHARTS).nth(0), "the learned filter beside the target")
        assert_on_first_screen(pg, pg.locator(CHARTS).nth(1), "the loss curve")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_a_link_reopens_the_same_settings_in_a_fresh_browser(server, browser):
    context, pg = open_at(browser, f"{server}/Learn_a_filter", SCREENS["1366x768"])
    try:
        pg.get_by_text("Adam", exact=True).click()
        settle(pg)
        pg.get_by_role("button", name=re.compile("Task and data")).click()
        pg.get_by_role("slider", name="Random noise pictures (32x32)").focus()
        pg.keyboard.press("ArrowRight")
        settle(pg)
        pg.keyboard.press("Escape")
        link = pg.url
        assert "learn_opt=Adam" in link and "learn_random=3" in link
        learned = pg.locator(CHARTS).nth(0).locator("text").all_text_contents()
    finally:
        context.close()
    fresh, pg2 = open_at(browser, link, SCREENS["1920x1080"])
    try:
        pg2.wait_for_selector(f"{CHARTS} svg.fig-svg", timeout=60_000)
        assert pg2.get_by_role("radio", name="Adam").is_checked()
        # Same seed, same pictures: the same starting weights, written in the cells. Read once the page has
        # settled: in one clean-clone CI run, read as soon as any figure was drawn, the first figure on the page
        # was the unseen picture's (the learned filter's not drawn yet). Up to 30 s; a page that never shows
        # the link's weights fails.
        expect(pg2.locator(CHARTS).nth(0).locator("text")).to_have_text(learned, timeout=30_000)
        assert pg2.get_by_text("3 random noise picture(s)").count() == 1  # the training set from the link
    finally:
        fresh.close()


def test_projector_mode_keeps_the_live_view_on_a_projectors_first_screen(server, browser):
    context, pg = open_at(browser, f"{server}/Learn_a_filter?projector=true", SCREENS["1920x1080"])
    try:
        pg.wait_for_selector(f"{CHARTS} svg.fig-svg", timeout=60_000)
        viewport_shot(pg, "learn_filter_projector_1920x1080")
        assert_on_first_screen(pg, pg.get_by_role("button", name=re.compile("Start learning")), "Start")
        box = assert_on_first_screen(pg, pg.locator(CHARTS).nth(0), "the learned filter")
        assert box["height"] >= 400  # bigger than the 270 px of the desk view
        sizes = (
            pg.locator(CHARTS)
            .nth(0)
            .locator("text")
            .evaluate_all(
                "els => els.filter(e => /^w\\d/.test(e.textContent)).map(e => parseFloat(getComputedStyle(e).fontSize))"
            )
        )
        assert sizes and min(sizes) >= 24  # the weights' numbers, readable from the back of the room
    finally:
        context.close()
