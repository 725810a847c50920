"""Sharing one server fairly: a cap on concurrent training runs and a first-come, first-served line.

The queue caps the runs training at once (each is a child process on one torch thread), queues the rest,
and stops the runs whose owners (browser sessions) have gone for longer than a grace period.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from cnnviz.lenet.job import TrainingJob


@dataclass(eq=False)
class _Entry:
    owner: str
    job: TrainingJob | None  # held while queued or training; afterwards only `ref`, the owner's page holds it
    ref: weakref.ref
    last_seen: float  # when the owner was last known to be there


class TrainingQueue:
    """At most `limit` runs train at once for this server process; the others wait in line, first come first
    served.

    It owns no thread: `submit` starts a job (its child process and reader thread) when a slot is free, and a
    job's reader thread, as its last act, lets the next one in line start. One instance per server process (a
    module global, not a cache a "clear caches" could drop) holds every run, so the cap holds whatever the
    sessions do.

    Each run has an `owner` (a browser session's id) and a token. A run whose owner has been gone for
    `grace` seconds is stopped (or leaves the line): `owner_alive(owner)` says whether the owner is connected,
    and `touch(token)` says that it just was. A network drop shorter than `grace` changes nothing. An owner
    that left on purpose (`owner_left(owner)`: its page was closed, not its connection broken) gets the
    shorter `left_grace`, time enough for a refresh to adopt the run.
    """

    def __init__(
        self,
        limit: int = 2,
        *,
        owner_alive: Callable[[str], bool] | None = None,
        grace: float = 10.0,
        owner_left: Callable[[str], bool] | None = None,
        left_grace: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if limit < 1:
            raise ValueError(f"the cap on concurrent training runs must be at least 1, got {limit}")
        self.limit, self.grace, self.left_grace = limit, grace, min(left_grace, grace)
        self._owner_alive = owner_alive or (lambda owner: False)
        self._owner_left = owner_left or (lambda owner: False)
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._line: list[str] = []  # tokens waiting, first in line first
        self._training: set[str] = set()  # tokens of the runs holding a slot

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
                elif job.state.active and not self._owner_here(token):
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
                return True
            grace = self.left_grace if self._owner_left(entry.owner) else self.grace
            return now - entry.last_seen <= grace

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
        """A run is ending: free its slot, let the next in line start, keep only a weak reference."""
        with self._lock:
            self._training.discard(token)
            entry = self._entries.get(token)
            if entry is not None:
                entry.job = None
            self.reap()
