"""A choice that needs typing opens the box to type in, in Chromium: "Type my own" kernel, "Type a grid" input,
a typed target. The box sits in a popover beside the choice; a student who picks it sees it at once."""

import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot

pytestmark = pytest.mark.browser

STEPPER = '[data-testid="stepper"]'
KERNEL_CELLS = (
    """root => [...root.querySelectorAll('.cell[data-grid="kernel"]')].map(c => +c.dataset.value)"""
)


def choose(pg, box: str, option: str) -> None:
    pg.get_by_label(box, exact=True).click()
    pg.get_by_role("option", name=option, exact=True).click()
    settle(pg)


def type_into(pg, box, text: str) -> None:
    box.fill(text)
    box.press("Control+Enter")
    settle(pg)


def test_choosing_type_my_own_kernel_opens_its_box_and_the_stepper_takes_the_kernel(server, browser):
    context, pg = open_at(browser, f"{server}/Convolution", SCREENS["1366x768"])
    try:
        box = pg.get_by_role("textbox", name="Kernel, one row per line")
        assert not box.is_visible()  # closed until asked for
        choose(pg, "Kernel K", "Sobel (vertical)")  # a preset: its numbers stay behind "K…"
        assert not box.is_visible()
        choose(pg, "Kernel K", "Type my own")
        box.wait_for(state="visible", timeout=30_000)
        assert_on_first_screen(pg, box, "the box to type the kernel in")
        type_into(pg, box, "0 0 0\n0 2 0\n0 0 0")
        assert box.is_visible()  # typing keeps it open
        viewport_shot(pg, "convolution_typed_kernel_1366x768")
        cells = pg.locator(STEPPER).first.evaluate(KERNEL_CELLS)
        assert cells == [0, 0, 0, 0, 2, 0, 0, 0, 0]
        pg.mouse.click(5, 760)  # a click elsewhere closes it; the kernel stays
        settle(pg)
        assert not box.is_visible()
        assert pg.locator(STEPPER).first.evaluate(KERNEL_CELLS) == cells
    finally:
        context.close()


@pytest.mark.parametrize(
    "page, source, box",
    [
        ("Convolution", "Input X", "One row per line; numbers split by spaces or commas (1/9 and -1.5 work)"),
        ("Pooling", "Input", "One row per line, numbers split by spaces or commas"),
    ],
)
def test_choosing_type_a_grid_opens_the_box_to_type_it_in(server, browser, page, source, box):
    context, pg = open_at(browser, f"{server}/{page}", SCREENS["1366x768"])
    try:
        choose(pg, source, "Type a grid")
        typed = pg.get_by_role("textbox", name=box)
        typed.wait_for(state="visible", timeout=30_000)
        assert_on_first_screen(pg, typed, "the box to type the grid in")
        type_into(pg, typed, "1 2 3\n4 5 6\n7 8 9")
        assert typed.is_visible()  # typing keeps it open
        pg.get_by_text("Input 3x3").first.wait_for(timeout=30_000)  # the page took the typed grid
    finally:
        context.close()


def test_choosing_a_typed_target_opens_the_box_to_type_it_in(server, browser):
    context, pg = open_at(browser, f"{server}/Learn_a_filter", SCREENS["1366x768"])
    try:
        typed = pg.get_by_role(
            "textbox", name="Your 3x3 target kernel (one row per line; fractions like 1/9 work)"
        )
        assert not typed.is_visible()
        choose(pg, "Target kernel", "Type my own…")
        typed.wait_for(state="visible", timeout=30_000)
        assert_on_first_screen(pg, typed, "the box to type the target in")
    finally:
        context.close()
