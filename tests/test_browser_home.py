"""The real app in headless Chromium: the home page renders its pictures and grids."""

import pytest
from conftest import FIGURES, PLOTLY, ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser


EXPECTED_MENU = ["Home"] + [
    p.stem.split("_", 1)[1].replace("_", " ") for p in sorted((ROOT / "pages").glob("[1-9]_*.py"))
]


def sidebar_labels(pg) -> list[str]:
    return [
        t.strip()
        for t in pg.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts()
    ]


def test_a_session_that_starts_on_a_topic_page_sees_the_same_menu(server, page):
    # Streamlit's own pages/ menu would list the home page as "app"; ours says "Home" wherever a session starts.
    page.goto(f"{server}/Pooling")
    wait_for_app(page)
    page.wait_for_selector('[data-testid="stSidebar"] [data-testid="stPageLink"]', timeout=30_000)
    assert sidebar_labels(page) == EXPECTED_MENU
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').filter(has_text="Home").click()
    page.wait_for_function(
        "() => document.querySelector('h1') && document.querySelector('h1').innerText.includes('grid of numbers')",
        timeout=30_000,
    )


def test_home_page_renders_in_chromium(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    wait_for_app(page)
    page.wait_for_selector(f"{FIGURES} svg.fig-svg", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(PLOTLY).count() == 0  # drawn without Plotly's JavaScript (a faster first render)
    assert "an image is a grid of numbers" in page.locator("h1").first.inner_text()
    # Both grids are drawn: the whole picture and the zoomed crop with its numbers in the cells.
    assert page.locator(FIGURES).count() >= 2
    cell_numbers = page.locator(FIGURES).last.locator("text.fig-cell-text").all_text_contents()
    assert sum((t or "").strip().isdigit() for t in cell_numbers) >= 16 * 16
    # The sidebar lists the topic pages.
    assert sidebar_labels(page) == EXPECTED_MENU
    screenshot(page, "home")
    assert not errors, errors
