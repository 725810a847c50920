"""ui.classroom helpers on a one-widget script: export buttons, a grid in the link, a bad grid in the link."""

from streamlit.testing.v1 import AppTest


def _exports_script():
    import numpy as np

    from cnnviz.trace import correlation_trace
    from ui.classroom import export_buttons

    trace = correlation_trace(np.arange(16.0).reshape(4, 4), np.ones((2, 2)))
    export_buttons(trace, 3, ms_per_frame=200, key="demo")


def _grid_script():
    import numpy as np
    import streamlit as st

    from ui.classroom import set_url_grid, url_grid

    X = url_grid("grid", np.eye(2), name="input grid")
    st.write(f"grid {X.tolist()}")
    set_url_grid("grid", X * 2, default=np.eye(2))


def test_export_buttons_offer_png_svg_gif_and_csv():
    at = AppTest.from_function(_exports_script, default_timeout=30).run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Step as PNG", "Step as SVG", "Walk as GIF", "Grids as CSV"]


def test_a_grid_comes_from_the_link_and_goes_back_into_it():
    at = AppTest.from_function(_grid_script, default_timeout=30)
    at.query_params["grid"] = "1_2~3_4"
    at.run()
    assert "grid [[1.0, 2.0], [3.0, 4.0]]" in at.markdown[0].value
    assert at.query_params["grid"] == "2_4~6_8"


def test_a_bad_grid_in_the_link_warns_and_gives_the_default():
    at = AppTest.from_function(_grid_script, default_timeout=30)
    at.query_params["grid"] = "1_2~3"
    at.run()
    assert not at.exception
    assert (
        "input grid could not be used: the link's input grid is not valid: row 2 has 1 numbers"
        in at.warning[0].value
    )
    assert "grid [[1.0, 0.0], [0.0, 1.0]]" in at.markdown[0].value
