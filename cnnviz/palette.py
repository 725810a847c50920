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
pictures of 0..255, `DIVERGING` (blue–white–red, `zmid` 0) for signed values.
"""

from __future__ import annotations

__all__ = [
    "DIVERGING",
    "IMAGE",
    "MAGNITUDE",
    "MAGNITUDE_ALT",
    "MARKS",
    "MEANINGS",
    "OKABE_ITO",
    "rgb",
    "rgba",
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
