"""The server's CPU per click, one student on a real server: this checkout beside an older revision.

    .venv/bin/python benchmarks/bench_rerun_cpu.py --against 2bdc77b
    .venv/bin/python benchmarks/bench_rerun_cpu.py --pages Home,Pooling --rounds 6

What a class of 30 costs one app process is about 20 clicks a second times this (bench_class.py measures the
class itself). Each app is served by `streamlit run` from a temporary folder; one session per page moves a
random slider of the page to a random value every 50 ms, or on a page with no slider (Convolution, Train)
clicks one of its controls (the fragment that draws it reruns, else the page), as bench_class's students do. The CPU time is read from /proc for the server
process (all its threads); the rounds alternate which app goes first, with the same moves for both, so that
the machine's drift falls on both alike. Printed per page and app: the median over rounds of the CPU per
rerun, each round's figure, and the median wall time of a rerun.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import timing  # noqa: E402
from bench_class import cpu_seconds, move  # noqa: E402
from stclient import Session  # noqa: E402
from timing import old_app  # noqa: E402

PAGES = {"Home": "", "Convolution": "Convolution", "Pooling": "Pooling", "Train": "Train_LeNet"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default="Home,Pooling,Convolution", help=f"of {', '.join(PAGES)}")
    parser.add_argument(
        "--against", metavar="REV", help="also serve the app at git revision REV, same rounds"
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clicks", type=int, default=30, help="clicks per round")
    args = parser.parse_args()
    roots = {"now": ROOT}
    if args.against:
        roots[f"@{args.against}"] = old_app(args.against)
    folders, servers = [], {}
    try:
        for name, root in roots.items():
            timing.ROOT = root  # app_folder links to this app's pages and packages
            folder = timing.app_folder("cnnviz-bench-cpu-")
            folders.append(folder)
            servers[name] = timing.serve_streamlit(folder / "app.py", folder)
        timing.ROOT = ROOT
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} at the start")
        for page in args.pages.split(","):
            sessions = {name: Session(url, PAGES[page]).open() for name, (_, url) in servers.items()}
            for s in sessions.values():
                s.run()
                s.run()
            cpu = {name: [] for name in roots}
            wall = {name: [] for name in roots}
            failed = dict.fromkeys(roots, 0)  # reruns that drew an error (a cheap rerun is no result)
            for r in range(args.rounds):
                order = list(roots) if r % 2 == 0 else list(roots)[::-1]
                for name in order:
                    rng, pid = random.Random(f"{page}-{r}"), servers[name][0].pid
                    before = cpu_seconds([pid])
                    for _ in range(args.clicks):
                        time.sleep(0.05)
                        result = move(sessions[name], rng)
                        wall[name].append(result.seconds * 1000)
                        failed[name] += bool(result.exceptions)
                    cpu[name].append((cpu_seconds([pid]) - before) / args.clicks * 1000)
            for name in roots:
                rounds = ", ".join(f"{x:.1f}" for x in cpu[name])
                print(
                    f"{page:12} {name:10} CPU per click {statistics.median(cpu[name]):5.1f} ms (rounds {rounds}); "
                    f"wall {statistics.median(wall[name]):5.1f} ms"
                    + (f"; {failed[name]} reruns drew an error" if failed[name] else "")
                )
            for s in sessions.values():
                s.close()
    finally:
        for proc, _ in servers.values():
            proc.kill()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        for root in roots.values():
            if root != ROOT:
                shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
