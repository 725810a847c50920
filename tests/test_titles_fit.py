"""No figure title on the stepper pages is cut off ("Your answer: green right, red w"): on every page,
section and tab, each fixed-width figure's longest title line fits its width."""

import re

import pytest
from conftest import app_test, plotly_figures

from cnnviz.lessons.presets import EXAMPLES

CHAR_EM = 0.55  # about how wide a character of Plotly's default font is, in ems
RUNS = [
    ("pages/1_Convolution.py", {}),
    ("pages/2_Correlation_vs_convolution.py", {}),
    *[
        ("pages/2_Correlation_vs_convolution.py", {"corr_tab": tab})
        for tab in ("Associativity", "1-D convolution", "Multiplication in frequency")
    ],
    *[
        ("pages/3_Pooling.py", {"pool_section": section})
        for section in ("Step through", "Backpropagation", "Shift invariance", "Conv, ReLU, pool")
    ],
    *[
        ("pages/4_Feature_maps.py", {"fm_tab": tab})
        for tab in (
            "Bank of kernels",
            "One filter, three channels",
            "1x1 convolution",
            "Transposed and dilated",
        )
    ],
]


def too_wide(at) -> list[str]:
    found = []
    for fig in plotly_figures(at):
        layout = fig["layout"]
        title = (layout.get("title") or {}).get("text", "")
        # Plotly draws a title at its own font size, else at 1.4 times the layout's (12 px by default).
        base = (layout.get("font") or {}).get("size") or 12
        size = ((layout.get("title") or {}).get("font") or {}).get("size") or base * 1.4
        width = layout.get("width")
        longest = max((len(re.sub("<[^>]+>", "", line)) for line in title.split("<br>")), default=0)
        if width and longest * size * CHAR_EM > width:
            found.append(f"{title!r} at {size} px in a {width} px figure")
    return found


@pytest.mark.parametrize(("page", "params"), RUNS)
def test_every_title_fits_its_figure(page, params):
    at = app_test(page)
    at.query_params.update(params)
    at.session_state["pool_size_open"] = True  # Pooling's folded whole grids
    at.run()
    assert not at.exception
    assert too_wide(at) == []


def test_the_check_my_work_title_fits_once_an_answer_is_typed():
    at = app_test("pages/1_Convolution.py").run()
    answer = EXAMPLES["6x6 input, vertical edge"].output.copy()
    answer[0, 0] = 99
    at.text_area(key="conv_check_answer").set_value(
        "\n".join(" ".join(f"{v:g}" for v in r) for r in answer)
    ).run()
    assert any(f["layout"]["title"]["text"].startswith("Your answer") for f in plotly_figures(at))
    assert too_wide(at) == []
