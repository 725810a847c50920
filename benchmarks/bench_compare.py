"""The correlation page and the FFT route, measured side by side in one run.

1. Server-side rerun time of pages/2_Correlation_vs_convolution.py under AppTest (median over reruns)
   beside a bare one-slider page (the framework's floor), with the figure caches warm and cleared, and the
   Plotly payload the page sends.
2. Direct full convolution (numpy.convolve, O(n*m)) against the FFT route (`fft_convolve1d`'s recipe:
   zero-pad, multiply, inverse; O(n log n)) for growing lengths, with the largest difference.

Run: `.venv/bin/python benchmarks/bench_compare.py`.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import median_seconds

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnviz.lessons.compare import fft_convolve1d, fft_route1d  # noqa: E402

BARE_PAGE = 'import streamlit as st\nst.title("floor")\nst.slider("x", 0, 10, 3, key="x")\n'


def page_reruns(repeats: int = 15) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(str(ROOT / "pages/2_Correlation_vs_convolution.py"), default_timeout=60)
    with tempfile.TemporaryDirectory() as tmp:
        bare_path = Path(tmp) / "bare.py"
        bare_path.write_text(BARE_PAGE)
        bare = AppTest.from_file(str(bare_path), default_timeout=60)
        t_bare = median_seconds(bare.run, repeats)
    t_page = median_seconds(page.run, repeats)
    payload = sum(len(el.proto.spec) for el in page.get("plotly_chart"))
    n_figs = len(page.get("plotly_chart"))
    print(f"rerun, bare one-slider page (floor):        {t_bare * 1000:7.1f} ms")
    print(
        f"rerun, correlation page (all four tabs):     {t_page * 1000:7.1f} ms  ({t_page / t_bare:.1f}x the floor)"
    )
    print(f"plotly payload of the page: {n_figs} figures, {payload / 1024:.0f} KiB")

    def cold_run():
        st.cache_resource.clear()  # every figure rebuilt, as after a change that touches them all
        page.run()

    t_cold = median_seconds(cold_run, repeats)
    print(
        f"rerun, same, every figure rebuilt (no cache): {t_cold * 1000:5.1f} ms  ({t_cold / t_bare:.1f}x the floor)"
    )

    # A 32x32 typed input (the largest with numbers in cells) and full padding.
    rng = np.random.default_rng(0)
    big = "\n".join(" ".join(str(v) for v in row) for row in rng.integers(0, 10, (32, 32)))
    page.text_area(key="corr_X_text").input(big)
    page.radio(key="corr_padding").set_value("full")
    t_big = median_seconds(page.run, repeats)
    payload = sum(len(el.proto.spec) for el in page.get("plotly_chart"))
    print(
        f"rerun, correlation page, 32x32 input, full: {t_big * 1000:7.1f} ms  ({t_big / t_bare:.1f}x the floor), "
        f"payload {payload / 1024:.0f} KiB"
    )


def direct_vs_fft() -> None:
    rng = np.random.default_rng(1)
    print("\nfull 1-D convolution of two length-n signals: direct (numpy.convolve) vs the FFT route")
    print(f"{'n':>8} {'direct ms':>11} {'FFT ms':>9} {'direct/FFT':>11} {'max |diff|':>11}")
    for n in (100, 1_000, 10_000, 30_000):
        x, w = rng.normal(size=n), rng.normal(size=n)
        repeats = 3 if n >= 10_000 else 30
        t_direct = median_seconds(lambda x=x, w=w: np.convolve(x, w), repeats)
        t_fft = median_seconds(lambda x=x, w=w: fft_route1d(x, w)[0], repeats)
        diff = float(np.max(np.abs(np.convolve(x, w) - fft_route1d(x, w)[0])))
        print(f"{n:>8} {t_direct * 1000:11.3f} {t_fft * 1000:9.3f} {t_direct / t_fft:11.1f} {diff:11.2e}")
    r = fft_convolve1d([1, 2, 3, 4, 5], [3, 2, 1])
    print(f"patients and doses by FFT: {np.round(r.via_fft, 9).tolist()} (max diff {r.max_difference:.1e})")


if __name__ == "__main__":
    page_reruns()
    direct_vs_fft()
