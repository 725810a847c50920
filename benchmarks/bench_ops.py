"""Speed of the vectorised ops against torch.nn.functional on the same input, measured side by side.

Target (issue 2): correlate2d on a 512x512 input with a 3x3 kernel takes at most 5x the time of
torch.nn.functional.conv2d. Run: `.venv/bin/python benchmarks/bench_ops.py`.
"""

import numpy as np
import torch
import torch.nn.functional as F
from timing import median_seconds

from cnnviz import correlate2d, pool2d


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((512, 512))
    K = rng.normal(size=(3, 3))
    x64 = torch.tensor(X)[None, None]
    k64 = torch.tensor(K)[None, None]
    x32, k32 = x64.float(), k64.float()
    np.testing.assert_allclose(correlate2d(X, K), F.conv2d(x64, k64)[0, 0].numpy(), rtol=1e-10, atol=1e-10)

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, numpy {np.__version__}")
    rows = []
    for name, ours, theirs in [
        ("correlate2d 512x512, 3x3 (float64)", lambda: correlate2d(X, K), lambda: F.conv2d(x64, k64)),
        (
            "correlate2d 512x512, 3x3, stride 2 pad 1",
            lambda: correlate2d(X, K, stride=2, padding=1),
            lambda: F.conv2d(x64, k64, stride=2, padding=1),
        ),
        (
            "correlate2d 512x512, 5x5 dilation 2",
            lambda: correlate2d(X, rng.normal(size=(5, 5)), dilation=2),
            lambda: F.conv2d(x64, torch.randn(1, 1, 5, 5, dtype=torch.float64), dilation=2),
        ),
        ("pool2d max 512x512, 2x2", lambda: pool2d(X, 2), lambda: F.max_pool2d(x64, 2)),
    ]:
        a, b = median_seconds(ours, 30), median_seconds(theirs, 30)
        rows.append((name, a, b))
        print(f"{name:45s} cnnviz {a * 1e3:7.2f} ms   torch(float64) {b * 1e3:7.2f} ms   ratio {a / b:5.2f}x")
    t32 = median_seconds(lambda: F.conv2d(x32, k32), 30)
    print(f"{'(torch float32 conv2d, for reference)':45s} {t32 * 1e3:7.2f} ms")
    ratio = rows[0][1] / rows[0][2]
    print(
        f"RESULT correlate2d/torch.conv2d ratio on 512x512 3x3 = {ratio:.2f}x (target <= 5x): {'PASS' if ratio <= 5 else 'MISS'}"
    )


if __name__ == "__main__":
    main()
