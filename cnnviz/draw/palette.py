"""One colour per meaning, safe for colour-blind eyes and a washed-out projector.

Categorical colours are the Okabe–Ito palette (Okabe & Ito 2008), which stays distinct under the
three common colour-vision deficiencies. Magnitudes use viridis or cividis (perceptually uniform,
readable in grey); signed values use a diverging scale centred on zero. Meaning is never carried by
colour alone: every mark that says right/wrong or winner also has a symbol (`MARKS`).

| meaning       | name            | hex       | used for                                              |
|---------------|-----------------|-----------|-------------------------------------------------------|
| window        | orange          | #E69F00   | the kernel's window on the input, its outline          |
| padding       | grey            | #999999   | padding cells (a translucent tint over the grid)       |
| never read    | reddish purple  | #CC79A7   | input cells no window ever reads (a hatched tint)      |
| current cell  | blue            | #0072B2   | the output cell being computed                         |
| winner        | yellow          | #F0E442   | the value max/min pooling keeps (outline + ★)          |
| right         | bluish green    | #009E73   | a correct answer (with ✓)                              |
| wrong         | vermillion      | #D55E00   | a wrong answer (with ✗)                                |
| extra         | sky blue        | #56B4E9   | a second series when one is needed (e.g. dilation taps)|

Scales: `MAGNITUDE` ("Viridis") for values >= 0, `MAGNITUDE_ALT` ("Cividis"), `IMAGE` ("gray") for
pictures of 0..255, `DIVERGING` (blue–white–red, `zmid` 0) for signed values. `VIRIDIS` holds viridis's
stops, so that the browser stepper and the exports colour a cell as Plotly's heatmaps do (`scale_rgb`), and
`ink` picks the black or white text with the higher contrast on a cell (WCAG ratio >= 4.5 on any colour).
"""

from __future__ import annotations

__all__ = [
    "DIVERGING",
    "BLACK_INK",
    "CURRENT_COLOR",
    "GRID_LINE",
    "IMAGE",
    "MAGNITUDE",
    "MAGNITUDE_ALT",
    "MARKS",
    "MARK_COLOR",
    "MEANINGS",
    "OKABE_ITO",
    "PAD_COLOR",
    "PAD_SHADE",
    "PAD_TEXT",
    "UNVISITED_COLOR",
    "VIRIDIS",
    "WHITE_INK",
    "WINDOW_COLOR",
    "WINNER_COLOR",
    "contrast_ratio",
    "hex_rgb",
    "ink",
    "rgb",
    "rgba",
    "scale_rgb",
    "tint",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "grey": "#999999",
}

# One colour per meaning across the app (the table in the module docstring).
MEANINGS = {
    "window": OKABE_ITO["orange"],
    "padding": OKABE_ITO["grey"],
    "never read": OKABE_ITO["reddish purple"],
    "current cell": OKABE_ITO["blue"],
    "winner": OKABE_ITO["yellow"],
    "right": OKABE_ITO["bluish green"],
    "wrong": OKABE_ITO["vermillion"],
    "extra": OKABE_ITO["sky blue"],
}

# The colours the figures draw with, by what they mark; each look also has its own outline style or pattern
# (as in the stepper's stepper.css), so none rests on colour alone.
CURRENT_COLOR = MEANINGS["current cell"]  # blue outline: the output cell being computed
WINDOW_COLOR = MEANINGS["window"]  # orange, thick solid outline: the window on the input
WINNER_COLOR = MEANINGS["winner"]  # yellow on a dark line, dashed, and a star: the tap max/min pooling keeps
MARK_COLOR = MEANINGS[
    "wrong"
]  # vermillion, dashed outline and "!": output cells to call out (a slide's mistake)
PAD_COLOR = "#D9D9D9"  # light grey (with diagonal hatching in the stepper): padding cells drawn opaque
PAD_SHADE = "rgba(120, 120, 120, 0.55)"  # padding (or any masked cell) as a translucent grey over a heatmap
PAD_TEXT = "#707070"  # the numbers written on padding cells
GRID_LINE = "#BBBBBB"  # the lines between numbered cells in the exports

