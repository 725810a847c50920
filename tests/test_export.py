"""Export for slides: the PNG, SVG, GIF and CSV files opened back and checked (Pillow only, no browser)."""

import io
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnnviz.draw.export import (
    MAX_FRAMES,
    _shade,
    csv_zip,
    grid_csv,
    step_layout,
    step_png,
    step_svg,
    trace_csvs,
    walk_gif,
)
from cnnviz.draw.palette import DIVERGING, VIRIDIS
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import convolution_trace, correlation_trace, pool_trace

SIX = EXAMPLES["6x6 input, vertical edge"]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def trace():
    return correlation_trace(SIX.X, SIX.K, padding=1)


def read_csv(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)


def test_the_csv_files_hold_the_traces_grids_exactly(trace):
    files = trace_csvs(trace)
    assert list(files) == ["input.csv", "kernel.csv", "output.csv"]
    np.testing.assert_array_equal(read_csv(files["input.csv"]), SIX.X)
    np.testing.assert_array_equal(read_csv(files["kernel.csv"]), SIX.K)
    np.testing.assert_array_equal(read_csv(files["output.csv"]), trace.output)


def test_convolution_exports_the_kernel_as_given_not_flipped():
    K = np.array([[1.0, 2.0], [3.0, 4.0]])
    files = trace_csvs(convolution_trace(SIX.X, K))
    np.testing.assert_array_equal(read_csv(files["kernel.csv"]), K)


def test_csv_numbers_read_back_bit_for_bit_and_the_zip_holds_every_file(trace):
    Z = np.array([[1 / 3, -0.1, 1e-20], [2.5, 0.0, -7.0]])
    np.testing.assert_array_equal(read_csv(grid_csv(Z)), Z)
    pool_files = trace_csvs(pool_trace(SIX.X, 2))
    assert "kernel.csv" not in pool_files  # pooling has no kernel
    with zipfile.ZipFile(io.BytesIO(csv_zip(trace))) as z:
        assert sorted(z.namelist()) == ["input.csv", "kernel.csv", "output.csv"]
        np.testing.assert_array_equal(read_csv(z.read("output.csv").decode()), trace.output)
    with pytest.raises(ValueError, match="2-D grid"):
        grid_csv(np.zeros(3))


@pytest.mark.slow
def test_the_gif_has_one_frame_per_output_cell_at_the_given_speed(trace):
    gif = Image.open(io.BytesIO(walk_gif(trace, 250)))
    assert gif.format == "GIF"
    assert gif.n_frames == trace.n_steps == 36
    durations = []
    for k in range(gif.n_frames):
        gif.seek(k)
        durations.append(gif.info["duration"])
    assert durations == [250] * 36
    assert gif.info.get("loop") == 0  # plays on a loop on a slide


@pytest.mark.slow
def test_a_gif_of_a_region_has_one_frame_per_cell_of_the_region(trace):
    region = [(i, j) for i in range(1, 3) for j in range(2, 5)]  # rows 1..2, columns 2..4
    gif = Image.open(io.BytesIO(walk_gif(trace, 100, cells=region)))
    assert gif.n_frames == 6
    # Frames differ: each shows another step (the current cell moves).
    frames = []
    for k in (0, 5):
        gif.seek(k)
        frames.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(*frames)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ms_per_frame": 5}, r"frame time must be a whole number of ms from 20 to 10000, got 5"),
        ({"ms_per_frame": 100, "cells": [(9, 9)]}, r"output cell \(9, 9\) is outside the 6x6 output"),
        ({"ms_per_frame": 100, "cells": []}, rf"a GIF holds 1 to {MAX_FRAMES} steps, this walk has 0"),
    ],
)
def test_bad_gif_settings_say_what_to_change(trace, kwargs, match):
    with pytest.raises(ValueError, match=match):
        walk_gif(trace, **kwargs)


def test_a_too_long_walk_asks_for_a_region():
    big = correlation_trace(np.zeros((30, 30)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="this walk has 784; choose a smaller region"):
        walk_gif(big, 100)


def test_the_png_shows_the_step_with_large_numbers(trace):
    png = Image.open(io.BytesIO(step_png(trace, 8)))
    assert png.format == "PNG"
    assert png.width >= 1200  # big enough to fill a slide
    layout = step_layout(trace, 8)
    numbers = [s for s in layout.shapes if type(s).__name__ == "Label" and s.text.lstrip("-").isdigit()]
    assert min(s.size for s in numbers) >= 24  # readable from the back of a room
    # The window's outline is drawn in the palette's window orange: some pixels have exactly that colour.
    rgb = np.asarray(png.convert("RGB")).reshape(-1, 3)
    assert np.any(np.all(rgb == (0xE6, 0x9F, 0x00), axis=1))


def test_the_svg_has_the_same_numbers_and_the_sum_written_out(trace):
    step = trace.step(*trace.cell(8))
    root = ET.fromstring(step_svg(trace, 8))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Step 9 of 36: output cell (1, 2)" in texts
    assert any(t.endswith(f"= {int(step.value)}") for t in texts)  # the sum, written out
    # Every value of the padded input is written in its cell: 8x8 = 64 input numbers, then kernel, ...
    outlines = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#E69F00"]
    assert len(outlines) == 1
    x, w = float(outlines[0].get("x")), float(outlines[0].get("width"))
    cell = w / 3  # the 3x3 window
    assert x == pytest.approx(24 + 2 * cell)  # columns 2..4 of the padded input (left margin 24 px)


def test_a_pooling_step_writes_the_window_and_its_max():
    t = pool_trace(np.arange(16.0).reshape(4, 4), 2, mode="max")
    root = ET.fromstring(step_svg(t, 1))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "max(2, 3, 6, 7) = 7" in texts
    assert "max of the window" in texts


@pytest.mark.slow
def test_a_strided_dilated_step_outlines_the_whole_dilated_window():
    t = correlation_trace(np.arange(49.0).reshape(7, 7), np.ones((3, 3)), stride=2, padding=1, dilation=2)
    k = t.step_number(1, 1)
    root = ET.fromstring(step_svg(t, k))
    outline = next(r for r in root.iter(f"{SVG}rect") if r.get("stroke") == "#E69F00")
    step = t.step(1, 1)
    cell = float(outline.get("width")) / (step.cols[-1] - step.cols[0] + 1)
    assert step.cols[-1] - step.cols[0] + 1 == 5  # 3 taps with dilation 2 span 5 cells
    assert float(outline.get("x")) == pytest.approx(24 + step.cols[0] * cell)
    gif = Image.open(io.BytesIO(walk_gif(t, 40)))
    assert gif.n_frames == t.n_steps == 9  # floor((7 + 2 - 5) / 2) + 1 = 3 per side


def test_cells_without_numbers_use_the_pages_scales_grey_viridis_or_diverging():
    assert _shade(0.0, 0.0, 255.0) == "#000000" and _shade(255.0, 0.0, 255.0) == "#FFFFFF"  # a picture
    assert _shade(0.0, 0.0, 9.0) == VIRIDIS[0].upper() and _shade(9.0, 0.0, 9.0) == VIRIDIS[-1].upper()
    assert _shade(-4.0, -4.0, 2.0) == DIVERGING[0][1] and _shade(0.0, -4.0, 2.0) == DIVERGING[2][1]
    assert _shade(float("nan"), 0.0, 9.0) == "#FFFFFF"
