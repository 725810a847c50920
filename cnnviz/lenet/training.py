"""Training LeNet-5: one function of (model, data, config, callback), and a job that runs it in a thread.

`train` is what the page, the command line (`python -m cnnviz.lenet.train`) and the benchmarks all call. The
`TrainingJob` wraps it for a live page: a background thread that never touches Streamlit, writes metrics and
snapshots into plain lists under a lock, and obeys pause/stop events between batches. A `TrainingQueue`
shares a server fairly: it caps the runs training at once, queues the rest first come first served, and
stops the runs whose owners have gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.lenet.data import Dataset, to_model_input
from cnnviz.lenet.model import LeNet5

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")
ACTIVE_STATES = ("created", "queued", "running", "paused")  # a run in these states may still train


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
def predict(model: LeNet5, X: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits (N, 10) for model inputs X (N, 1, 32, 32), in batches."""
    was_training = model.training
    model.eval()
    logits = torch.cat([model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return logits


def evaluate(model: LeNet5, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of `model` on inputs X (N, 1, 32, 32) with labels y (N,)."""
    logits = predict(model, X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


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
    X_train, y_train = to_model_input(data.X_train), torch.as_tensor(data.y_train)  # (N, 1, 32, 32), (N,)
    X_test, y_test = to_model_input(data.X_test), torch.as_tensor(data.y_test)
    n = len(X_train)
    if n == 0 or len(X_test) == 0:
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
            X, y = X_train[idx], y_train[idx]  # (B, 1, 32, 32), (B,)
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
                test_loss, test_accuracy = evaluate(model, X_test, y_test)
                test_history.append((progress.epoch, test_loss, test_accuracy))
                progress = replace(progress, test_loss=test_loss, test_accuracy=test_accuracy)
            if callback is not None and callback(progress, model) is False:
                stopped = step < total_steps
                break
        if stopped:
            break
    if not test_history or test_history[-1][0] != step / steps_per_epoch:
        test_loss, test_accuracy = evaluate(model, X_test, y_test)
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
# A training run in a background thread


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


OS_THREAD_NAME = "cnnviz-train"  # what `ps -L`, top and /proc/<pid>/task/*/comm show for a training thread


def _name_os_thread(name: str) -> None:
    """Name the calling thread for the operating system (Linux), so a lecturer or a benchmark can see from
    outside how many training threads a server runs. Elsewhere, or if it fails, nothing happens."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME


@dataclass(frozen=True, eq=False)
class JobView:
    """A consistent copy of a job's state, for one redraw of the page."""

    state: str  # "created", "queued", "running", "paused", "finished", "stopped" or "failed"
    message: str  # why it stopped or failed, or "" otherwise
    step: int
    total_steps: int
    epoch: float
    samples: int
    samples_per_s: float
    seconds_left: float | None
    train_curve: dict[str, list[float]] = field(default_factory=dict)  # epoch, loss, accuracy
    test_curve: dict[str, list[float]] = field(default_factory=dict)  # epoch, loss, accuracy
    live: Snapshot | None = None
    n_snapshots: int = 0

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class TrainingJob:
    """One training run in a background thread; it never calls Streamlit.

    The page reads `view()` (a copy taken under the lock) and calls `pause`, `resume`, `stop` and `heartbeat`.
    Pause and stop act between two batches. Without a heartbeat for `heartbeat_timeout` seconds (the page
    was closed) the run stops itself.
    """

    def __init__(
        self,
        model: LeNet5,
        data: Dataset,
        config: TrainConfig,
        *,
        probe_index: int = 0,
        heartbeat_timeout: float = 120.0,
        live_every: float = 0.5,
        max_snapshots: int = 40,
        threads: int = 1,
    ):
        self.model, self.data, self.config = model, data, config
        self.heartbeat_timeout = heartbeat_timeout
        self.live_every, self.threads = live_every, threads
        steps_per_epoch = math.ceil(len(data.X_train) / config.batch_size)
        self._snapshot_every = max(1, steps_per_epoch * config.epochs // max_snapshots)
        self._log_every = max(1, steps_per_epoch // 20)  # at most 20 train-curve points per epoch
        self._lock = threading.Lock()
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_heartbeat = time.monotonic()
        self._probe_index = probe_index
        self._probe = to_model_input(data.X_test[probe_index])  # (1, 1, 32, 32)
        # Everything below is written by the thread and read by the page, always under `_lock`.
        self.state = "created"
        self.message = ""
        self.result: TrainResult | None = None
        self._progress: Progress | None = None
        self._train_curve = {"epoch": [], "loss": [], "accuracy": []}
        self._test_curve = {"epoch": [], "loss": [], "accuracy": []}
        self._window: list[tuple[float, float]] = []  # (loss, accuracy) of each batch since the last point
        self._snapshots: list[Snapshot] = []
        self._live: Snapshot | None = None
        self._live_state: dict[str, torch.Tensor] | None = None
        self._live_at = 0.0
        self._started_at: float | None = None
        self._paused_seconds = 0.0
        self._paused_since: float | None = None
        # Set by a TrainingQueue: whether the run's owner is still there, and what to do when the thread ends.
        self.keep_going: Callable[[], bool] | None = None
        self.on_exit: Callable[[], None] | None = None
        self._checked_at = 0.0

    # --- called by the page -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this job has already been started; make a new one")
        self._thread = threading.Thread(target=self._run, name="cnnviz-training", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self, message: str = "") -> None:
        with self._lock:
            if message and not self.message:
                self.message = message
            if self._thread is None and self.state in ("created", "queued"):
                self.state = "stopped"  # never started: it waited in line and leaves it
                self.message = self.message or "stopped before its turn to train came"
        self._stop.set()
        self._pause.clear()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def mark_queued(self) -> None:
        """Shown as "queued" until a `TrainingQueue` starts it."""
        self._set("queued")

    def heartbeat(self) -> None:
        self._last_heartbeat = time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def pause_requested(self) -> bool:
        """True from `pause()` until `resume()` or `stop()` (the thread pauses at its next batch)."""
        return self._pause.is_set()

    @property
    def probe_index(self) -> int:
        return self._probe_index

    def set_probe(self, index: int) -> None:
        """Follow another test image's activations from the next snapshot on."""
        probe = to_model_input(self.data.X_test[index])
        with self._lock:
            self._probe_index, self._probe = index, probe

    def view(self) -> JobView:
        with self._lock:
            p = self._progress
            active = self._active_seconds()
            rate = p.samples / active if p and active > 0 else 0.0
            total_samples = len(self.data.X_train) * self.config.epochs
            left = (total_samples - p.samples) / rate if p and rate > 0 else None
            return JobView(
                state=self.state,
                message=self.message,
                step=p.step if p else 0,
                total_steps=p.total_steps if p else 0,
                epoch=p.epoch if p else 0.0,
                samples=p.samples if p else 0,
                samples_per_s=rate,
                seconds_left=left if self.state in ("running", "paused") else None,
                train_curve={k: list(v) for k, v in self._train_curve.items()},
                test_curve={k: list(v) for k, v in self._test_curve.items()},
                live=self._live,
                n_snapshots=len(self._snapshots),
            )

    def snapshots(self) -> list[Snapshot]:
        with self._lock:
            return list(self._snapshots)

    def current_model(self) -> LeNet5:
        """A copy of the model as of the last snapshot (safe to use while the thread trains)."""
        with self._lock:
            if self.state in ("finished", "stopped", "failed") or self._live_state is None:
                state = {k: v.clone() for k, v in self.model.state_dict().items()}
            else:
                state = self._live_state
        model = LeNet5(self.model.activation, self.model.pooling)
        model.load_state_dict(state)
        return model.eval()

    # --- run by the thread --------------------------------------------------------------------------------
    def _active_seconds(self) -> float:
        if self._started_at is None:
            return 0.0
        now = time.monotonic()
        paused = self._paused_seconds + (now - self._paused_since if self._paused_since else 0.0)
        return now - self._started_at - paused

    def _stale(self) -> bool:
        return time.monotonic() - self._last_heartbeat > self.heartbeat_timeout

    def _abandoned(self) -> bool:
        """True when the queue says the run's owner is gone (asked at most 4 times a second)."""
        now = time.monotonic()
        if self.keep_going is None or now - self._checked_at < 0.25:
            return False
        self._checked_at = now
        return not self.keep_going()

    def _set(self, state: str, message: str = "") -> None:
        with self._lock:
            self.state, self.message = state, message

    def _run(self) -> None:
        _name_os_thread(OS_THREAD_NAME)
        try:
            torch.set_num_threads(self.threads)
            with self._lock:
                self.state = "running"
                self._started_at = time.monotonic()
                self._record_snapshot(0, 0.0, keep=True)
            result = train(self.model, self.data, self.config, self._callback)
            with self._lock:
                self.result = result
                self._record_snapshot(result.steps, result.epochs, keep=True)
                if result.stopped:
                    self.state = "stopped"
                    self.message = self.message or f"stopped after {result.epochs:g} epochs"
                else:
                    self.state, self.message = "finished", ""
        except Exception as error:  # the page shows it; the thread must not die silently
            self._set("failed", f"{type(error).__name__}: {error}")
        finally:
            if self.on_exit is not None:
                self.on_exit()

    def _record_snapshot(self, step: int, epoch: float, keep: bool) -> None:
        """Called with `_lock` held: refresh the live snapshot, and keep it for the replay if `keep`."""
        snap = take_snapshot(self.model, self._probe, self._probe_index, step, epoch)
        self._live = snap
        self._live_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        self._live_at = time.monotonic()
        if keep and (not self._snapshots or self._snapshots[-1].step != step):
            self._snapshots.append(snap)

    def _callback(self, p: Progress, model: LeNet5) -> bool:
        with self._lock:
            self._progress = p
            self._window.append((p.loss, p.accuracy))
            if p.step % self._log_every == 0 or p.step == p.total_steps:
                losses, accuracies = zip(*self._window, strict=True)
                self._train_curve["epoch"].append(p.epoch)
                self._train_curve["loss"].append(float(np.mean(losses)))
                self._train_curve["accuracy"].append(float(np.mean(accuracies)))
                self._window.clear()
            if p.evaluated:
                self._test_curve["epoch"].append(p.epoch)
                self._test_curve["loss"].append(p.test_loss)
                self._test_curve["accuracy"].append(p.test_accuracy)
            keep = p.step % self._snapshot_every == 0
            if keep or p.evaluated or time.monotonic() - self._live_at >= self.live_every:
                self._record_snapshot(p.step, p.epoch, keep)
        if self._pause.is_set() and not self._stop.is_set():
            self._wait_while_paused()
        if self._stale():
            self.stop(f"stopped: no page has looked at this run for {self.heartbeat_timeout:g} s")
        elif self._abandoned():
            self.stop("stopped: the page that started it was closed")
        return not self._stop.is_set()

    def _wait_while_paused(self) -> None:
        with self._lock:
            self.state = "paused"
            self._paused_since = time.monotonic()
        while self._pause.is_set() and not self._stop.is_set() and not self._stale():
            if self._abandoned():
                self.stop("stopped: the page that started it was closed")
            self._stop.wait(0.05)
        with self._lock:
            self._paused_seconds += time.monotonic() - self._paused_since
            self._paused_since = None
            self.state = "running"


# ----------------------------------------------------------------------------------------------------------
# Sharing one server fairly: a cap on concurrent runs and a first-come, first-served line


@dataclass(eq=False)
class _Entry:
    owner: str
    job: TrainingJob | None  # held while queued or training; afterwards only `ref`, the owner's page holds it
    ref: weakref.ref
    last_seen: float  # when the owner was last known to be there


class TrainingQueue:
    """At most `limit` runs train at once in this process; the others wait in line, first come first served.

    It owns no thread: `submit` starts a job's own thread when a slot is free, and a job's thread, as its
    last act, lets the next one in line start. One instance per process (a module global, not a cache a
    "clear caches" could drop) holds every run, so the cap holds whatever the sessions do.

    Each run has an `owner` (a browser session's id) and a token. A run whose owner has been gone for
    `grace` seconds is stopped (or leaves the line): `owner_alive(owner)` says whether the owner is connected,
    and `touch(token)` says that it just was. A network drop shorter than `grace` changes nothing.
    """

    def __init__(
        self,
        limit: int = 2,
        *,
        owner_alive: Callable[[str], bool] | None = None,
        grace: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if limit < 1:
            raise ValueError(f"the cap on concurrent training runs must be at least 1, got {limit}")
        self.limit, self.grace = limit, grace
        self._owner_alive = owner_alive or (lambda owner: False)
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._line: list[str] = []  # tokens waiting, first in line first
        self._training: set[str] = set()  # tokens whose thread holds a slot

    # --- what the page calls ------------------------------------------------------------------------------
    def submit(self, owner: str, job: TrainingJob) -> str:
        """Queue `job` for `owner`; it starts now if a slot is free. Returns the run's token."""
        token = uuid.uuid4().hex
        job.keep_going = lambda: self._owner_here(token)
        job.on_exit = lambda: self._finished(token)
        with self._lock:
            self._entries[token] = _Entry(owner, job, weakref.ref(job), self._clock())
            self._line.append(token)
            job.mark_queued()
            self._admit()
        return token

    def get(self, token: str) -> TrainingJob | None:
        """The run with this token, if it is still known (queued, training, or held by its page)."""
        with self._lock:
            entry = self._entries.get(token)
            return entry.ref() if entry else None

    def owner(self, token: str) -> str | None:
        with self._lock:
            entry = self._entries.get(token)
            return entry.owner if entry else None

    def adopt(self, token: str, owner: str) -> TrainingJob | None:
        """Hand a run to a new owner (the same student's page after a refresh); returns it, or None."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is None or entry.ref() is None:
                return None
            entry.owner, entry.last_seen = owner, self._clock()
            return entry.ref()

    def touch(self, token: str) -> None:
        """The owner's page just looked at this run."""
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                entry.last_seen = self._clock()
            self.reap()

    def position(self, token: str) -> int:
        """1 for the first in line, 2 for the second...; 0 when the run is not waiting."""
        with self._lock:
            return self._line.index(token) + 1 if token in self._line else 0

    @property
    def training(self) -> int:
        with self._lock:
            return len(self._training)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._line)

    def tokens(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def reap(self) -> None:
        """Stop the runs whose owners are gone, take them out of the line, and forget runs nobody holds."""
        with self._lock:
            for token, entry in list(self._entries.items()):
                job = entry.ref()
                if job is None:
                    del self._entries[token]
                elif job.state in ACTIVE_STATES and not self._owner_here(token):
                    job.stop("stopped: the page that started it was closed")
            self._line = [t for t in self._line if not self._entries[t].ref().stop_requested]
            self._admit()

    # --- what the jobs call -------------------------------------------------------------------------------
    def _owner_here(self, token: str) -> bool:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return False
            now = self._clock()
            if self._owner_alive(entry.owner):
                entry.last_seen = now
            return now - entry.last_seen <= self.grace

    def _admit(self) -> None:
        """Start runs from the front of the line while slots are free (called with the lock held)."""
        while self._line and len(self._training) < self.limit:
            token = self._line.pop(0)
            entry = self._entries[token]
            job = entry.job
            if job is None or job.stop_requested or not self._owner_here(token):
                if job is not None:
                    job.stop("stopped: the page that started it was closed")
                    entry.job = None
                continue
            self._training.add(token)
            job.start()

    def _finished(self, token: str) -> None:
        """A run's thread is ending: free its slot, let the next in line start, keep only a weak reference."""
        with self._lock:
            self._training.discard(token)
            entry = self._entries.get(token)
            if entry is not None:
                entry.job = None
            self.reap()
