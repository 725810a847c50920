"""Memory with a bound: a big upload is decoded at the size the page needs, a gzip bomb is refused early."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.inputs import MAX_SIDE, load_image
from cnnviz.lenet.data import load_idx_folder, read_idx

ROOT = Path(__file__).resolve().parent.parent
MB = 1 << 20


def gzip_of(header: bytes, zeros: int) -> bytes:
    """A gzip file holding `header` and then `zeros` zero bytes, built without holding them all at once."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts, block = [z.compress(header)], bytes(MB)
    for _ in range(zeros // MB):
        parts.append(z.compress(block))
    parts.append(z.compress(bytes(zeros % MB)))
    return b"".join([*parts, z.flush()])


def idx_header(*shape: int, dtype: int = 0x08) -> bytes:
    return bytes([0, 0, dtype, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def test_a_gzip_that_inflates_far_beyond_its_header_is_refused_without_inflating_it():
    bomb = gzip_of(idx_header(10, 28, 28), 64 * MB)  # about 64 KB on disk, 64 MB inflated
    assert len(bomb) < MB // 4
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match=r"declares shape \(10, 28, 28\) \(7,840 bytes of data\) but holds more"
        ):
            read_idx(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MB  # the declared 7,840 bytes and a few chunks, not the 64 MB


def test_a_full_mnist_sized_set_costs_its_uint8_bytes_and_no_float_copy(tmp_path):
    """70,000 28x28 images: 52 MB as the uint8 the files hold; a float32 copy would add 210 MB at the peak."""
    for stem, shape in (
        ("train-images-idx3-ubyte.gz", (60_000, 28, 28)),
        ("train-labels-idx1-ubyte.gz", (60_000,)),
        ("t10k-images-idx3-ubyte.gz", (10_000, 28, 28)),
        ("t10k-labels-idx1-ubyte.gz", (10_000,)),
    ):
        (tmp_path / stem).write_bytes(gzip_of(idx_header(*shape), int(np.prod(shape))))
    tracemalloc.start()
    try:
        data = load_idx_folder(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.X_train.dtype == data.X_test.dtype == np.uint8
    images = data.X_train.nbytes + data.X_test.nbytes
    assert images == 70_000 * 28 * 28
    assert peak < images + 4 * MB, f"{peak / MB:.0f} MB at the peak for {images / MB:.0f} MB of images"


def test_a_header_declaring_a_huge_array_is_refused_before_allocating():
    huge = gzip_of(idx_header(100_000, 1000, 1000), 0)  # 100 GB declared
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"declares shape \(100000, 1000, 1000\).*more than the"):
            read_idx(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MB


def test_read_idx_reads_concatenated_gzip_members_and_ignores_trailing_padding():
    raw = idx_header(2, 3) + bytes([0, 1, 2, 253, 254, 255])
    z = zlib.compressobj(wbits=31)
    first = z.compress(raw[:9]) + z.flush()
    z = zlib.compressobj(wbits=31)
    second = z.compress(raw[9:]) + z.flush()
    np.testing.assert_array_equal(read_idx(first + second + bytes(8)), [[0, 1, 2], [253, 254, 255]])


def test_a_big_jpeg_is_decoded_small_and_still_turned_upright():
    img = Image.new("RGB", (4000, 2000), (200, 200, 200))
    img.paste((0, 0, 0), (0, 0, 400, 2000))  # a dark band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the band ends up at the top
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", exif=exif, quality=90)
    X = load_image(buffer.getvalue(), max_side=100)
    assert X.shape == (100, 50)
    assert X[:5].mean() < 40 and X[-5:].mean() > 160


def test_no_image_comes_back_larger_than_max_side():
    X = load_image(png_bytes(Image.new("L", (3000, 1500), 7)))
    assert X.shape == (MAX_SIDE // 2, MAX_SIDE)


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# Pillow allocates outside Python's tracemalloc, so the whole process's peak resident memory is measured
# in a fresh interpreter that holds only the uploaded bytes: its peak after the upload minus its peak before.
_MAKE = """
import sys
from PIL import Image
img = Image.new("RGBA", (8000, 5000), (10, 200, 30, 255))  # 40 megapixels, the largest allowed
img.paste((255, 255, 255, 0), (0, 0, 4000, 5000))
img.save(sys.argv[1], "PNG", compress_level=1)
"""
# The resident memory is sampled every 2 ms by a thread while another thread decodes, as a server's session
# thread does (ru_maxrss missed the peak: it counts the interpreter's own earlier peak).
_MEASURE = """
import sys, threading, time
from pathlib import Path
from cnnviz.inputs import load_image
from cnnviz.memory import resident_mb as rss
data = Path(sys.argv[1]).read_bytes()
before, peak, shapes, done = rss(), [0], [], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
sampler = threading.Thread(target=sample)
sampler.start()
for mode in ("RGB", "L"):
    worker = threading.Thread(target=lambda: shapes.append(load_image(data, mode=mode, max_side=512).shape))
    worker.start()
    worker.join()
done.set()
sampler.join()
print(shapes[0], int(peak[0] - before), int(rss() - before))
"""


def test_a_40_megapixel_png_raises_peak_memory_by_less_than_200_mb(tmp_path):
    path = tmp_path / "big.png"
    subprocess.run([sys.executable, "-c", _MAKE, str(path)], check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    shape, grew_mb, kept_mb = out.stdout.rsplit(" ", 2)
    assert shape == "(320, 512, 3)"
    # Decoding alone takes 160 MB (8000 x 5000 x RGBA); converting at full size took 400 MB more, and
    # Pillow's `reduce` of a picture with alpha another 150 MB (a premultiplied copy).
    assert int(grew_mb) < 200, f"peak memory grew by {grew_mb} MB"
    assert int(kept_mb) < 40, f"{kept_mb} MB kept after decoding"  # given back (`cnnviz.memory`): 150 without


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_a_picture_with_alpha_is_reduced_strip_by_strip_as_pillow_reduces_it_whole(mode):
    from cnnviz.inputs import _reduce

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (1003, 2011, len(mode)), dtype=np.uint8), mode)
    ours = _reduce(img, 100)  # factor 6: 2011 // 300
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(img.reduce(6)))
    assert ours.size == (336, 168)  # rounded up, as Pillow does
