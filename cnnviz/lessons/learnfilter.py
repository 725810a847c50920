"""Learning a filter by gradient descent: the lecture's "learning to detect edges", with nine weights.

Instead of choosing the nine numbers of a 3x3 kernel by hand, treat them as weights w1..w9 and learn
them from examples (input picture X, desired map Y = K * X made with a target kernel K):

    prediction   Yhat = W * X                          (cross-correlation, as in every CNN)
    error map    E = Yhat - Y
    loss         L = (1/N) sum_ij E[i, j]^2            (N output cells over all pictures)
    gradient     dL/dW[u, v] = (2/N) sum_ij E[i, j] * X[i + u, j + v] = (2/N) (X * E)[u, v]

The gradient of a correlation is another correlation: the input correlated with the error map. The
sign-free variant compares squared responses, L = (1/N) sum (Yhat^2 - Y^2)^2, so W and -W fit equally
well; its gradient is the input correlated with the map 4 (Yhat^2 - Y^2) Yhat / N.

Pure numpy, no streamlit. Window positions come from the forward pass's `Plan2D` (`cnnviz.geometry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.ops import correlate2d
from cnnviz.trace import Trace, correlation_trace

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "Fit",
    "FitConfig",
    "Problem",
    "check_kernel",
    "compare",
    "curvature",
    "input_gradient_map",
    "kernel_gradient",
    "loss_and_gradient",
    "make_problem",
    "random_images",
    "response",
    "standardise",
]

OPTIMIZERS = {
    "gd": "Plain gradient descent",
    "momentum": "Momentum (0.9)",
    "adam": "Adam",
}
REL_TOL = 1e-12  # converged: the loss is below this fraction of its starting value
PLATEAU_TOL = 1e-6  # ... or it moved by less than this fraction over the last PLATEAU_STEPS steps
PLATEAU_STEPS = 20
LOSSES = {
    "squared": "Squared error",
    "sign_free": "Sign-free (squared responses)",
}


@dataclass(frozen=True)
class FitConfig:
    """How the weights move. `lr` is the step size; its sensible range depends on the optimiser."""

    lr: float = 0.05  # GD/momentum: W -= lr * gradient; Adam: each weight moves by about lr per step
    optimizer: str = "adam"  # "gd", "momentum" or "adam"
    momentum: float = 0.9  # momentum's velocity decay, also Adam's beta1
    beta2: float = 0.999  # Adam's decay of the squared-gradient average
    eps: float = 1e-8  # Adam's guard against dividing by zero

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimiser {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"the learning rate must be a positive number, got {self.lr!r}")


def standardise(image) -> np.ndarray:
    """A picture as float64 with zero mean and unit standard deviation (a constant picture stays 0)."""
    X = np.asarray(image, dtype=np.float64)
    if X.ndim == 3:  # (H, W, C): the mean of the channels, as a grayscale picture
        X = X.mean(axis=2)
    X = X - X.mean()
    std = X.std()
    return X / std if std > 0 else X


def random_images(n: int, size: int = 32, seed: int = 0) -> list[np.ndarray]:
    """`n` seeded pictures of independent Gaussian noise, `size` x `size`: every pattern is present."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((size, size)) for _ in range(n)]


@dataclass(frozen=True)
class Problem:
    """Training pictures, their target maps, and the kernel the fit should find."""

    inputs: tuple[Trace, ...]  # per picture: X, its padding plan, and the clean target map (trace.output)
    targets: tuple[np.ndarray, ...]  # Y per picture: scale * (K * X) plus noise
    kernel: np.ndarray  # (kh, kw) the kernel that made the targets
    scale: float  # targets = scale * (K * X) + noise; the squared-error fit finds scale * K
    noise: float  # standard deviation of the noise added to the targets
    loss: str = "squared"

    @property
    def solution(self) -> np.ndarray:
        """The weights that make the clean targets exactly: scale * K (and also its negative when sign-free)."""
        return self.scale * self.kernel

    @property
    def n_cells(self) -> int:
        """N: output cells over all pictures, the loss's denominator."""
        return sum(t.output.size for t in self.inputs)


