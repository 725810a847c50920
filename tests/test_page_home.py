"""Home in classroom mode: seamless pictures, honest captions, settings from the link, projector sizes."""

import io

import numpy as np
from conftest import app_test, plotly_figures
from PIL import Image


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def titles(at) -> list[str]:
    return [f["layout"].get("title", {}).get("text", "") for f in plotly_figures(at)]


def upload(at, name: str, data: bytes):
    at.radio(key="home_source").set_value("Upload my own").run()
    return at.file_uploader(key="home_upload").upload(name, data, "image/png").run()


def test_a_256_pixel_picture_is_drawn_without_gaps_between_its_pixels():
    ramp = np.tile(np.arange(256), (256, 1))  # (256, 256), 0..255 left to right
    at = upload(app_test().run(), "ramp.png", png(ramp))
    assert not at.exception
    whole = plotly_figures(at)[0]["data"][0]
    assert whole.get("type") == "heatmap"
    assert whole.get("xgap", 0) == 0 and whole.get("ygap", 0) == 0  # a 1-px gap would be a white mesh
    assert "256 rows x 256 columns" in titles(at)[0]


def test_after_a_failed_upload_the_caption_names_the_picture_on_screen():
    at = upload(app_test().run(), "notes.png", b"this is not a picture")
    assert all(
        "notes.png" not in m.value for m in at.markdown
    )  # "**notes.png**: 28 rows x 28 columns" was wrong
    assert all("notes.png" not in t for t in titles(at))
    assert titles(at)[0].startswith("digit_7.png")  # the bundled picture it fell back to
    assert any("notes.png" in e.value and "could not read" in e.value for e in at.error)  # the error names it


def test_settings_come_from_the_link():
    at = app_test()
    at.query_params.update({"home_zoom": "8", "home_top": "3", "home_bundled": "shapes.png"})
    at.run()
    assert not at.warning
    assert at.slider(key="home_zoom").value == 8 and at.slider(key="home_top").value == 3
    assert titles(at)[0].startswith("shapes.png")
    assert "rows 3..10" in titles(at)[-1]


def test_a_bad_link_says_so_and_shows_the_defaults():
    at = app_test()
    at.query_params.update({"home_zoom": "999", "home_bundled": "secret.png", "projector": "maybe"})
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "home_zoom" in warnings and "`999`" in warnings and "from 4 to 32" in warnings
    assert "home_bundled" in warnings and "`secret.png`" in warnings
    assert "projector" in warnings and "true or false" in warnings
    assert at.slider(key="home_zoom").value == 16
    assert titles(at)[0].startswith("digit_7.png")


def test_projector_mode_writes_big_numbers_and_hides_the_explanations():
    at = app_test()
    at.query_params.update({"home_zoom": "10", "projector": "true"})
    at.run()
    crop = plotly_figures(at)[-1]
    assert crop["data"][0]["textfont"]["size"] >= 24
    assert crop["layout"]["title"]["font"]["size"] >= 18
    assert crop["layout"]["xaxis"]["tickfont"]["size"] >= 18
    assert not any("fully connected" in m.value for m in at.markdown)
    normal = app_test()
    normal.query_params.update({"home_zoom": "10"})
    normal.run()
    assert any("fully connected" in m.value for m in normal.markdown)


def test_the_numbers_on_screen_can_be_downloaded():
    at = app_test().run()
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["Download these numbers (CSV)"]


def test_the_folded_page_list_runs_only_when_opened_and_figures_follow_the_theme():
    at = app_test().run()
    assert not any("| Page |" in m.value for m in at.markdown)  # folded: its body did not run
    assert [e.proto.label for e in at.expander] == ["What comes next: the pages of this app"]
    for fig in plotly_figures(at):  # transparent backgrounds: the light or dark theme shows through
        assert fig["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"


def test_a_link_to_an_uploaded_picture_asks_for_it_again_and_shows_the_default():
    at = app_test()
    at.query_params["home_source"] = "Upload my own"
    at.run()
    assert not at.exception
    assert at.radio(key="home_source").value == "Upload my own"
    (note,) = [i.value for i in at.info if "This link used an uploaded picture" in i.value]
    assert "upload it again" in note
    assert titles(at)[0].startswith("digit_7.png")  # the default, until the picture is uploaded again
    at.file_uploader(key="home_upload").upload("ramp.png", png(np.tile(np.arange(64), (64, 1))), "image/png")
    at.run()
    assert not [i for i in at.info if "This link used" in i.value]
    assert titles(at)[0].startswith("ramp.png")


def test_choosing_upload_here_does_not_blame_the_link():
    at = app_test().run()
    at.radio(key="home_source").set_value("Upload my own").run()
    assert not [i for i in at.info if "This link used" in i.value]
    assert any("Choose a file to upload" in i.value for i in at.info)


def test_a_bad_picture_source_in_the_link_warns_and_shows_the_bundled_picture():
    at = app_test()
    at.query_params["home_source"] = "Camera"
    at.run()
    assert not at.exception
    assert any("home_source" in w.value for w in at.warning)
    assert at.radio(key="home_source").value == "Bundled picture"


def test_a_larger_zoom_after_moving_the_window_to_the_far_corner_keeps_the_window_inside():
    """Top row and left column at their largest, then a larger zoom: their range shrinks under them (a class
    benchmark's random slider moves raised Streamlit's value-above-max error here)."""
    at = app_test().run()
    at.slider(key="home_zoom").set_value(4).run()
    bottom, right = at.slider(key="home_top").max, at.slider(key="home_left").max
    at.slider(key="home_top").set_value(bottom).run()
    at.slider(key="home_left").set_value(right).run()
    at.slider(key="home_zoom").set_value(24).run()
    assert not at.exception, at.exception
    top, left = at.slider(key="home_top"), at.slider(key="home_left")
    assert top.value == top.max < bottom and left.value == left.max < right  # the window sits at the new edge
