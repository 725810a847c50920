"""Training speed in a real browser with the live view on, against the headless CLI, in one run.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_train_browser.py [--epochs 4] [--rounds 2]

Serves the app with `streamlit run` on a free loopback port, opens the Train LeNet page in headless Chromium
at 1920x1080 with the live view on screen (filters and activations redrawn every second), starts a run from
fresh random weights on the shipped MNIST digits and reads the samples/s the page reports when the run ends.
In the same run it calls `python -m cnnviz.train` with the same data, batch size, epochs, seed and one torch
thread (what the page's training thread uses), and reads `samples_per_s` from its JSON line. Rounds alternate
the order. Prints both, the ratio per round and the median ratio; target: page >= 0.85 x CLI.

The machine's load is printed before and after: on a shared machine the ratio is as noisy as the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
BATCH = 32  # the page's default batch size, passed to the CLI too


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            str(ROOT / "app.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not come up")


def wait_for_app(page) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('[data-testid=\"stMainBlockContainer\"] *').length > 10",
        timeout=60_000,
    )
    page.wait_for_timeout(500)


def page_run(browser, url: str, epochs: int) -> tuple[float, int]:
    """(samples/s the page reports at the end, live-view redraws seen while training)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{url}/Train_LeNet")
        wait_for_app(page)
        page.get_by_text("fresh random weights").click()
        wait_for_app(page)
        field = page.get_by_label("Epochs")
        field.fill(str(epochs))
        field.press("Enter")
        wait_for_app(page)
        page.get_by_role("heading", name="2. Train and watch").evaluate("el => el.scrollIntoView()")
        page.get_by_role("button", name="Start training").click()
        page.wait_for_function("() => /step [1-9]\\d* of/.test(document.body.innerText)", timeout=60_000)
        # Count redraws of the activations picture (its src changes) while the run is live.
        page.evaluate(
            """() => {
                window.__redraws = 0;
                const seen = new Set();
                setInterval(() => {
                    const img = document.querySelector('img[data-name="activations"]')
                        || [...document.querySelectorAll('*')].map(e => e.shadowRoot)
                            .filter(Boolean).map(r => r.querySelector('img[data-name="activations"]')).find(Boolean);
                    if (img && !seen.has(img.src)) { seen.add(img.src); window.__redraws += 1; }
                }, 100);
            }"""
        )
        page.get_by_text("3. After training").wait_for(timeout=600_000)
        text = page.locator('[data-testid="stProgress"]').first.inner_text()
        match = re.search(r"finished.*?([\d,]+) samples/s", text)
        if not match:
            raise SystemExit(f"the page did not report a finished run: {text!r}")
        return float(match.group(1).replace(",", "")), page.evaluate("() => window.__redraws")
    finally:
        context.close()


def cli_run(epochs: int) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "cnnviz.train", "--epochs", str(epochs), "--batch-size", str(BATCH)]
        + ["--threads", "1", "--seed", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"data: the shipped MNIST digits (4,000 train), batch {BATCH}, {args.epochs} epochs, 1 torch thread"
    )
    proc, url = serve()
    ratios = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page_run(browser, url, 1)  # warm up: imports, caches, the first page render
            for r in range(args.rounds):
                if r % 2:
                    page_rate, redraws = page_run(browser, url, args.epochs)
                    cli_rate = cli_run(args.epochs)
                else:
                    cli_rate = cli_run(args.epochs)
                    page_rate, redraws = page_run(browser, url, args.epochs)
                ratios.append(page_rate / cli_rate)
                print(
                    f"round {r + 1}: page (Chromium, live view on, {redraws} redraws) {page_rate:,.0f} samples/s, "
                    f"CLI {cli_rate:,.0f} samples/s, ratio {ratios[-1]:.2f}"
                )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    ratio = statistics.median(ratios)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"median ratio page / CLI: {ratio:.2f} (target >= 0.85: {'met' if ratio >= 0.85 else 'MISSED'})")
    return 0 if ratio >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
