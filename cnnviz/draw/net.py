"""Pictures of a designed network (`cnnviz.lessons.netspec`) for the live view: its first conv layer's filters, and
one image's maps after every conv layer, with the class probabilities. Same canvas and colour scales as the
LeNet pictures (`cnnviz.draw.lenet`); a tile's layer is the layer number as text, so a click names it.
"""

from __future__ import annotations

import numpy as np

from cnnviz.draw.lenet import Canvas, colour_maps, gray_rgb

MAX_MAPS = 16  # maps drawn per layer (the first ones); a layer's other maps are in the explain panel


def _scale(side: int, target: int = 84) -> int:
    """A whole enlargement that draws a map about `target` pixels wide (at least 1, at most 12)."""
    return max(1, min(12, target // max(side, 1)))


def first_filters_picture(weight: np.ndarray, layer: int):
    """The first conv layer's filters (C_out, C_in, kh, kw): a column per filter, a row per input channel, one
    diverging scale centred on 0. Returns (PNG bytes, Layout)."""
    n_out, n_in, kh, kw = weight.shape
    shown = weight[:MAX_MAPS]
    by_input = shown.transpose(1, 0, 2, 3).reshape(-1, kh, kw)  # row = input channel, column = filter
    peak = float(np.abs(shown).max()) or 1.0
    canvas = Canvas(200)
    canvas.add_row(
        f"layer {layer}: {n_out} filters {kh}x{kw}" + (f" (first {MAX_MAPS})" if n_out > MAX_MAPS else ""),
        f"{layer}w",
        colour_maps(by_input, peak),
        _scale(max(kh, kw), 48),
        len(shown),
    )
    return canvas.picture()


def net_maps_picture(activations, conv_layers, names: dict[int, str], class_names, *, text: bool = True):
    """One image through the network: the input, the maps after each conv layer in `conv_layers` (numbers into
    `activations`, whose item 0 is the input), and the probabilities as bars. Returns (PNG bytes, Layout);
    `text=False` leaves the names to the page (`Layout.texts`)."""
    x_in = activations[0].reshape(-1, *activations[0].shape[-2:])  # (C, H, W)
    canvas = Canvas(10 * 44)
    canvas.add_row(f"input {x_in.shape[-2]}x{x_in.shape[-1]}", "0", gray_rgb(x_in[:1], 1.0), 3, 1)
    for n in conv_layers:
        maps = activations[n][:MAX_MAPS]
        k, h, w = activations[n].shape
        canvas.add_row(
            f"layer {n} {names.get(n, '')} {k}@{h}x{w}".replace("  ", " "),
            str(n),
            colour_maps(maps),
            _scale(w),
            8,
        )
    z = activations[-1].ravel()
    if z.size == len(class_names):
        p = np.exp(z - z.max())
        p /= p.sum()
        guess = int(np.argmax(p))
        canvas.add_bars(f"probabilities: {class_names[guess]} {p[guess]:.1%}", p, class_names)
    return canvas.picture(text)
