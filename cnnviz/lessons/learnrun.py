"""A learning run told as a lesson: the task's settings, the learning-rate advice, the run's verdicts.

What the Learn a filter page says about a `Fit` (`cnnviz.lessons.learnfilter`), as plain text and numbers:
whether the learning rate keeps plain gradient descent stable (from the loss's curvatures), when a run
stops and why, how the learned weights compare with the target up to scale, and the run as CSV. No
streamlit: the page picks the widget (`st.error`, `st.success`, ...) by a verdict's `kind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnviz.lessons.learnfilter import (
    REL_TOL,
    Fit,
    FitConfig,
    Problem,
    curvature,
    make_problem,
    random_images,
)
from cnnviz.lessons.presets import Kernel

__all__ = [
    "RANDOM_SIDE",
    "Advice",
    "Task",
    "Verdict",
    "advance_run",
    "kernel_caption",
    "loss_floor",
    "rate_advice",
    "run_csv",
    "scale_note",
    "target_title",
    "unseen_note",
    "verdict",
]

RANDOM_SIDE = 32  # random training pictures are this size


@dataclass(frozen=True)
class Task:
    """What the fit learns from: the target kernel, the training pictures, and how the targets are made."""

    kernel: tuple[tuple[float, ...], ...]  # K as nested tuples, so equal settings compare equal
    pictures: tuple[str, ...] = ()  # the bundled pictures' names (their pixels are passed to `problem`)
    n_random: int = 0  # seeded noise pictures, RANDOM_SIDE x RANDOM_SIDE
    noise: float = 0.0  # the targets' noise, as a fraction of their RMS
    normalise: bool = False  # scale the targets to largest |Y| = 1
    loss: str = "squared"
    seed: int = 0  # noise pictures, target noise and starting weights

    @classmethod
    def of(cls, K, pictures: Sequence[str] = (), **settings) -> Task:
        return cls(tuple(map(tuple, np.asarray(K, dtype=float).tolist())), tuple(pictures), **settings)

    def problem(self, bundled: Sequence[np.ndarray]) -> Problem:
        """The training problem on the bundled pictures' pixels plus the seeded noise pictures (or a ValueError)."""
        images = [*bundled, *random_images(self.n_random, RANDOM_SIDE, seed=self.seed)]
        return make_problem(
            images,
            np.array(self.kernel),
            noise=self.noise,
            normalise=self.normalise,
            loss=self.loss,
            seed=self.seed,
        )

    def summary(self, problem: Problem) -> str:
        """What the run trains on and how it starts and stops, in one sentence."""
        sources = [*self.pictures, *([f"{self.n_random} random noise picture(s)"] if self.n_random else [])]
        return (
            f"Training on {len(problem.inputs)} picture(s): {', '.join(sources)}; {problem.n_cells:,} target "
            f"cells. Starting weights: seeded normal, σ = 0.5 (seed {self.seed}). A run stops by itself once "
            f"the loss is below {REL_TOL:.0e} of its start or stops moving."
        )


@dataclass(frozen=True)
class Advice:
    """What to say about the learning rate before a run: any of the three may be None."""

    explanation: str | None = None  # the bowl: its curvatures and the stable learning rates
    warning: str | None = None  # this rate will blow plain gradient descent up
    info: str | None = None  # a hint for the sign-free loss


