"""Design your own network in headless Chromium: open the Train page with a network in the link, train it
(tiny), click a map of its second conv layer and read how that activation was computed."""

import re

import pytest
from browser_helpers import move_slider, open_watched, settle
from conftest import screenshot, wait_for_app

from cnnviz.draw.net import net_maps_picture
from cnnviz.lenet.data import load_mnist5k, to_model_input
from cnnviz.lenet.net_training import take_net_snapshot
from cnnviz.lenet.netbuild import build
from cnnviz.lessons.layer_rows import layer_to_row
from cnnviz.lessons.netcode import encode_rows
from cnnviz.lessons.netspec import NET_PRESETS

pytestmark = pytest.mark.browser
SPEC = NET_PRESETS["No pooling (stride-2 convolutions)"]


def click_cell(page, layout, layer: str, k: int, i: int, j: int) -> None:
    """Click the centre of cell (i, j) of map k of `layer` in the maps picture as shown on screen."""
    img = page.locator('img[data-name="maps"]')
    img.scroll_into_view_if_needed()
    box = img.bounding_box()
    zoom = box["width"] / img.evaluate("el => el.naturalWidth")
    t = layout.tile(layer, k)
    x, y = t.x + (j + 0.5) * t.scale, t.y + (i + 0.5) * t.scale
    page.mouse.click(box["x"] + x * zoom, box["y"] + y * zoom)


def test_a_linked_network_trains_and_a_clicked_activation_is_explained(server, browser):
    snap = take_net_snapshot(build(SPEC.analysis()), to_model_input(load_mnist5k().X_test[0]), 0)
    _, layout = net_maps_picture(snap.activations, [1, 3], {1: "conv1", 3: "conv2"}, tuple("0123456789"))
    net = encode_rows([layer_to_row(x) for x in SPEC.layers])
    context, page, errors = open_watched(browser, f"{server}/Train_LeNet?net={net}", (1600, 1000))
    try:
        assert page.get_by_text("nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1)").count() == 0  # folded
        move_slider(page, "Training images", -3)  # 500 images: 16 batches of 32
        epochs = page.get_by_label("Epochs")
        epochs.fill("1")
        epochs.press("Enter")
        settle(page)
        page.get_by_role("button", name="Start training your network").click()
        page.get_by_role("button", name="Download the trained weights (.pt)").wait_for(timeout=90_000)
        wait_for_app(page)
        progress = page.locator('[data-testid="stProgress"]').inner_text()
        assert re.search(r"finished.*step 16 of 16", progress), progress

        click_cell(page, layout, "3", 5, 2, 4)
        page.get_by_text("Layer 3 map 5, cell (2, 4)").wait_for(timeout=30_000)
        wait_for_app(page)
        text = (
            page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Layer 3 map 5").inner_text()
        )
        # "s0 + s1 + ... + (bias) = value": the shown sums and bias add up to the shown value
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text.split("+ bias:")[1])]
        *terms, value = numbers[: 8 + 2]
        assert len(terms) == 9 and sum(terms) == pytest.approx(value, abs=2e-3), text  # 8 channels + bias
        page.get_by_role("button", name="Next ▶").wait_for()
        assert page.get_by_text("Selected: output cell (2, 4)").count() == 1  # the stepper is on that cell
        screenshot(page, "designnet_explain", full_page=False)
        assert not errors, errors
    finally:
        context.close()
