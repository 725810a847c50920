"""The runs a server remembers for reattaching (`ui.train_session.RunRegistry`) stay within their bytes."""

from dataclasses import dataclass

from cnnviz.lenet.recorder import JobState
from ui.train_session import THINNED_REPLAY, RunRegistry

MB = 1 << 20


@dataclass
class FakeRun:
    """A run's size: `snapshots` of 1 MB each; thinning keeps `keep` of them."""

    snapshots: int
    alive: bool = False

    @property
    def state(self) -> JobState:
        return JobState.RUNNING if self.alive else JobState.FINISHED

    def nbytes(self) -> int:
        return self.snapshots * MB

    def thin_replay(self, keep: int) -> int:
        dropped = max(0, self.snapshots - keep)
        self.snapshots -= dropped
        return dropped


def test_within_its_bytes_the_registry_changes_nothing():
    runs = RunRegistry(limit=10, max_bytes=100 * MB)
    for i in range(3):
        runs.add(f"t{i}", FakeRun(30))
    assert runs.nbytes() == 90 * MB and all(runs.get(f"t{i}") for i in range(3))


def test_over_its_bytes_the_oldest_ended_runs_are_thinned_first():
    runs = RunRegistry(limit=10, max_bytes=100 * MB)
    old, middle, new = FakeRun(40), FakeRun(40), FakeRun(40)
    for token, run in (("old", old), ("middle", middle), ("new", new)):
        runs.add(token, run)
    assert old.snapshots == THINNED_REPLAY and middle.snapshots == new.snapshots == 40
    assert runs.get("old") is old  # still there: a refresh finds it, with a shorter replay
    assert runs.nbytes() <= 100 * MB


def test_runs_still_training_are_never_thinned_and_the_oldest_ended_are_forgotten_last():
    runs = RunRegistry(limit=10, max_bytes=10 * MB)  # the ended runs thinned to 8 + 8 MB: still over
    training = FakeRun(40, alive=True)
    runs.add("training", training)
    runs.add("a", FakeRun(15))
    runs.add("b", FakeRun(15))
    assert training.snapshots == 40  # untouched, though over the budget alone
    assert runs.get("a") is None  # the oldest ended run: forgotten
    assert runs.get("b").snapshots == THINNED_REPLAY and runs.get("training") is training
