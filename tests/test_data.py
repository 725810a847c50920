"""Data: the embedded digits, IDX files (written by the tests), downloads via file://, preprocessing."""

import gzip
import subprocess
import sys

import numpy as np
import pytest
import torch

from cnnviz.lenet.data import (
    DIGITS_FILE,
    IDX_FILES,
    DataUnavailable,
    grid_to_image,
    load_dataset,
    load_digits,
    load_idx_folder,
    load_mnist5k,
    md5_of,
    prepare_picture,
    read_idx,
    to_model_input,
    write_idx,
)

ROOT = DIGITS_FILE.parent.parent


def test_embedded_digits_have_a_fixed_stratified_split():
    d = load_digits()
    assert d.X_train.shape == (1438, 8, 8) and d.X_test.shape == (359, 8, 8)
    assert d.X_train.dtype == np.uint8 and d.X_train.min() == 0 and d.X_train.max() == 255
    assert set(d.y_train) == set(d.y_test) == set(range(10))
    assert np.bincount(d.y_test).min() >= 35  # about 20% of every class is held out
    assert DIGITS_FILE.stat().st_size < 200_000
    # The shipped ink counts 0..16 become 0..255, rounded: 16 x 255 / 16 = 255, 1 x 255 / 16 = 15.94 -> 16.
    with np.load(DIGITS_FILE) as npz:
        np.testing.assert_array_equal(d.X_test, np.round(npz["X_test"] * (255 / 16)))
        np.testing.assert_array_equal(np.round(d.X_test * (16 / 255)), npz["X_test"])  # and back, exactly


def test_shipped_mnist_digits_have_a_fixed_split_of_real_28x28_digits():
    d = load_mnist5k()
    assert d.name == "mnist5k" and load_dataset().name == "mnist5k"  # the default data set
    assert d.X_train.shape == (4000, 28, 28) and d.X_test.shape == (1000, 28, 28)
    assert np.bincount(d.y_test).tolist() == [100] * 10 and np.bincount(d.y_train).tolist() == [400] * 10
    assert d.X_train.dtype == np.uint8 and d.X_train.min() == 0 and d.X_train.max() == 255
    # MNIST's digits are centred: the 4-pixel border holds almost no ink, the middle most of it.
    mean = d.X_train.mean(axis=0)
    assert (
        mean[:2].sum() + mean[-2:].sum() < 0.01 * mean.sum() and mean[10:18, 10:18].sum() > 0.2 * mean.sum()
    )
    with np.load(ROOT / "assets" / "mnist5k.npz") as npz:
        assert all(npz[k].dtype == np.uint8 for k in npz.files)
        train_rows = {row.tobytes() for row in npz["X_train"]}
        assert not any(row.tobytes() in train_rows for row in npz["X_test"])  # no test image is trained on
    assert (ROOT / "assets" / "mnist5k.npz").stat().st_size < 1_000_000


