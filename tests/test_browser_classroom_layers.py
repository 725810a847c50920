"""Layer arithmetic in Chromium: the layer table on the first screen; an edited network survives a link."""

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TABLE = '[data-testid="stMarkdownContainer"] table'


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_layer_table_is_on_the_first_screen(server, browser, screen):
    context, pg = open_at(browser, f"{server}/Layer_arithmetic", SCREENS[screen])
    try:
        pg.wait_for_selector(TABLE, timeout=60_000)
        viewport_shot(pg, f"layers_{screen}")
        assert_on_first_screen(pg, pg.locator(TABLE).first, "the table of shapes and parameters")
        assert_on_first_screen(pg, pg.get_by_label("Start from"), "the preset")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_a_link_reopens_the_same_network_and_cell(server, browser):
    context, pg = open_at(browser, f"{server}/Layer_arithmetic", SCREENS["1366x768"])
    try:
        height = pg.get_by_label("Input height H")
        height.fill("40")
        height.press("Enter")
        settle(pg)
        row = pg.get_by_label("Output row (0..2)")  # LeNet at 40x32: C5 is 120@3x1
        row.fill("2")
        row.press("Enter")
        settle(pg)
        link = pg.url
        assert "layers_H=40" in link and "cell=2_0" in link
        table = pg.locator('[data-testid="stMarkdownContainer"] table').first.inner_text()
    finally:
        context.close()
    fresh, pg2 = open_at(browser, link, SCREENS["1920x1080"])
    try:
        pg2.wait_for_selector(TABLE, timeout=60_000)
        # The page's state once its runs have settled (under a loaded CI machine the box was once read as 0).
        expect(pg2.get_by_label("Output row (0..2)")).to_have_value("2", timeout=30_000)
        assert pg2.locator(TABLE).first.inner_text() == table
        viewport_shot(pg2, "layers_from_link_1920x1080")
    finally:
        fresh.close()


def test_projector_mode_shows_the_table_in_large_type_on_the_first_screen(server, browser):
    context, pg = open_at(browser, f"{server}/Layer_arithmetic?projector=true", SCREENS["1920x1080"])
    try:
        pg.wait_for_selector(TABLE, timeout=60_000)
        viewport_shot(pg, "layers_projector_1920x1080")
        assert_on_first_screen(pg, pg.locator(TABLE).first, "the table of shapes and parameters")
        size = pg.locator(f"{TABLE} td").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 20
        # The sidebar starts closed: Streamlit's header is opaque then, and the title must start below it.
        header = pg.locator('[data-testid="stHeader"]').bounding_box()
        title = pg.locator("h1").first.bounding_box()
        assert title["y"] >= header["y"] + header["height"], (title, header)
    finally:
        context.close()
