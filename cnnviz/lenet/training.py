"""Training LeNet-5: one function of (model, data, config, callback), and the snapshots a live view draws.

`train` is what the page, the command line (`python -m cnnviz.lenet.train`) and the benchmarks all call. For a
live page, `cnnviz.lenet.job.TrainingJob` runs it in a child process and `cnnviz.lenet.recorder.RunRecorder`
keeps what the page shows; `cnnviz.lenet.runqueue.TrainingQueue` shares a server's cores fairly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.lenet.data import Dataset, to_model_input
from cnnviz.lenet.model import LeNet5

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters. On the 5,000 shipped MNIST digits the defaults reach about 97% test accuracy in about
    8 s of training on one core (seeds 0-3: 96.4% to 97.4%; 4,000 training images are what limits it)."""

    optimizer: str = "adam"  # "adam", or "sgd" (stochastic gradient descent with momentum)
    lr: float = 2e-3  # learning rate (step size) at the start; for "sgd" try 0.05
    schedule: str = "cosine"  # "cosine": the step size falls smoothly to 0 by the last step; "constant"
    momentum: float = 0.9  # "sgd" only: how much of the previous step each step keeps
    batch_size: int = 32  # images per gradient step
    epochs: int = 12  # passes over the training images
    seed: int = 0  # fixes the shuffling order; the same seed and start weights give the same run
    eval_every: int = 0  # gradient steps between test-set evaluations; 0 = at the end of each epoch

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.eval_every < 0:
            raise ValueError(f"eval_every must be 0 (each epoch) or a number of steps, got {self.eval_every}")


@dataclass(frozen=True)
class Progress:
    """What the callback receives after every gradient step."""

    step: int  # gradient steps done
    total_steps: int
    epoch: float  # epochs done, fractional: step / steps per epoch
    samples: int  # training images seen
    seconds: float  # wall time since training started
    loss: float  # this batch's mean cross-entropy
    accuracy: float  # this batch's accuracy
    test_loss: float | None = None  # set only right after a test-set evaluation
    test_accuracy: float | None = None

    @property
    def evaluated(self) -> bool:
        return self.test_accuracy is not None


# The callback gets the progress and the model after each step; returning False stops training.
# To pause, a callback simply blocks until it is resumed.
Callback = Callable[[Progress, LeNet5], "bool | None"]


@dataclass(frozen=True)
class TrainResult:
    steps: int
    epochs: float  # epochs completed (fractional when stopped early)
    samples: int
    seconds: float
    samples_per_s: float
    test_loss: float
    test_accuracy: float
    stopped: bool  # True when the callback stopped the run early
    test_history: tuple[tuple[float, float, float], ...]  # (epoch, test loss, test accuracy)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


@torch.no_grad()
def predict(model: LeNet5, X, batch_size: int = 1024, prepare: Callable | None = None) -> torch.Tensor:
    """Logits (N, 10) for model inputs X (N, 1, 32, 32), in batches. With `prepare` (`to_model_input`), X holds
    images (N, S, S) made into model inputs one batch at a time (no float, padded copy of the whole set)."""
    was_training = model.training
    model.eval()
    batches = (X[i : i + batch_size] for i in range(0, len(X), batch_size))
    logits = torch.cat([model(prepare(b) if prepare else b) for b in batches])
    model.train(was_training)
    return logits


