"""Pooling page speed: the backward pass beside torch autograd, and a whole page run.

Run: .venv/bin/python benchmarks/bench_pooling.py
Prints, side by side in one run, the time for the same pooling backward pass by cnnviz's vectorised
`pool_backward` (one array operation per tap), by the window-by-window rule (`window_gradient` summed over
every step, what the page explains for one cell) and by torch autograd; then how long the Pooling page's
script takes under AppTest (first run, then reruns).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cnnviz.lessons.pooling import pool_backward, window_gradient  # noqa: E402
from cnnviz.trace import pool_trace  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` calls, in milliseconds (the least disturbed by a busy machine)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * min(times)


def torch_backward(X, G, size, stride, mode):
    t = torch.tensor(X)[None, None].requires_grad_()  # (N=1, C=1, H, W), float64
    Y = F.max_pool2d(t, size, stride) if mode == "max" else F.avg_pool2d(t, size, stride)
    Y.backward(torch.tensor(G)[None, None])
    return t.grad[0, 0].numpy()


def by_steps(trace, G):
    """The backward pass window by window: each step's share added to the padded gradient."""
    padded = np.zeros(trace.padded.shape)
    for step in trace.steps():
        padded[np.ix_(step.rows, step.cols)] += window_gradient(step, G[step.index])
    return padded


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print("Backward pass through pooling, float64, one thread (best of 5, ms)")
    print(
        f"{'input':<8} {'window':<7} {'stride':>6} {'mode':>4} {'steps':>6} {'cnnviz':>8} "
        f"{'by step':>8} {'torch':>8} {'agree':>6}"
    )
    for n, size, stride, mode in [
        (4, 2, 2, "max"),
        (12, 2, 2, "max"),
        (32, 2, 2, "max"),
        (32, 3, 1, "avg"),
        (64, 2, 2, "max"),
        (64, 3, 1, "max"),
    ]:
        X = rng.normal(size=(n, n))
        trace = pool_trace(X, size, stride=stride, mode=mode)
        G = rng.normal(size=trace.shape)
        ours = best_of(lambda trace=trace, G=G: pool_backward(trace, G))
        stepped = best_of(lambda trace=trace, G=G: by_steps(trace, G), repeat=2)
        theirs = best_of(
            lambda X=X, G=G, size=size, stride=stride, mode=mode: torch_backward(X, G, size, stride, mode)
        )
        grad = pool_backward(trace, G)
        agree = np.allclose(grad.dX, torch_backward(X, G, size, stride, mode), rtol=1e-12)
        agree &= np.allclose(grad.padded, by_steps(trace, G), rtol=1e-12)
        shape, window = f"{n}x{n}", f"{size}x{size}"
        print(
            f"{shape:<8} {window:<7} {stride:>6} {mode:>4} {trace.n_steps:>6} {ours:>8.3f} "
            f"{stepped:>8.1f} {theirs:>8.3f} {agree!s:>6}"
        )

    from conftest import app_test

    at = app_test("pages/3_Pooling.py")
    t = time.perf_counter()
    at.run()
    first = 1000 * (time.perf_counter() - t)
    assert not at.exception, at.exception
    reruns = []
    for _ in range(5):
        t = time.perf_counter()
        at.run()
        reruns.append(1000 * (time.perf_counter() - t))
    print()
    print(
        "Pooling page under AppTest (ms): first run (imports, figures built)",
        f"{first:.0f};",
        "reruns (cached figures)",
        ", ".join(f"{r:.0f}" for r in reruns),
    )


if __name__ == "__main__":
    main()
