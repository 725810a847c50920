"""What a training run has done so far, as plain data: its state, curves, snapshots and time-left estimate.

The `RunRecorder` is fed one event at a time (a run started, a batch of steps, a snapshot, a pause, the end)
and answers `view()`. It owns no thread, no lock and no process: `cnnviz.lenet.job.TrainingJob` feeds it from
the messages of the child process that trains, and a test can feed it by hand with its own clock.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from cnnviz.lenet.training import Progress


class JobState(enum.StrEnum):
    """Where a run is. A `StrEnum`: it prints as its value ("running"), which the page shows."""

    CREATED = "created"  # made, not yet handed to a queue
    QUEUED = "queued"  # waiting in line for a training slot
    RUNNING = "running"  # holds a slot: its process is starting or training
    PAUSED = "paused"  # its process waits between two batches
    FINISHED = "finished"  # trained every epoch
    STOPPED = "stopped"  # stopped early (a click, its page gone, or before its turn came)
    FAILED = "failed"  # an error ended it; `message` says which

    @property
    def active(self) -> bool:
        """True while the run may still train."""
        return self in ACTIVE_STATES

    @property
    def ended(self) -> bool:
        return not self.active


ACTIVE_STATES = frozenset({JobState.CREATED, JobState.QUEUED, JobState.RUNNING, JobState.PAUSED})
TRAINED_STATES = frozenset({JobState.FINISHED, JobState.STOPPED})  # ended with weights worth showing

CURVE_POINTS_PER_EPOCH = 20  # the train curve averages the batches between two of its points


@dataclass(frozen=True, eq=False)
class JobView:
    """A consistent copy of a run's state, for one redraw of the page."""

    state: JobState
    message: str  # why it stopped or failed, or "" otherwise
    step: int
    total_steps: int
    epoch: float
    samples: int
    samples_per_s: float
    seconds_left: float | None
    train_curve: dict[str, list[float]] = field(default_factory=dict)  # epoch, loss, accuracy
    test_curve: dict[str, list[float]] = field(default_factory=dict)  # epoch, loss, accuracy
    live: Any = None  # the latest snapshot (a `Snapshot`, or a `NetSnapshot` for a designed network)
    n_snapshots: int = 0

    @property
    def active(self) -> bool:
        return self.state.active


