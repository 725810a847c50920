"""Images for LeNet-5: 5,000 embedded MNIST digits (the default), the embedded 8x8 digits, MNIST /
Fashion-MNIST from IDX files, and the preprocessing
that turns any of them (or a drawing, an upload, a typed grid) into the model's 1@32x32 input.

A data set's images are kept as uint8 ink counts, 0 (paper) to 255 (full ink), as the IDX files hold them: a
quarter of float32's memory (full MNIST's 70,000 images are 55 MB, not 220 MB). They become float32 in [0, 1]
only a batch at a time, in `to_model_input`, which also takes a drawing or a typed grid already in [0, 1].
The ink is bright on a dark background, as in the data sets themselves.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import shutil
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DIGITS_FILE = ROOT / "assets" / "digits.npz"  # provenance and licence: assets/digits.md
MNIST5K_FILE = ROOT / "assets" / "mnist5k.npz"  # provenance and licence: assets/mnist5k.md


def default_cache() -> Path:
    """Where downloads go: $CNNVIZ_CACHE, else .cache/ in the project (gitignored)."""
    return Path(os.environ.get("CNNVIZ_CACHE", ROOT / ".cache"))


DIGIT_NAMES = tuple(str(d) for d in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

# The four files of an IDX data set, by role; each may also be stored gzipped (name + ".gz").
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class IdxSource:
    """Where an IDX data set can be downloaded from, with the MD5 of each gzipped file."""

    title: str
    base_url: str
    md5: dict[str, str]  # file name (with .gz) -> md5 hex digest
    class_names: tuple[str, ...]


# The checksums are the published ones (also in torchvision's MNIST and FashionMNIST classes).
SOURCES = {
    "mnist": IdxSource(
        "MNIST",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        DIGIT_NAMES,
    ),
    "fashion-mnist": IdxSource(
        "Fashion-MNIST",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        FASHION_NAMES,
    ),
}
DATASETS = ("mnist5k", "digits", *SOURCES)
DEFAULT_DATASET = "mnist5k"  # real handwriting, 28x28, shipped in assets/: trains offline


class DataUnavailable(RuntimeError):
    """The data set is neither on disk nor downloadable; the message says what to do."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of square grayscale images, uint8 ink counts 0..255 (ink bright), and their labels.

    `to_model_input(X)` turns any batch of them into the model's float32 input in [0, 1]."""

    name: str
    X_train: np.ndarray  # (N, S, S) uint8 0..255, S = 8 or 28
    y_train: np.ndarray  # (N,) int64
    X_test: np.ndarray  # (M, S, S) uint8 0..255
    y_test: np.ndarray  # (M,) int64
    class_names: tuple[str, ...]

    @property
    def image_size(self) -> int:
        return self.X_train.shape[-1]

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first `n_train` training and `n_test` test images (for quick runs and tests)."""
        return Dataset(
            self.name,
            self.X_train[:n_train],
            self.y_train[:n_train],
            self.X_test[:n_test],
            self.y_test[:n_test],
            self.class_names,
        )


# ----------------------------------------------------------------------------------------------------------
# The embedded digits


FULL_INK = 255  # the ink count of a fully inked pixel in every `Dataset`'s uint8 images


def unit_floats(X: np.ndarray) -> np.ndarray:
    """Ink counts 0..255 (uint8) as float32 in [0, 1], made in one float32 array (`X / 255.0` would make a
    float64 array twice the size, and `.astype` then a third)."""
    return np.divide(X, np.float32(FULL_INK), dtype=np.float32)


def ink_bytes(X: np.ndarray, full_ink: int) -> np.ndarray:
    """Ink counts 0..full_ink as uint8 0..255, rounded (the 8x8 digits' 0..16 become 0, 16, 32, ..., 255)."""
    if full_ink == FULL_INK:
        return X.astype(np.uint8, copy=False)
    return np.round(X * (FULL_INK / full_ink)).astype(np.uint8)


def _load_shipped(name: str, path: str | Path, full_ink: int) -> Dataset:
    """A digits set shipped in assets/ as an npz of uint8 X_train/y_train/X_test/y_test, ink 0..full_ink."""
    with np.load(path) as npz:
        return Dataset(
            name,
            ink_bytes(npz["X_train"], full_ink),
            npz["y_train"].astype(np.int64),
            ink_bytes(npz["X_test"], full_ink),
            npz["y_test"].astype(np.int64),
            DIGIT_NAMES,
        )


def load_digits(path: str | Path = DIGITS_FILE) -> Dataset:
    """The 1,797 8x8 digits shipped in assets/ (1,438 train, 359 test); their ink counts 0..16 become 0..255."""
    return _load_shipped("digits", path, 16)


def load_mnist5k(path: str | Path = MNIST5K_FILE) -> Dataset:
    """The 5,000 MNIST digits shipped in assets/ (4,000 train, 1,000 test, 100 per class), uint8 0..255."""
    return _load_shipped("mnist5k", path, FULL_INK)


# ----------------------------------------------------------------------------------------------------------
# IDX files (MNIST, Fashion-MNIST)

# The third byte of an IDX file's magic number gives the element type; all are big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


MAX_IDX_BYTES = 100_000_000  # the largest IDX data this app reads (MNIST's train images hold 47,040,000)
_CHUNK = 1 << 16  # bytes read (and, for gzip, inflated) at a time


class _Inflater:
    """Reads a gzip stream's inflated bytes `n` at a time, never inflating more than asked for.

    A crafted file (a few KB that inflate to gigabytes) therefore costs only what the IDX header declares.
    Concatenated gzip members (what `cat a.gz b.gz` makes) are read one after another.
    """

    def __init__(self, stream, name: str):
        self.stream, self.name = stream, name
        self._z = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer around deflate data
        self._pending = b""  # compressed input not yet handed to `_z`

    def _damaged(self, why: str) -> ValueError:
        return ValueError(f"{self.name} is a damaged gzip file ({why}); download it again")

    def read(self, n: int) -> bytes:
        out = []
        while n > 0:
            if self._z.eof:
                rest = self._z.unused_data + self._pending + self.stream.read(_CHUNK)
                if rest[:2] != b"\x1f\x8b":  # the end, perhaps with padding: no further member
                    break
                self._z, self._pending = zlib.decompressobj(wbits=31), rest
            if not self._pending:
                self._pending = self.stream.read(_CHUNK)
                if not self._pending and not self._z.unconsumed_tail:
                    raise self._damaged("it ends early")
            try:
                data = self._z.decompress(self._z.unconsumed_tail + self._pending, n)
            except zlib.error as error:
                raise self._damaged(str(error)) from None
            self._pending = b""
            out.append(data)
            n -= len(data)
        return b"".join(out)


def read_idx(source: str | Path | bytes, *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """An IDX file (gzipped or not) as a numpy array, e.g. (60000, 28, 28) uint8 for MNIST's train images.

    The header's declared shape is checked against `max_bytes` before anything is allocated, and a gzipped
    file is inflated in chunks into that one allocation: a file holding more than it declares is refused
    without inflating the rest.
    """
    name = "the data" if isinstance(source, bytes | bytearray) else Path(source).name
    with io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb") as stream:
        head = stream.read(2)
        stream.seek(0)
        reader = _Inflater(stream, name) if head == b"\x1f\x8b" else stream  # the gzip magic number
        magic = reader.read(4)
        if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
            raise ValueError(f"{name} is not an IDX file (it should start with bytes 0 0 type ndim)")
        ndim = magic[3]
        dims = reader.read(4 * ndim)
        if len(dims) < 4 * ndim:
            raise ValueError(f"{name} ends inside its header; the file is truncated")
        shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
        dtype = np.dtype(_IDX_DTYPES[magic[2]])
        expected = math.prod(shape) * dtype.itemsize
        if expected > max_bytes:
            raise ValueError(
                f"{name} declares shape {shape} ({expected:,} bytes of data), more than the {max_bytes:,} "
                "this app reads; use MNIST-sized files"
            )
        buffer = bytearray(expected)
        view, got = memoryview(buffer), 0
        while got < expected:
            chunk = reader.read(min(_CHUNK, expected - got))
            if not chunk:
                break
            view[got : got + len(chunk)] = chunk
            got += len(chunk)
        if got < expected or reader.read(1):
            more = "less" if got < expected else "more"
            raise ValueError(
                f"{name} declares shape {shape} ({expected:,} bytes of data) but holds {more}; "
                "the file is truncated or damaged"
            )
    array = np.frombuffer(buffer, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)  # uint8 needs no copy; others are swapped


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file (gzipped if `compress`, or if the name ends in .gz)."""
    path = Path(path)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    array = np.asarray(array)
    if array.dtype not in codes:
        raise ValueError(f"IDX cannot store {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += b"".join(n.to_bytes(4, "big") for n in array.shape)
    raw = header + array.astype(_IDX_DTYPES[codes[array.dtype]]).tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        raw = gzip.compress(raw, mtime=0)
    path.write_bytes(raw)
    return path


def find_idx_files(folder: str | Path) -> dict[str, Path]:
    """The IDX files present in `folder` by role; a name may end in .gz, and "-idx" may be ".idx"."""
    folder = Path(folder)
    found = {}
    for role, stem in IDX_FILES.items():
        dotted = stem.replace("-idx", ".idx")  # how some unzip tools name them
        for candidate in (stem, stem + ".gz", dotted, dotted + ".gz"):
            if (folder / candidate).is_file():
                found[role] = folder / candidate
                break
    return found


def load_idx_folder(folder: str | Path, name: str = "mnist") -> Dataset:
    """MNIST or Fashion-MNIST from the four standard IDX files in `folder` (images kept as uint8 0..255)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataUnavailable(f"there is no folder {folder}; type the folder that holds the IDX files")
    found = find_idx_files(folder)
    missing = [IDX_FILES[role] + "[.gz]" for role in IDX_FILES if role not in found]
    if missing:
        raise DataUnavailable(
            f"{folder} lacks {', '.join(missing)}; put all four IDX files of the data set there"
        )
    arrays = {role: read_idx(path) for role, path in found.items()}
    class_names = SOURCES[name].class_names if name in SOURCES else DIGIT_NAMES
    return idx_dataset(name, arrays, class_names)


def idx_dataset(name: str, arrays: dict[str, np.ndarray], class_names: tuple[str, ...]) -> Dataset:
    """The data set of four IDX arrays by role (as `read_idx` returns them): the images must be uint8 0..255,
    as MNIST's are, and are kept as they are (no copy)."""
    for split in ("train", "test"):
        X, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(
                f"the {split} files do not match: images {X.shape}, labels {y.shape}; "
                "expected (N, 28, 28) images and N labels"
            )
        if X.dtype != np.uint8:
            raise ValueError(
                f"the {split} images hold {X.dtype} values; MNIST-like images are unsigned bytes (0..255)"
            )
    return Dataset(
        name,
        arrays["train_images"],
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"],
        arrays["test_labels"].astype(np.int64),
        class_names,
    )


def md5_of(path: str | Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_idx(
    name: str,
    cache_dir: str | Path | None = None,
    *,
    base_url: str | None = None,
    md5: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download the four gzipped IDX files of `name` into `cache_dir/name`, checking each MD5; the folder.

    Files already there with the right checksum are kept. `base_url` and `md5` replace the published ones
    (tests point them at files they wrote, through a file:// URL).
    """
    if name not in SOURCES:
        raise ValueError(f"no download known for {name!r}; choose one of {', '.join(SOURCES)}")
    source = SOURCES[name]
    base_url = base_url or source.base_url
    md5 = md5 or source.md5
    folder = Path(cache_dir or default_cache()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, expected in md5.items():
        target = folder / file_name
        if target.is_file() and md5_of(target) == expected:
            continue
        partial = target.with_name(target.name + ".part")
        try:
            url = base_url + file_name
            with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as f:
                shutil.copyfileobj(response, f)
        except (urllib.error.URLError, OSError) as error:
            partial.unlink(missing_ok=True)
            raise DataUnavailable(
                f"could not download {source.title} ({file_name} from {base_url}: {error}). Without a "
                "network, copy the four IDX files into a folder and name it, or use the embedded digits."
            ) from None
        got = md5_of(partial)
        if got != expected:
            partial.unlink()
            raise DataUnavailable(
                f"{file_name} downloaded with checksum {got}, expected {expected}; the download was damaged "
                "or the mirror changed. Try again later, or copy the files in by hand."
            )
        partial.replace(target)
    return folder


def load_dataset(
    name: str = DEFAULT_DATASET,
    folder: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download: bool = True,
    base_url: str | None = None,
    md5: dict[str, str] | None = None,
) -> Dataset:
    """A data set by name: "mnist5k" or "digits" (both embedded), "mnist" or "fashion-mnist".

    The IDX sets come from `folder` if given, else from the cache, else (with `download`) from the network.
    Raises DataUnavailable, with what to do, when none of those has them.
    """
    if name == "mnist5k":
        return load_mnist5k()
    if name == "digits":
        return load_digits()
    if name not in SOURCES:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if folder:
        return load_idx_folder(folder, name)
    cache_dir = cache_dir or default_cache()
    cached = Path(cache_dir) / name
    if len(find_idx_files(cached)) == len(IDX_FILES):
        return load_idx_folder(cached, name)
    if not download:
        raise DataUnavailable(
            f"{SOURCES[name].title} is not in {cached}. Name a folder holding its four IDX files "
            f"({', '.join(IDX_FILES.values())}, gzipped or not), allow the download, or use the embedded "
            "digits."
        )
    return load_idx_folder(download_idx(name, cache_dir, base_url=base_url, md5=md5), name)


# ----------------------------------------------------------------------------------------------------------
# Preprocessing to the model's input

MODEL_SIZE = 32


def to_model_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Images (N, S, S) or one (S, S) as the model's float32 input (N, 1, 32, 32) in [0, 1].

    uint8 images (a `Dataset`'s, ink counts 0..255) are divided by 255 here, a batch at a time; float images
    (a drawing, a typed grid) are taken as already in [0, 1]. 8x8 digits are upscaled 4x (bilinear: each pixel spreads smoothly over a 4x4 block), 28x28 MNIST images
    are padded by 2 zero pixels on every side (as LeCun did), 32x32 pass through.
    """
    X = np.asarray(images)
    X = torch.as_tensor(unit_floats(X) if X.dtype == np.uint8 else X.astype(np.float32, copy=False))
    if X.ndim == 2:
        X = X[None]  # (1, S, S)
    if X.ndim != 3 or X.shape[1] != X.shape[2]:
        raise ValueError(f"expected square images (N, S, S) or one (S, S); got shape {tuple(X.shape)}")
    X = X[:, None]  # (N, 1, S, S)
    size = X.shape[-1]
    if size == 8:
        return F.interpolate(X, size=(MODEL_SIZE, MODEL_SIZE), mode="bilinear", align_corners=False)
    if size == 28:
        return F.pad(X, (2, 2, 2, 2))
    if size == MODEL_SIZE:
        return X.contiguous()
    raise ValueError(f"LeNet-5 here takes 8x8, 28x28 or 32x32 images; got {size}x{size}")


def grid_to_image(X: np.ndarray) -> np.ndarray:
    """A typed 8x8 or 28x28 grid scaled to [0, 1]: 0..1 kept, 0..16 (8x8 digits) or 0..255 divided."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape not in ((8, 8), (28, 28)):
        raise ValueError(
            f"the grid is {X.shape[0]}x{X.shape[1]}; type 8 rows of 8 numbers (like the digits, 0..16) "
            "or 28 rows of 28 (like MNIST, 0..255)"
        )
    if not np.isfinite(X).all() or X.min() < 0:
        raise ValueError("the grid has negative or non-finite values; use ink amounts from 0 (paper) upwards")
    top = X.max()
    if top <= 1:
        return X.astype(np.float32)
    if X.shape == (8, 8) and top <= 16:
        return (X / 16).astype(np.float32)
    if top <= 255:
        return (X / 255).astype(np.float32)
    raise ValueError(f"the largest value is {top:g}; use 0..1, 0..16 (8x8 digits) or 0..255")


@dataclass(frozen=True)
class Preprocessed:
    """A picture made to look like the training images, with each step kept for the page to show."""

    steps: tuple[tuple[str, np.ndarray], ...]  # (caption, image) in order, the last is `image`
    image: np.ndarray  # (size, size) in [0, 1], ink bright


def prepare_picture(gray: np.ndarray, size: int) -> Preprocessed:
    """A drawing or photo (H, W) of 0..255 or 0..1 made to look like the data: 8x8 digits or 28x28 MNIST.

    Steps: scale to [0, 1]; invert if the background is bright (ink must be bright); crop to the ink; then for
    8x8, fit the ink in a 32x32 box and average 4x4 blocks (how the digits were made); for 28x28, fit it in a
    20x20 box and centre its centre of mass in 28x28 (how MNIST was made).
    """
    if size not in (8, 28):
        raise ValueError(f"size must be 8 (digits) or 28 (MNIST), got {size}")
    X = np.asarray(gray, dtype=np.float64)
    if X.ndim != 2 or min(X.shape) < 2:
        raise ValueError(f"expected a grayscale picture (H, W); got shape {X.shape}")
    X = X / 255.0 if X.max() > 1 else X.copy()
    steps = [("your picture, grayscale", X)]
    border = np.concatenate([X[0], X[-1], X[:, 0], X[:, -1]])
    if np.median(border) > 0.5:
        X = 1.0 - X
        steps.append(("inverted: ink bright on dark", X))
    X = np.where(X > 0.1, X, 0.0)  # faint scanner/paper noise is not ink
    rows, cols = np.flatnonzero(X.max(axis=1)), np.flatnonzero(X.max(axis=0))
    if len(rows) == 0:
        raise ValueError("the picture is blank; draw or upload a digit with clear strokes")
    X = X[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    steps.append(("cropped to the ink", X))
    box = 32 if size == 8 else 20
    h, w = X.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    fitted = Image.fromarray(X.astype(np.float32)).resize((new_w, new_h), Image.Resampling.BILINEAR)
    fitted = np.asarray(fitted, dtype=np.float64)
    if size == 8:
        canvas = np.zeros((32, 32))
        top, left = (32 - new_h) // 2, (32 - new_w) // 2
        canvas[top : top + new_h, left : left + new_w] = fitted
        steps.append(("fitted in a 32x32 box", canvas))
        out = canvas.reshape(8, 4, 8, 4).mean(axis=(1, 3))  # (8, 8): the mean of each 4x4 block
        steps.append(("4x4 blocks averaged: 8x8", out))
    else:
        canvas = np.zeros((28, 28))
        mass = fitted.sum()
        cy = (fitted.sum(axis=1) @ np.arange(new_h)) / mass
        cx = (fitted.sum(axis=0) @ np.arange(new_w)) / mass
        top = int(np.clip(round(13.5 - cy), 0, 28 - new_h))
        left = int(np.clip(round(13.5 - cx), 0, 28 - new_w))
        canvas[top : top + new_h, left : left + new_w] = fitted
        out = canvas
        steps.append(("fitted in 20x20, centred by mass in 28x28", out))
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return Preprocessed(tuple(steps[:-1]) + ((steps[-1][0], out),), out)
