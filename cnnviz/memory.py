"""Giving the server's freed memory back to the operating system (Linux with glibc; elsewhere nothing).

Measured on the Train page (benchmarks/bench_class.py, tracemalloc beside /proc): after a class trained and
left, the Python objects still held were a few MB (the runs a refresh may reattach to), yet the server's
resident memory stayed 100-140 MB above where it was. The rest was memory already freed but kept by glibc's
malloc: every Streamlit session runs its script in a thread of its own, each thread allocates from one of
up to 8 arenas per core, and an arena gives back to the system only the free space at its top.
`malloc_trim(0)` returns the free pages inside every arena (about 20 ms). A full `gc.collect()` holds the
GIL for 0.5-1.3 s on this server's heap (torch imported; measured on a loaded machine), so it is rare: the
janitor's, at most every 5 minutes, while memory is above its low mark.

`cap_arenas()` also caps the arenas at `ARENAS` (as MALLOC_ARENA_MAX=2 does; measured: 30 sessions that
trained and left kept +137 MB without, +41 MB with), so that freed memory is not scattered over 16 arenas.
`release_memory()` trims once (a run's end and a big picture's decode call it); `start_janitor()` caps the
arenas and starts one daemon thread per process that trims every `every` seconds while the memory is above
its low mark, for the sessions Streamlit lets go of (two minutes after a tab closed).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import threading
import time
from pathlib import Path

__all__ = ["cap_arenas", "release_memory", "resident_mb", "start_janitor"]

ARENAS = 2  # malloc arenas for the whole process (glibc's default: 8 per core)
_M_ARENA_MAX = -8  # mallopt's parameter number for M_ARENA_MAX (glibc's malloc.h)
_JANITOR: threading.Thread | None = None
_JANITOR_LOCK = threading.Lock()
_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6")
            _ = libc.malloc_trim  # glibc only (musl has none)
            _LIBC = libc
    return _LIBC


def resident_mb(pid: int | str = "self") -> float:
    """A process's resident memory (VmRSS), MB (this one's by default); 0 where /proc or the process is gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def release_memory(collect: bool = False) -> bool:
    """Give malloc's free pages back to the system (after a full collection, if `collect`). True if malloc
    was trimmed (Linux with glibc)."""
    if collect:
        gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def cap_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc's arenas for the threads that start from now on (glibc); True if it did."""
    libc = _libc()
    return libc is not None and libc.mallopt(_M_ARENA_MAX, arenas) == 1


def _janitor(every: float, slack_mb: float, collect_every: float) -> None:
    release_memory()
    low = resident_mb()  # the lowest memory seen right after a release
    collected = time.monotonic()
    while True:
        time.sleep(every)
        if resident_mb() - low > slack_mb:  # above the low mark: maybe freed memory that malloc keeps
            collect = time.monotonic() - collected >= collect_every
            release_memory(collect=collect)
            collected = time.monotonic() if collect else collected
            low = min(low, resident_mb())


def start_janitor(every: float = 30.0, slack_mb: float = 16.0, collect_every: float = 300.0) -> None:
    """Cap malloc's arenas and start (once per process) a daemon thread that trims every `every` seconds
    while the resident memory is more than `slack_mb` above the lowest it came back to, with a full
    collection first at most every `collect_every` seconds.

    Why a full collection at all: with torch imported the server holds about 500,000 long-lived objects, and
    Python starts a full collection by itself only when a quarter as many new ones have survived, so closed
    sessions' reference cycles may wait long. (Measured, 10 cycles of a class training and leaving: -2.0%
    with a collection every 30 s, +6.6% with none, +8.4% with one every 5 minutes; most of the drift is the
    runs kept for reattaching, about 2 MB each, which `RunRegistry` bounds.)"""
    global _JANITOR
    with _JANITOR_LOCK:
        if _JANITOR is None and _libc() is not None:
            cap_arenas()
            _JANITOR = threading.Thread(
                target=_janitor, args=(every, slack_mb, collect_every), name="cnnviz-memory", daemon=True
            )
            _JANITOR.start()