# The symbol that carries each meaning besides its colour (so it survives colour-blindness and greyscale).
MARKS = {"right": "✓", "wrong": "✗", "winner": "★", "current cell": "▣"}

MAGNITUDE = "Viridis"
MAGNITUDE_ALT = "Cividis"
IMAGE = "gray"
# Colour-blind-safe diverging scale (blue for negative, near-white at zero, vermillion-red for positive),
# from ColorBrewer's RdBu, which separates well for deuteranopes and protanopes; use with zmid=0.
DIVERGING = [
    [0.0, "#2166AC"],
    [0.25, "#92C5DE"],
    [0.5, "#F7F7F7"],
    [0.75, "#F4A582"],
    [1.0, "#B2182B"],
]
# Plotly's "Viridis" stops (matplotlib's viridis, evenly spaced), dark purple to yellow.
VIRIDIS = [
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
]  # fmt: skip
BLACK_INK, WHITE_INK = "#000000", "#FFFFFF"


def hex_rgb(hexcode: str) -> tuple[int, int, int]:
    """ "#RRGGBB" as an (r, g, b) tuple of 0..255."""
    return tuple(int(hexcode[k : k + 2], 16) for k in (1, 3, 5))


def _mix(stops: list[tuple[int, int, int]], t: float) -> tuple[int, int, int]:
    """The colour at t in 0..1 along evenly spaced stops (linear between neighbours)."""
    x = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    k = min(int(x), len(stops) - 2)
    a, b, f = stops[k], stops[k + 1], x - k
    return tuple(round(p + (q - p) * f) for p, q in zip(a, b, strict=True))


def scale_rgb(level: float, scale: str) -> tuple[int, int, int]:
    """A cell's colour: `level` in 0..1 on "magnitude" (viridis) or "grey", in -1..1 on "diverging"."""
    if scale == "grey":
        v = round(255 * min(max(level, 0.0), 1.0))
        return (v, v, v)
    if scale == "diverging":
        return _mix([hex_rgb(c) for _, c in DIVERGING], (level + 1) / 2)
    return _mix([hex_rgb(c) for c in VIRIDIS], level)


def _luminance(color: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two colours, 1..21 (4.5 is the bar for normal text)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink(background: tuple[int, int, int]) -> str:
    """Black or white text, whichever contrasts more with `background` (at least 4.58 on any colour)."""
    black = contrast_ratio(background, (0, 0, 0))
    return BLACK_INK if black >= contrast_ratio(background, (255, 255, 255)) else WHITE_INK


def rgb(name: str) -> tuple[int, int, int]:
    """A meaning's (or an Okabe–Ito name's) colour as an (r, g, b) tuple of 0..255."""
    hexcode = MEANINGS.get(name) or OKABE_ITO.get(name)
    if hexcode is None:
        known = ", ".join([*MEANINGS, *OKABE_ITO])
        raise ValueError(f"no colour is called {name!r}; choose one of {known}")
    return tuple(int(hexcode[k : k + 2], 16) for k in (1, 3, 5))


def rgba(name: str, alpha: float) -> str:
    """A meaning's colour as a CSS rgba() string with the given opacity (for translucent tints)."""
    r, g, b = rgb(name)
    return f"rgba({r}, {g}, {b}, {alpha})"


def tint(name: str, alpha: float = 0.3) -> str:
    """A meaning's colour laid at `alpha` over white, as "#RRGGBB": a light tint black numbers stay readable on."""
    return "#{:02X}{:02X}{:02X}".format(*(round(255 + (v - 255) * alpha) for v in rgb(name)))


UNVISITED_COLOR = rgba("never read", 0.35)  # reddish-purple cross-hatching: input cells no window reads
