"""The stepper pages in Chromium's dark theme and in projector mode: the stepper's words and numbers read
on their backgrounds (WCAG contrast >= 4.5), figures sit on the dark page, and a projector link starts with
the sidebar collapsed."""

import pytest
from browser_helpers import SCREENS, open_at, viewport_shot
from conftest import FIGURES

from cnnviz.draw.palette import scale_rgb

pytestmark = pytest.mark.browser

STEPPER = '[data-testid="stepper"]'
CHARTS = FIGURES
# WCAG contrast of each piece of text in the stepper against what is behind it: a numbered cell's own
# fill, else the first non-transparent background up the tree (the app's, in the end).
CONTRASTS = """root => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const l = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const behind = (node) => {
    for (let n = node; n; n = n.parentElement || (n.getRootNode && n.getRootNode().host)) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const out = { cells: [], words: [] };
  for (const cell of root.querySelectorAll('.cell')) {
    const text = cell.querySelector('text');
    if (!text || !text.textContent || cell.classList.contains('pad') || !cell.querySelector('rect.bg').style.fill) continue;
    const bg = rgb(getComputedStyle(cell.querySelector('rect.bg')).fill);
    out.cells.push([text.textContent, ratio(rgb(getComputedStyle(text).fill), bg)]);
  }
  for (const node of root.querySelectorAll('.stepper-sum, .stepper-legend span, .panel-title, h3, button, label')) {
    if (!node.textContent.trim() || !node.getClientRects().length) continue;
    out.words.push([node.textContent.trim().slice(0, 30), ratio(rgb(getComputedStyle(node).color), behind(node))]);
  }
  return out;
}"""


@pytest.mark.parametrize(
    "page, query",
    [
        ("Convolution", ""),
        ("Convolution", "?conv_example=7x7+input%2C+stride+2"),
        ("Pooling", ""),
    ],
)
def test_the_stepper_reads_in_the_dark_theme(server, browser, page, query):
    context, pg = open_at(browser, f"{server}/{page}{query}", SCREENS["1366x768"], color_scheme="dark")
    try:
        root = pg.locator(STEPPER).first
        root.wait_for(timeout=60_000)
        pg.wait_for_timeout(500)
        viewport_shot(pg, f"{page.lower()}_dark{'_link' if query else ''}_1366x768")
        app_bg = pg.locator('[data-testid="stApp"]').evaluate("e => getComputedStyle(e).backgroundColor")
        assert app_bg != "rgb(255, 255, 255)"  # the browser asked for dark, and the app is dark
        seen = root.evaluate(CONTRASTS)
        assert len(seen["cells"]) >= 9 and len(seen["words"]) >= 3, seen
        low = [(t, round(r, 2)) for t, r in seen["cells"] + seen["words"] if r < 4.5]
        assert not low, f"text that does not read on its background: {low}"
        backgrounds = pg.locator(f"{CHARTS} svg.fig-svg").evaluate_all(
            "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
        assert all(b == "rgba(0, 0, 0, 0)" for b in backgrounds), backgrounds  # transparent on the dark page
    finally:
        context.close()


def sidebar_right_edge(pg) -> float:
    pg.locator('[data-testid="stSidebar"]').wait_for(state="attached", timeout=30_000)
    pg.wait_for_timeout(500)  # the sidebar slides in or out
    return pg.locator('[data-testid="stSidebar"]').evaluate("e => e.getBoundingClientRect().right")


@pytest.mark.parametrize("page", ["Convolution", ""])
def test_a_projector_link_starts_with_the_sidebar_collapsed(server, browser, page):
    context, pg = open_at(browser, f"{server}/{page}?projector=true", SCREENS["1920x1080"])
    try:
        viewport_shot(pg, f"projector_sidebar_{page.lower() or 'home'}_1920x1080")
        assert sidebar_right_edge(pg) <= 1  # off screen: the page has the whole width
    finally:
        context.close()
    context, pg = open_at(browser, f"{server}/{page}", SCREENS["1920x1080"])
    try:
        assert sidebar_right_edge(pg) >= 200  # without projector mode the menu is open
    finally:
        context.close()


def test_the_browser_colours_magnitudes_as_python_does_on_viridis(server, browser):
    """The 6x6 example's input is 0..9: 0 is viridis's dark end, 9 its yellow end (cnnviz.draw.palette.scale_rgb)."""
    context, pg = open_at(browser, f"{server}/Convolution", SCREENS["1366x768"])
    try:
        root = pg.locator(STEPPER).first
        root.wait_for(timeout=60_000)
        fills = root.evaluate(
            """root => Object.fromEntries([...root.querySelectorAll('.cell[data-grid="input"]')]
                .map(c => [c.dataset.value, getComputedStyle(c.querySelector('rect.bg')).fill]))"""
        )
        for value, level in (("0", 0.0), ("9", 1.0), ("5", 5 / 9)):
            assert fills[value] == "rgb({}, {}, {})".format(*scale_rgb(level, "magnitude")), (value, fills)
    finally:
        context.close()
