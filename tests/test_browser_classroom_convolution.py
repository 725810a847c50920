"""Convolution in classroom mode, in Chromium: the stepper on the first screen, projector sizes, a link
that reopens the same screen (down to the selected cell), and the exports opened back and checked."""

import io
import zipfile

import numpy as np
import pytest
from browser_helpers import SCREENS, assert_on_first_screen, open_at, settle, viewport_shot
from PIL import Image

from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace

pytestmark = pytest.mark.browser

STEPPER = '[data-testid="stepper"]'
SEVEN = EXAMPLES["7x7 input, stride 2"]

READ = """root => ({
    i: +root.dataset.i, j: +root.dataset.j,
    sum: root.querySelector('.stepper-sum').textContent,
    input: [...root.querySelectorAll('.cell[data-grid="input"]')].map(c => c.dataset.value),
    kernel: [...root.querySelectorAll('.cell[data-grid="kernel"]')].map(c => c.dataset.value),
    marks: root.querySelectorAll('.panel-output .look-mark').length,
})"""
SIZES = """root => ({
    number: +root.querySelector('.cell[data-grid="input"] text').getAttribute('font-size')
            * root.querySelector('svg').getScreenCTM().a,
    sum: parseFloat(getComputedStyle(root.querySelector('.stepper-sum')).fontSize),
    keys: getComputedStyle(root.querySelector('.stepper-keys')).display,
})"""

# The settings row's popover buttons on screen: each label, and whether it is cut (Streamlit ends a label
# that does not fit its button with "…").
POPOVER_LABELS = """() => [...document.querySelectorAll('[data-testid="stPopoverButton"] [data-testid="stMarkdownContainer"]')]
    .filter(el => el.getClientRects().length)
    .map(el => [el.textContent, el.scrollWidth > el.clientWidth + 1])"""


# The settings row's choice boxes on screen: each shown choice (the value of the box's text input), and whether
# it is cut: wider, in the input's own font, than the input's room for text.
SELECT_VALUES = """() => {
    const ruler = document.createElement('canvas').getContext('2d');
    return [...document.querySelectorAll('[data-testid="stSelectbox"] input[role="combobox"]')]
        .filter(el => el.getClientRects().length)
        .map(el => {
            const css = getComputedStyle(el);
            ruler.font = css.font;
            const room = el.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
            return [el.value, ruler.measureText(el.value).width > room + 0.5];
        });
}"""


def stepper(pg):
    return pg.locator(STEPPER).first


def open_stepper(browser, url: str, screen: str):
    context, pg = open_at(browser, url, SCREENS[screen], accept_downloads=True)
    stepper(pg).wait_for(timeout=60_000)
    return context, pg


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize(
    "query, name",
    [
        ("", "example"),
        ("?conv_source=Random+grid&conv_rand_h=64&conv_rand_w=64", "64x64"),
        ("?conv_example=7x7+input%2C+stride+2", "slide_error"),  # with the slide's-mistakes warning
    ],
)
def test_the_stepper_and_its_controls_are_on_the_first_screen(server, browser, screen, query, name):
    """The lecture's example, and a 64x64 grid (whose whole input and output come below the stepper)."""
    context, pg = open_stepper(browser, f"{server}/Convolution{query}", screen)
    try:
        viewport_shot(pg, f"convolution_{name}_{screen}")
        assert_on_first_screen(pg, stepper(pg), "the stepper")
        assert_on_first_screen(pg, pg.get_by_label("Input X"), "the input choice")
        assert_on_first_screen(pg, pg.get_by_label("Kernel K"), "the kernel")
        assert pg.locator('[data-testid="stException"]').count() == 0
        labels = dict(pg.evaluate(POPOVER_LABELS))  # label -> cut
        assert {"K…", "Padding, stride, dilation…"} <= set(labels)
        assert not any(labels.values()), labels  # each reads in full
        choices = dict(pg.evaluate(SELECT_VALUES))  # shown choice -> cut
        assert "Lecture example" in choices or name != "example", choices
        assert not any(choices.values()), choices
        if name == "slide_error":
            legend = stepper(pg).get_by_text("the slide printed 83 (is 88), 127 (is 117), 74 (is 71)")
            assert_on_first_screen(pg, legend, "the slide's mistakes in the stepper's legend")
            assert stepper(pg).evaluate(READ)["marks"] == 3  # the example's own stride 2, from the link
    finally:
        context.close()


