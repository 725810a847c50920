"""Learning a filter: targets, the analytic gradient against torch autograd, and convergence to the target."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.draw.learnfilter import kernels_figure, loss_figure, outputs_figure, weights_figure
from cnnviz.inputs import load_image
from cnnviz.lessons.learnfilter import (
    Fit,
    FitConfig,
    check_kernel,
    compare,
    curvature,
    kernel_gradient,
    loss_and_gradient,
    make_problem,
    random_images,
    response,
    standardise,
)
from cnnviz.lessons.presets import KERNELS
from cnnviz.ops import correlate2d
from cnnviz.trace import correlation_trace

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
SHAPES = load_image(ROOT / "assets" / "shapes.png", mode="L", max_side=64)


def _torch_loss(problem, W):
    """The same loss written with torch ops, for autograd to differentiate (float64)."""
    total = 0.0
    for trace, Y in zip(problem.inputs, problem.targets, strict=True):
        X = torch.from_numpy(trace.X)[None, None]  # (1, 1, H, W)
        Yhat = F.conv2d(X, W[None, None])[0, 0]  # PyTorch's conv2d is cross-correlation
        Yt = torch.from_numpy(Y)
        r = Yhat - Yt if problem.loss == "squared" else Yhat**2 - Yt**2
        total = total + (r * r).sum()
    return total / problem.n_cells


@pytest.mark.parametrize("loss", ["squared", "sign_free"])
@pytest.mark.parametrize("name", ["Sobel (vertical)", "Laplacian", "Emboss"])
def test_analytic_gradient_equals_torch_autograd(name, loss):
    problem = make_problem(
        [SHAPES[:20, :24], *random_images(2, 9, seed=3)], KERNELS[name].array, loss=loss, noise=0.1
    )
    W = np.random.default_rng(1).normal(size=(3, 3))
    L, G = loss_and_gradient(problem, W)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    Lt = _torch_loss(problem, Wt)
    Lt.backward()
    assert pytest.approx(Lt.item(), rel=1e-12) == L
    np.testing.assert_allclose(G, Wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_is_the_input_correlated_with_the_error_map():
    X = np.random.default_rng(0).normal(size=(7, 9))
    E = np.random.default_rng(1).normal(size=(5, 7))  # the 3x3 kernel's valid output size
    trace = correlation_trace(X, np.ones((3, 3)))
    np.testing.assert_allclose(kernel_gradient(trace, E), correlate2d(X, E), atol=1e-12)


def test_response_is_the_correlation_of_the_picture_with_the_weights():
    X = np.random.default_rng(0).normal(size=(7, 9))
    W = np.random.default_rng(1).normal(size=(3, 3))
    trace = correlation_trace(X, KERNELS["Sobel (vertical)"].array)
    np.testing.assert_allclose(response(trace, W), correlate2d(X, W), atol=1e-12)


def test_targets_are_the_kernel_applied_to_standardised_pictures():
    K = KERNELS["Horizontal edge"].array
    problem = make_problem([SHAPES], K)
    X = standardise(SHAPES)
    assert abs(X.mean()) < 1e-12 and X.std() == pytest.approx(1.0)
    np.testing.assert_allclose(problem.targets[0], correlate2d(X, K))
    assert loss_and_gradient(problem, K)[0] < 1e-25  # the target kernel itself fits exactly


def test_scaled_targets_move_the_solution_to_the_same_pattern_at_another_scale():
    K = KERNELS["Sobel (vertical)"].array
    problem = make_problem(random_images(3, 16, seed=0), K, normalise=True)
    peak = max(np.abs(t).max() for t in problem.targets)
    assert peak == pytest.approx(1.0)
    assert problem.scale < 1
    assert loss_and_gradient(problem, problem.solution)[0] < 1e-25
    assert loss_and_gradient(problem, K)[0] > 0.1  # the unscaled kernel no longer fits


def test_noise_is_a_fraction_of_the_targets_rms_and_seeded():
    K = KERNELS["Vertical edge"].array
    clean = make_problem(random_images(2, 32, seed=0), K)
    noisy = make_problem(random_images(2, 32, seed=0), K, noise=0.5, seed=4)
    again = make_problem(random_images(2, 32, seed=0), K, noise=0.5, seed=4)
    rms = np.sqrt(np.mean(np.concatenate([t.ravel() for t in clean.targets]) ** 2))
    residual = np.concatenate([(a - b).ravel() for a, b in zip(noisy.targets, clean.targets, strict=True)])
    assert residual.std() == pytest.approx(0.5 * rms, rel=0.05)
    np.testing.assert_array_equal(noisy.targets[0], again.targets[0])


@pytest.mark.parametrize(
    "name, optimizer, lr",
    [
        ("Vertical edge", "gd", 0.1),
        ("Sobel (vertical)", "momentum", 0.02),
        ("Laplacian", "gd", 0.1),
        ("Box blur", "adam", 0.05),
        ("Sharpen", "gd", 0.1),
        ("Emboss", "momentum", 0.02),
    ],
)
def test_fit_converges_to_the_target_kernel_from_a_seeded_start(name, optimizer, lr):
    K = KERNELS[name].array
    problem = make_problem([SHAPES, *random_images(2, 32, seed=0)], K)
    fit = Fit.start(problem, seed=0)
    assert compare(fit.W, K)["max_error"] > 0.3  # the random start is far from the answer
    fit.advance(FitConfig(lr=lr, optimizer=optimizer), 300)
    assert compare(fit.W, K)["max_error"] < 1e-2
    assert fit.loss < 1e-3 * fit.history_loss[0]
    assert fit.steps == 300 and len(fit.history_W) == len(fit.history_loss) == 301


def _torch_optimizer(config: FitConfig, param: torch.Tensor) -> torch.optim.Optimizer:
    """PyTorch's own optimiser with the settings of `config`."""
    if config.optimizer == "adam":
        return torch.optim.Adam([param], lr=config.lr, betas=(config.momentum, config.beta2), eps=config.eps)
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return torch.optim.SGD([param], lr=config.lr, momentum=momentum)


