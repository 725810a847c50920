"""Extract scikit-learn's 8x8 digits into `assets/digits.npz` with a fixed train/test split.

Run once, in the dev venv (scikit-learn is a dev-only tool here; the app never imports it):

    .venv/bin/python scripts/extract_digits.py

The split is stratified by class and seeded, so every checkout trains and tests on the same images.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent.parent / "assets" / "digits.npz"
TEST_FRACTION = 0.2  # 20% of each class held out: 360 test images, 1,437 training images
SEED = 5  # fixes which images are held out


def main() -> None:
    digits = load_digits()
    X = digits.images.astype(np.uint8)  # (1797, 8, 8), ink counts 0..16
    y = digits.target.astype(np.uint8)  # (1797,)
    rng = np.random.default_rng(SEED)
    test_idx = []
    for c in range(10):
        members = np.flatnonzero(y == c)
        n_test = round(len(members) * TEST_FRACTION)
        test_idx.extend(rng.choice(members, size=n_test, replace=False))
    test = np.zeros(len(y), dtype=bool)
    test[test_idx] = True
    train_order = rng.permutation(np.flatnonzero(~test))
    test_order = np.sort(np.flatnonzero(test))
    np.savez_compressed(
        OUT,
        X_train=X[train_order],
        y_train=y[train_order],
        X_test=X[test_order],
        y_test=y[test_order],
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {(~test).sum()} train, {test.sum()} test")


if __name__ == "__main__":
    main()
