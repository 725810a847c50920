"""Shared fixtures: AppTest for headless page runs, and a real server + headless Chromium for browser tests."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
APPTEST_TIMEOUT = 60  # seconds; the default 3 s is too short once torch is imported on a busy 2-core box
FIGURE_NAME = "cnnviz_figure"  # ui.figure_view.FIGURE_NAME: the light figure component
# In Chromium: a figure the light component drew (its SVG is `svg.fig-svg`), and any Plotly figure (none on a
# first screen: they load Plotly's JavaScript).
FIGURES = '[data-testid="cnnvizFigure"]'
PLOTLY = '[data-testid="stPlotlyChart"]'


def app_test(page: str = "app.py"):
    """An AppTest of app.py or of a page (e.g. "pages/1_Convolution.py"), not yet run."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / page), default_timeout=APPTEST_TIMEOUT)


def _component_json(proto) -> dict:
    """A components-v2 element's data (AppTest shows it as an unknown "bidi_component" with JSON data)."""
    return json.loads(proto.json if proto.WhichOneof("data") == "json" else proto.mixed.json)


def plotly_figures(at) -> list[dict]:
    """Every figure an AppTest run rendered, in page order, as Plotly figure dicts: those drawn by
    st.plotly_chart and those drawn by the light figure component (`ui.figure_view`, its "spec")."""
    figures = []
    for el in at._tree:  # every element in page order (AppTest has no public walk)
        if el.type == "plotly_chart":
            figures.append(json.loads(el.proto.spec))
        elif el.type == "bidi_component" and el.proto.component_name == FIGURE_NAME:
            data = _component_json(el.proto)
            specs = data["specs"] if "specs" in data else [data["spec"]]  # a row of figures: one mount
            figures.extend(json.loads(spec) for spec in specs)
    return figures


def plotly_charts(at) -> list:
    """The figures an AppTest run drew with st.plotly_chart (Plotly's JavaScript), not the light component."""
    return list(at.get("plotly_chart"))


def decode(value):
    """A Plotly JSON array as numpy: Plotly >= 6 encodes numpy arrays as {dtype, bdata, shape} in base64."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            arr = arr.reshape([int(s) for s in str(shape).split(",")])
        return arr
    return np.asarray(value, dtype=float) if value is not None else None


def stepper_elements(at) -> list:
    """The stepper components an AppTest run rendered (other components v2 elements left out)."""
    return [el for el in at.get("bidi_component") if el.proto.component_name == "cnnviz_stepper"]


def stepper_payloads(at) -> list[dict]:
    """The data every stepper component on the page was mounted with (`cnnviz.draw.stepper.stepper_payload`).

    AppTest has no element type for components v2: each comes back as an unknown "bidi_component"
    element whose proto holds the JSON data.
    """
    payloads = []
    for el in stepper_elements(at):
        data = _component_json(el.proto)
        payloads.append({**json.loads(data.pop("shared")), **data} if "shared" in data else data)
    return payloads


def pick_cell(at, key: str, i: int, j: int):
    """Select output cell (i, j) as the browser does, and rerun.

    A components-v2 element's state lives in `st.session_state[key]` as a dict; the stepper keeps the
    selected cell there as `{"cell": [i, j]}` (what its JS sends with `setStateValue("cell", ...)`).
    """
    at.session_state[key] = {"cell": [i, j]}
    return at.run()


def payload_numbers(grid: dict) -> np.ndarray:
    """A payload grid's numbers (strings formatted by `cnnviz.trace.fmt`) as floats."""
    return np.array([[float(t) for t in row] for row in grid["text"]])


def shown_step(payload: dict) -> dict:
    """The payload's entry for the cell the stepper shows first (the selected cell)."""
    i, j = payload["cell"]
    return next(s for s in payload["steps"] if (s["i"], s["j"]) == (i, j))


def shown_tables(at) -> list:
    """The static tables a page shows (`ui.table`: one markdown element each), as DataFrames of their cells' text."""
    import pandas as pd

    from cnnviz.draw.table import read_markdown_table

    return [pd.DataFrame(read_markdown_table(m.value)) for m in at.markdown if m.value.startswith("| ")]


def shown_metrics(at) -> dict[str, str]:
    """The numbers a page shows by label: its st.metric elements and its `ui.metrics` rows (one-row tables)."""
    found = {m.label: m.value for m in at.metric}
    for table in shown_tables(at):
        if len(table) == 1:
            found.update(table.iloc[0].to_dict())
    return found


def error_texts(at) -> list[str]:
    return [e.value for e in at.error]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """The real app served by streamlit on a free loopback port; yields its base URL."""
    port = _free_port()
    streamlit = Path(sys.executable).parent / "streamlit"
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(streamlit),
            "run",
            str(ROOT / "app.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not come up; see {ARTIFACTS / 'server.log'}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run (one sync Playwright instance per process)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page at a classroom-projector size."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="module")
def digits():
    """The 8x8 digits (small and fast to train on), loaded once per test module."""
    from cnnviz.lenet.data import load_digits

    return load_digits()


@pytest.fixture
def one_torch_thread():
    """Torch in this process on one thread for the test (as a training process is), restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Clock:
    """A hand clock for code that takes `clock=`: the test moves `now`."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the process name: [0] its state (R, S, T stopped, Z zombie),
    [16] its niceness."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def wait_for(condition, timeout: float = 30.0) -> None:
    """Poll `condition` until true (fails after `timeout`: a bound for a loaded machine, not a target)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out"
        time.sleep(0.01)


def wait_for_app(pg, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script run has finished (the running indicator is gone)."""
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stMainBlockContainer\"] *').length > 10",
        timeout=timeout,
    )
    pg.wait_for_timeout(500)


def screenshot(pg, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (the full page, or what the viewport shows) under artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full_page)
    return path
