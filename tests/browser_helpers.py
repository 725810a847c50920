"""Helpers for the classroom browser tests: open a page at a screen size, check what the first screen shows."""

from __future__ import annotations

from conftest import ARTIFACTS, wait_for_app

SCREENS = {"1920x1080": (1920, 1080), "1366x768": (1366, 768)}


def open_watched(browser, url: str, size: tuple[int, int], **context_options):
    """`open_at`, plus the list that collects the page's JavaScript errors from the start: (context, pg, errors)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, **context_options)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    wait_for_app(pg)
    return context, pg, errors


def open_at(browser, url: str, size: tuple[int, int], **context_options):
    """A fresh browser context (no cookies, no session) at `size`, with `url` loaded and the run finished."""
    context, pg, _ = open_watched(browser, url, size, **context_options)
    return context, pg


def settle(pg, timeout: float = 30_000) -> None:
    """Wait for the rerun a widget change starts to finish."""
    pg.wait_for_timeout(300)
    wait_for_app(pg, timeout)


def assert_on_first_screen(pg, locator, what: str, settle_ms: int = 15_000) -> dict:
    """The element's whole bounding box lies inside the viewport (no scrolling needed to see it).

    Asked again for up to `settle_ms` while it is not: a page measured mid-render (a rerun that a link or a
    busy server started still drawing its skeletons above) settles; one that never does fails."""
    waited = 0
    while True:
        try:
            return _on_first_screen(pg, locator, what)
        except AssertionError:
            if waited >= settle_ms:
                raise
            pg.wait_for_timeout(500)
            waited += 500


def _on_first_screen(pg, locator, what: str) -> dict:
    box = locator.bounding_box()
    view = pg.viewport_size
    assert box is not None, f"{what} is not on the page"
    inside = box["x"] >= 0 and box["y"] >= 0
    inside = inside and box["x"] + box["width"] <= view["width"] + 1
    inside = inside and box["y"] + box["height"] <= view["height"] + 1
    assert inside, f"{what} at {box} is not inside the {view['width']}x{view['height']} first screen"
    return box


def viewport_shot(pg, name: str) -> None:
    """A screenshot of the first screen only (what the room sees without scrolling) under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def slider(pg, label: str):
    return pg.get_by_role("slider", name=label)


def move_slider(pg, label: str, presses: int) -> None:
    """Move a Streamlit slider with the keyboard (Right for positive `presses`, Left for negative)."""
    thumb = slider(pg, label)
    thumb.focus()
    key = "ArrowRight" if presses > 0 else "ArrowLeft"
    for _ in range(abs(presses)):
        thumb.press(key)
    settle(pg)


def slider_value(pg, label: str) -> str:
    return slider(pg, label).get_attribute("aria-valuenow")
