"""How fast the stepper steps in a real browser, beside a bare Streamlit page's rerun, and its payload.

Run: .venv/bin/python benchmarks/bench_stepper_browser.py [--repeats N]
Serves a small app (the stepper component alone, as the pages mount it) with `streamlit run` and drives
Debian's Chromium with Playwright. Prints, measured in the same run:
- the median time from a Next key (ArrowRight) to the redrawn step on screen (the next animation frame
  after the handler ran), for the lecture's 6x6 example and a 64x64 grid (a 62x62 output, stepped by
  8x8 block), and how many messages the browser sent the server meanwhile (0: no rerun);
- the median rerun of a bare page (one button and one line of text): click to the new text;
- the component's payload (JSON bytes) for the 6x6 example and the 64x64 grid.
Targets: under 50 ms a step at both sizes; the 64x64 payload under 300 KB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402
from timing import serve_streamlit  # noqa: E402

from cnnviz.draw.stepper import stepper_payload  # noqa: E402
from cnnviz.lessons.presets import EXAMPLES  # noqa: E402
from cnnviz.trace import correlation_trace  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SIX = EXAMPLES["6x6 input, vertical edge"]
BIG = np.random.default_rng(0).integers(0, 256, (64, 64)).astype(float)

APP = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}]
import numpy as np
import streamlit as st
from cnnviz.lessons.presets import EXAMPLES
from cnnviz.trace import correlation_trace
from ui.stepper import render_stepper

ex = EXAMPLES["6x6 input, vertical edge"]
grid = st.query_params.get("grid", "bare")
if grid == "bare":
    st.session_state.setdefault("n", 0)
    if st.button("Rerun"):
        st.session_state.n += 1
    st.write(f"run {{st.session_state.n}}")
else:
    X = ex.input if grid == "6x6" else np.random.default_rng(0).integers(0, 256, (64, 64)).astype(float)
    render_stepper(correlation_trace(X, ex.kernel), key="bench_step")
"""

# In the page: press Next (the component's keydown handler) and wait for the next frame to be drawn.
STEP_TIMES = """async root => {
    const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    const key = k => root.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
    const scrubber = root.querySelector('input[type=range]');
    const times = [];
    while (times.length < __N__) {
        if (scrubber.value === scrubber.max) {  // the last step of the block: back to the first
            key('Home');
            await frame();
        }
        const before = root.dataset.step;
        const t0 = performance.now();
        key('ArrowRight');
        const handled = performance.now() - t0;
        await frame();
        if (root.dataset.step === before) throw new Error('the step did not change');
        times.push([performance.now() - t0, handled]);
    }
    return times;
}"""


def step_ms(browser, url: str, grid: str, repeats: int) -> tuple[float, float, int]:
    """Median ms from Next to the redrawn step, of the key handler alone, and the messages sent meanwhile."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{url}/?grid={grid}")
    root = page.locator('[data-testid="stepper"]').first
    root.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    sent.clear()
    times = root.evaluate(STEP_TIMES.replace("__N__", str(repeats)))
    page.wait_for_timeout(500)
    page.close()
    return statistics.median(t for t, _ in times), statistics.median(h for _, h in times), len(sent)


def rerun_ms(browser, url: str, repeats: int) -> float:
    """Median ms from a button click on a bare page to its rerun's text on screen."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{url}/?grid=bare")
    page.get_by_text("run 0").wait_for(timeout=60_000)
    times = []
    for k in range(1, repeats + 1):
        t0 = time.perf_counter()
        page.get_by_role("button", name="Rerun").click()
        page.get_by_text(f"run {k}", exact=True).wait_for(timeout=30_000)
        times.append(1000 * (time.perf_counter() - t0))
    page.close()
    return statistics.median(times)


def payload_kb(X) -> float:
    trace = correlation_trace(X, SIX.kernel)
    return len(json.dumps(stepper_payload(trace)).encode()) / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_app.py").write_text(APP)
        proc, url = serve_streamlit(folder / "bench_app.py", folder)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                )
                six, six_js, six_sent = step_ms(browser, url, "6x6", args.repeats)
                big, big_js, big_sent = step_ms(browser, url, "64x64", args.repeats)
                bare = rerun_ms(browser, url, min(args.repeats, 20))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print("Next key -> redrawn step, in the browser (median; target < 50 ms):")
    for name, total, js, sent in (
        ("6x6 example", six, six_js, six_sent),
        ("64x64 grid", big, big_js, big_sent),
    ):
        print(
            f"  {name:12}  {total:7.1f} ms (key handler alone {js:4.1f} ms; the rest waits for the next frame)"
            f"   messages sent to the server while stepping: {sent}"
        )
    print(f"Bare page rerun (button click -> new text), same run: {bare:7.1f} ms")
    print("Payload (JSON, target < 300 KB at 64x64):")
    print(f"  6x6 example   {payload_kb(SIX.input):7.1f} KB")
    print(f"  64x64 grid    {payload_kb(BIG):7.1f} KB")


if __name__ == "__main__":
    main()