def _scores(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def evaluate(model: LeNet5, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` on inputs X (N, 1, 32, 32) with labels y (N,)."""
    return _scores(predict(model, X), y)


def evaluate_images(model: LeNet5, images: np.ndarray, y: torch.Tensor, batch_size: int = 1024):
    """`evaluate` on images (M, S, S), made into model inputs a batch at a time (the same numbers)."""
    return _scores(predict(model, images, batch_size, prepare=to_model_input), y)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    M = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(M, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return M


def train(
    model: LeNet5, data: Dataset, config: TrainConfig = TrainConfig(), callback: Callback | None = None
):
    """Train `model` in place on `data` with mini-batch `config.optimizer`; returns a TrainResult.

    The shuffling comes from a generator seeded with `config.seed`, so a run is repeatable given the same
    start weights. `callback(progress, model)` runs after every step; if it returns False training stops.
    """
    # The images become model inputs (N, 1, 32, 32) a batch at a time: a padded float copy of the whole set
    # would add 245 MB to every run on full MNIST (the data set itself may be shared memory, `shared.py`).
    y_train, y_test = torch.as_tensor(data.y_train), torch.as_tensor(data.y_test)  # (N,), (M,)
    n = len(data.X_train)
    if n == 0 or len(data.X_test) == 0:
        raise ValueError("the data set needs at least one training and one test image")
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(model, config)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    step = samples = 0
    stopped = False
    test_history = []
    test_loss = test_accuracy = float("nan")
    model.train()
    start = time.perf_counter()
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            X, y = to_model_input(data.X_train[idx.numpy()]), y_train[idx]  # (B, 1, 32, 32), (B,)
            if config.schedule == "cosine":  # lr * (1 + cos(pi * step / total)) / 2: from lr down to 0
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            logits = model(X)  # (B, 10)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            samples += len(idx)
            end_of_epoch = b == steps_per_epoch - 1
            progress = Progress(
                step=step,
                total_steps=total_steps,
                epoch=step / steps_per_epoch,
                samples=samples,
                seconds=time.perf_counter() - start,
                loss=loss.item(),
                accuracy=(logits.argmax(1) == y).float().mean().item(),
            )
            if end_of_epoch or (config.eval_every and step % config.eval_every == 0):
                test_loss, test_accuracy = evaluate_images(model, data.X_test, y_test)
                test_history.append((progress.epoch, test_loss, test_accuracy))
                progress = replace(progress, test_loss=test_loss, test_accuracy=test_accuracy)
            if callback is not None and callback(progress, model) is False:
                stopped = step < total_steps
                break
        if stopped:
            break
    if not test_history or test_history[-1][0] != step / steps_per_epoch:
        test_loss, test_accuracy = evaluate_images(model, data.X_test, y_test)
        test_history.append((step / steps_per_epoch, test_loss, test_accuracy))
    seconds = time.perf_counter() - start
    return TrainResult(
        steps=step,
        epochs=round(step / steps_per_epoch, 3),
        samples=samples,
        seconds=seconds,
        samples_per_s=samples / seconds if seconds > 0 else float("nan"),
        test_loss=test_loss,
        test_accuracy=test_accuracy,
        stopped=stopped,
        test_history=tuple(test_history),
    )


# ----------------------------------------------------------------------------------------------------------
# Snapshots: what the live view and the replay draw


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The model at one moment, for the live view and the replay scrubber."""

    step: int
    epoch: float
    c1: np.ndarray  # (6, 5, 5): the C1 filters
    c3: np.ndarray  # (16, 6, 5, 5): the C3 kernels, one per (output map, input map)
    probe_index: int  # which test image the activations are of (-1: an image from elsewhere)
    activations: dict[str, np.ndarray]  # layer name -> that image's activations, batch axis dropped
    c1_bias: np.ndarray | None = None  # (6,)
    c3_bias: np.ndarray | None = None  # (16,)


def take_snapshot(model: LeNet5, probe: torch.Tensor, probe_index: int, step: int = 0, epoch: float = 0.0):
    """A Snapshot of `model` with the activations of one model input `probe` (1, 1, 32, 32)."""
    with torch.no_grad():
        A = model.activations(probe)
        return Snapshot(
            step=step,
            epoch=epoch,
            c1=model.c1.weight[:, 0].detach().numpy().copy(),  # (6, 5, 5)
            c3=model.c3.weight.detach().numpy().copy(),  # (16, 6, 5, 5)
            probe_index=probe_index,
            activations={name: a[0].numpy().copy() for name, a in A.items()},
            c1_bias=model.c1.bias.detach().numpy().copy(),
            c3_bias=model.c3.bias.detach().numpy().copy(),
        )
