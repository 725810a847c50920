"""First render of every page in Chromium, warm server, beside a bare one-slider page (issue 13).

    .venv/bin/python benchmarks/bench_first_render.py               # 5 rounds at 1920x1080, ~2 minutes
    .venv/bin/python benchmarks/bench_first_render.py --repeats 9 --pages Home,Convolution --size 1366x768
    .venv/bin/python benchmarks/bench_first_render.py --cache warm   # Streamlit's and Plotly's JS cached
    .venv/bin/python benchmarks/bench_first_render.py --against 022eb79  # that commit's app too, same rounds

One `streamlit run` serves the app from a temporary folder of links to this checkout plus a bare page (one
slider and a line of text: `timing.BARE_PAGE`), the same with one small Plotly heatmap, and the same slider in
this app's frame (`SHELL_PAGE`), so three yardsticks are measured in the same run: what Streamlit and the
browser alone cost, what loading and starting Plotly's JavaScript adds to any page that draws a Plotly
figure, and the least any page of this app costs (its menu, title, projector switch and Copy link). The
server is warmed first (every page opened once: imports done, caches filled). Then, round after round (the
pages interleaved, so the machine's load falls on all of them alike), each page is opened in a fresh browser
context (no cookies, no HTTP cache, a new Streamlit session; with `--cache warm`, a new tab of the warm-up's
context instead: its HTTP cache holds Streamlit's and Plotly's JavaScript, the session is still new), and
timed from navigation start (`performance.now()`'s origin, just before
`page.goto`) to the first moment it is fully rendered:

- the script run has finished: `stApp`'s `data-test-script-state` is `notRunning` (Streamlit 1.67 writes
  `initial` before the first run and `running` during one), no `stSkeleton` placeholder is left, and the main
  block holds more than 10 elements;
- every visible figure is drawn: each `stPlotlyChart` holds Plotly's `.main-svg`, each light figure
  (`[data-testid=cnnvizFigure]`, inside its shadow root) holds its `svg.fig-svg`, each `<img>` in the app
  (components' shadow roots included: Train's live view) has loaded (`complete`, a natural width), each
  stepper (`[data-testid=stepper]`, inside its shadow root) shows a step (`data-step` set), each component
  iframe has loaded a document with content;
- the page's own main visual is among them (`MAIN_VISUAL`: what a student looks at first);
- and all of that then stays true for `--stable` ms (a rerun that a component or a link starts afterwards
  resets the clock: the time is the start of the last stretch that held).

A script in the page checks these on every animation frame from the start, so the time is the frame's, not a
poll's. Printed per page: median and max ms, the median over the bare page's, what the page sends (Plotly
figures, images, steppers, iframes, DOM elements, bytes received over the websocket) and a verdict against
the target (1.5 s); the exit status is 1 if a page misses it. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import BARE, BARE_PAGE, app_folder, old_app, serve_streamlit  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TARGET_MS = 1500
# The second yardstick: the bare page plus one small Plotly heatmap (numbers in its cells), what loading and
# starting Plotly's JavaScript costs a page that draws any Plotly figure.
BARE_PLOTLY = "Bench_bare_plotly"
BARE_PLOTLY_PAGE = (
    BARE_PAGE
    + """
import numpy as np
import plotly.graph_objects as go