def test_projector_mode_enlarges_the_stepper_on_the_first_screen(server, browser):
    context, pg = open_stepper(browser, f"{server}/Convolution?projector=true", "1920x1080")
    try:
        viewport_shot(pg, "convolution_projector_1920x1080")
        assert_on_first_screen(pg, stepper(pg), "the stepper")
        sizes = stepper(pg).evaluate(SIZES)
        assert sizes["number"] >= 24 and sizes["sum"] >= 26, sizes
        assert sizes["keys"] == "none"  # the keys hint is for a student at a desk
        assert pg.get_by_text("The kernel slides over the input").count() == 0  # explanations hidden
    finally:
        context.close()


@pytest.mark.slow
def test_a_link_reopens_the_same_example_kernel_and_cell(server, browser):
    context, pg = open_stepper(browser, f"{server}/Convolution", "1366x768")
    try:
        pg.get_by_label("Lecture example", exact=True).click()
        pg.get_by_role("option", name="7x7 input, stride 2").click()
        settle(pg)
        stepper(pg).locator('.cell[data-grid="output"][data-r="1"][data-c="2"]').click()
        pg.get_by_text("Selected: output cell (1, 2)").wait_for(timeout=30_000)
        settle(pg)
        link = pg.url
        assert "conv_example=7x7" in link and "conv_cell=1_2" in link
        shown = stepper(pg).evaluate(READ)
    finally:
        context.close()
    fresh, pg2 = open_stepper(browser, link, "1920x1080")
    try:
        again = stepper(pg2).evaluate(READ)
        assert again == shown
        assert (again["i"], again["j"]) == (1, 2) and again["sum"].endswith("= 117")
        assert again["marks"] == 3  # the slide's three wrong cells, outlined
        pg2.get_by_text("Selected: output cell (1, 2)").wait_for(timeout=30_000)
        viewport_shot(pg2, "convolution_from_link_1920x1080")
    finally:
        fresh.close()


def test_a_bad_link_says_so_and_shows_the_default(server, browser):
    url = f"{server}/Convolution?conv_cell=two&conv_stride_h=0&conv_K=1_x"
    context, pg = open_stepper(browser, url, "1366x768")
    try:
        assert pg.locator('[data-testid="stException"]').count() == 0
        warnings = pg.locator('[data-testid="stAlert"]').all_inner_texts()
        assert any("conv_cell" in w for w in warnings) and any("conv_stride_h" in w for w in warnings)
        assert stepper(pg).evaluate(READ)["sum"].startswith("Y[0, 0] = ")
    finally:
        context.close()


def download(pg, label: str) -> bytes:
    with pg.expect_download() as info:
        pg.get_by_role("button", name=label).click()
    return open(info.value.path(), "rb").read()


def test_the_exports_hold_this_step_the_walk_and_the_grids(server, browser):
    example = "conv_example=7x7+input%2C+stride+2&conv_stride_h=2&conv_stride_w=2"
    url = f"{server}/Convolution?{example}&conv_cell=2_1&conv_speed=250"
    context, pg = open_stepper(browser, url, "1920x1080")
    trace = correlation_trace(SEVEN.input, SEVEN.kernel, stride=2)
    try:
        png = Image.open(io.BytesIO(download(pg, "Step as PNG")))
        assert png.format == "PNG" and png.width >= 600
        svg = download(pg, "Step as SVG").decode()
        assert "Step 8 of 9: output cell (2, 1)" in svg and trace.step(2, 1).expression() in svg
        gif = Image.open(io.BytesIO(download(pg, "Walk as GIF")))
        assert gif.n_frames == 9 and gif.info["duration"] == 250  # every cell, at the chosen speed
        files = zipfile.ZipFile(io.BytesIO(download(pg, "Grids as CSV")))
        output = np.loadtxt(io.StringIO(files.read("output.csv").decode()), delimiter=",", ndmin=2)
        np.testing.assert_array_equal(output, SEVEN.output)
    finally:
        context.close()


def test_the_speed_chosen_in_the_stepper_goes_into_the_link_and_the_gif(server, browser):
    context, pg = open_stepper(browser, f"{server}/Convolution", "1920x1080")
    try:
        stepper(pg).get_by_label("Play speed").select_option("100")
        pg.wait_for_function("() => location.search.includes('conv_speed=100')", timeout=30_000)
        settle(pg)
        assert stepper(pg).get_by_label("Play speed").input_value() == "100"  # kept after the rerun
        gif = Image.open(io.BytesIO(download(pg, "Walk as GIF")))
        assert gif.n_frames == 16 and gif.info["duration"] == 100
    finally:
        context.close()
