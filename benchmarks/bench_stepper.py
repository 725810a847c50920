"""What the stepper costs on the server: building its payload, and the rerun when the browser picks a cell.

Run: .venv/bin/python benchmarks/bench_stepper.py
Stepping itself never reaches the server (see bench_stepper_browser.py for the browser's side). Python
works only when the page runs and when the user pauses or picks a cell. Prints, measured in one run:
- the median time to build `stepper_payload` and its JSON size, for the 6x6 example, a 64x64 grid and a
  256x256 picture (both stepped by 8x8 block);
- the median server-side rerun (AppTest, one process, the page's bytecode cached as the server does) of a
  bare one-slider page, of the stepper alone and of the Convolution page, when a cell is picked.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402
import streamlit.testing.v1.app_test as app_test_module  # noqa: E402
import streamlit.testing.v1.local_script_runner as local_runner  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from cnnviz.draw.stepper import stepper_payload  # noqa: E402
from cnnviz.lessons.presets import EXAMPLES  # noqa: E402
from cnnviz.trace import correlation_trace  # noqa: E402

REPEATS = 21
SIX = EXAMPLES["6x6 input, vertical edge"]
BARE = 'import streamlit as st\nst.slider("x", 0, 10, key="x")\n'
ALONE = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}]
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace
from ui.stepper import render_stepper
ex = EXAMPLES["6x6 input, vertical edge"]
render_stepper(correlation_trace(ex.input, ex.kernel), key="conv_step")
"""

# The server compiles a page once and keeps its bytecode; AppTest recompiles on every run. Share one cache,
# as the server does, so that a rerun is timed and not a compile.
_bytecode = ScriptCache()
app_test_module.ScriptCache = local_runner.ScriptCache = lambda: _bytecode


def median_ms(run, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def interleaved_medians(runs: dict, repeats: int = REPEATS) -> dict:
    """Median ms of each run, taking turns so that load from other processes hits them all alike."""
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def picking(at: AppTest, key: str = "conv_step"):
    """Alternate between two cells, as a browser sends them when the user pauses or clicks."""
    state = {"n": 0}

    def run():
        state["n"] += 1
        at.session_state[key] = {"cell": [state["n"] % 2, 1]}
        at.run()

    return run


def main() -> None:
    rng = np.random.default_rng(0)
    traces = {
        "6x6 example": correlation_trace(SIX.input, SIX.kernel),
        "64x64 grid": correlation_trace(rng.integers(0, 256, (64, 64)).astype(float), SIX.kernel),
        "256x256 picture": correlation_trace(rng.integers(0, 256, (256, 256)).astype(float), SIX.kernel),
    }
    print("stepper_payload: median build time and JSON size")
    for name, trace in traces.items():
        ms = median_ms(lambda trace=trace: stepper_payload(trace, cell=(1, 1)), 9)
        size = len(json.dumps(stepper_payload(trace, cell=(1, 1))).encode()) / 1000
        print(f"  {name:16} {ms:7.2f} ms   {size:7.1f} KB")

    conv = AppTest.from_file(str(ROOT / "pages" / "1_Convolution.py"), default_timeout=120)
    conv.run()
    assert not conv.exception, [e.value for e in conv.exception]
    with tempfile.TemporaryDirectory() as tmp:
        bare_path, alone_path = Path(tmp) / "bare.py", Path(tmp) / "alone.py"
        bare_path.write_text(BARE)
        alone_path.write_text(ALONE)
        bare = AppTest.from_file(str(bare_path))
        bare.run()
        alone = AppTest.from_file(str(alone_path), default_timeout=120)
        alone.run()
        m = interleaved_medians(
            {
                "floor": lambda: bare.slider(key="x").set_value(int(np.random.randint(0, 11))).run(),
                "alone": picking(alone),
                "page": picking(conv),
            }
        )
    print(f"Median server-side rerun when a cell is picked ({REPEATS} runs, AppTest, bytecode cached):")
    print(f"  bare one-slider page (floor):   {m['floor']:7.1f} ms")
    print(
        f"  stepper alone, 6x6:             {m['alone']:7.1f} ms  ({m['alone'] / m['floor']:.1f}x the floor)"
    )
    print(f"  Convolution page, 6x6 (whole):  {m['page']:7.1f} ms  ({m['page'] / m['floor']:.1f}x the floor)")


if __name__ == "__main__":
    main()
