"""The one timing helper the benchmark scripts share (a script's own folder is on sys.path)."""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_PAGE = '''"""A bare page: one slider and its value (the benchmarks' yardstick)."""

import streamlit as st

value = st.slider("A value", 0, 100, 50, key="bare_value")
st.write(f"The value is {value}.")
'''
BARE = "Bench_bare"  # the bare page's URL path in an app served from `app_folder()`


def median_seconds(fn, repeats: int = 7) -> float:
    """Median wall time of `fn()` over `repeats` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_streamlit(script: Path, cwd: Path, *, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`streamlit run script` on a free local port, headless; returns (the server process, its URL) once healthy."""
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            str(script),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not come up")


def app_folder(prefix: str = "cnnviz-bench-", extra: dict[str, str] | None = None) -> Path:
    """A temporary app folder: a copy of app.py (Streamlit finds pages/ beside the script's real path), links
    to the pages and the packages, plus the bare page (`BARE`) and any `extra` pages ({URL path: source}).
    Remove it with `shutil.rmtree` when done."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copy(ROOT / "app.py", folder / "app.py")
    for name in ("cnnviz", "ui", "assets", ".streamlit"):
        (folder / name).symlink_to(ROOT / name)
    (folder / "pages").mkdir()
    for page in sorted((ROOT / "pages").glob("*.py")):
        (folder / "pages" / page.name).symlink_to(page)
    (folder / "pages" / f"99_{BARE}.py").write_text(BARE_PAGE)
    for n, (path, source) in enumerate((extra or {}).items()):
        (folder / "pages" / f"{100 + n}_{path}.py").write_text(source)
    return folder


def old_app(rev: str) -> Path:
    """The app as it was at git revision `rev` (`git archive` into a temporary folder), to serve beside this
    checkout. Remove it with `shutil.rmtree` when done."""
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-bench-old-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder
