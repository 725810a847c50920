"""The Feature maps page on a 512x512 RGB picture with 8 kernels, beside torch doing the same convolutions.

Target (issue 4): the page renders (server side) in under 1 s on this machine. Measured three ways, in one
run: the whole page under AppTest after uploading the picture (script run time, everything the page
computes and serialises), the library part alone (the 8-filter bank, ReLU and pooling; the RGB breakdown),
and torch.nn.functional doing the same convolutions, ReLU and pooling.
Run: `.venv/bin/python benchmarks/bench_feature_maps.py`.
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from timing import median_seconds

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import app_test  # noqa: E402

from cnnviz import KERNELS, load_image  # noqa: E402
from cnnviz.draw.featuremaps import map_figure  # noqa: E402
from cnnviz.draw.figures import color_range  # noqa: E402
from cnnviz.lessons.featuremaps import channel_breakdown, filter_bank, to_channels  # noqa: E402

NAMES = list(KERNELS)[:8]  # Identity .. Laplacian: eight 3x3 kernels
PAGE = "pages/4_Feature_maps.py"


def pictures() -> dict[str, np.ndarray]:
    """A real picture (the bundled scene, resized to 512x512) and noise (the worst case for PNG maps)."""
    scene = load_image(ROOT / "assets" / "scene.png", mode="RGB").astype(np.uint8)
    smooth = np.asarray(Image.fromarray(scene).resize((512, 512), Image.Resampling.BICUBIC))
    noise = np.random.default_rng(0).integers(0, 256, (512, 512, 3)).astype(np.uint8)
    return {"scene 512x512": smooth, "noise 512x512": noise}


def page_seconds(rgb: np.ndarray, repeats: int = 5) -> tuple[float, float, float]:
    """AppTest script run times: the first render after the upload (the bank tab is open), a rerun after a
    setting changes, and opening the RGB tab (tabs run lazily: each run computes the open tab only)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    firsts, reruns, rgb_tabs = [], [], []
    for _ in range(repeats):
        at = app_test(PAGE).run()
        at.toggle(key="fm_rgb").set_value(True).run()
        at.multiselect(key="fm_bank").set_value(NAMES).run()
        at.radio(key="fm_source").set_value("Upload my own").run()
        upload = at.file_uploader(key="fm_upload").upload("photo.png", buf.getvalue(), "image/png")
        t0 = time.perf_counter()
        upload.run()
        firsts.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
        text = "\n".join(m.value for m in at.markdown)
        assert "8 x 512 x 512" in text, "the page did not render the 512x512 bank"
        at.toggle(key="fm_shared").set_value(False)
        t0 = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - t0)
        at.session_state["fm_tab"] = "One filter, three channels"
        t0 = time.perf_counter()
        at.run()
        rgb_tabs.append(time.perf_counter() - t0)
        assert "over all 262,144 cells" in "\n".join(m.value for m in at.markdown)
    print(f"  page first-render runs: {', '.join(f'{t * 1e3:.0f}' for t in firsts)} ms")
    return statistics.median(firsts), statistics.median(reruns), statistics.median(rgb_tabs)


def main() -> None:
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, numpy {np.__version__}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work slows every figure)")
    kernels = {n: KERNELS[n].array for n in NAMES}
    for label, rgb in pictures().items():
        X = to_channels(rgb)  # (3, 512, 512)
        bank = filter_bank(X, kernels, padding=1)
        x64 = torch.from_numpy(X)[None]  # (1, 3, 512, 512)
        w64 = torch.from_numpy(bank.weights)  # (8, 3, 3, 3)
        x32, w32 = x64.float(), w64.float()
        ref = F.max_pool2d(F.relu(F.conv2d(x64, w64, padding=1)), 2)
        np.testing.assert_allclose(bank.pooled, ref[0].numpy(), atol=1e-8)

        t_bank = median_seconds(lambda X=X: filter_bank(X, kernels, padding=1))
        parts = [KERNELS[n].array for n in ("Vertical edge", "Horizontal edge", "Laplacian")]
        t_rgb = median_seconds(lambda X=X, parts=parts: channel_breakdown(X, parts, 0.0, padding=1))

        def figures(bank=bank):
            for maps in (bank.maps, bank.activated, bank.pooled):
                scale = color_range([maps])
                for Z in maps:
                    map_figure(Z, colors=scale, side_px=160).to_json()

        t_figs = median_seconds(figures, repeats=3)

        def torch_bank(x, w):
            return F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)

        t_torch64 = median_seconds(lambda x=x64, w=w64: torch_bank(x, w))
        t_torch32 = median_seconds(lambda x=x32, w=w32: torch_bank(x, w))
        t_page, t_rerun, t_rgb_tab = page_seconds(rgb)

        print(f"\n== {label} RGB, {len(NAMES)} kernels 3x3, padding 1, ReLU, max pool 2x2")
        print(f"{'page (AppTest, first render after upload)':50s} {t_page * 1e3:8.1f} ms")
        print(f"{'page (AppTest, rerun after a setting changes)':50s} {t_rerun * 1e3:8.1f} ms")
        print(f"{'page (AppTest, opening the RGB breakdown tab)':50s} {t_rgb_tab * 1e3:8.1f} ms")
        print(f"{'library: 8-filter bank + ReLU + pool (float64)':50s} {t_bank * 1e3:8.1f} ms")
        print(f"{'library: RGB breakdown (3 traces + conv2d)':50s} {t_rgb * 1e3:8.1f} ms")
        print(f"{'library: 24 map figures built and serialised':50s} {t_figs * 1e3:8.1f} ms")
        print(f"{'torch conv2d + relu + max_pool2d (float64)':50s} {t_torch64 * 1e3:8.1f} ms")
        print(f"{'torch conv2d + relu + max_pool2d (float32)':50s} {t_torch32 * 1e3:8.1f} ms")
        print(
            f"RESULT {label}: page {t_page:.2f} s (target < 1 s): {'PASS' if t_page < 1 else 'MISS'}; "
            f"bank {t_bank / t_torch64:.1f}x torch float64"
        )


if __name__ == "__main__":
    main()