@pytest.mark.parametrize(
    "config",
    [
        FitConfig(lr=0.05, optimizer="adam"),
        FitConfig(lr=0.3, optimizer="adam", momentum=0.8, beta2=0.99, eps=1e-6),
        FitConfig(lr=0.02, optimizer="momentum"),
        FitConfig(lr=0.05, optimizer="momentum", momentum=0.5),
        FitConfig(lr=0.1, optimizer="gd"),
    ],
    ids=lambda c: f"{c.optimizer}-lr{c.lr}-m{c.momentum}",
)
def test_optimisers_step_as_torch_optim_does(config):
    """Same start, same gradients: the numpy optimisers and torch.optim give the same weights every step."""
    problem = make_problem([SHAPES, *random_images(2, 32, seed=3)], KERNELS["Sobel (vertical)"].array)
    fit = Fit.start(problem, seed=1).advance(config, 40)
    param = torch.tensor(fit.history_W[0], dtype=torch.float64, requires_grad=True)  # (3, 3), float64
    optimizer = _torch_optimizer(config, param)
    for t in range(1, 41):
        # The gradient at torch's own weights, so that each side steps from where it stands.
        param.grad = torch.from_numpy(loss_and_gradient(problem, param.detach().numpy())[1])
        optimizer.step()
        np.testing.assert_allclose(
            param.detach().numpy(), fit.history_W[t], rtol=1e-10, atol=1e-12, err_msg=f"step {t}"
        )


def test_plain_gradient_descent_decreases_the_loss_every_step_below_the_stability_limit():
    problem = make_problem([SHAPES, *random_images(1, 32, seed=2)], KERNELS["Sobel (vertical)"].array)
    eig = curvature(problem)
    fit = Fit.start(problem, seed=5).advance(FitConfig(lr=1.0 / eig[-1], optimizer="gd"), 60)
    assert np.all(np.diff(fit.history_loss) < 0)


def test_above_the_stability_limit_plain_gradient_descent_blows_up_and_stops():
    problem = make_problem(random_images(2, 32, seed=0), KERNELS["Vertical edge"].array)
    eig = curvature(problem)
    fit = Fit.start(problem, seed=0).advance(FitConfig(lr=2.5 / eig[-1], optimizer="gd"), 2000)
    assert fit.diverged
    assert fit.steps < 2000  # it stopped stepping once the loss blew up
    assert fit.history_loss[-1] > fit.history_loss[0]


