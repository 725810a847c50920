"""What one upload costs the server's memory, through the real server (issue 13: at most 200 MB each).

    .venv/bin/python benchmarks/bench_uploads.py

Starts the app (`streamlit run app.py`) and drives real sessions over the websocket (benchmarks/stclient.py:
the upload is what a browser does, a `file_urls_request` and an HTTP PUT to /_stcore/upload_file/...), then:

1. a 40-megapixel PNG (8000 x 5000, the largest Pillow opens here) to the Home page's picture upload;
2. a gzipped IDX file whose header declares 10 images but which inflates to 64 MB, to the Train page's
   IDX upload (MNIST full);
3. five sessions uploading the 40-megapixel PNG at the same moment;
4. the four files of a full-MNIST-sized data set (60,000 + 10,000 images, gzipped) to the Train page.

For each it prints the server's resident memory (VmRSS, sampled from /proc every 10 ms) before, its peak
while the upload is read and the page reruns, and 3 s after; the rise at the peak per upload against the
200 MB target. The exit status is 1 if a case misses it.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stclient import Session  # noqa: E402
from timing import serve_streamlit  # noqa: E402

from cnnviz.memory import resident_mb  # noqa: E402

MB = 1 << 20
TARGET_MB = 200


class Peak:
    """The highest resident memory of process `pid` while the `with` block runs (sampled every 10 ms)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._done = pid, 0.0, threading.Event()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, resident_mb(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> Peak:
        self.peak = resident_mb(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.2)
        self._done.set()
        self._thread.join()


def big_png(variant: int = 0) -> bytes:
    """40 megapixels (8000 x 5000 RGBA), half transparent: a few hundred KB as PNG, 160 MB decoded. Each
    `variant` differs by a pixel, so that the page's cache of decoded uploads (keyed by the bytes) misses."""
    img = Image.new("RGBA", (8000, 5000), (10, 200, 30, 255))
    img.paste((255, 255, 255, 0), (0, 0, 4000, 5000))
    img.putpixel((variant, 0), (0, 0, 0, 255))
    buffer = io.BytesIO()
    img.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def gzip_of(parts) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    return b"".join([*(z.compress(p) for p in parts), z.flush()])


def idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def idx_bomb() -> bytes:
    """A header declaring (10, 28, 28) followed by 64 MB of zeros, gzipped: about 64 KB."""
    return gzip_of([idx_header(10, 28, 28), *(bytes(MB) for _ in range(64))])


def mnist_sized() -> list[tuple[str, bytes]]:
    """Four IDX files shaped like MNIST (60,000 + 10,000 images of 28x28, labels 0-9), gzipped."""
    rng = np.random.default_rng(0)
    files = []
    for stem, n in (("train", 60_000), ("t10k", 10_000)):
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 10:18, 10:18] = rng.integers(0, 256, (n, 1, 1), dtype=np.uint8)  # compresses well
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        files.append((f"{stem}-images-idx3-ubyte.gz", gzip_of([idx_header(n, 28, 28), images.tobytes()])))
        files.append((f"{stem}-labels-idx1-ubyte.gz", gzip_of([idx_header(n), labels.tobytes()])))
    return files


def opened(url: str, page: str, query: dict[str, str], key: str) -> tuple[Session, object]:
    session = Session(url, page, timeout=300)
    session.query = urlencode(query)
    session.open()
    session.run()
    uploader = session.find("file_uploader", key)
    if uploader is None:
        raise SystemExit(f"no file uploader {key!r} on {page or 'Home'}; elements: {session.elements[:20]}")
    return session, uploader


def measure(pid: int, label: str, uploads: list, check) -> bool:
    """Run the uploads (each a (session, uploader, files) triple) at once; print the memory; True if ok."""
    time.sleep(1)
    before = resident_mb(pid)
    errors: list[str] = []

    def one(session, uploader, files):
        try:
            result = session.upload(uploader, files)
            errors.extend(result.exceptions)
            errors.extend(check(session))
        except Exception as error:  # reported with the figures
            errors.append(f"{type(error).__name__}: {error}")

    with Peak(pid) as peak:
        threads = [threading.Thread(target=one, args=u) for u in uploads]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    time.sleep(3)
    after = resident_mb(pid)
    rise = (peak.peak - before) / len(uploads)
    verdict = "ok" if rise <= TARGET_MB else "MISSED"
    verdict += "" if not errors else f", but {len(errors)} FAILED"
    print(
        f"{label}: {before:.0f} MB before, peak {peak.peak:.0f} MB (+{peak.peak - before:.0f}), "
        f"{after:.0f} MB 3 s after (+{after - before:.0f}); per upload +{rise:.0f} MB at the peak "
        f"(target <= {TARGET_MB}) {verdict}",
        flush=True,
    )
    for e in errors[:3]:
        print(f"    {e[:300]}")
    return rise <= TARGET_MB and not errors


def picture_shown(session: Session) -> list[str]:
    if not any(".png: " in t and " rows x " in t for t in session.texts):  # "big.png: 320 rows x 512 columns"
        return [f"the page did not show the picture: {[t[:120] for t in session.texts[:6]]}"]
    return []


def bomb_refused(session: Session) -> list[str]:
    if not any("holds more" in t for t in session.texts):
        return [f"no 'holds more' error on the page: {session.texts[:6]}"]
    return []


def data_read(session: Session) -> list[str]:
    if not any("60,000 training" in t for t in session.texts):
        return [f"the page did not read the data set: {[t[:120] for t in session.texts[:8]]}"]
    return []


def main() -> int:
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    png, bomb, mnist = big_png(), idx_bomb(), mnist_sized()
    print(
        f"files: 40-MP PNG {len(png) / MB:.1f} MB, IDX bomb {len(bomb) / 1024:.0f} KB (inflates to 64 MB), "
        f"MNIST-sized set {sum(len(d) for _, d in mnist) / MB:.1f} MB gzipped",
        flush=True,
    )
    proc, url = serve_streamlit(ROOT / "app.py", ROOT)
    ok = True
    try:
        home = {"home_source": "Upload my own"}
        train = {"train_dataset": "MNIST full (IDX)"}
        # Warm-up: both pages once, so imports and caches are in the "before" figure.
        for page, query, key in (("", home, "home_upload"), ("Train_LeNet", train, "train_idx_upload_mnist")):
            opened(url, page, query, key)[0].close()
        print(f"server: pid {proc.pid}, {resident_mb(proc.pid):.0f} MB after opening both pages", flush=True)
        s, u = opened(url, "", home, "home_upload")
        ok &= measure(proc.pid, "1. 40-MP PNG to Home", [(s, u, [("big.png", png)])], picture_shown)
        s.close()
        s, u = opened(url, "Train_LeNet", train, "train_idx_upload_mnist")
        files = [("train-images-idx3-ubyte.gz", bomb)]
        ok &= measure(proc.pid, "2. IDX gzip bomb to Train", [(s, u, files)], bomb_refused)
        s.close()
        pngs = [big_png(i) for i in range(1, 6)]
        five = [(*opened(url, "", home, "home_upload"), [(f"big{i}.png", p)]) for i, p in enumerate(pngs)]
        ok &= measure(proc.pid, "3. five 40-MP PNGs at once", five, picture_shown)
        for s, _, _ in five:
            s.close()
        s, u = opened(url, "Train_LeNet", train, "train_idx_upload_mnist")
        ok &= measure(proc.pid, "4. MNIST-sized IDX set to Train", [(s, u, mnist)], data_read)
        s.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
