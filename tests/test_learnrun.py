"""A learning run as a lesson: the task's settings, the learning-rate advice, the verdicts, the run as CSV."""

import numpy as np
import pytest

from cnnviz.lessons import learnrun
from cnnviz.lessons.learnfilter import Fit, FitConfig, curvature
from cnnviz.lessons.presets import KERNELS

EDGE = KERNELS["Vertical edge"].array


def noise_task(**settings) -> learnrun.Task:
    return learnrun.Task.of(EDGE, n_random=2, **settings)


def test_equal_settings_make_equal_tasks_and_the_problem_adds_the_noise_pictures():
    assert noise_task(seed=1) == noise_task(seed=1) != noise_task(seed=2)
    bundled = np.arange(100.0).reshape(10, 10)
    problem = noise_task().problem([bundled])
    assert [t.X.shape for t in problem.inputs] == [
        (10, 10),
        (learnrun.RANDOM_SIDE, learnrun.RANDOM_SIDE),
        (learnrun.RANDOM_SIDE, learnrun.RANDOM_SIDE),
    ]
    np.testing.assert_array_equal(problem.kernel, EDGE)
    with pytest.raises(ValueError, match="at least one training picture"):
        learnrun.Task.of(EDGE).problem([])


def test_the_summary_names_the_pictures_and_the_cells():
    task = learnrun.Task.of(EDGE, ["shapes.png"], n_random=2, seed=4)
    problem = task.problem([np.random.default_rng(0).normal(size=(12, 12))])
    text = task.summary(problem)
    assert text.startswith("Training on 3 picture(s): shapes.png, 2 random noise picture(s); ")
    assert f"{10 * 10 + 2 * 30 * 30:,} target cells" in text and "(seed 4)" in text


def test_the_stable_learning_rate_is_two_over_the_largest_curvature():
    problem = noise_task().problem([])
    limit = 2 / curvature(problem)[-1]
    calm = learnrun.rate_advice(problem, limit / 2, "gd")
    assert f"**{limit:.3g}**" in calm.explanation and calm.warning is None and calm.info is None
    wild = learnrun.rate_advice(problem, limit * 1.01, "gd")
    assert (
        wild.warning
        == f"Learning rate {limit * 1.01} is above {limit:.3g}: plain gradient descent will blow up."
    )
    assert (
        learnrun.rate_advice(problem, limit * 1.01, "adam").warning is None
    )  # Adam moves each weight by about lr


def test_the_sign_free_loss_gets_a_hint_for_plain_gradient_descent_only():
    problem = noise_task(loss="sign_free").problem([])
    assert "Try Adam, lr 0.05" in learnrun.rate_advice(problem, 0.1, "gd").info
    assert (
        learnrun.rate_advice(problem, 0.1, "adam")
        == learnrun.rate_advice(problem, 0.1, "momentum")
        == learnrun.Advice()
    )


def test_a_run_advances_a_batch_per_redraw_and_stops_at_its_budget():
    fit = Fit.start(noise_task().problem([]), seed=0)
    config = FitConfig(lr=0.05, optimizer="gd")
    assert learnrun.advance_run(fit, config, batch=5, until=8) and fit.steps == 5
    assert not learnrun.advance_run(fit, config, batch=5, until=8) and fit.steps == 8  # not past the budget
    running = learnrun.verdict(fit, running=True, batch=5, until=8)
    assert (running.kind, running.text) == ("running", "Learning… 5 steps per redraw, until step 8.")
    assert learnrun.verdict(fit, running=False, batch=5, until=8) is None


def test_a_run_stops_when_it_blows_up_or_converges_and_says_so():
    problem = noise_task().problem([])
    wild = Fit.start(problem)
    assert not learnrun.advance_run(wild, FitConfig(lr=10.0, optimizer="gd"), batch=50, until=1000)
    assert learnrun.verdict(wild, running=False, batch=50, until=1000).kind == "error"
    calm = Fit.start(problem)
    while learnrun.advance_run(calm, FitConfig(lr=0.1, optimizer="gd"), batch=50, until=3000):
        pass
    done = learnrun.verdict(calm, running=False, batch=50, until=3000)
    assert (
        calm.steps < 3000
        and done.kind == "success"
        and done.text.startswith(f"Converged at step {calm.steps:,}")
    )


def test_scaled_targets_are_named_and_compared_up_to_scale():
    plain, scaled = noise_task().problem([]), noise_task(normalise=True).problem([])
    assert learnrun.target_title(plain) == "Target K" and learnrun.scale_note(plain, {}) is None
    assert learnrun.target_title(scaled) == f"Target {scaled.scale:.3g} × K"
    note = learnrun.scale_note(scaled, {"scale": 2 * scaled.scale, "max_error_after_scale": 0.001})
    assert (
        note
        == f"Best fit of the learned weights as a multiple of K: +2 × {scaled.scale:.4g} K; error after that scale: 0.001."
    )
    assert learnrun.scale_note(
        noise_task(loss="sign_free").problem([]), {"scale": -1.0, "max_error_after_scale": 0}
    )


def test_the_loss_floor_is_the_noise_variance_of_a_squared_error_fit():
    assert learnrun.loss_floor(noise_task().problem([])) is None
    noisy = noise_task(noise=0.5).problem([])
    assert learnrun.loss_floor(noisy) == pytest.approx(noisy.noise**2) and noisy.noise > 0
    assert learnrun.loss_floor(noise_task(noise=0.5, loss="sign_free").problem([])) is None


def test_captions_and_notes():
    assert learnrun.kernel_caption(KERNELS["Vertical edge"]).startswith(
        "Target: [[1, 0, -1], [1, 0, -1], [1, 0, -1]]: "
    )
    assert learnrun.kernel_caption(KERNELS["Box blur"]).startswith("Target: 1/9 × [[1, 1, 1]")
    assert "(scene.png): " in learnrun.unseen_note("scene.png", ["shapes.png"])
    assert "(shapes.png, which is also a training picture)" in learnrun.unseen_note(
        "shapes.png", ["shapes.png"]
    )


def test_the_run_as_csv_has_a_line_per_step_with_the_nine_weights():
    fit = Fit.start(noise_task().problem([]), seed=0).advance(FitConfig(lr=0.05, optimizer="gd"), 2)
    lines = learnrun.run_csv(fit).splitlines()
    assert lines[0] == "step,loss," + ",".join(f"w{k}" for k in range(1, 10))
    assert len(lines) == 4 and lines[3].startswith("2,")
    np.testing.assert_array_equal(np.array(lines[3].split(",")[2:], dtype=float), fit.W.ravel())
