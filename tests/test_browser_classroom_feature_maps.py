"""Feature maps in classroom mode, in Chromium: the first row of maps on the first screen at both sizes,
maps that fill the width in projector mode, and a link that reopens the same tab, bank, settings and cell."""

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from conftest import FIGURES

pytestmark = pytest.mark.browser

CHARTS = FIGURES


def first_row(pg):
    """The first kernel and its three maps (before ReLU, after ReLU, pooled): the bank's first row."""
    pg.locator(CHARTS).nth(3).locator("svg.fig-svg").first.wait_for(timeout=60_000)
    return [pg.locator(CHARTS).nth(k) for k in range(4)]


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_first_row_of_feature_maps_is_on_the_first_screen(server, browser, screen):
    context, pg = open_at(browser, f"{server}/Feature_maps", SCREENS[screen])
    try:
        row = first_row(pg)
        viewport_shot(pg, f"feature_maps_{screen}")
        for k, chart in enumerate(row):
            assert_on_first_screen(pg, chart, f"the bank's first row, figure {k}")
        assert_on_first_screen(pg, pg.get_by_role("tab", name="Bank of kernels"), "the tabs")
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_projector_mode_draws_the_maps_across_the_width(server, browser):
    context, pg = open_at(browser, f"{server}/Feature_maps?projector=true", SCREENS["1920x1080"])
    try:
        row = first_row(pg)
        viewport_shot(pg, "feature_maps_projector_1920x1080")
        box = row[1].bounding_box()
        assert box["width"] >= 380 and box["height"] >= 380  # not the 160 px squares of the desk view
        title = row[1].locator(".fig-title").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert title >= 18
    finally:
        context.close()


def test_a_link_reopens_the_same_tab_settings_and_cell(server, browser):
    url = f"{server}/Feature_maps?fm_tab=Transposed+and+dilated&fm_t_cell=2_3&fm_d_cell=1_1"
    context, pg = open_at(browser, url, SCREENS["1366x768"])
    try:
        steppers = pg.locator('[data-testid="stepper"]')
        steppers.nth(1).wait_for(timeout=60_000)
        read = "root => [+root.dataset.i, +root.dataset.j, root.querySelector('.stepper-sum').textContent]"
        transposed, dilated = steppers.nth(0).evaluate(read), steppers.nth(1).evaluate(read)
        assert transposed[:2] == [2, 3] and dilated[:2] == [1, 1]
        assert pg.get_by_role("tab", name="Transposed and dilated").get_attribute("aria-selected") == "true"
        pg.get_by_role("tab", name="Bank of kernels").click()
        settle(pg)
        first_row(pg)
        link = pg.url
    finally:
        context.close()
    fresh, pg2 = open_at(browser, link, SCREENS["1920x1080"])
    try:
        first_row(pg2)
        assert pg2.get_by_role("tab", name="Bank of kernels").get_attribute("aria-selected") == "true"
    finally:
        fresh.close()


def test_a_typed_channel_kernel_and_bias_travel_in_the_link(server, browser):
    context, pg = open_at(
        browser, f"{server}/Feature_maps?fm_tab=One+filter%2C+three+channels", SCREENS["1366x768"]
    )
    try:
        box = pg.get_by_label("Red kernel (one row per line)")
        box.wait_for(timeout=60_000)
        box.fill("0 0 0\n0 2 0\n0 0 0")
        box.press("Control+Enter")
        settle(pg)
        bias = pg.get_by_label("Bias b (one number per filter)")
        bias.fill("5")
        bias.press("Enter")
        settle(pg)
        link = pg.url
        assert "fm_rgb_KR=0_0_0~0_2_0~0_0_0" in link and "fm_rgb_b=5" in link, link
    finally:
        context.close()
    fresh, pg2 = open_at(browser, link, SCREENS["1920x1080"])
    try:
        box = pg2.get_by_label("Red kernel (one row per line)")
        box.wait_for(timeout=60_000)
        assert box.input_value() == "0 0 0\n0 2 0\n0 0 0"
        assert pg2.get_by_label("Bias b (one number per filter)").input_value() == "5.00"
        written = pg2.locator('[data-testid="stCode"]', has_text="final[")
        written.first.wait_for(timeout=60_000)
        assert " + 5 = " in written.first.inner_text()  # the written-out cell adds the bias
        assert pg2.locator('[data-testid="stException"]').count() == 0
    finally:
        fresh.close()
