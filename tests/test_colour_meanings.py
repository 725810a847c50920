"""One colour per meaning across the app: the stepper's CSS, its payload and the Plotly marks use the
palette's colours, and right/wrong is never carried by colour alone."""

import re
from pathlib import Path

import numpy as np
import pytest

from cnnviz.draw import stepper as stepper_lib
from cnnviz.draw.figures import color_range
from cnnviz.draw.palette import (
    DIVERGING,
    MARKS,
    MEANINGS,
    OKABE_ITO,
    VIRIDIS,
    contrast_ratio,
    hex_rgb,
    ink,
    scale_rgb,
)
from cnnviz.draw.stepper import check_figure, stepper_payload
from cnnviz.lessons.checkwork import check_work
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "ui" / "components" / "stepper" / "stepper.css"
# Each of the stepper's colour variables and the palette meaning it stands for.
CSS_MEANING = {
    "window": "window",
    "current": "current cell",
    "winner": "winner",
    "mark": "wrong",
    "never": "never read",
    "inserted": "extra",
}


def css_variables() -> dict[str, str]:
    return {
        name: value.upper() for name, value in re.findall(r"--(\w+):\s*(#[0-9a-fA-F]{6})", CSS.read_text())
    }


def test_the_stepper_css_uses_the_palettes_colour_for_each_meaning():
    variables = css_variables()
    assert set(variables) == set(CSS_MEANING), variables
    for var, meaning in CSS_MEANING.items():
        assert variables[var] == MEANINGS[meaning], (
            f"--{var} is {variables[var]}, the palette's {meaning} is {MEANINGS[meaning]}"
        )


def test_no_other_colour_in_the_stepper_css_than_the_palettes_and_greys():
    """Besides the variables, only neutral greys (and Streamlit's theme fallbacks) may appear."""
    text = re.sub(r"var\(--st-[\w-]+,\s*#[0-9a-fA-F]{3,6}\)", "", CSS.read_text())
    palette = set(OKABE_ITO.values())
    for hexcode in re.findall(r"#[0-9a-fA-F]{6}\b", text):
        r, g, b = (int(hexcode[k : k + 2], 16) for k in (1, 3, 5))
        assert hexcode.upper() in palette or r == g == b, (
            f"{hexcode} in stepper.css is neither the palette's nor grey"
        )


def test_the_pages_plotly_marks_use_the_palette():
    assert MEANINGS["window"] == stepper_lib.WINDOW_COLOR
    assert MEANINGS["winner"] == stepper_lib.WINNER_COLOR
    assert MEANINGS["wrong"] == stepper_lib.MARK_COLOR
    r, g, b = (int(MEANINGS["never read"][k : k + 2], 16) for k in (1, 3, 5))
    assert stepper_lib.UNVISITED_COLOR.startswith(f"rgba({r}, {g}, {b},")


def test_the_stepper_colours_signed_values_on_the_palettes_diverging_scale():
    six = EXAMPLES["6x6 input, vertical edge"]
    colors = stepper_payload(correlation_trace(six.input, six.kernel))["colors"]
    hexes = ["#{:02X}{:02X}{:02X}".format(*stop) for stop in colors["diverging"]]
    assert hexes == [c for _, c in DIVERGING]
    assert MEANINGS["window"] not in hexes and MEANINGS["current cell"] not in hexes


def test_the_stepper_colours_magnitudes_on_viridis_as_the_plotly_grids_do():
    six = EXAMPLES["6x6 input, vertical edge"]
    payload = stepper_payload(correlation_trace(six.input, six.kernel))
    assert ["#{:02x}{:02x}{:02x}".format(*s) for s in payload["colors"]["magnitude"]] == VIRIDIS
    assert payload["input"]["scale"] == "sequential"
    assert color_range([six.input])["colorscale"] == "Viridis"
    assert color_range([-six.input])["colorscale"] == DIVERGING


def _numbered_cells(grid):
    scale = {"sequential": "magnitude"}.get(grid["scale"], grid["scale"])
    for text_row, level_row in zip(grid["text"] or [], grid["level"], strict=True):
        for text, level in zip(text_row, level_row, strict=True):
            if text and level is not None:
                yield text, scale_rgb(level, scale)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_numbered_stepper_cell_reads_at_a_contrast_of_4_5_or_more(name):
    ex = EXAMPLES[name]
    payload = stepper_payload(correlation_trace(ex.input, ex.kernel))
    grids = [payload["input"], payload["output"]] + ([payload["kernel"]] if payload.get("kernel") else [])
    cells = [cell for grid in grids for cell in _numbered_cells(grid)]
    assert cells
    for text, background in cells:
        text_rgb = hex_rgb(ink(background))
        assert contrast_ratio(text_rgb, background) >= 4.5, (name, text, background)


def test_ink_is_readable_on_every_colour_of_every_scale():
    for scale, levels in (("magnitude", range(101)), ("grey", range(101)), ("diverging", range(-100, 101))):
        for k in levels:
            background = scale_rgb(k / 100, scale)
            assert contrast_ratio(hex_rgb(ink(background)), background) >= 4.5, (scale, k)
    # dark viridis gets white numbers, bright yellow black ones
    assert ink(scale_rgb(0.0, "magnitude")) == "#FFFFFF" and ink(scale_rgb(1.0, "magnitude")) == "#000000"


def test_check_my_work_marks_right_and_wrong_with_a_symbol_not_only_colour():
    answer = np.array([[1.0, 2.0], [3.0, 5.0]])
    right = check_work(answer, np.array([[1.0, 2.0], [3.0, 4.0]]))
    fig = check_figure(answer, right)
    text = fig.data[0].text
    assert [list(map(str, row)) for row in text] == [["1 ✓", "2 ✓"], ["3 ✓", "5 ✗"]]
    assert MARKS["right"] == "✓" and MARKS["wrong"] == "✗"
    # and the wrong cell is outlined in the palette's colour for wrong
    assert [s.line.color for s in fig.layout.shapes] == [MEANINGS["wrong"]]


def test_figure_titles_fit_their_figures():
    """No title cut off ("Your answer: green right, red w"): at about 0.6 em a character it fits the width."""
    right = check_work(np.ones((2, 2)), np.ones((2, 2)))
    fig = check_figure(np.ones((2, 2)), right)
    title = fig.layout.title.text
    size = fig.layout.title.font.size or 16
    assert len(title) * size * 0.6 <= fig.layout.width, (title, fig.layout.width)


SOURCES = [
    *sorted((ROOT / "pages").glob("[1-4]_*.py")),
    *sorted((ROOT / "cnnviz" / "lessons").glob("*.py")),
    *sorted(p for p in (ROOT / "cnnviz" / "draw").glob("*.py") if p.name != "palette.py"),
    ROOT / "ui" / "stepper.py",
    ROOT / "ui" / "slides.py",
]


def test_the_stepper_pages_draw_with_the_palettes_colours_or_greys():
    """One colour per meaning: a window outline is the palette's orange, not a near-orange of its own."""
    palette = {c.upper() for c in OKABE_ITO.values()} | {c.upper() for _, c in DIVERGING}
    for path in SOURCES:
        for hexcode in re.findall(r"#[0-9a-fA-F]{6}\b", path.read_text()):
            r, g, b = (int(hexcode[k : k + 2], 16) for k in (1, 3, 5))
            assert hexcode.upper() in palette or r == g == b, f"{path.name} draws with {hexcode}"
