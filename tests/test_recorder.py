"""The run recorder: curves, snapshots, states and the time-left estimate, fed by hand with a hand clock (no
thread, no process, no torch)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import Clock

from cnnviz.lenet.recorder import ACTIVE_STATES, JobState, RunRecorder, snapshot_every


@dataclass(frozen=True)
class P:
    """What `cnnviz.lenet.training.Progress` carries that the recorder reads."""

    step: int
    total_steps: int
    epoch: float
    samples: int
    loss: float
    accuracy: float
    test_loss: float | None = None
    test_accuracy: float | None = None

    @property
    def evaluated(self) -> bool:
        return self.test_accuracy is not None


@dataclass(frozen=True)
class Snap:
    step: int


def steps(first: int, last: int, per_epoch: int = 40, total: int = 80, batch: int = 10):
    """Progress of steps first..last, loss = step, accuracy = step / 100; a test evaluation each epoch."""
    for s in range(first, last + 1):
        test = (1.0 / s, 0.5) if s % per_epoch == 0 else (None, None)
        yield P(s, total, s / per_epoch, s * batch, float(s), s / 100, *test)


def test_the_states_are_an_enum_that_prints_as_its_word():
    assert str(JobState.RUNNING) == "running" and f"{JobState.PAUSED}" == "paused"
    assert {s for s in JobState if s.active} == set(ACTIVE_STATES)
    assert JobState.FINISHED.ended and not JobState.QUEUED.ended


def test_the_train_curve_averages_two_steps_per_point_and_the_test_curve_has_each_evaluation():
    record = RunRecorder(800, 40)  # 40 steps per epoch: a point every 2 steps (20 per epoch)
    record.started()
    for p in steps(1, 41):
        record.step(p)
    v = record.view()
    assert v.train_curve["loss"][:3] == [1.5, 3.5, 5.5]  # means of steps (1, 2), (3, 4), (5, 6), by hand
    assert v.train_curve["accuracy"][0] == pytest.approx(0.015)
    assert v.train_curve["epoch"][:2] == [2 / 40, 4 / 40] and len(v.train_curve["loss"]) == 20
    assert v.test_curve == {"epoch": [1.0], "loss": [1 / 40], "accuracy": [0.5]}
    assert (v.step, v.total_steps, v.samples) == (41, 80, 410)


def test_the_last_step_closes_the_curve_whatever_is_left_in_the_window():
    record = RunRecorder(70, 7)  # fewer steps per epoch than points: a point per step
    record.started()
    for p in steps(1, 7, per_epoch=7, total=7):
        record.step(p)
    assert record.view().train_curve["loss"] == [1.0, 2, 3, 4, 5, 6, 7]


def test_the_rate_leaves_pauses_out_and_the_estimate_follows_it():
    clock = Clock()
    record = RunRecorder(800, 40, clock=clock)
    record.queued()
    assert record.view().state is JobState.QUEUED and record.view().seconds_left is None
    clock.now += 5  # waiting in line does not count
    record.launched()
    record.started()
    clock.now += 2
    record.step(P(20, 80, 0.5, 200, 1.0, 0.5))
    v = record.view()
    assert v.samples_per_s == 100 and v.seconds_left == 6  # 600 samples left at 100 per second
    record.paused()
    clock.now += 50
    v = record.view()
    assert v.state is JobState.PAUSED and v.samples_per_s == 100 and v.seconds_left == 6
    record.resumed()
    clock.now += 2
    record.step(P(40, 80, 1.0, 400, 1.0, 0.5))
    assert record.view().samples_per_s == 100 and record.view().state is JobState.RUNNING


def test_an_ended_run_keeps_its_rate_and_shows_no_time_left():
    clock = Clock()
    record = RunRecorder(100, 10, clock=clock)
    record.started()
    clock.now += 4
    record.step(P(10, 10, 1.0, 100, 1.0, 1.0))
    record.ended(JobState.FINISHED, result="done")
    clock.now += 60  # the page looks later: the rate does not decay
    v = record.view()
    assert v.samples_per_s == 25 and v.seconds_left is None and v.state is JobState.FINISHED
    assert record.result == "done" and v.message == ""


def test_a_stop_keeps_the_first_reason_given():
    record = RunRecorder(100, 10)
    record.started()
    record.note("stopped: the page that started it was closed")
    record.note("stopped: something later")
    record.ended(JobState.STOPPED, "stopped after 0.5 epochs")
    assert record.view().message == "stopped: the page that started it was closed"
    plain = RunRecorder(100, 10)
    plain.ended(JobState.STOPPED, "stopped after 0.5 epochs")
    assert plain.view().message == "stopped after 0.5 epochs"
    with pytest.raises(ValueError, match="not running"):
        plain.ended(JobState.RUNNING)


def test_a_run_stopped_while_paused_ends_its_pause():
    clock = Clock()
    record = RunRecorder(100, 10, clock=clock)
    record.started()
    clock.now += 1
    record.step(P(5, 10, 0.5, 50, 1.0, 1.0))
    record.paused()
    clock.now += 30
    record.ended(JobState.STOPPED, "stopped")
    assert record.training_seconds() == 1 and record.view().samples_per_s == 50


def test_snapshots_the_live_view_and_the_replay():
    record = RunRecorder(100, 10)
    record.snapshot(Snap(0), keep=True, weights={"w": 0})
    record.snapshot(Snap(3), keep=False, weights={"w": 3})  # live only
    record.snapshot(Snap(5), keep=True)
    record.snapshot(Snap(5), keep=True)  # the same step twice: kept once
    v = record.view()
    assert v.live == Snap(5) and v.n_snapshots == 2
    assert [s.step for s in record.snapshots()] == [0, 5]
    assert record.weights == {"w": 3}  # a snapshot without weights keeps the last ones


def test_snapshot_every_keeps_about_the_number_asked():
    assert snapshot_every(1500, 40) == 37 and snapshot_every(10, 40) == 1 and snapshot_every(0, 0) == 1
