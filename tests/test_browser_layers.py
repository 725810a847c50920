"""The Layer arithmetic page in headless Chromium: the table renders, and a click on the output grid picks a cell."""

import pytest
from conftest import FIGURES, PLOTLY, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_layer_arithmetic_renders_and_a_click_chooses_the_cell(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 3000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/Layer_arithmetic")
    wait_for_app(page)
    page.wait_for_selector(f"{FIGURES} svg.fig-svg", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(PLOTLY).count() == 0
    assert "61,706" in page.locator('[data-testid="stMetric"]').first.inner_text()
    screenshot(page, "layers_lenet")
    cells = page.locator('[data-testid="stMarkdownContainer"] table td').all_inner_texts()
    assert "16×(6×5×5 + 1) = 2,416" in [c.strip() for c in cells], cells[:40]

    # The pooling preset: a 4x4 output grid whose cells can be clicked.
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Pooling multiplies the growth").click()
    wait_for_app(page)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stMetric\"]').innerText.includes('336')", timeout=30_000
    )
    chart = page.locator(FIGURES).first
    chart.scroll_into_view_if_needed()
    box = chart.locator("g.fig-heatmap").first.bounding_box()  # the cells: 4 columns x 4 rows
    page.mouse.click(box["x"] + box["width"] * 3.5 / 4, box["y"] + box["height"] * 0.5 / 4)  # row 0, column 3
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"]')]"
        ".some(e => e.innerText.includes('Output cell (0, 3) of layer 5'))",
        timeout=30_000,
    )
    wait_for_app(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "input rows 0..17, columns 12..29" in text
    screenshot(page, "layers_click")
    context.close()
    assert not errors, errors
