"""What the light figure component draws in Chromium is what Python computed: each cell's colour on the
figure's own scale, each cell's number, the hover text, and a large map's picture pixel by pixel."""

import base64
import io

import numpy as np
import pytest
from conftest import FIGURES, app_test, decode, plotly_figures, wait_for_app
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _rgb(color: str) -> np.ndarray:
    if color.startswith("#"):
        return np.array([int(color[k : k + 2], 16) for k in (1, 3, 5)], float)
    return np.array([float(v) for v in color[color.index("(") + 1 : color.index(")")].split(",")[:3]])


def expected_colours(trace: dict) -> np.ndarray:
    """Each cell's colour as Plotly defines it: the value's place between zmin and zmax, linear in RGB between
    the colour scale's two nearest stops (written here again, apart from the component's JavaScript)."""
    z = decode(trace["z"]).astype(float)
    lo, hi = trace["zmin"], trace["zmax"]
    stops = np.array([s for s, _ in trace["colorscale"]], float)
    colours = np.array([_rgb(c) for _, c in trace["colorscale"]])
    t = np.clip((z - lo) / (hi - lo), 0, 1)
    return np.stack([np.interp(t, stops, colours[:, k]) for k in range(3)], axis=-1)


def drawn_cells(figure) -> dict:
    """(i, j) -> (fill rgb, text) for the first heatmap's cells as the browser drew them."""
    cells = figure.locator("g.fig-heatmap").first.evaluate(
        """g => [...g.querySelectorAll('rect[data-i]')].map(r => {
            const c = getComputedStyle(r).fill.match(/[\\d.]+/g).map(Number);
            return [+r.dataset.i, +r.dataset.j, c.slice(0, 3)];
        })"""
    )
    texts = figure.locator("g.fig-heatmap").first.locator("text.fig-cell-text").all_text_contents()
    return {(i, j): np.array(rgb) for i, j, rgb in cells}, texts


def test_the_cells_colours_numbers_and_hover_are_pythons(server, page):
    at = app_test("pages/2_Correlation_vs_convolution.py").run()
    python = plotly_figures(at)[0]  # the cross-correlation of the lecture example
    title = python["layout"]["title"]["text"]
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(f"{server}/Correlation_vs_convolution")
    wait_for_app(page)
    figure = page.locator(f'{FIGURES}[data-title="{title}"]')
    figure.locator("svg.fig-svg").wait_for(timeout=60_000)
    fills, texts = drawn_cells(figure)
    trace = python["data"][0]
    want = expected_colours(trace)
    assert len(fills) == want.shape[0] * want.shape[1]
    for (i, j), rgb in fills.items():
        assert np.abs(rgb - want[i, j]).max() <= 1.0, ((i, j), rgb, want[i, j])
    assert texts == [t for row in trace["text"] for t in row]  # row by row, Python's strings
    # Hovering a cell says which cell it is and its value, as Plotly's hover template does.
    box = figure.locator("rect[data-i='1'][data-j='2']").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = figure.locator(".fig-tip")
    tip.wait_for(state="visible", timeout=5_000)
    z = decode(trace["z"])[1, 2]
    assert tip.text_content().startswith(f"row 1, column 2\nvalue {z:g}"), tip.text_content()


def test_a_large_map_is_one_picture_with_pythons_colours(server, page):
    at = app_test("pages/4_Feature_maps.py").run()
    python = next(f for f in plotly_figures(at) if decode(f["data"][0]["z"]).shape == (128, 128))
    title = python["layout"]["title"]["text"]
    page.set_viewport_size({"width": 1400, "height": 1600})
    page.goto(f"{server}/Feature_maps")
    wait_for_app(page)
    # Each kernel's map has this title: wait until all are drawn (a later one may be drawn before the first).
    same = sum(f["layout"].get("title", {}).get("text") == title for f in plotly_figures(at))
    drawn_maps = page.locator(f'{FIGURES}[data-title="{title}"] image.fig-picture')
    expect(drawn_maps).to_have_count(same, timeout=60_000)
    figure = page.locator(f'{FIGURES}[data-title="{title}"]').first
    picture = figure.locator("image.fig-picture")
    href = picture.get_attribute("href")
    drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGB"), float)
    want = expected_colours(python["data"][0])
    assert drawn.shape == want.shape  # one picture pixel per map cell
    assert np.abs(drawn - want).max() <= 1.0
    box = picture.bounding_box()
    assert box["width"] > 100 and abs(box["width"] - box["height"]) <= 2  # square cells


def test_a_colour_picture_is_pythons_pixels(server, page):
    at = app_test("app.py")
    at.query_params["home_rgb"] = "true"
    python = plotly_figures(at.run())[0]  # the whole picture, (H, W, 3) of 0..255
    want = decode(python["data"][0]["z"]).astype(float)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server}/?home_rgb=true")
    wait_for_app(page)
    picture = page.locator(f"{FIGURES} g.fig-image image.fig-picture").first
    picture.wait_for(timeout=60_000)
    href = picture.get_attribute("href")
    drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGB"), float)
    assert drawn.shape == want.shape and np.array_equal(drawn, want)


def test_a_figure_downloads_as_a_png_for_a_slide(server, browser):
    # In the dark theme too: the file is for a white slide, with its title in dark ink.
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(f"{server}/Correlation_vs_convolution")
        wait_for_app(page)
        figure = page.locator(f'{FIGURES}[data-title="Cross-correlation with K"]')
        svg = figure.locator("svg.fig-svg")
        svg.wait_for(timeout=60_000)
        width, height = (int(svg.get_attribute(k)) for k in ("width", "height"))
        figure.hover()
        with page.expect_download(timeout=10_000) as download:
            figure.get_by_role("button", name="Download this figure as a PNG").click()
        assert download.value.suggested_filename == "Cross-correlation_with_K.png"
        png = np.asarray(Image.open(download.value.path()).convert("RGB"), float)
    finally:
        context.close()
    assert png.shape == (2 * height, 2 * width, 3)  # twice the screen's size, for a projector
    # On white: the grid's cells (blues and reds of the diverging scale) and the title in dark ink above them.
    assert (np.abs(png[:, :, 0] - png[:, :, 2]) > 40).sum() > 1000
    assert png[0, 0].tolist() == [255, 255, 255]
    title_band = png[: 2 * 40]  # the title sits in the top margin
    assert (title_band.max(axis=2) < 100).sum() > 50
