"""The one timing helper the benchmark scripts share (a script's own folder is on sys.path)."""

import statistics
import time


def median_seconds(fn, repeats: int = 7) -> float:
    """Median wall time of `fn()` over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
