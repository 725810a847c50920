"""Every page runs headlessly under AppTest without an exception, and the home page shows real pixels."""

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, app_test, decode, plotly_figures

PAGES = ["app.py"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(page):
    at = app_test(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) == 1


def test_home_shows_the_digit_as_a_grid_of_numbers():
    at = app_test().run()
    figures = plotly_figures(at)
    crop = decode(figures[-1]["data"][0]["z"])
    assert crop.shape == (16, 16)
    assert crop.min() >= 0 and crop.max() > 200  # white stroke on black, 0..255
    text = figures[-1]["data"][0]["text"]
    assert text[0][0] == str(int(crop[0, 0]))  # the number is written in the cell


def test_home_colour_mode_shows_three_channels():
    at = app_test().run()
    at.toggle(key="home_rgb").set_value(True).run()
    at.selectbox(key="home_bundled").set_value("scene.png").run()
    assert not at.exception
    titles = [f["layout"].get("title", {}).get("text", "") for f in plotly_figures(at)]
    assert {"Red channel", "Green channel", "Blue channel"} <= {t.split(",")[0] for t in titles}
    assert "57,600" in " ".join(m.value for m in at.markdown)  # 160 x 120 x 3 numbers


def test_home_upload_of_a_non_image_shows_an_error_and_keeps_the_picture():
    at = app_test().run()
    good = decode(plotly_figures(at)[-1]["data"][0]["z"])
    at.radio(key="home_source").set_value("Upload my own").run()
    at.file_uploader(key="home_upload").upload("notes.png", Path(__file__).read_bytes(), "image/png").run()
    assert not at.exception
    assert any("could not read this file as an image" in e.value for e in at.error)
    kept = decode(plotly_figures(at)[-1]["data"][0]["z"])
    np.testing.assert_array_equal(kept, good)  # the last good picture stays on screen


def test_home_upload_of_a_real_image_shows_its_pixels():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (10, 6), 77).save(buf, "PNG")
    at = app_test().run()
    at.radio(key="home_source").set_value("Upload my own").run()
    at.file_uploader(key="home_upload").upload("grey.png", buf.getvalue(), "image/png").run()
    assert not at.exception and not at.error
    crop = decode(plotly_figures(at)[-1]["data"][0]["z"])
    assert crop.shape == (6, 10) and np.all(crop == 77)


def test_home_zoom_window_moves_the_crop():
    at = app_test().run()
    before = decode(plotly_figures(at)[-1]["data"][0]["z"])
    at.slider(key="home_top").set_value(0).run()
    after = decode(plotly_figures(at)[-1]["data"][0]["z"])
    assert not np.array_equal(before, after)


def test_the_sidebar_menu_lists_home_and_every_page_in_order():
    at = app_test().run()
    labels = [el.proto.label for el in at.get("page_link")]
    pages = sorted((ROOT / "pages").glob("[1-9]_*.py"))
    assert labels == ["Home"] + [p.stem.split("_", 1)[1].replace("_", " ") for p in pages]
    assert labels[:3] == ["Home", "Convolution", "Correlation vs convolution"]
