"""Learn a filter in classroom mode: it stops when converged, every setting comes from the link, projector sizes."""

import numpy as np
from conftest import app_test, decode, plotly_figures, shown_metrics

from cnnviz.lessons.presets import KERNELS

PAGE = "pages/7_Learn_a_filter.py"


def step(at) -> int:
    return int(shown_metrics(at)["Step"].replace(",", ""))


def target(at) -> np.ndarray:
    for fig in plotly_figures(at):
        if any(a.get("text", "").startswith("Learned w1..w9") for a in fig["layout"].get("annotations", [])):
            return decode(fig["data"][0]["z"])
    raise AssertionError("no kernels figure")


def test_the_run_stops_once_converged_and_says_so():
    at = app_test(PAGE).run()
    at.select_slider(key="learn_batch").set_value(50)
    at.slider(key="learn_steps").set_value(3000).run()
    at.button(key="learn_start").click().run()
    for _ in range(12):  # each run is one redraw tick of 50 steps
        if not at.session_state["learn_running"]:
            break
        at.run()
    assert not at.session_state["learn_running"]
    assert step(at) < 600  # plain GD at lr 0.1 fits the edge in about 170 steps; the budget was 3000
    assert any("Converged at step" in s.value for s in at.success)


def test_settings_and_a_typed_kernel_come_from_the_link():
    at = app_test(PAGE)
    at.query_params.update(
        {
            "learn_target": "Type my own…",
            "learn_kernel": "0_1_0~1_-4_1~0_1_0",
            "learn_opt": "Adam",
            "learn_lr": "0.05",
            "learn_random": "3",
        }
    )
    at.run()
    assert not at.exception and not at.warning
    np.testing.assert_array_equal(target(at), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    assert at.radio(key="learn_opt").value == "adam"
    assert at.select_slider(key="learn_lr").value == 0.05
    assert at.slider(key="learn_random").value == 3


def test_a_bad_link_warns_and_keeps_the_defaults():
    at = app_test(PAGE)
    at.query_params.update(
        {
            "learn_target": "Type my own…",
            "learn_kernel": "1_2~3_4",
            "learn_lr": "7",
            "learn_pictures": "x.png",
        }
    )
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "kernel could not be used" in warnings and "type a 3x3 kernel" in warnings
    assert "learn_lr" in warnings and "`7`" in warnings
    assert "learn_pictures" in warnings and "x.png" in warnings
    np.testing.assert_array_equal(
        target(at), [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    )  # the default typed kernel
    assert at.select_slider(key="learn_lr").value == 0.1


def test_projector_mode_enlarges_the_numbers_and_labels():
    at = app_test(PAGE)
    at.query_params["projector"] = "true"
    at.run()
    figures = plotly_figures(at)
    kernels = next(f for f in figures if f["data"][0].get("texttemplate"))
    assert kernels["data"][1]["textfont"]["size"] >= 24
    assert min(a["font"]["size"] for a in kernels["layout"]["annotations"]) >= 18
    loss = next(f for f in figures if f["layout"].get("yaxis", {}).get("type") == "log")
    assert loss["layout"]["font"]["size"] >= 18
    assert not any("bowl in the nine weights" in m.value for m in at.markdown)
    assert KERNELS  # the presets load


def test_the_learned_kernel_and_the_run_download_as_csv_once_paused():
    at = app_test(PAGE).run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Learned kernel (CSV)", "Loss and weights per step (CSV)"]
    at.button(key="learn_start").click().run()
    assert at.session_state["learn_running"] and not at.get("download_button")


def test_the_unseen_picture_comes_from_the_link():
    at = app_test(PAGE)
    at.query_params["learn_test_bundled"] = "checkerboard.png"
    at.session_state["learn_unseen_open"] = True  # the unseen picture's outputs are drawn when opened
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="learn_test_bundled").value == "checkerboard.png"
    assert any("On an unseen picture** (checkerboard.png" in m.value for m in at.markdown)
    bad = app_test(PAGE)
    bad.query_params["learn_test_bundled"] = "nope.png"
    bad.session_state["learn_unseen_open"] = True
    bad.run()
    assert any("learn_test_bundled" in w.value for w in bad.warning)
    assert any("On an unseen picture** (scene.png" in m.value for m in bad.markdown)
