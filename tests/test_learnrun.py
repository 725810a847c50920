"""A learning run as a lesson: the task's settings, the learning-rate advice, the verdicts, the run as CSV."""

import numpy as np
import pytest

from cnnviz.lessons.learnfilter import Fit, FitConfig, curvature
from cnnviz.lessons.learnrun import (
    RANDOM_SIDE,
    Advice,
    Task,
    advance_run,
    kernel_caption,
    loss_floor,
    rate_advice,
    run_csv,
    scale_note,
    target_title,
    unseen_note,
    verdict,
)
from cnnviz.lessons.presets import KERNELS

EDGE = KERNELS["Vertical edge"].array


def noise_task(**settings) -> Task:
    return Task.of(EDGE, n_random=2, **settings)


def test_equal_settings_make_equal_tasks_and_the_problem_adds_the_noise_pictures():
    assert noise_task(seed=1) == noise_task(seed=1) != noise_task(seed=2)
    bundled = np.arange(100.0).reshape(10, 10)
    problem = noise_task().problem([bundled])
    assert [t.X.shape for t in problem.inputs] == [
        (10, 10),
        (RANDOM_SIDE, RANDOM_SIDE),
        (RANDOM_SIDE, RANDOM_SIDE),
    ]
    np.testing.assert_array_equal(problem.kernel, EDGE)
    with pytest.raises(ValueError, match="at least one training picture"):
        Task.of(EDGE).problem([])


def test_the_summary_names_the_pictures_and_the_cells():
    task = Task.of(EDGE, ["shapes.png"], n_random=2, seed=4)
    problem = task.problem([np.random.default_rng(0).normal(size=(12, 12))])
    text = task.summary(problem)
    assert text.startswith("Training on 3 picture(s): shapes.png, 2 random noise picture(s); ")
    assert f"{10 * 10 + 2 * 30 * 30:,} target cells" in text and "(seed 4)" in text


def test_the_stable_learning_rate_is_two_over_the_largest_curvature():
    problem = noise_task().problem([])
    limit = 2 / curvature(problem)[-1]
    calm = rate_advice(problem, limit / 2, "gd")
    assert f"**{limit:.3g}**" in calm.explanation and calm.warning is None and calm.info is None
    wild = rate_advice(problem, limit * 1.01, "gd")
    assert (
        wild.warning
        == f"Learning rate {limit * 1.01} is above {limit:.3g}: plain gradient descent will blow up."
    )
    assert rate_advice(problem, limit * 1.01, "adam").warning is None  # Adam moves each weight by about lr


def test_the_sign_free_loss_gets_a_hint_for_plain_gradient_descent_only():
    problem = noise_task(loss="sign_free").problem([])
    assert "Try Adam, lr 0.05" in rate_advice(problem, 0.1, "gd").info
    assert rate_advice(problem, 0.1, "adam") == rate_advice(problem, 0.1, "momentum") == Advice()


def test_a_run_advances_a_batch_per_redraw_and_stops_at_its_budget():
    fit = Fit.start(noise_task().problem([]), seed=0)
    config = FitConfig(lr=0.05, optimizer="gd")
    assert advance_run(fit, config, batch=5, until=8) and fit.steps == 5
    assert not advance_run(fit, config, batch=5, until=8) and fit.steps == 8  # not past the budget
    running = verdict(fit, running=True, batch=5, until=8)
    assert (running.kind, running.text) == ("running", "Learning… 5 steps per redraw, until step 8.")
    assert verdict(fit, running=False, batch=5, until=8) is None


def test_a_run_stops_when_it_blows_up_or_converges_and_says_so():
    problem = noise_task().problem([])
    wild = Fit.start(problem)
    assert not advance_run(wild, FitConfig(lr=10.0, optimizer="gd"), batch=50, until=1000)
    assert verdict(wild, running=False, batch=50, until=1000).kind == "error"
    calm = Fit.start(problem)
    while advance_run(calm, FitConfig(lr=0.1, optimizer="gd"), batch=50, until=3000):
        pass
    done = verdict(calm, running=False, batch=50, until=3000)
    assert (
        calm.steps < 3000
        and done.kind == "success"
        and done.text.startswith(f"Converged at step {calm.steps:,}")
    )


def test_scaled_targets_are_named_and_compared_up_to_scale():
    plain, scaled = noise_task().problem([]), noise_task(normalise=True).problem([])
    assert target_title(plain) == "Target K" and scale_note(plain, {}) is None
    assert target_title(scaled) == f"Target {scaled.scale:.3g} × K"
    note = scale_note(scaled, {"scale": 2 * scaled.scale, "max_error_after_scale": 0.001})
    assert (
        note
        == f"Best fit of the learned weights as a multiple of K: +2 × {scaled.scale:.4g} K; error after that scale: 0.001."
    )
    assert scale_note(noise_task(loss="sign_free").problem([]), {"scale": -1.0, "max_error_after_scale": 0})


def test_the_loss_floor_is_the_noise_variance_of_a_squared_error_fit():
    assert loss_floor(noise_task().problem([])) is None
    noisy = noise_task(noise=0.5).problem([])
    assert loss_floor(noisy) == pytest.approx(noisy.noise**2) and noisy.noise > 0
    assert loss_floor(noise_task(noise=0.5, loss="sign_free").problem([])) is None


def test_captions_and_notes():
    assert kernel_caption(KERNELS["Vertical edge"]).startswith(
        "Target: [[1, 0, -1], [1, 0, -1], [1, 0, -1]]: "
    )
    assert kernel_caption(KERNELS["Box blur"]).startswith("Target: 1/9 × [[1, 1, 1]")
    assert "(scene.png): " in unseen_note("scene.png", ["shapes.png"])
    assert "(shapes.png, which is also a training picture)" in unseen_note("shapes.png", ["shapes.png"])


def test_the_run_as_csv_has_a_line_per_step_with_the_nine_weights():
    fit = Fit.start(noise_task().problem([]), seed=0).advance(FitConfig(lr=0.05, optimizer="gd"), 2)
    lines = run_csv(fit).splitlines()
    assert lines[0] == "step,loss," + ",".join(f"w{k}" for k in range(1, 10))
    assert len(lines) == 4 and lines[3].startswith("2,")
    np.testing.assert_array_equal(np.array(lines[3].split(",")[2:], dtype=float), fit.W.ravel())