fig = go.Figure(go.Heatmap(z=np.arange(36).reshape(6, 6), texttemplate="%{z}"), layout={"width": 300, "height": 300})
st.plotly_chart(fig, key="bare_plotly")
"""
)
# The third: this app's own frame around a bare page's slider (the menu, title, introduction, projector switch
# and Copy link of `ui.page_setup`, the body a fragment as on every page), the least any page of the app costs.
SHELL = "Bench_app_shell"
SHELL_PAGE = '''"""The app's frame around one slider (bench_first_render's third yardstick)."""

import streamlit as st

import ui.page as ui

ui.page_setup("App shell", intro="The menu, this title and introduction, the projector switch and Copy link.")


@st.fragment
def page_body() -> None:
    value = st.slider("A value", 0, 100, 50, key="shell_value")
    st.write(f"The value is {value}.")


page_body()
'''
YARDSTICKS = ("bare page", "bare + Plotly", "app shell")
PAGES = {
    "Home": "",
    "Convolution": "Convolution",
    "Correlation": "Correlation_vs_convolution",
    "Pooling": "Pooling",
    "Feature maps": "Feature_maps",
    "Layer arithmetic": "Layer_arithmetic",
    "Train LeNet": "Train_LeNet",
    "Learn a filter": "Learn_a_filter",
    "bare page": BARE,
    "bare + Plotly": BARE_PLOTLY,
    "app shell": SHELL,
}
PLOTLY_DRAWN = '[data-testid="stPlotlyChart"] .main-svg'
FIGURE_DRAWN = '[data-testid="cnnvizFigure"] svg.fig-svg'  # the light figure component (ui/figure_view.py)
# What a student looks at first on each page (a CSS selector; "stepper" is looked for inside shadow roots).
MAIN_VISUAL = {
    "Home": f'[data-testid="stImage"] img, {PLOTLY_DRAWN}, {FIGURE_DRAWN}',
    "Convolution": "stepper",
    "Correlation": f"{PLOTLY_DRAWN}, {FIGURE_DRAWN}",
    "Pooling": "stepper",
    "Feature maps": f'{PLOTLY_DRAWN}, {FIGURE_DRAWN}, [data-testid="stImage"] img',
    "Layer arithmetic": '[data-testid="stMarkdownContainer"] table, [data-testid="stTable"]',  # an older app's
    "Train LeNet": 'img[data-name="activations"]',  # the live view's activations picture
    "Learn a filter": f'{PLOTLY_DRAWN}, {FIGURE_DRAWN}, [data-testid="stImage"] img',
    "bare page": '[data-testid="stSlider"]',
    "bare + Plotly": '[data-testid="stPlotlyChart"] .main-svg',
    "app shell": '[data-testid="stSlider"]',
}

# Runs in every page before its own scripts: on each animation frame, is the page fully rendered? Keeps the
# start of the current stretch of "yes" in window.__rendered (null while "no") and what the page shows.
WATCH = """(() => {
  const MAIN = __MAIN__;
  // Inside components' shadow roots too. Only the components' hosts are visited: walking every element for a
  // shadow root on each frame took ~100 ms of a 1,000-element page's main thread, the page's own time.
  const HOSTS = '[data-testid="stBidiComponentIsolated"]';
  const deep = (root, sel, out = []) => {
    root.querySelectorAll(sel).forEach(n => out.push(n));
    root.querySelectorAll(HOSTS).forEach(n => { if (n.shadowRoot) deep(n.shadowRoot, sel, out); });
    return out;
  };
  const visible = n => !!(n.offsetParent || n.getClientRects().length);
  const drawn = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.dataset.testScriptState !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    if (!main || main.querySelectorAll('*').length <= 10) return false;
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(visible);
    if (charts.some(c => !c.querySelector('.main-svg'))) return false;
    const figures = deep(document, '[data-testid="cnnvizFigure"]').filter(visible);
    if (figures.some(f => !f.querySelector('svg.fig-svg'))) return false;
    const imgs = deep(app, 'img').filter(visible);  // a component's pictures too (Train's live view)
    if (imgs.some(i => !i.complete || !i.naturalWidth)) return false;
    const steppers = deep(document, '[data-testid="stepper"]');
    if (steppers.some(s => !s.dataset.step)) return false;
    for (const f of [...app.querySelectorAll('iframe')].filter(visible)) {
      const doc = f.contentDocument;
      if (doc && (doc.readyState !== 'complete' || !doc.body || !doc.body.children.length)) return false;
    }
    const main_ok = MAIN === 'stepper' ? steppers.length > 0 : deep(document, MAIN).some(visible);
    if (!main_ok) return false;
    window.__shows = {
      plotly: charts.length, figures: figures.length, images: imgs.length, steppers: steppers.length,
      iframes: app.querySelectorAll('iframe').length, elements: document.querySelectorAll('*').length,
    };
    return true;
  };
  window.__rendered = null;
  const tick = () => {
    let ok = false;
    try { ok = drawn(); } catch (e) { ok = false; }
    if (!ok) window.__rendered = null;
    else if (window.__rendered === null) window.__rendered = performance.now();
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


def first_render(context, url: str, name: str, stable_ms: int, timeout_s: float) -> dict:
    """A new tab in `context`: ms from navigation start to fully rendered (see the docstring), and what it showed."""
    pg = context.new_page()
    pg.add_init_script(WATCH.replace("__MAIN__", repr(MAIN_VISUAL[name])))
    received = [0]

    def on_socket(ws) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    pg.on("websocket", on_socket)
    pg.goto(f"{url}/{PAGES[name]}")
    deadline = time.monotonic() + timeout_s
    while True:
        state = pg.evaluate("() => [window.__rendered, performance.now()]")
        if state[0] is not None and state[1] - state[0] >= stable_ms:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: not fully rendered after {timeout_s} s")
        pg.wait_for_timeout(50)
    shows = pg.evaluate("() => window.__shows")
    pg.close()
    return {"ms": state[0], "ws_bytes": received[0], **shows}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(results: dict[str, list[dict]]) -> bool:
    """Print the table (each row's ratio is to the bare page of its own server); True if every page of this
    checkout met the target."""
    print(
        f"\n{'page':<28}{'median ms':>10}{'max ms':>8}{'x bare':>8}  plotly figures images steppers iframes"
        f" elements  ws KB   verdict"
    )
    ok = True
    for name, runs in results.items():
        base, at, rev = name.partition(" @")
        bare = statistics.median(r["ms"] for r in results["bare page" + at + rev])
        ms = [r["ms"] for r in runs]
        med = statistics.median(ms)
        last = runs[-1]
        judged = base not in YARDSTICKS and not at
        verdict = "" if not judged else ("ok" if med < TARGET_MS else f"MISSED (> {TARGET_MS} ms)")
        ok = ok and (not judged or med < TARGET_MS)
        print(
            f"{name:<28}{med:>10.0f}{max(ms):>8.0f}{med / bare:>8.2f}  {last['plotly']:>6} {last['figures']:>7}"
            f" {last['images']:>6} {last['steppers']:>8} {last['iframes']:>8} {last['elements']:>8}"
            f" {statistics.median(r['ws_bytes'] for r in runs) / 1024:>6.0f}   {verdict}"
        )
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh-context openings per page (default 5)")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names (see PAGES)")
    parser.add_argument("--size", default="1920x1080", help="viewport, WxH (default 1920x1080)")
    parser.add_argument("--stable", type=int, default=1000, help="ms the rendered state must hold (1000)")
    parser.add_argument(
        "--cache",
        choices=["cold", "warm"],
        default="cold",
        help="cold: a fresh browser context each time (no HTTP cache, the default); warm: a new tab in one"
        " context that has opened every page (Streamlit's and Plotly's JS cached, a new session each time)",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="also serve the app as it was at git revision REV and time its pages in the same rounds"
        " (rows 'page @REV'): a before/after measured side by side",
    )
    parser.add_argument("--timeout", type=float, default=60, help="seconds a page may take at most (60)")
    return parser.parse_args()


def measure(browser, servers: dict[str, str], names: list[str], args) -> dict[str, list[dict]]:
    """Warm every server up, then `args.repeats` rounds over the pages (and servers) interleaved."""
    size = tuple(int(v) for v in args.size.split("x"))
    viewport = {"width": size[0], "height": size[1]}
    warm = browser.new_context(viewport=viewport)  # the warm-up's: its HTTP cache holds Streamlit's JS
    for url in servers.values():
        for name in PAGES:  # warm-up: every page once, imports and caches filled
            first_render(warm, url, name, args.stable, args.timeout)
    results: dict[str, list[dict]] = {f"{n}{suffix}": [] for n in names for suffix in servers}
    for r in range(args.repeats):
        for name in names:
            for suffix, url in servers.items():
                context = warm if args.cache == "warm" else browser.new_context(viewport=viewport)
                results[f"{name}{suffix}"].append(first_render(context, url, name, args.stable, args.timeout))
                if context is not warm:
                    context.close()
        print(
            f"round {r + 1}: " + ", ".join(f"{k} {v[-1]['ms']:.0f}" for k, v in results.items()), flush=True
        )
    return results


def main() -> int:
    args = parse_args()
    names = [n for n in PAGES if n in args.pages.split(",") or n in YARDSTICKS]
    from playwright.sync_api import sync_playwright

    folders = {
        "": app_folder("cnnviz-bench-render-", extra={BARE_PLOTLY: BARE_PLOTLY_PAGE, SHELL: SHELL_PAGE})
    }
    if args.against:
        folders[f" @{args.against}"] = old_app(args.against)
    procs, servers = [], {}
    try:
        for suffix, folder in folders.items():
            if suffix:  # the old app gets the same yardstick pages as this one (app_folder wrote them)
                for page in (folders[""] / "pages").glob("*_Bench_*.py"):
                    shutil.copy(page, folder / "pages" / page.name)
            proc, servers[suffix] = serve_streamlit(folder / "app.py", folder)
            procs.append(proc)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            print(
                f"load average before: {load()}  (servers {servers}, viewport {args.size}, {args.cache} cache)"
            )
            results = measure(browser, servers, names, args)
            browser.close()
        print(f"load average after: {load()}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
    ok = report(results)
    print(f"\ntarget: every page's median first render under {TARGET_MS} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
