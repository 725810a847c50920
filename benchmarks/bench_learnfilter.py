"""Learn a filter: what one redraw tick costs, measured side by side in one run.

The page redraws every 0.5 s while learning and takes a batch of steps per redraw. This prints
- one gradient step of the numpy fit (analytic gradient, the input correlated with the error map) beside
  the same step through torch autograd (float64), on the page's default training set;
- the figures one redraw builds, and a whole tick (5 and 50 steps plus every figure) against the 0.5 s budget;
- how many steps each optimiser needs from the seeded start to bring every weight within 0.01 of the target.

Run: .venv/bin/python benchmarks/bench_learnfilter.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnviz.draw.learnfilter import kernels_figure, loss_figure, outputs_figure, weights_figure  # noqa: E402
from cnnviz.inputs import load_image  # noqa: E402
from cnnviz.lessons.learnfilter import (  # noqa: E402
    Fit,
    FitConfig,
    compare,
    curvature,
    loss_and_gradient,
    make_problem,
    random_images,
    standardise,
)
from cnnviz.lessons.presets import KERNELS  # noqa: E402
from cnnviz.ops import correlate2d  # noqa: E402

TICK_SECONDS = 0.5


def best_ms(fn, repeat: int = 5, number: int = 5) -> float:
    """The best of `repeat` averages over `number` calls, in milliseconds (the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e3


def main() -> None:
    torch.set_num_threads(1)
    shapes = load_image(ROOT / "assets" / "shapes.png", mode="L", max_side=64)
    scene = standardise(load_image(ROOT / "assets" / "scene.png", mode="L", max_side=96))
    K = KERNELS["Vertical edge"].array
    problem = make_problem([shapes, *random_images(2, 32, seed=0)], K)  # the page's defaults
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"training set: shapes.png (64x64) + 2 noise pictures (32x32), {problem.n_cells:,} target cells")

    W = np.random.default_rng(0).normal(0, 0.5, (3, 3))
    Xs = [torch.from_numpy(t.X)[None, None] for t in problem.inputs]  # (1, 1, H, W) each
    Ys = [torch.from_numpy(Y) for Y in problem.targets]

    def torch_step():
        Wt = torch.tensor(W, requires_grad=True)
        loss = sum(((F.conv2d(X, Wt[None, None])[0, 0] - Y) ** 2).sum() for X, Y in zip(Xs, Ys, strict=True))
        (loss / problem.n_cells).backward()
        return Wt.grad

    _, G = loss_and_gradient(problem, W)
    assert np.allclose(G, torch_step().numpy(), rtol=1e-10)
    print("\none loss + gradient evaluation")
    print(f"  numpy, analytic (X correlated with E) {best_ms(lambda: loss_and_gradient(problem, W)):7.2f} ms")
    print(f"  torch autograd, float64, 1 thread     {best_ms(torch_step):7.2f} ms")

    fit = Fit.start(problem, seed=0).advance(FitConfig(lr=0.1, optimizer="gd"), 300)
    target_test = correlate2d(scene, K)
    figures = {
        "kernels (3 grids)": lambda: kernels_figure(fit.W, K, step=fit.steps),
        "loss curve (300 steps)": lambda: loss_figure(fit.history_loss),
        "weight paths (9 x 300)": lambda: weights_figure(fit.history_W, K),
        "unseen picture 96x72 + 2 maps": lambda: outputs_figure(
            scene, target_test, correlate2d(scene, fit.W)
        ),
    }
    print("\nfigures built per redraw (plotly, to JSON as Streamlit sends them)")
    total_figures = 0.0
    for name, make in figures.items():
        ms = best_ms(lambda make=make: make().to_json(), repeat=3, number=3)
        total_figures += ms
        print(f"  {name:32s} {ms:7.1f} ms")
    print(f"  {'all figures':32s} {total_figures:7.1f} ms")
    print(f"\none redraw tick (budget {TICK_SECONDS * 1e3:.0f} ms between redraws)")
    for batch in (5, 50):
        step_ms = best_ms(lambda batch=batch: fit.advance(FitConfig(lr=0.1, optimizer="gd"), batch), 3, 1)
        tick = step_ms + total_figures
        print(
            f"  {batch:3d} steps {step_ms:6.1f} ms + figures = {tick:6.1f} ms"
            f"  ({100 * tick / (TICK_SECONDS * 1e3):.0f}% of the tick; {batch / TICK_SECONDS:.0f} steps/s)"
        )

    eig = curvature(problem)
    print(f"\nsteps until every weight is within 0.01 of the target (curvatures {eig[0]:.3g}..{eig[-1]:.3g})")
    for optimizer, lr in (("gd", 0.1), ("momentum", 0.02), ("adam", 0.05)):
        fit = Fit.start(problem, seed=0).advance(FitConfig(lr=lr, optimizer=optimizer), 1000)
        errors = [compare(w, K)["max_error"] for w in fit.history_W]
        hit = next((t for t, e in enumerate(errors) if e < 0.01), None)
        print(f"  {optimizer:9s} lr {lr:<5} {hit if hit is not None else '> 1000':>6} steps")
    smooth = make_problem([shapes], K)
    fit = Fit.start(smooth, seed=0).advance(FitConfig(lr=0.1, optimizer="gd"), 1000)
    e = compare(fit.W, K)["max_error"]
    print(
        f"  gd on shapes.png alone (condition {curvature(smooth)[-1] / curvature(smooth)[0]:.0f}): {e:.3f} after 1000"
    )


if __name__ == "__main__":
    main()
