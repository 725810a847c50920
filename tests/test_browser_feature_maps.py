"""The Feature maps page in headless Chromium: the bank's maps are drawn, and the transposed stepper runs."""

import pytest
from conftest import FIGURES, PLOTLY, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_bank_maps_and_the_transposed_stepper_render(server, page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{server}/Feature_maps")
    wait_for_app(page)
    page.wait_for_selector(f"{FIGURES} svg.fig-svg", timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    charts = page.locator(FIGURES)
    charts.nth(11).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert (
        charts.count() == 3 * 4
    )  # the first three kernels, each with its map before ReLU, after ReLU, pooled
    # Each row (the kernel, then its three maps) is one element, its figures side by side, left to right.
    boxes = [charts.nth(k).bounding_box() for k in range(4)]
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) <= 2, boxes
    assert all(a["x"] + a["width"] <= b["x"] for a, b in zip(boxes, boxes[1:], strict=False)), boxes
    assert charts.nth(4).bounding_box()["y"] > boxes[0]["y"] + 100  # the next kernel's row is below
    # The other three kernels' rows are drawn when their fold is opened.
    page.get_by_text("The maps of Laplacian, Sharpen, Box blur").click()
    charts.nth(23).wait_for(timeout=30_000)
    assert charts.count() == 6 * 4
    # The 128x128 maps are heatmaps; each map's first row is at the top (the y axis runs downwards).
    before = charts.nth(1)
    assert before.locator("g.fig-heatmap image.fig-picture").count() == 1  # a 128x128 map: one picture
    assert page.locator(PLOTLY).count() == 0
    y_ticks = before.locator(".fig-colorbar text").all_text_contents()
    assert any(t.strip().lstrip("−-").isdigit() for t in y_ticks)  # a colour bar with numbers
    screenshot(page, "feature_maps_bank")

    page.get_by_role("tab", name="Transposed and dilated").click()
    page.get_by_text("1. Scatter view.", exact=True).wait_for(timeout=30_000)
    wait_for_app(page)
    stepper = page.locator('[data-testid="stepper"]').filter(has_text="Step 1 of 25")
    stepper.first.wait_for(timeout=30_000)
    total = stepper.first.locator(".stepper-sum").text_content()
    assert total.startswith("Y[0, 0] = 0*1 + ") and total.endswith("1*1 = 1"), total
    # The inserted zeros have their own look (dots), apart from the input's four values.
    assert stepper.first.locator(".cell.inserted").count() == 7 * 7 - 4
    # The Dumoulin-Visin output: the centre cell collects all four stamps, 1 + 2 + 3 + 4.
    sums = page.locator(FIGURES).filter(has_text="Sum of all stamps")
    assert "10" in sums.first.locator("text.fig-cell-text").all_text_contents()
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "feature_maps_transposed")
    assert not errors, errors
