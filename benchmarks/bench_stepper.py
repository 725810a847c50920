"""How long a rerun of the Convolution stepper page takes, beside the framework's floor, and its payload.

Run: .venv/bin/python benchmarks/bench_stepper.py
Prints the median server-side rerun time (AppTest, one process) of
- a bare page with one slider (Streamlit's floor),
- the stepper page on the 6x6 lecture example and on a 64x64 input,
each for a rerun that changes nothing and for a "Next step" click; then the stepper figure's JSON size
for the 64x64 input, and what building the figure costs with and without Plotly's validation.
Targets: 6x6 within 3x of the floor; the 64x64 figure under 1 MB.
`--recompile` times AppTest's default (the page recompiled on every run) instead of the server's cached bytecode.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit.testing.v1.app_test as app_test_module  # noqa: E402
import streamlit.testing.v1.local_script_runner as local_runner  # noqa: E402
from streamlit.runtime.scriptrunner.script_cache import ScriptCache  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from cnnviz.presets import EXAMPLES  # noqa: E402
from cnnviz.stepper import stepper_figure  # noqa: E402
from cnnviz.trace import correlation_trace  # noqa: E402

REPEATS = 21
BARE = 'import streamlit as st\nst.slider("x", 0, 10, key="x")\n'
# The stepper component alone (its widgets, the cached figure, the sum) on the lecture's 6x6 example.
ALONE = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}]
from cnnviz.presets import EXAMPLES
from cnnviz.trace import correlation_trace
from ui.stepper import render_stepper
ex = EXAMPLES["6x6 input, vertical edge"]
render_stepper(correlation_trace(ex.input, ex.kernel), key="conv_step")
"""


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


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "1_Convolution.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stepping(at: AppTest):
    """Alternate Next and Previous, so every rerun draws a different cell (cached after the first pass)."""
    state = {"forward": True}

    def run():
        at.button(key="conv_step_next" if state["forward"] else "conv_step_prev").click().run()
        state["forward"] = not state["forward"]

    return run


# The server compiles a page once and keeps its bytecode (one ScriptCache for the app); AppTest makes a new
# ScriptCache on every run, so each AppTest rerun also re-parses and recompiles the page (Streamlit's "magic"
# AST pass: ~10 ms for a 240-line page, ~0 for the two-line floor). With `--recompile` the benchmark measures
# that; by default it gives AppTest one shared cache, as the server has, so a rerun is timed, not a compile.
SERVER_LIKE = "--recompile" not in sys.argv
if SERVER_LIKE:
    _bytecode = ScriptCache()
    app_test_module.ScriptCache = local_runner.ScriptCache = lambda: _bytecode

# In a browser, a click inside an `st.fragment` reruns only that fragment. AppTest always reruns the whole
# script, so to time a fragment rerun this benchmark slips the fragment's id into the rerun request, as the
# server does (an AppTest internal: if Streamlit changes it, this measurement breaks loudly, not silently).
_RerunData = local_runner.RerunData
_only_fragment: dict = {"id": None}


def _rerun_data(**kwargs):
    if _only_fragment["id"]:
        kwargs["fragment_id_queue"] = [_only_fragment["id"]]
    return _RerunData(**kwargs)


local_runner.RerunData = _rerun_data


def fragment_only(at: AppTest, run):
    """`run`, with the script runner told to rerun only the page's one fragment (the stepping section)."""
    (fragment_id,) = at._fragment_storage._fragments  # the page has exactly one fragment

    def go():
        _only_fragment["id"] = fragment_id
        try:
            run()
        finally:
            _only_fragment["id"] = None

    return go


def stepper_bytes(at: AppTest) -> int:
    specs = [el.proto.spec for el in at.get("plotly_chart")]
    return max(len(s) for s in specs if '"frames"' in s)