def rate_advice(problem: Problem, lr: float, optimizer: str) -> Advice:
    """The largest stable learning rate for plain gradient descent, from the squared-error loss's curvatures.

    The loss is a bowl with curvatures `eig`; plain gradient descent is stable for lr < 2 / eig.max(), and
    the flattest direction shrinks by (1 - lr * eig.min()) per step.
    """
    if problem.loss != "squared":
        hint = "The sign-free loss is quartic: plain gradient descent blows up easily. Try Adam, lr 0.05."
        return Advice(info=hint if optimizer == "gd" else None)
    eig = curvature(problem)
    limit = 2 / eig[-1]
    explanation = (
        f"**The loss is a bowl in the nine weights.** Its curvatures run from {eig[0]:.3g} to "
        f"{eig[-1]:.3g} (condition number {eig[-1] / eig[0]:,.0f}). Plain gradient descent is stable "
        f"for a learning rate below 2 / {eig[-1]:.3g} = **{limit:.3g}**; the flattest direction shrinks "
        f"by a factor (1 − lr × {eig[0]:.3g}) per step, so it needs about "
        f"{max(1, round(1 / (min(lr, limit) * eig[0]))):,} steps per e-fold at this rate."
    )
    warning = None
    if optimizer == "gd" and lr >= limit:
        warning = f"Learning rate {lr} is above {limit:.3g}: plain gradient descent will blow up."
    return Advice(explanation, warning)


def advance_run(fit: Fit, config: FitConfig, batch: int, until: int) -> bool:
    """One redraw's `batch` of steps, not past step `until`; True while the run should go on.

    A run stops at its step budget, when the loss blows up, or once `fit.converged()`.
    """
    fit.advance(config, min(batch, until - fit.steps), until_converged=True)
    return not (fit.steps >= until or fit.diverged or fit.converged())


@dataclass(frozen=True)
class Verdict:
    """How the run stands, in words; `kind` is "error", "success" or "running"."""

    kind: str
    text: str


def verdict(fit: Fit, *, running: bool, batch: int, until: int) -> Verdict | None:
    """Blown up, converged, or learning (None: paused before converging)."""
    reason = fit.converged()
    if fit.diverged:
        return Verdict(
            "error", "The loss blew up: the learning rate is too large for this loss. Lower it, then ↺ Reset."
        )
    if reason and fit.steps > 0:
        return Verdict(
            "success", f"Converged at step {fit.steps:,}: {reason}. Stopped; ↺ Reset to watch it again."
        )
    if running:
        return Verdict("running", f"Learning… {batch} steps per redraw, until step {until:,}.")
    return None


def scale_note(problem: Problem, comparison: dict) -> str | None:
    """The learned weights as a multiple of K, when the fit can only find K up to scale (or sign)."""
    if problem.scale == 1.0 and problem.loss == "squared":
        return None
    return (
        f"Best fit of the learned weights as a multiple of K: {comparison['scale'] / problem.scale:+.4g} × "
        f"{problem.scale:.4g} K; error after that scale: {comparison['max_error_after_scale']:.3g}."
    )


def target_title(problem: Problem) -> str:
    """The target's title over its grid: K, or the multiple of K the scaled targets make."""
    return "Target K" if problem.scale == 1.0 else f"Target {problem.scale:.3g} × K"


def loss_floor(problem: Problem) -> float | None:
    """The loss a squared-error fit cannot go below: the targets' noise variance σ² (None without noise)."""
    return problem.noise**2 if problem.loss == "squared" and problem.noise > 0 else None


def kernel_caption(kernel: Kernel) -> str:
    """A preset target kernel's numbers and where it comes from."""
    scale = f"{kernel.scale_text} × " if kernel.scale_text else ""
    return f"Target: {scale}{np.array(kernel.weights).tolist()}: {kernel.note or 'from the lecture'}"


def unseen_note(name: str, pictures: Sequence[str]) -> str:
    """The sentence above the unseen picture's maps."""
    also = ", which is also a training picture" if name in pictures else ""
    return (
        f"**On an unseen picture** ({name}{also}): the target kernel's output beside the learned kernel's, "
        "on one colour scale."
    )


def run_csv(fit: Fit) -> str:
    """step, loss, w1..w9 per line: the run as a table for a spreadsheet or a slide."""
    header = ["step", "loss", *(f"w{k + 1}" for k in range(fit.W.size))]
    lines = [",".join(header)]
    for t, (loss, W) in enumerate(zip(fit.history_loss, fit.history_W, strict=True)):
        lines.append(",".join([str(t), repr(float(loss)), *(repr(float(v)) for v in W.ravel())]))
    return "\n".join(lines) + "\n"
