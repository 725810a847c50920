"""Explain an activation in headless Chromium: click a cell of a C1 or C3 map in the view's picture, read the
window, the sum plus bias and the value PyTorch computed, with the stepper on that cell."""

import re

import pytest
import torch
from browser_helpers import open_watched
from conftest import screenshot, wait_for_app
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz.draw.lenet import activations_picture
from cnnviz.lenet.data import load_mnist5k, to_model_input
from cnnviz.lenet.model import SHIPPED_WEIGHTS, load_weights
from cnnviz.lessons.explain import explain

pytestmark = pytest.mark.browser


def click_cell(page, layout, layer: str, k: int, i: int, j: int) -> None:
    """Click the centre of cell (i, j) of map k of `layer` in the activations picture as shown on screen."""
    img = page.locator('img[data-name="activations"]')
    img.scroll_into_view_if_needed()
    img.evaluate(
        "el => el.complete ? null : new Promise(ok => el.addEventListener('load', ok, {once: true}))"
    )
    box = img.bounding_box()
    natural = img.evaluate("el => el.naturalWidth")
    zoom = box["width"] / natural
    t = layout.tile(layer, k)
    x, y = t.x + (j + 0.5) * t.scale, t.y + (i + 0.5) * t.scale
    page.mouse.click(box["x"] + x * zoom, box["y"] + y * zoom)


def click_until(page, heading, click) -> None:
    """Click, and click once more if the explanation has not come: on a busy server the first click can land
    while the page is still redrawing the picture (its click handler is attached after the image loads)."""
    click()
    try:
        heading.wait_for(timeout=15_000)
    except PlaywrightTimeout:
        wait_for_app(page)
        click()
        heading.wait_for(timeout=30_000)


def test_clicked_c1_and_c3_cells_are_explained_as_torch_computed_them(server, browser):
    model = load_weights(SHIPPED_WEIGHTS)
    X = to_model_input(load_mnist5k().X_test[0])  # the followed test image: 0 by default
    with torch.no_grad():
        A = {k: v[0].numpy() for k, v in model.activations(X).items()}
        pre_c1 = model.c1(X)[0].numpy()
    _, layout = activations_picture(A, tuple("0123456789"))

    context, page, errors = open_watched(browser, f"{server}/Train_LeNet", (1920, 1080))
    try:
        k, i, j = 2, 13, 9
        heading = page.get_by_role("heading", name=f"Explain C1 map {k}, row {i}, column {j}")
        click_until(page, heading, lambda: click_cell(page, layout, "C1", k, i, j))
        wait_for_app(page)
        text = (
            page.locator('[data-testid="stMarkdownContainer"]')
            .filter(has_text="sum of products")
            .inner_text()
        )
        assert f"= {pre_c1[k, i, j]:.4g}" in text, text  # sum + bias = what conv2d gave
        assert f"ReLU({pre_c1[k, i, j]:.4g}) = {A['C1'][k, i, j]:.4g}" in text, text
        assert (
            f"S2 map {k}, cell ({i // 2}, {j // 2})" in text and f"= {A['S2'][k, i // 2, j // 2]:.4g}" in text
        )
        stepper = page.locator('[data-testid="stepper"]').first
        stepper.wait_for()
        on = stepper.evaluate(
            "root => [+root.dataset.i, +root.dataset.j, root.querySelector('.stepper-sum').textContent]"
        )
        assert on[:2] == [i, j]  # the in-browser stepper opens on the clicked cell
        assert on[2].startswith(f"Y[{i}, {j}] = ")
        products_sum = pre_c1[k, i, j] - float(model.c1.bias[k].detach())  # the stepper's sum: no bias
        assert float(on[2].rsplit("=", 1)[1]) == pytest.approx(products_sum, abs=1e-3), on[2]
        heading.scroll_into_view_if_needed()
        screenshot(page, "train_lenet_explain_c1", full_page=False)

        k, i, j = 11, 4, 6
        c3_heading = page.get_by_role("heading", name=f"Explain C3 map {k}, row {i}, column {j}")
        click_until(page, c3_heading, lambda: click_cell(page, layout, "C3", k, i, j))
        wait_for_app(page)
        e = explain(
            type("S", (), {"activations": A, "c1": None, "c3": model.c3.weight.detach().numpy(),
                           "c1_bias": None, "c3_bias": model.c3.bias.detach().numpy()})(),
            "C3", k, i, j, activation="relu", pooling="max",
        )  # fmt: skip
        text = (
            page.locator('[data-testid="stMarkdownContainer"]')
            .filter(has_text="sum of products")
            .inner_text()
        )
        assert f"= {e.pre_activation:.4g}" in text and f"{A['C3'][k, i, j]:.4g}" in text, text
        table = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="sum of its 25 products")
        assert table.locator("tbody tr").count() == 6  # one sum per S2 map
        assert re.search(r"S4 map 11, cell \(2, 3\)", text), text
        screenshot(page, "train_lenet_explain_c3", full_page=False)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
    finally:
        context.close()
