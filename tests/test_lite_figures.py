"""The light figure component's Python side (`cnnviz.draw.lite`): which figures it takes, and that the JSON it
sends is the figure itself. The drawing is checked in Chromium (tests/test_browser_figures.py)."""

import json

import numpy as np
import plotly.graph_objects as go
from conftest import ROOT, app_test, decode, plotly_charts, plotly_figures

from cnnviz.draw.compare import smoothing_figure
from cnnviz.draw.featuremaps import map_figure
from cnnviz.draw.figures import grid_figure
from cnnviz.draw.learnfilter import kernels_figure, loss_figure, outputs_figure, weights_figure
from cnnviz.draw.lite import lite_spec
from cnnviz.draw.picture import picture_figure
from cnnviz.lenet.model import LeNet5
from ui.train_figures import architecture_figure, confusion_figure


def test_a_grid_with_shade_and_outline_goes_to_the_light_component_as_its_own_json():
    Z = np.arange(12.0).reshape(3, 4) - 5
    shade = np.zeros((3, 4), bool)
    shade[0] = True
    fig = grid_figure(Z, title="X", shade=shade, outlines=[((0, 0, 1, 1), "#0072B2")])
    spec = json.loads(lite_spec(fig))
    assert "template" not in spec["layout"]  # Plotly's look is not sent: the component has its own
    assert np.array_equal(decode(spec["data"][0]["z"]), Z)
    assert spec["data"][0]["text"][1][2] == "1"
    assert spec["layout"]["shapes"][0]["x0"] == -0.5 and spec["layout"]["title"]["text"] == "X"
    assert np.isnan(decode(spec["data"][1]["z"])[1, 0])  # the shade: only the masked row


def _builder_figures() -> list:
    rng = np.random.default_rng(0)
    W, K = rng.normal(size=(3, 3)), np.eye(3)
    return [
        kernels_figure(W, K, step=3),
        loss_figure([4.0, 2.0, 1.0, 0.5], floor=0.1),
        weights_figure([W, W * 0.5], K),
        outputs_figure(rng.normal(size=(12, 12)), rng.normal(size=(10, 10)), rng.normal(size=(10, 10))),
        map_figure(rng.normal(size=(20, 20))),
        map_figure(rng.normal(size=(300, 300))),  # a picture (PNG) with a colour bar of its own
        picture_figure(rng.integers(0, 256, size=(40, 30, 3)), window=(2, 2, 9, 9)),  # a colour picture
        picture_figure(rng.integers(0, 256, size=(40, 30))),
        smoothing_figure(np.arange(20.0), np.zeros(20), rng.normal(size=20), np.zeros(20), window_name="box"),
        architecture_figure(LeNet5("relu", "max").describe()),  # shapes and labels, hidden axes
        confusion_figure(np.eye(3, dtype=int), ("cat", "dog", "owl")),  # rows and columns named
        grid_figure(rng.normal(size=(5, 5)), title="signed", outlines=[((0, 0, 1, 1), "#0072B2")]),
    ]


def test_the_learn_a_filter_and_feature_map_figures_go_to_the_light_component():
    for fig in _builder_figures():
        assert lite_spec(fig) is not None, fig.layout.title.text


def test_a_figure_with_anything_the_component_does_not_draw_stays_with_plotly():
    grid = grid_figure(np.eye(3))
    bar = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    arrow = go.Figure(grid).add_annotation(x=1, y=1, text="here", showarrow=True)
    spaced = go.Figure(go.Heatmap(z=np.eye(2), x=[0.5, 2.0], colorscale=[[0, "#000"], [1, "#fff"]]))
    circle = go.Figure(grid).add_shape(type="circle", x0=0, x1=1, y0=0, y1=1)
    filled = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], fill="tozeroy"))
    assert lite_spec(grid) is not None
    for fig in (bar, arrow, spaced, circle, filled):
        assert lite_spec(fig) is None


def test_no_page_loads_plotly_on_its_first_screen():
    # Plotly's JavaScript costs 1.2-1.5 s of a first render (benchmarks/bench_first_render.py); every figure a
    # page shows before anything is opened is drawn by the light component instead.
    for page in ["app.py", *(f"pages/{p}" for p in ("2_Correlation_vs_convolution.py", "4_Feature_maps.py"))]:
        at = app_test(page).run()
        assert not at.exception, page
        assert plotly_figures(at), page
        assert plotly_charts(at) == [], page
    for page in ("5_Layer_arithmetic.py", "7_Learn_a_filter.py", "3_Pooling.py", "1_Convolution.py"):
        at = app_test(f"pages/{page}").run()
        assert not at.exception and plotly_charts(at) == [], page


def test_sending_a_figure_leaves_it_as_it_was():
    # Figures are cached and shared by every session (`ui.page.cached_figure`): the JSON is made from a copy.
    fig = grid_figure(np.arange(6.0).reshape(2, 3), title="shared", outlines=[((0, 0, 0, 0), "#0072B2")])
    before = fig.to_json()
    first = lite_spec(fig)
    assert isinstance(fig.data[0].z, np.ndarray) and fig.to_json() == before
    assert lite_spec(fig) == first
    assert json.loads(first)["data"][0]["z"]["dtype"] == "f8"  # arrays as Plotly's base64, not long lists


def _is_open(at, key: str) -> bool:
    try:
        return bool(at.session_state[key])
    except KeyError:  # never opened
        return False


def _every_figure(page: str) -> list[dict]:
    """The figures a page draws on its first screen and with every folded section opened (as AppTest sees
    them: the light component's JSON, or Plotly's)."""
    at = app_test(page).run()
    seen = plotly_figures(at)
    for _ in range(3):  # an opened section may hold more folded sections
        closed = [e.proto.id.split("-", 2)[-1] for e in at.expander if e.proto.id and not e.proto.expanded]
        closed = [k for k in closed if not _is_open(at, k)]
        if not closed:
            break
        for k in closed:
            at.session_state[k] = True
        at.run()
        seen += plotly_figures(at)
    assert not at.exception, page
    return seen


def test_figures_built_without_plotlys_checks_are_the_figures_built_with_them(monkeypatch):
    # `new_figure` skips Plotly's property checks when serving (a quarter of a rerun); a figure must come out
    # the same either way, on every page and with every section open, and from every builder.
    import cnnviz.draw.figures as figures

    pages = ["app.py", *(f"pages/{p.name}" for p in sorted((ROOT / "pages").glob("*.py")))]
    drawn = {}
    for checked in (True, False):
        monkeypatch.setattr(figures, "CHECKED", checked)
        drawn[checked] = {page: _every_figure(page) for page in pages}
        drawn[checked]["builders"] = [json.loads(lite_spec(fig)) for fig in _builder_figures()]
    assert sum(len(drawn[False][page]) for page in pages) > 50  # (Convolution's grids are its stepper's)
    for page in [*pages, "builders"]:
        assert len(drawn[False][page]) == len(drawn[True][page]), page
        for fast, slow in zip(drawn[False][page], drawn[True][page], strict=True):
            assert fast == slow, (page, slow["layout"].get("title"))
