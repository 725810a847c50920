"""Giving freed memory back (`cnnviz.memory`), and what a run keeps once it has ended (its record's bytes)."""

import sys

import numpy as np
import pytest

from cnnviz.lenet.recorder import RunRecorder, array_bytes
from cnnviz.lenet.training import Snapshot
from cnnviz.memory import cap_arenas, release_memory, resident_mb

glibc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's (Linux)")


@glibc
def test_release_memory_gives_back_freed_memory_that_malloc_kept():
    # Start from a trimmed heap: free memory that earlier tests left in it would take the blocks below
    # without the process growing (it failed so once in a full run).
    release_memory()
    before = resident_mb()
    blocks = [bytes(1500) for _ in range(100_000)]  # 150 MB in malloc'd blocks (over pymalloc's 512 B)
    pinned = blocks[::50]  # every 50th stays: the free space between them is inside the heap, not at its top
    del blocks
    kept = resident_mb() - before
    assert release_memory()
    after = resident_mb() - before
    assert kept > 100  # malloc kept the freed blocks...
    assert after < 40, (kept, after)  # ...until trimmed
    assert len(pinned) == 2000


@glibc
def test_the_arenas_can_be_capped():
    assert cap_arenas(2)


def snapshot(step: int) -> Snapshot:
    return Snapshot(
        step, step / 10, np.zeros((6, 5, 5), np.float32), np.zeros((16, 6, 5, 5), np.float32), 0,
        {"C1": np.zeros((6, 28, 28), np.float32)},
    )  # fmt: skip


def test_array_bytes_counts_the_arrays_in_a_snapshot():
    assert array_bytes(snapshot(0)) == 4 * (150 + 2400 + 6 * 784)
    assert array_bytes([snapshot(0), {"w": np.zeros(10)}, None, "text"]) == 4 * (150 + 2400 + 4704) + 80


def test_thinning_a_replay_keeps_the_first_the_last_and_an_even_spread():
    record = RunRecorder(100, 10)
    for step in range(21):
        record.snapshot(snapshot(step), keep=True)
    one = array_bytes(snapshot(0))
    assert record.nbytes() == 22 * one  # 21 kept for the replay, and the live one
    assert record.thin(5) == 16
    assert [s.step for s in record.snapshots()] == [0, 5, 10, 15, 20]
    assert record.nbytes() == 6 * one
    assert record.thin(5) == 0