def main() -> None:
    six = page()
    six_fragment = page()
    big = page()
    big.radio(key="conv_source").set_value("Random grid").run()
    big.number_input(key="conv_rand_h").set_value(64).run()
    big.number_input(key="conv_rand_w").set_value(64).run()
    assert not big.exception
    with tempfile.TemporaryDirectory() as tmp:
        bare_path = Path(tmp) / "bare.py"
        bare_path.write_text(BARE)
        bare = AppTest.from_file(str(bare_path))
        bare.run()
        alone_path = Path(tmp) / "alone.py"
        alone_path.write_text(ALONE)
        alone = AppTest.from_file(str(alone_path), default_timeout=120)
        alone.run()
        m = interleaved_medians(
            {
                "floor": bare.run,
                "floor_slider": lambda: bare.slider(key="x").set_value(np.random.randint(0, 11)).run(),
                "alone_rerun": alone.run,
                "alone_step": stepping(alone),
                "six_rerun": six.run,
                "six_step": stepping(six),
                "six_fragment_step": fragment_only(six_fragment, stepping(six_fragment)),
                "big_rerun": big.run,
                "big_step": stepping(big),
            }
        )
    floor, floor_slider = m["floor"], m["floor_slider"]
    six_rerun, six_step, big_rerun, big_step = m["six_rerun"], m["six_step"], m["big_rerun"], m["big_step"]
    six_bytes = stepper_bytes(six)
    big_bytes = stepper_bytes(big)
    big_total = sum(len(el.proto.spec) for el in big.get("plotly_chart"))

    ex = EXAMPLES["6x6 input, vertical edge"]
    small_trace = correlation_trace(ex.input, ex.kernel)
    large_trace = correlation_trace(np.random.default_rng(0).integers(0, 10, (64, 64)), ex.kernel)
    build_small = median_ms(lambda: stepper_figure(small_trace, cell=(1, 1)), 5)
    build_large = median_ms(lambda: stepper_figure(large_trace, cell=(30, 30)), 5)
    validate_large = median_ms(lambda: go.Figure(stepper_figure(large_trace, cell=(30, 30)).to_dict()), 3)

    how = (
        "bytecode cached as the server does"
        if SERVER_LIKE
        else "recompiling the page every run, as AppTest does"
    )
    print(f"Median server-side rerun over {REPEATS} runs (AppTest, one process, {how}):")
    print(f"  bare one-slider page (floor):      rerun {floor:7.1f} ms   slider moved {floor_slider:7.1f} ms")
    print(
        f"  stepper component alone, 6x6:      rerun {m['alone_rerun']:7.1f} ms   next/previous {m['alone_step']:7.1f} ms"
        f"   -> {m['alone_rerun'] / floor:.1f}x / {m['alone_step'] / floor_slider:.1f}x the floor"
    )
    print(
        f"  stepper page, 6x6 example:         rerun {six_rerun:7.1f} ms   next/previous {six_step:7.1f} ms"
        f"   -> {six_rerun / floor:.1f}x / {six_step / floor_slider:.1f}x the floor (target <= 3x)"
    )
    print(
        f"  stepper page, 6x6, Next/Previous rerunning only the stepping fragment (as in a browser):"
        f" {m['six_fragment_step']:7.1f} ms -> {m['six_fragment_step'] / floor_slider:.1f}x the floor (target <= 3x)"
    )
    print(
        f"  stepper page, 64x64 input:         rerun {big_rerun:7.1f} ms   next/previous {big_step:7.1f} ms"
        f"   -> {big_rerun / floor:.1f}x / {big_step / floor_slider:.1f}x the floor"
    )
    print("Figure payload (JSON sent to the browser):")
    print(f"  6x6 stepper figure ({16} frames):   {six_bytes / 1024:7.1f} KB")
    print(
        f"  64x64 stepper figure (64 frames):  {big_bytes / 1024:7.1f} KB (target < 1024 KB);"
        f" all charts on the page {big_total / 1024:.1f} KB"
    )
    print("Building the stepper figure (no Streamlit):")
    print(f"  6x6, 16 frames:  {build_small:6.1f} ms;  64x64 region, 64 frames: {build_large:6.1f} ms")
    print(f"  64x64 with Plotly's full validation (what a dict figure would cost): {validate_large:6.1f} ms")


if __name__ == "__main__":
    main()
