"""The Layer arithmetic page: how long the arithmetic and the pictures take, beside torch building the same net.

Printed side by side for every preset, in one run: the library's walk over the layers (`analyse`), the
receptive-field view and both figures of the page's default cell (`FieldView`, `output_figure`,
`field_figure`), torch building the same layers and pushing one zero image through them (what a student
would otherwise do to read the shapes), and the whole page under AppTest (script run time).
Run: `.venv/bin/python benchmarks/bench_layers.py`.
"""

import statistics
import sys
import time
from pathlib import Path

import torch
from timing import median_seconds
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import app_test  # noqa: E402

from cnnviz.draw.layers import FieldView, field_figure, output_figure  # noqa: E402
from cnnviz.lessons.layers import PRESETS, Conv, Flatten, Pool, ReLU, analyse  # noqa: E402


def median_ms(fn, repeats: int = 5) -> float:
    return 1000 * median_seconds(fn, repeats)


def torch_forward(preset) -> None:
    a = analyse(preset.input_shape, preset.layers)
    modules = []
    for prev, row in zip(a.rows, a.rows[1:], strict=False):
        layer = row.layer
        if isinstance(layer, Conv):
            modules.append(
                nn.Conv2d(prev.shape[0], layer.out_channels, layer.kernel, layer.stride, layer.padding)
            )
        elif isinstance(layer, Pool):
            modules.append((nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d)(layer.size, layer.step))
        elif isinstance(layer, ReLU):
            modules.append(nn.ReLU())
        elif isinstance(layer, Flatten):
            modules.append(nn.Flatten())
        else:
            modules.append(nn.Linear(prev.shape[0], layer.out_features))
    with torch.no_grad():
        nn.Sequential(*modules)(torch.zeros(1, *preset.input_shape))


def pictures(preset) -> None:
    a = analyse(preset.input_shape, preset.layers)
    rows = [r.index for r in a.spatial_rows if r.index > 0]
    if rows:
        _, h, w = a.rows[rows[-1]].shape
        view = FieldView(a, rows[-1], (h // 2, w // 2))
        output_figure(a, rows[-1], view.cell)
        field_figure(view, zoom=max(preset.input_shape[1:]) > 32)


def page_run(title: str) -> float:
    at = app_test("pages/5_Layer_arithmetic.py").run()
    at.selectbox(key="layers_preset").set_value(title)
    t0 = time.perf_counter()
    at.run()
    assert not at.exception
    return 1000 * (time.perf_counter() - t0)


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'preset':52} {'analyse':>9} {'pictures':>9} {'torch fwd':>10} {'page run':>9}   (median ms)")
    for title, preset in PRESETS.items():
        t_analyse = median_ms(lambda p=preset: analyse(p.input_shape, p.layers))
        t_pictures = median_ms(lambda p=preset: pictures(p))
        t_torch = median_ms(lambda p=preset: torch_forward(p))
        t_page = statistics.median(page_run(title) for _ in range(3))
        print(f"{title:52} {t_analyse:9.2f} {t_pictures:9.1f} {t_torch:10.1f} {t_page:9.0f}")


if __name__ == "__main__":
    main()