def snapshot_every(total_steps: int, max_snapshots: int) -> int:
    """Steps between two snapshots kept for the replay, so that a run keeps about `max_snapshots`."""
    return max(1, total_steps // max(1, max_snapshots))


class RunRecorder:
    """One run's record: fed events in order, read with `view()`. Plain data; the caller serialises access.

    `total_samples` (training images x epochs) and `steps_per_epoch` fix the time-left estimate and how many
    batches one train-curve point averages. `clock` gives seconds; the rate counts only time spent training
    (from `started` to the end, pauses left out).
    """

    def __init__(
        self, total_samples: int, steps_per_epoch: int, *, clock: Callable[[], float] = time.monotonic
    ):
        self.total_samples = total_samples
        self.log_every = max(1, steps_per_epoch // CURVE_POINTS_PER_EPOCH)
        self.clock = clock
        self.state = JobState.CREATED
        self.message = ""
        self.result = None  # the `TrainResult`, once the run has ended normally
        self.weights: dict | None = None  # the model's state dict as of the last snapshot
        self.live = None  # the last snapshot
        self._snapshots: list = []  # kept for the replay, in step order
        self._progress: Progress | None = None
        self._train_curve: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": []}
        self._test_curve: dict[str, list[float]] = {"epoch": [], "loss": [], "accuracy": []}
        self._window: list[tuple[float, float]] = []  # (loss, accuracy) of each batch since the last point
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._paused_seconds = 0.0
        self._paused_since: float | None = None

    # --- events, in the order a run produces them -------------------------------------------------------
    def queued(self) -> None:
        self.state = JobState.QUEUED

    def launched(self) -> None:
        """The run got a slot: its process is starting."""
        self.state = JobState.RUNNING

    def started(self) -> None:
        """Its first batch is about to be trained: the clock for the rate starts."""
        self.state = JobState.RUNNING
        self._started_at = self.clock()

    def step(self, p: Progress) -> None:
        """One gradient step done: the train curve gets a point every `log_every` steps (the mean of the
        batches since the last one), the test curve one per evaluation."""
        self._progress = p
        self._window.append((p.loss, p.accuracy))
        if p.step % self.log_every == 0 or p.step == p.total_steps:
            losses, accuracies = zip(*self._window, strict=True)
            self._train_curve["epoch"].append(p.epoch)
            self._train_curve["loss"].append(float(np.mean(losses)))
            self._train_curve["accuracy"].append(float(np.mean(accuracies)))
            self._window.clear()
        if p.evaluated:
            self._test_curve["epoch"].append(p.epoch)
            self._test_curve["loss"].append(p.test_loss)
            self._test_curve["accuracy"].append(p.test_accuracy)

    def snapshot(self, snap, keep: bool, weights: dict | None = None) -> None:
        """The model at `snap.step`: the live view shows it; the replay keeps it if `keep` (once per step)."""
        self.live = snap
        if weights is not None:
            self.weights = weights
        if keep and (not self._snapshots or self._snapshots[-1].step != snap.step):
            self._snapshots.append(snap)

    def paused(self) -> None:
        if self.state is JobState.RUNNING:
            self.state = JobState.PAUSED
            self._paused_since = self.clock()

    def resumed(self) -> None:
        if self._paused_since is not None:
            self._paused_seconds += self.clock() - self._paused_since
            self._paused_since = None
        if self.state is JobState.PAUSED:
            self.state = JobState.RUNNING

    def ended(self, state: JobState, message: str = "", result=None) -> None:
        """The run is over: `state` is FINISHED, STOPPED or FAILED. A message set before (why it was stopped)
        wins over `message`."""
        if not state.ended:
            raise ValueError(f"a run ends as finished, stopped or failed, not {state.value}")
        self.resumed()  # a run stopped while paused: its pause ends here
        self._ended_at = self.clock() if self._started_at is not None else None
        self.state, self.result = state, result
        if state is JobState.FINISHED:
            self.message = ""
        else:
            self.message = self.message or message

    def note(self, message: str) -> None:
        """Why the run is being stopped (kept unless a reason is already there)."""
        if message and not self.message:
            self.message = message

    # --- what the page reads ------------------------------------------------------------------------------
    def training_seconds(self) -> float:
        if self._started_at is None:
            return 0.0
        now = self._ended_at if self._ended_at is not None else self.clock()
        paused = self._paused_seconds + (now - self._paused_since if self._paused_since is not None else 0.0)
        return max(0.0, now - self._started_at - paused)

    def view(self) -> JobView:
        p = self._progress
        seconds = self.training_seconds()
        rate = p.samples / seconds if p and seconds > 0 else 0.0
        left = (self.total_samples - p.samples) / rate if p and rate > 0 else None
        return JobView(
            state=self.state,
            message=self.message,
            step=p.step if p else 0,
            total_steps=p.total_steps if p else 0,
            epoch=p.epoch if p else 0.0,
            samples=p.samples if p else 0,
            samples_per_s=rate,
            seconds_left=left if self.state in (JobState.RUNNING, JobState.PAUSED) else None,
            train_curve={k: list(v) for k, v in self._train_curve.items()},
            test_curve={k: list(v) for k, v in self._test_curve.items()},
            live=self.live,
            n_snapshots=len(self._snapshots),
        )

    def snapshots(self) -> list:
        return list(self._snapshots)

    def nbytes(self) -> int:
        """Bytes of the arrays this record holds (the replay's snapshots, the live one, the weights)."""
        return array_bytes((self._snapshots, self.live, self.weights))

    def thin(self, keep: int) -> int:
        """Keep at most `keep` (at least 2) of the replay's snapshots, evenly spread, the first and the last
        among them; returns how many were dropped."""
        n = len(self._snapshots)
        keep = max(2, keep)
        if n <= keep:
            return 0
        chosen = sorted({round(i * (n - 1) / (keep - 1)) for i in range(keep)})
        self._snapshots = [self._snapshots[i] for i in chosen]
        return n - len(chosen)


def array_bytes(obj, depth: int = 4) -> int:
    """Bytes of the numpy arrays in `obj`: an array, or one inside lists, tuples, dicts and dataclasses."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if depth == 0 or obj is None or isinstance(obj, (str, bytes, int, float)):
        return 0
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    elif hasattr(obj, "__dataclass_fields__"):
        items = (getattr(obj, name) for name in obj.__dataclass_fields__)
    else:
        return 0
    return sum(array_bytes(item, depth - 1) for item in items)
