"""Pooling in classroom mode, in Chromium: the stepper on the first screen at both sizes, projector
sizes, a link that reopens the same screen (section, settings, cell), and the exports."""

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from PIL import Image

pytestmark = pytest.mark.browser

STEPPER = '[data-testid="stepper"]'
READ = """root => ({
    i: +root.dataset.i, j: +root.dataset.j,
    sum: root.querySelector('.stepper-sum').textContent,
    grad: [...root.querySelectorAll('.cell[data-grid="gradient"]')].map(c => c.dataset.value),
    input: [...root.querySelectorAll('.cell[data-grid="input"]')].map(c => c.dataset.value),
})"""


def stepper(pg):
    return pg.locator(STEPPER).first


def open_stepper(browser, url: str, screen: str):
    context, pg = open_at(browser, url, SCREENS[screen], accept_downloads=True)
    stepper(pg).wait_for(timeout=60_000)
    return context, pg


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_stepper_and_its_controls_are_on_the_first_screen(server, browser, screen):
    context, pg = open_stepper(browser, f"{server}/Pooling", screen)
    try:
        viewport_shot(pg, f"pooling_{screen}")
        assert_on_first_screen(pg, stepper(pg), "the stepper")
        assert_on_first_screen(pg, pg.get_by_label("Lecture example"), "the lecture example")
        assert_on_first_screen(pg, pg.get_by_role("combobox", name="Pooling"), "the pooling mode")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_projector_mode_enlarges_the_stepper(server, browser):
    context, pg = open_stepper(browser, f"{server}/Pooling?projector=true", "1920x1080")
    try:
        viewport_shot(pg, "pooling_projector_1920x1080")
        assert_on_first_screen(pg, stepper(pg), "the stepper")
        number = stepper(pg).evaluate(
            """root => +root.querySelector('.cell[data-grid="input"] text').getAttribute('font-size')
                      * root.querySelector('svg').getScreenCTM().a"""
        )
        assert number >= 24
    finally:
        context.close()


def test_a_link_reopens_the_same_settings_and_cell(server, browser):
    context, pg = open_stepper(browser, f"{server}/Pooling", "1366x768")
    try:
        pg.get_by_role("combobox", name="Pooling").click()
        pg.get_by_role("option", name="Average").click()
        settle(pg)
        stepper(pg).locator('.cell[data-grid="output"][data-r="1"][data-c="0"]').click()
        pg.get_by_text("Selected: output cell (1, 0)").wait_for(timeout=30_000)
        settle(pg)
        link = pg.url
        assert "pool_mode=Average" in link and "pool_cell=1_0" in link
        shown = stepper(pg).evaluate(READ)
    finally:
        context.close()
    fresh, pg2 = open_stepper(browser, link, "1920x1080")
    try:
        assert stepper(pg2).evaluate(READ) == shown
        assert shown["sum"] == "Y[1, 0] = (3 + 4 + 7 + 5) / 4 = 4.75"
    finally:
        fresh.close()


def test_the_walk_exports_as_a_gif_of_every_window(server, browser):
    context, pg = open_stepper(browser, f"{server}/Pooling?pool_speed=1200", "1920x1080")
    try:
        with pg.expect_download() as info:
            pg.get_by_role("button", name="Walk as GIF").click()
        gif = Image.open(info.value.path())
        assert gif.n_frames == 4 and gif.info["duration"] == 1200
        with pg.expect_download() as info:
            pg.get_by_role("button", name="Step as PNG").click()
        assert Image.open(info.value.path()).format == "PNG"
    finally:
        context.close()