def test_curvature_is_the_hessian_of_the_loss():
    problem = make_problem([SHAPES[:30, :30], *random_images(1, 12, seed=1)], KERNELS["Laplacian"].array)
    Wt = torch.zeros(3, 3, dtype=torch.float64)
    H = torch.autograd.functional.hessian(lambda w: _torch_loss(problem, w), Wt).reshape(9, 9)
    np.testing.assert_allclose(curvature(problem), np.linalg.eigvalsh(H.numpy()), rtol=1e-9, atol=1e-12)
    # Smooth pictures make a long narrow valley; noise pictures a round bowl.
    smooth = curvature(make_problem([SHAPES], KERNELS["Laplacian"].array))
    noise = curvature(make_problem(random_images(2, 32, seed=0), KERNELS["Laplacian"].array))
    assert smooth[-1] / smooth[0] > 100 > 5 > noise[-1] / noise[0]


def test_sign_free_loss_finds_the_target_or_its_negative():
    K = KERNELS["Vertical edge"].array
    problem = make_problem([SHAPES, *random_images(2, 32, seed=0)], K, loss="sign_free")
    cosines = []
    for seed in (0, 1):
        fit = Fit.start(problem, seed=seed).advance(FitConfig(lr=0.05, optimizer="adam"), 300)
        c = compare(fit.W, problem.solution)
        assert abs(c["cosine"]) > 0.999
        assert abs(abs(c["scale"]) - 1) < 1e-2
        cosines.append(np.sign(c["cosine"]))
    assert set(cosines) == {-1.0, 1.0}  # these two seeds land on opposite signs


def test_changing_optimiser_clears_its_memory():
    problem = make_problem(random_images(1, 16, seed=0), KERNELS["Vertical edge"].array)
    fit = Fit.start(problem).advance(FitConfig(lr=0.05, optimizer="adam"), 3)
    assert fit.adam_t == 3 and fit.second is not None
    fit.advance(FitConfig(lr=0.05, optimizer="momentum"), 1)
    assert fit.second is None and fit.adam_t == 0
    # The first momentum step starts from zero velocity: a plain gradient step.
    g3 = loss_and_gradient(problem, fit.history_W[3])[1]
    np.testing.assert_allclose(fit.history_W[4], fit.history_W[3] - 0.05 * g3)


def test_compare_reports_sign_and_scale():
    K = KERNELS["Sobel (vertical)"].array
    c = compare(-0.5 * K, K)
    assert c["scale"] == pytest.approx(-0.5) and c["cosine"] == pytest.approx(-1.0)
    assert c["max_error_after_scale"] == pytest.approx(0.0, abs=1e-12)
    assert c["max_error"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    "K, message",
    [
        (np.zeros((3, 3)), "all zeros"),
        (np.ones((2, 3)), r"type a 3x3 kernel \(yours is 2x3\)"),
        (np.array([[1.0, np.inf, 0]] * 3), "not finite"),
    ],
)
def test_bad_kernels_are_refused_in_words(K, message):
    with pytest.raises(ValueError, match=message):
        check_kernel(K, (3, 3))


def test_bad_settings_are_refused_in_words():
    K = KERNELS["Vertical edge"].array
    with pytest.raises(ValueError, match="at least one training picture"):
        make_problem([], K)
    with pytest.raises(ValueError, match="unknown loss"):
        make_problem([SHAPES], K, loss="cubic")
    with pytest.raises(ValueError, match="learning rate must be a positive"):
        FitConfig(lr=0)
    with pytest.raises(ValueError, match="unknown optimiser"):
        FitConfig(optimizer="sgd2")
    with pytest.raises(ValueError, match="all-zero maps"):
        make_problem([np.full((8, 8), 7.0)], K)