def test_the_library_imports_neither_sklearn_nor_streamlit():
    code = (
        "import sys, cnnviz.lenet.data, cnnviz.lenet.model, cnnviz.lenet.training, cnnviz.lenet.train\n"
        "print(sorted(m for m in ('sklearn', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_read_idx_on_hand_written_bytes():
    header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")  # uint8, 2x3
    raw = header + bytes([0, 1, 2, 253, 254, 255])
    np.testing.assert_array_equal(read_idx(raw), [[0, 1, 2], [253, 254, 255]])
    np.testing.assert_array_equal(read_idx(gzip.compress(raw)), [[0, 1, 2], [253, 254, 255]])
    big_endian_int = bytes([0, 0, 0x0C, 1]) + (1).to_bytes(4, "big") + (258).to_bytes(4, "big", signed=True)
    assert read_idx(big_endian_int).tolist() == [258]


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_idx_round_trip(tmp_path, name, dtype):
    X = (np.arange(2 * 4 * 5) % 120).reshape(2, 4, 5).astype(dtype)
    path = write_idx(tmp_path / name, X)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    Y = read_idx(path)
    assert Y.dtype == dtype and Y.shape == (2, 4, 5)
    np.testing.assert_array_equal(Y, X)


def test_bad_idx_files_are_explained(tmp_path):
    path = write_idx(tmp_path / "x-idx3-ubyte", np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(b"PK\x03\x04 a zip file")
    with pytest.raises(ValueError, match="damaged gzip"):
        read_idx(gzip.compress(path.read_bytes())[:30])


def write_fake_mnist(folder, *, gz: bool, n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict:
    """Four IDX files shaped like MNIST: a bright bar whose position encodes the label."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        X = np.zeros((n, 28, 28), np.uint8)
        for i, label in enumerate(y):
            X[i, 4:24, 4 + 2 * label : 6 + 2 * label] = 255
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = X, y
    for role, stem in IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[role])
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_load_idx_folder(tmp_path, gz):
    arrays = write_fake_mnist(tmp_path / "mnist", gz=gz)
    d = load_idx_folder(tmp_path / "mnist", "fashion-mnist")
    assert d.X_train.shape == (40, 28, 28) and d.X_test.shape == (20, 28, 28)
    assert d.X_train.dtype == np.uint8  # kept as the files hold them: a quarter of float32's memory
    np.testing.assert_array_equal(d.X_train, arrays["train_images"])
    np.testing.assert_array_equal(d.y_test, arrays["test_labels"])
    assert d.class_names[9] == "Ankle boot"
    assert to_model_input(d.X_test).shape == (20, 1, 32, 32)


def test_missing_idx_files_are_named(tmp_path):
    write_fake_mnist(tmp_path / "m", gz=True)
    (tmp_path / "m" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailable, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        load_idx_folder(tmp_path / "m")
    with pytest.raises(DataUnavailable, match="there is no folder"):
        load_dataset("mnist", tmp_path / "nowhere")


def test_download_into_the_cache_checks_md5(tmp_path):
    mirror = tmp_path / "mirror"
    arrays = write_fake_mnist(mirror, gz=True)
    md5 = {p.name: md5_of(p) for p in mirror.iterdir()}
    cache = tmp_path / "cache"
    d = load_dataset("mnist", cache_dir=cache, base_url=mirror.as_uri() + "/", md5=md5)
    np.testing.assert_array_equal(d.y_train, arrays["train_labels"])
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(md5)
    # Now cached: found again with no network at all.
    again = load_dataset("mnist", cache_dir=cache, download=False)
    np.testing.assert_array_equal(again.X_test, d.X_test)


def test_a_damaged_download_is_refused_and_removed(tmp_path):
    mirror = tmp_path / "mirror"
    write_fake_mnist(mirror, gz=True)
    md5 = {p.name: md5_of(p) for p in mirror.iterdir()}
    md5["t10k-images-idx3-ubyte.gz"] = "0" * 32
    with pytest.raises(DataUnavailable, match="checksum .* expected 0000"):
        load_dataset("mnist", cache_dir=tmp_path / "cache", base_url=mirror.as_uri() + "/", md5=md5)
    assert not list((tmp_path / "cache" / "mnist").glob("t10k-images*"))


def test_no_files_and_no_network_gives_a_clear_message(tmp_path):
    offline = (tmp_path / "no-such-mirror").as_uri() + "/"
    with pytest.raises(DataUnavailable, match="could not download MNIST.*embedded digits"):
        load_dataset("mnist", cache_dir=tmp_path / "cache", base_url=offline)
    with pytest.raises(DataUnavailable, match="Fashion-MNIST is not in .*Name a folder"):
        load_dataset("fashion-mnist", cache_dir=tmp_path / "cache", download=False)
    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        load_dataset("cifar")


def test_to_model_input_pads_mnist_and_upscales_digits():
    X28 = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    Y = to_model_input(X28)  # (3, 1, 32, 32)
    assert Y.shape == (3, 1, 32, 32) and Y.dtype == torch.float32
    np.testing.assert_array_equal(Y[:, 0, 2:30, 2:30].numpy(), X28)
    assert Y[:, :, :2].abs().sum() == 0 and Y[:, :, :, 30:].abs().sum() == 0  # a 2-pixel zero border
    Y8 = to_model_input(np.full((8, 8), 0.5))  # one image
    assert Y8.shape == (1, 1, 32, 32)
    torch.testing.assert_close(Y8, torch.full((1, 1, 32, 32), 0.5))  # a flat image stays flat
    ramp = to_model_input(np.tile(np.arange(8.0) / 7, (8, 1)))[0, 0]
    assert torch.all(ramp[:, 1:] >= ramp[:, :-1])  # left-to-right order is kept
    with pytest.raises(ValueError, match="8x8, 28x28 or 32x32 images; got 10x10"):
        to_model_input(np.zeros((10, 10)))


def test_a_data_sets_uint8_images_become_the_same_model_input_as_the_floats_it_once_held():
    """A `Dataset` keeps uint8 ink counts; its model input is float32(x) / 255 a batch at a time, the very
    values the images were converted to on loading before (`np.divide(X, np.float32(255), dtype=float32)`)."""
    d = load_mnist5k()
    assert d.X_train.dtype == d.X_test.dtype == np.uint8
    with np.load(ROOT / "assets" / "mnist5k.npz") as npz:
        old = np.divide(npz["X_train"][:64], np.float32(255.0), dtype=np.float32)  # (64, 28, 28)
    X = to_model_input(d.X_train[:64])  # (64, 1, 32, 32)
    assert X.dtype == torch.float32 and float(X.max()) <= 1.0
    np.testing.assert_array_equal(X[:, 0, 2:30, 2:30].numpy(), old)  # bit for bit
    # The 8x8 digits are 0..16 in assets/: their [0, 1] values move by at most half a 255th in the rounding.
    digits = load_digits()
    with np.load(DIGITS_FILE) as npz:
        old8 = to_model_input(npz["X_test"] / np.float32(16))
    np.testing.assert_allclose(
        to_model_input(digits.X_test).numpy(), old8.numpy(), rtol=0, atol=0.5 / 255 + 1e-6
    )


def test_grid_to_image_scales_typed_numbers():
    np.testing.assert_allclose(grid_to_image(np.full((8, 8), 16.0)), 1.0)
    np.testing.assert_allclose(grid_to_image(np.full((8, 8), 0.25)), 0.25)
    np.testing.assert_allclose(grid_to_image(np.full((28, 28), 51.0)), 0.2)
    np.testing.assert_allclose(grid_to_image(np.full((8, 8), 255.0)), 1.0)
    with pytest.raises(ValueError, match="the grid is 5x8; type 8 rows of 8"):
        grid_to_image(np.zeros((5, 8)))
    with pytest.raises(ValueError, match="negative"):
        grid_to_image(-np.ones((8, 8)))
    with pytest.raises(ValueError, match="largest value is 300"):
        grid_to_image(np.full((28, 28), 300.0))


def drawn_one(height=200, width=120) -> np.ndarray:
    """A dark vertical stroke on white paper, like a photo of a handwritten 1."""
    img = np.full((height, width), 255.0)
    img[30:170, 50:66] = 10.0
    return img


def test_prepare_picture_makes_an_8x8_digit():
    p = prepare_picture(drawn_one(), 8)
    assert p.image.shape == (8, 8) and p.image.dtype == np.float32
    assert [caption for caption, _ in p.steps][1] == "inverted: ink bright on dark"
    column_ink = p.image.sum(axis=0)
    assert column_ink[3:5].sum() > 0.9 * column_ink.sum()  # the stroke lands in the middle columns
    assert p.image[1:7, 3:5].min() > 0.4  # a stroke 4 pixels wide in 32x32 half-fills two 4x4 blocks
    assert p.image[:, :3].max() == 0 and p.image[:, 5:].max() == 0
    np.testing.assert_array_equal(p.steps[-1][1], p.image)


def test_prepare_picture_makes_an_mnist_style_28x28():
    p = prepare_picture(255 - drawn_one(), 28)  # already bright on dark: no inversion
    assert "inverted" not in " ".join(c for c, _ in p.steps)
    rows, cols = np.nonzero(p.image)
    assert rows.max() - rows.min() + 1 <= 20  # fitted in a 20x20 box
    cy = (p.image.sum(1) @ np.arange(28)) / p.image.sum()
    cx = (p.image.sum(0) @ np.arange(28)) / p.image.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centred by mass


def test_prepare_picture_rejects_a_blank_page():
    with pytest.raises(ValueError, match="the picture is blank"):
        prepare_picture(np.full((50, 50), 255.0), 8)
