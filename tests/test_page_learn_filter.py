"""The Learn a filter page under AppTest: start, watch the weights approach the target, pause, reset, bad input.

`run_every` never fires in AppTest, so each `at.run()` stands for one redraw tick: while learning, every
run advances the fit by one batch of steps.
"""

import numpy as np
import pytest
from conftest import app_test, decode, error_texts, plotly_figures, shown_metrics

from cnnviz.lessons.presets import KERNELS

PAGE = "pages/7_Learn_a_filter.py"


def _metrics(at) -> dict:
    return shown_metrics(at)


def _step(at) -> int:
    return int(_metrics(at)["Step"].replace(",", ""))


def _loss(at) -> float:
    return float(_metrics(at)["Loss L"])


def _kernels(at) -> tuple[np.ndarray, np.ndarray]:
    """(target, learned) as drawn in the kernels figure."""
    for fig in plotly_figures(at):
        texts = [a.get("text", "") for a in fig["layout"].get("annotations", [])]
        if any(t.startswith("Learned w1..w9") for t in texts):
            return decode(fig["data"][0]["z"]), decode(fig["data"][1]["z"])
    raise AssertionError("no kernels figure on the page")


@pytest.fixture
def at():
    at = app_test(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_start_learns_the_target_batch_by_batch_and_stops_at_the_budget(at):
    target, start_W = _kernels(at)
    np.testing.assert_array_equal(target, KERNELS["Vertical edge"].array)
    assert _step(at) == 0 and np.abs(start_W - target).max() > 0.3
    at.select_slider(key="learn_batch").set_value(20)
    at.slider(key="learn_steps").set_value(100).run()
    at.button(key="learn_start").click().run()
    assert at.session_state["learn_running"]
    assert at.button(key="learn_start").disabled and not at.button(key="learn_pause").disabled
    steps, losses, errors = [], [], []
    for _ in range(3):
        steps.append(_step(at))
        losses.append(_loss(at))
        errors.append(np.abs(_kernels(at)[1] - target).max())
        at.run()  # one redraw tick
    assert steps == [20, 40, 60]
    assert losses[0] > losses[1] > losses[2] and errors[0] > errors[1] > errors[2]
    at.run().run()  # steps 80 and 100: the budget is spent, the run pauses itself
    assert _step(at) == 100 and not at.session_state["learn_running"]
    assert not at.button(key="learn_start").disabled
    learned = _kernels(at)[1]
    assert np.abs(learned - target).max() < 0.02  # plain GD, lr 0.1: close to [[1, 0, -1]] * 3
    assert float(_metrics(at)["Cosine(learned, target)"]) > 0.9999
    at.run()
    assert _step(at) == 100  # paused runs do not learn
    assert not at.exception


def test_pause_freezes_and_reset_returns_to_the_same_seeded_start(at):
    _, start_W = _kernels(at)
    at.button(key="learn_start").click().run()
    at.run()
    before_pause = _step(at)
    assert before_pause == 10  # the default 5 steps per redraw, twice
    at.button(key="learn_pause").click().run()
    assert not at.session_state["learn_running"]
    at.run().run()
    assert _step(at) == before_pause
    at.button(key="learn_step").click().run()
    assert _step(at) == before_pause + 1
    at.button(key="learn_reset").click().run()
    assert _step(at) == 0
    np.testing.assert_array_equal(_kernels(at)[1], start_W)  # seeded: the same random start
    at.number_input(key="learn_seed").set_value(3).run()
    assert not np.array_equal(_kernels(at)[1], start_W)  # another seed, other starting weights


def test_a_new_target_kernel_restarts_the_fit_with_its_targets(at):
    at.button(key="learn_start").click().run()
    assert _step(at) > 0
    at.selectbox(key="learn_target").set_value("Laplacian").run()
    assert _step(at) == 0 and not at.session_state["learn_running"]
    np.testing.assert_array_equal(_kernels(at)[0], KERNELS["Laplacian"].array)


def test_a_bad_typed_kernel_shows_an_error_and_keeps_learning_the_last_good_one(at):
    at.selectbox(key="learn_target").set_value("Type my own…").run()
    at.text_area(key="learn_typed").input("0 1 0\n1 -4 1\n0 1 0").run()
    np.testing.assert_array_equal(_kernels(at)[0], KERNELS["Laplacian"].array)
    at.button(key="learn_start").click().run()
    at.run()
    at.button(key="learn_pause").click().run()
    steps, learned = _step(at), _kernels(at)[1]
    assert steps == 10

    at.text_area(key="learn_typed").input("0 1 0\n1 -4\n0 1 0").run()
    assert not at.exception
    assert any("row 2 has 2 numbers but row 1 has 3" in e for e in error_texts(at))
    target, kept = _kernels(at)
    np.testing.assert_array_equal(target, KERNELS["Laplacian"].array)
    np.testing.assert_array_equal(kept, learned)
    assert _step(at) == steps  # the run was not reset

    at.text_area(key="learn_typed").input("1 0 -1\n2 0 -2").run()
    assert any("type a 3x3 kernel (yours is 2x3)" in e for e in error_texts(at))
    assert _step(at) == steps

    at.text_area(key="learn_typed").input("1 2 1\n0 0 0\n-1 -2 -1").run()
    assert not error_texts(at)
    np.testing.assert_array_equal(_kernels(at)[0], [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    assert _step(at) == 0  # a new valid target: a new fit


def test_no_training_pictures_is_an_error_that_keeps_the_run(at):
    at.button(key="learn_step").click().run()
    at.multiselect(key="learn_pictures").set_value([])
    at.slider(key="learn_random").set_value(0).run()
    assert any("at least one training picture" in e for e in error_texts(at))
    assert _step(at) == 1 and not at.exception


def test_scaled_targets_are_learned_up_to_scale_and_the_page_says_so(at):
    at.checkbox(key="learn_normalise").check().run()
    target, _ = _kernels(at)
    scale = target[0, 0]
    assert 0 < scale < 1
    np.testing.assert_allclose(target, scale * KERNELS["Vertical edge"].array)
    at.select_slider(key="learn_batch").set_value(50).run()
    at.button(key="learn_start").click().run()
    at.run().run()
    text = " ".join(c.value for c in at.caption)
    assert "Best fit of the learned weights as a multiple of K" in text
    assert float(_metrics(at)["Cosine(learned, target)"]) > 0.999


def test_optimiser_choices_and_the_stability_advice(at):
    text = " ".join(m.value for m in at.markdown)
    assert "Plain gradient descent is stable for a learning rate below" in text
    at.select_slider(key="learn_lr").set_value(0.5).run()
    assert any("will blow up" in w.value for w in at.warning)
    at.button(key="learn_start").click().run()
    at.run().run()
    assert any("The loss blew up" in e for e in error_texts(at))
    assert not at.session_state["learn_running"]  # a blown-up run stops itself
    at.radio(key="learn_opt").set_value("adam")
    at.select_slider(key="learn_lr").set_value(0.05)
    at.button(key="learn_reset").click().run()
    assert not at.warning and not error_texts(at)
    at.button(key="learn_start").click().run()
    first = _loss(at)
    at.run()
    assert _loss(at) < first


def unseen_outputs(at) -> list[dict]:
    return [f for f in plotly_figures(at) if "Unseen picture" in str(f["layout"].get("annotations"))]


def test_the_unseen_picture_shows_both_kernels_outputs_on_one_scale(at):
    assert not unseen_outputs(at)  # drawn when its fold is opened
    at.session_state["learn_unseen_open"] = True
    at.run()
    outputs = unseen_outputs(at)
    assert len(outputs) == 1
    picture, target_map, learned_map = (decode(t["z"]) for t in outputs[0]["data"])
    assert target_map.shape == (picture.shape[0] - 2, picture.shape[1] - 2)
    assert outputs[0]["data"][1]["zmax"] == outputs[0]["data"][2]["zmax"]
    assert not np.allclose(target_map, learned_map)  # random start weights


def test_the_gradient_is_drawn_only_when_its_fold_is_opened(at):
    at.button(key="learn_step").click().run()
    titles = [f["layout"].get("title", {}).get("text") for f in plotly_figures(at)]
    assert "dL/dW" not in titles and not at.code
    at.session_state["learn_gradient_open"] = True
    at.run()
    titles = [f["layout"].get("title", {}).get("text") for f in plotly_figures(at)]
    assert "dL/dW" in titles
    assert len(at.code) == 1 and len(at.code[0].value.splitlines()) == 3  # the 3x3 gradient's rows