def check_kernel(K, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A target kernel as float64, or a ValueError a student can act on."""
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.size == 0:
        raise ValueError(f"the target kernel must be a 2-D grid of numbers, got shape {K.shape}")
    if shape is not None and K.shape != tuple(shape):
        n = shape[0] * shape[1]
        raise ValueError(
            f"the learned filter has {n} weights w1..w{n}, so type a {shape[0]}x{shape[1]} kernel"
            f" (yours is {K.shape[0]}x{K.shape[1]})"
        )
    if not np.all(np.isfinite(K)):
        raise ValueError("the target kernel holds a number that is not finite")
    if not np.any(K):
        raise ValueError("the target kernel is all zeros: every target map would be blank; type some weights")
    return K


def make_problem(
    images,
    K,
    *,
    noise: float = 0.0,
    normalise: bool = False,
    loss: str = "squared",
    seed: int = 0,
) -> Problem:
    """Target maps Y = scale * (K * X) + noise for standardised pictures X.

    `noise` is the noise's standard deviation as a fraction of the clean targets' RMS. `normalise`
    divides every target by the largest |value| over all maps (as when maps are scaled for display), so
    the fit can only find K up to that scale.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be zero or a positive fraction, got {noise!r}")
    K = check_kernel(K)
    images = list(images)
    if not images:
        raise ValueError("choose at least one training picture (or add random pictures)")
    inputs = tuple(correlation_trace(standardise(x), K) for x in images)
    clean = [t.output for t in inputs]
    peak = max(float(np.abs(y).max()) for y in clean)
    if peak == 0:
        raise ValueError("the target kernel gives all-zero maps on these pictures; pick other pictures")
    scale = 1.0 / peak if normalise else 1.0
    rms = float(np.sqrt(np.mean(np.concatenate([(scale * y).ravel() for y in clean]) ** 2)))
    sigma = noise * rms
    rng = np.random.default_rng(seed)
    targets = tuple(scale * y + sigma * rng.standard_normal(y.shape) for y in clean)
    return Problem(inputs, targets, K, scale, sigma, loss)


def response(trace: Trace, W: np.ndarray) -> np.ndarray:
    """W * X on the training picture's own plan: sum_uv W[u, v] * Xpad[taps_i(u), taps_j(v)].

    Equal to `correlate2d(trace.X, W)`, without re-planning the windows on every step; `kernel_gradient`
    is the same loop with the roles of the kernel and the map swapped.
    """
    plan = trace.plan
    out = np.zeros(plan.shape)
    for u in range(plan.rows.f):
        rows = plan.rows.tap_slice(u)
        for v in range(plan.cols.f):
            out += W[u, v] * trace.padded[rows, plan.cols.tap_slice(v)]
    return out


def kernel_gradient(trace: Trace, G: np.ndarray) -> np.ndarray:
    """sum_ij G[i, j] * Xpad[taps_i(u), taps_j(v)] for every tap (u, v): the input correlated with `G`.

    This is `correlate2d(X, G)` for stride 1 without padding, computed with the forward pass's own
    plan (one array op per kernel tap instead of one per cell of `G`).
    """
    plan = trace.plan
    out = np.empty(plan.kernel_shape)
    for u in range(plan.rows.f):
        rows = plan.rows.tap_slice(u)
        for v in range(plan.cols.f):
            out[u, v] = np.sum(G * trace.padded[rows, plan.cols.tap_slice(v)])
    return out


def input_gradient_map(Yhat: np.ndarray, Y: np.ndarray, loss: str, n_cells: int) -> np.ndarray:
    """dL/dYhat: the "error map" the input is correlated with to give dL/dW."""
    if loss == "squared":
        return 2.0 * (Yhat - Y) / n_cells
    return 4.0 * (Yhat * Yhat - Y * Y) * Yhat / n_cells


def loss_and_gradient(problem: Problem, W: np.ndarray) -> tuple[float, np.ndarray]:
    """L(W) and dL/dW over all training pictures."""
    W = np.asarray(W, dtype=np.float64)
    n = problem.n_cells
    total, grad = 0.0, np.zeros_like(W)
    for trace, Y in zip(problem.inputs, problem.targets, strict=True):
        Yhat = response(trace, W)  # (H - kh + 1, W - kw + 1)
        residual = Yhat - Y if problem.loss == "squared" else Yhat * Yhat - Y * Y
        total += float(np.sum(residual * residual)) / n
        grad += kernel_gradient(trace, input_gradient_map(Yhat, Y, problem.loss, n))
    return total, grad


def curvature(problem: Problem) -> np.ndarray:
    """Eigenvalues (ascending) of the squared-error loss's Hessian, d2L/dW2 = (2/N) sum of patch patch^T.

    The loss is a bowl in the nine weights; these are its curvatures along its axes. Plain gradient descent
    is stable for lr < 2 / largest, and the smallest sets how slowly the flattest direction converges.
    Column k of the Hessian is the gradient of the loss's change when only weight k moves: the input
    correlated with (2/N) (e_k * X), so no window arithmetic beyond the forward pass's own.
    """
    shape = problem.kernel.shape
    H = np.zeros((problem.kernel.size, problem.kernel.size))
    for k in range(problem.kernel.size):
        E_k = np.zeros(problem.kernel.size)
        E_k[k] = 1.0
        for trace in problem.inputs:
            response = correlate2d(trace.X, E_k.reshape(shape))  # how the map moves per unit of weight k
            H[:, k] += kernel_gradient(trace, 2.0 * response / problem.n_cells).ravel()
    return np.linalg.eigvalsh((H + H.T) / 2)


def compare(W: np.ndarray, K: np.ndarray) -> dict:
    """How close W is to K: largest weight error, and W's best fit as a multiple of K (sign and scale).

    `scale` is the a that minimises ||W - a K|| (a = <W, K> / <K, K>); `cosine` is 1 when W points
    exactly along K, -1 when along -K.
    """
    W, K = np.asarray(W, dtype=float), np.asarray(K, dtype=float)
    kk = float(np.sum(K * K))
    scale = float(np.sum(W * K)) / kk
    norm = float(np.linalg.norm(W)) * np.sqrt(kk)
    return {
        "max_error": float(np.max(np.abs(W - K))),
        "scale": scale,
        "cosine": float(np.sum(W * K)) / norm if norm > 0 else 0.0,
        "max_error_after_scale": float(np.max(np.abs(W - scale * K))),
    }


@dataclass
class Fit:
    """A gradient-descent run: the weights, the optimiser's memory, and the history of both.

    Mutable on purpose: a page keeps one in its session state and advances it a batch of steps per
    redraw. `history_W[t]` and `history_loss[t]` are the weights and loss before step t + 1.
    """

    problem: Problem
    W: np.ndarray
    steps: int = 0
    velocity: np.ndarray | None = None  # momentum's running direction; Adam's first moment
    second: np.ndarray | None = None  # Adam's running average of squared gradients
    adam_t: int = 0  # Adam's step count for its bias correction
    optimizer: str = ""  # the optimiser the memory belongs to (changing it clears the memory)
    history_W: list[np.ndarray] = field(default_factory=list)
    history_loss: list[float] = field(default_factory=list)
    last_gradient: np.ndarray | None = None

    @classmethod
    def start(cls, problem: Problem, seed: int = 0, init_scale: float = 0.5) -> Fit:
        """Seeded random starting weights, N(0, init_scale^2) each."""
        W = np.random.default_rng(seed).normal(0.0, init_scale, problem.kernel.shape)
        fit = cls(problem, W)
        loss, grad = loss_and_gradient(problem, W)
        fit.history_W.append(W.copy())
        fit.history_loss.append(loss)
        fit.last_gradient = grad
        return fit

    @property
    def loss(self) -> float:
        return self.history_loss[-1]

    def advance(self, config: FitConfig, n_steps: int = 1, *, until_converged: bool = False) -> Fit:
        """`n_steps` optimiser steps; stops early (and keeps the last finite state) if the loss blows up,
        and with `until_converged` as soon as `converged()` says there is nothing left to learn."""
        if config.optimizer != self.optimizer:
            self.velocity = self.second = None
            self.adam_t = 0
            self.optimizer = config.optimizer
        for _ in range(n_steps):
            if self.diverged or (until_converged and self.converged()):
                break
            self._step(config)
        return self

    def converged(self, rel_tol: float = REL_TOL, plateau_tol: float = PLATEAU_TOL) -> str | None:
        """Why the run can stop, in words, or None while it is still learning.

        Either the loss fell below `rel_tol` times its starting value (the target is fitted to rounding
        error), or it changed by less than `plateau_tol` (relative) over the last `PLATEAU_STEPS` steps
        (it sits on a floor it cannot go below, e.g. the noise on the targets).
        """
        losses = self.history_loss
        if not np.isfinite(losses[-1]):
            return None
        if losses[-1] <= rel_tol * losses[0]:
            return f"the loss fell below {rel_tol:.0e} of its start ({losses[0]:.3g})"
        if len(losses) > PLATEAU_STEPS:
            recent = np.asarray(losses[-PLATEAU_STEPS - 1 :])
            if recent.max() - recent.min() <= plateau_tol * recent.max():
                return f"the loss changed by less than {plateau_tol:.0e} of itself over {PLATEAU_STEPS} steps"
        return None

    @property
    def diverged(self) -> bool:
        return not np.isfinite(self.history_loss[-1]) or self.history_loss[-1] > 1e12

    def _step(self, config: FitConfig) -> None:
        g = self.last_gradient
        if config.optimizer == "gd":
            update = g
        elif config.optimizer == "momentum":
            self.velocity = g if self.velocity is None else config.momentum * self.velocity + g
            update = self.velocity
        else:  # Adam: moving averages of g and g^2, corrected for starting at zero
            b1, b2 = config.momentum, config.beta2
            self.velocity = (1 - b1) * g if self.velocity is None else b1 * self.velocity + (1 - b1) * g
            self.second = (1 - b2) * g * g if self.second is None else b2 * self.second + (1 - b2) * g * g
            self.adam_t += 1
            t = self.adam_t
            m_hat = self.velocity / (1 - b1**t)
            v_hat = self.second / (1 - b2**t)
            update = m_hat / (np.sqrt(v_hat) + config.eps)
        with np.errstate(over="ignore", invalid="ignore"):
            self.W = self.W - config.lr * update
            loss, grad = loss_and_gradient(self.problem, self.W)
        self.steps += 1
        self.history_W.append(self.W.copy())
        self.history_loss.append(loss)
        self.last_gradient = grad
