"""What a student typed on a page is still there after a visit to another page, in Chromium.

The sidebar's page links open a page without its link's values, and Streamlit forgets a page's widget values
while another page runs: a typed grid came back as the lecture's (`ui.keep_other_pages`)."""

import pytest
from browser_helpers import SCREENS, open_at, settle

pytestmark = pytest.mark.browser


def choose(pg, box: str, option: str) -> None:
    pg.get_by_label(box, exact=True).click()
    pg.get_by_role("option", name=option, exact=True).click()
    settle(pg)


def go_to(pg, page: str) -> None:
    pg.locator('[data-testid="stSidebar"]').get_by_role("link", name=page, exact=True).click()
    settle(pg)


@pytest.mark.parametrize(
    "page, source, box, typed, shown",
    [
        (
            "Convolution",
            "Input X",
            "One row per line; numbers split by spaces or commas (1/9 and -1.5 work)",
            "1 2 3 4 5\n6 7 8 9 1\n2 3 4 5 6\n7 8 9 1 2\n3 4 5 6 7",
            "Input 5x5",
        ),
        (
            "Pooling",
            "Input",
            "One row per line, numbers split by spaces or commas",
            "1 2 3\n4 5 6\n7 8 9",
            "Input 3x3",
        ),
    ],
)
def test_a_typed_grid_is_still_there_after_a_visit_to_another_page(
    server, browser, page, source, box, typed, shown
):
    context, pg = open_at(browser, f"{server}/{page}", SCREENS["1366x768"])
    try:
        choose(pg, source, "Type a grid")
        pg.get_by_role("button", name="Type a grid…").click()
        text = pg.get_by_role("textbox", name=box)
        text.fill(typed)
        text.press("Control+Enter")
        settle(pg)
        pg.get_by_text(shown).first.wait_for(timeout=30_000)
        pg.keyboard.press("Escape")  # the popover closes
        go_to(pg, "Home")
        pg.get_by_role("heading", name="cnnviz: an image is a grid of numbers").wait_for(timeout=30_000)
        go_to(pg, page)
        pg.get_by_text(shown).first.wait_for(timeout=30_000)  # the typed grid, not the lecture's
        assert pg.get_by_label(source, exact=True).input_value() == "Type a grid"
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
