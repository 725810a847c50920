"""The training queue: a cap on concurrent runs, first come first served, runs that outlive a network drop
but not their owner, and a cap that Streamlit's "clear caches" cannot reset."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest
from conftest import Clock, wait_for

from cnnviz.lenet.job import TrainingJob, training_processes
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.recorder import JobState
from cnnviz.lenet.runqueue import TrainingQueue
from cnnviz.lenet.training import TrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def long_job(digits, seed: int = 0) -> TrainingJob:
    return TrainingJob(LeNet5(seed=seed), digits, TrainConfig(epochs=100))


def short_job(digits, seed: int = 0) -> TrainingJob:
    return TrainingJob(LeNet5(seed=seed), digits.subset(64, 16), TrainConfig(epochs=1))


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cnnviz-train-reader"]


class Owners:
    """Which owners are connected, switched by the test."""

    def __init__(self, *names: str):
        self.here = set(names)

    def __call__(self, owner: str) -> bool:
        return owner in self.here


@pytest.mark.slow
def test_runs_beyond_the_cap_wait_in_line_and_start_in_order(digits):
    queue = TrainingQueue(1, owner_alive=Owners("a", "b", "c"))
    first, second, third = long_job(digits), short_job(digits, 1), short_job(digits, 2)
    tokens = [queue.submit(owner, job) for owner, job in zip("abc", (first, second, third), strict=True)]
    try:
        wait_for(lambda: first.view().state is JobState.RUNNING)
        assert [queue.position(t) for t in tokens] == [0, 1, 2]
        assert second.view().state == third.view().state is JobState.QUEUED
        assert (queue.training, queue.waiting) == (1, 2)
        assert len(training_threads()) == 1  # a run in line has no reader thread yet...
        wait_for(lambda: first.child_pid is not None)
        assert training_processes(os.getpid()) == [first.child_pid]  # ...nor a process: what `ps` shows
        first.stop()
        wait_for(lambda: second.view().state in (JobState.RUNNING, JobState.FINISHED))
        assert queue.position(tokens[2]) in (0, 1)  # third moved up (or already started)
        wait_for(lambda: third.view().state is JobState.FINISHED, timeout=60)
        assert second.view().state is JobState.FINISHED and third.join(10)
        assert (queue.training, queue.waiting) == (0, 0)
        assert queue.get(tokens[1]) is second and queue.owner(tokens[1]) == "b"
    finally:
        for job in (first, second, third):
            job.stop()
            job.join(10)


@pytest.mark.slow
def test_a_run_stopped_while_in_line_leaves_it(digits):
    queue = TrainingQueue(1, owner_alive=Owners("a", "b", "c"))
    jobs = [long_job(digits, i) for i in range(3)]
    tokens = [queue.submit(owner, job) for owner, job in zip("abc", jobs, strict=True)]
    try:
        jobs[1].stop()
        view = jobs[1].view()
        assert view.state is JobState.STOPPED and "before its turn" in view.message and not view.active
        queue.reap()
        assert queue.position(tokens[1]) == 0 and queue.position(tokens[2]) == 1
        jobs[0].stop()
        wait_for(lambda: jobs[2].view().state is JobState.RUNNING)
        assert not jobs[1].alive and jobs[1].view().step == 0  # it never trained
    finally:
        for job in jobs:
            job.stop()
            job.join(10)


@pytest.mark.slow
def test_a_short_network_drop_leaves_the_run_going(digits):
    owners = Owners("a")
    queue = TrainingQueue(2, owner_alive=owners, grace=3.0)
    job = long_job(digits)
    queue.submit("a", job)
    try:
        wait_for(lambda: job.view().step > 3)
        owners.here.clear()  # the websocket drops...
        time.sleep(1.0)
        owners.here.add("a")  # ...and the browser reconnects to the same session
        time.sleep(3.0)  # longer than the grace in all: only the time away counts
        step = job.view().step
        wait_for(lambda: job.view().step > step)
        assert job.view().state is JobState.RUNNING and job.alive
    finally:
        job.stop()
        job.join(10)


@pytest.mark.slow
def test_a_run_whose_owner_is_gone_stops_and_its_thread_ends(digits):
    owners = Owners("a", "b")
    queue = TrainingQueue(1, owner_alive=owners, grace=0.5)
    running, waiting = long_job(digits), long_job(digits, 1)
    queue.submit("a", running)
    token = queue.submit("b", waiting)
    wait_for(lambda: running.view().step > 3)
    owners.here.clear()  # both tabs closed
    assert running.join(20)
    assert (
        running.view().state is JobState.STOPPED
        and "page that started it was closed" in running.view().message
    )
    queue.reap()
    assert waiting.view().state is JobState.STOPPED and not waiting.alive and queue.position(token) == 0
    assert not training_threads() and not training_processes(os.getpid())
    assert (queue.training, queue.waiting) == (0, 0)


@pytest.mark.slow
def test_a_paused_run_whose_owner_is_gone_stops_too(digits):
    owners = Owners("a")
    queue = TrainingQueue(1, owner_alive=owners, grace=0.3)
    job = long_job(digits)
    queue.submit("a", job)
    wait_for(lambda: job.view().step > 3)
    job.pause()
    wait_for(lambda: job.view().state is JobState.PAUSED)
    owners.here.clear()
    assert job.join(20) and job.view().state is JobState.STOPPED


@pytest.mark.slow
def test_touch_keeps_a_run_alive_without_a_connection_and_adopt_hands_it_over(digits):
    queue = TrainingQueue(1, grace=1.0)  # no owner_alive: only the page's touches count
    job = long_job(digits)
    token = queue.submit("old-session", job)
    try:
        for _ in range(8):  # 2 s in all, twice the grace
            time.sleep(0.25)
            queue.touch(token)
        assert job.view().state is JobState.RUNNING
        assert queue.adopt(token, "new-session") is job and queue.owner(token) == "new-session"
        assert queue.adopt("no-such-token", "x") is None
    finally:
        job.stop()
        job.join(10)


@pytest.mark.slow
def test_finished_runs_are_forgotten_once_no_page_holds_them(digits):
    queue = TrainingQueue(1, owner_alive=Owners("a"))
    job = short_job(digits)
    token = queue.submit("a", job)
    assert job.join(30) and job.view().state is JobState.FINISHED
    assert queue.get(token) is job  # the page still holds it
    del job
    gc.collect()
    queue.reap()
    assert queue.get(token) is None and token not in queue.tokens()


def test_the_cap_must_be_a_positive_number():
    with pytest.raises(ValueError, match="at least 1, got 0"):
        TrainingQueue(0)


@pytest.mark.slow
def test_a_closed_page_gets_the_short_grace_and_a_broken_connection_the_long_one(digits):
    owners, left, clock = Owners("closed", "dropped"), set(), Clock()
    queue = TrainingQueue(
        2, owner_alive=owners, grace=60.0, owner_left=left.__contains__, left_grace=3.0, clock=clock
    )
    closed, dropped = long_job(digits), long_job(digits, 1)
    queue.submit("closed", closed)
    queue.submit("dropped", dropped)
    try:
        wait_for(lambda: closed.view().step > 3 and dropped.view().step > 3)
        owners.here.clear()  # both connections end...
        left.add("closed")  # ...one page said goodbye, the other's network broke
        clock.now += 2.0
        queue.reap()
        assert not closed.stop_requested  # a refresh within the short grace still finds its run
        clock.now += 2.0  # 4 s away: past the short grace, far from the long one
        queue.reap()
        assert closed.join(20) and closed.view().state is JobState.STOPPED
        assert dropped.view().state is JobState.RUNNING and not dropped.stop_requested
    finally:
        dropped.stop()
        dropped.join(10)