def test_figures_show_the_weights_and_the_target_on_one_scale():
    K = KERNELS["Laplacian"].array
    W = K + 0.25
    fig = kernels_figure(W, K, step=7)
    target, learned, diff = fig.data
    np.testing.assert_allclose(learned.z, W)
    np.testing.assert_allclose(diff.z, W - K)
    assert target.zmin == learned.zmin == diff.zmin == -4.0 and target.zmax == diff.zmax == 4.0
    assert learned.text[1][1] == "w5<br>-3.75"  # w1..w9 in reading order
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis2.scaleanchor == "x2"
    assert "step 7" in fig.layout.annotations[1].text
    loss = loss_figure([4.0, 1.0, 0.25], floor=0.1)
    assert loss.layout.yaxis.type == "log" and list(loss.data[1].y) == [0.1, 0.1]
    paths = weights_figure([K * 0, K], K)
    assert len(paths.data) == 9 and [s.y0 for s in paths.layout.shapes] == list(K.ravel())
    X = standardise(SHAPES)
    out = outputs_figure(X, correlate2d(X, K), correlate2d(X, W))
    assert out.data[1].zmin == out.data[2].zmin and out.data[1].zmax == out.data[2].zmax


# --- Classroom: the loss axis stays readable, and a run stops once there is nothing left to learn -----------


def test_a_long_log_loss_axis_gets_a_few_labels_not_one_per_decade():
    from cnnviz.draw.learnfilter import MAX_LOG_TICKS

    axis = loss_figure(np.logspace(1, -20, 200)).layout.yaxis  # 10 down to 1e-20: 21 decades
    lo, hi = axis.range
    labels = int((np.floor(hi) - np.ceil(lo)) // axis.dtick) + 1
    assert labels <= MAX_LOG_TICKS + 1
    assert lo <= -20 and hi >= 1  # the whole curve is inside the axis
    short = loss_figure([4.0, 1.0, 0.25]).layout.yaxis
    assert short.dtick == 1  # a short run keeps a label per decade


def test_a_run_stops_at_the_tolerance_and_says_why():
    problem = make_problem([SHAPES, *random_images(2, 32, seed=0)], KERNELS["Vertical edge"].array)
    fit = Fit.start(problem, seed=0)
    assert fit.converged() is None
    fit.advance(FitConfig(lr=0.1, optimizer="gd"), 3000, until_converged=True)
    reason = fit.converged()
    assert reason is not None and "fell below 1e-12 of its start" in reason
    assert fit.steps < 3000  # stopped long before the budget
    assert fit.loss <= 1e-12 * fit.history_loss[0]
    assert len(fit.history_loss) == fit.steps + 1
    stopped_at = fit.steps
    fit.advance(FitConfig(lr=0.1, optimizer="gd"), 10, until_converged=True)
    assert fit.steps == stopped_at  # nothing more to do


def test_a_noisy_target_stops_on_its_floor():
    problem = make_problem(
        [SHAPES, *random_images(2, 32, seed=0)], KERNELS["Vertical edge"].array, noise=0.3, seed=0
    )
    fit = Fit.start(problem, seed=0).advance(FitConfig(lr=0.1, optimizer="gd"), 3000, until_converged=True)
    assert "changed by less than 1e-06 of itself over 20 steps" in fit.converged()
    assert fit.steps < 1000 and fit.loss > 0.01  # the noise floor, not zero


def _longest_line_px(text: str, size: float) -> float:
    return max(len(line) for line in text.split("<br>")) * size * 0.6  # ~0.6 em per character


@pytest.mark.parametrize("step", [0, 12_345])
def test_panel_titles_fit_their_panels_at_a_narrow_width(step):
    # Titles wider than their third of the figure ran into the next panel ("Learned w1..w9 (step 0)" over
    # "Learned − target") once the figure shared the first screen with the loss curve.
    fig = kernels_figure(KERNELS["Laplacian"].array, KERNELS["Laplacian"].array, step=step)
    width = 540  # the narrowest the page draws it (a 1366-px laptop)
    for annotation, axis in zip(fig.layout.annotations, ("xaxis", "xaxis2", "xaxis3"), strict=True):
        lo, hi = fig.layout[axis].domain
        assert _longest_line_px(annotation.text, annotation.font.size) <= (hi - lo) * width, annotation.text
