"""The real app in headless Chromium: the home page renders its pictures and grids."""

import pytest
from conftest import ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_home_page_renders_in_chromium(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "an image is a grid of numbers" in page.locator("h1").first.inner_text()
    # Both grids are drawn: the whole picture and the zoomed crop with its numbers in the cells.
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 2
    cell_numbers = page.locator('[data-testid="stPlotlyChart"]').last.locator("text").all_text_contents()
    assert sum((t or "").strip().isdigit() for t in cell_numbers) >= 16 * 16
    # The sidebar lists the topic pages.
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.count() == 1
    labels = [t.strip() for t in nav.locator("a").all_inner_texts()]
    assert labels[0] == "Home" and "app" not in labels
    assert labels[1:] == [
        p.stem.split("_", 1)[1].replace("_", " ") for p in sorted((ROOT / "pages").glob("[1-9]_*.py"))
    ]
    screenshot(page, "home")
    assert not errors, errors
