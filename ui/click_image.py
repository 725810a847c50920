"""A picture you can click: a PNG shown at up to its own size, reporting where it was clicked in its pixels.

A components-v2 element (inline JS, no iframe, no build step, no network). The live view redraws it every 2 s
by passing new PNG bytes; the browser only swaps the picture's `src`.

Names on the picture (`cnnviz.draw.lenet.Layout.texts`, a picture drawn with `text=False`) are written as HTML
over it: text baked into the pixels turns to mush when a laptop's column shrinks the picture to half its size,
while HTML text keeps at least `MIN_TEXT_PX` and grows with the picture (projector mode).
"""

from __future__ import annotations

import base64

import streamlit as st

from ui.classroom import projector_mode

MIN_TEXT_PX = 11  # the smallest a name is written, whatever the picture's shrinking

_CSS = """
.ci-box { position: relative; width: 100%; }
.ci-box img { width: 100%; display: block; }
.ci-text {
  position: absolute; white-space: nowrap; line-height: 1.1; pointer-events: none;
  color: #282828; background: rgba(255, 255, 255, 0.8); padding: 0 2px; border-radius: 2px;
}
"""

_JS = """
export default function(component) {
    const { data, parentElement, setTriggerValue } = component;
    let box = parentElement.querySelector('.ci-box');
    if (!box) {
        box = document.createElement('div');
        box.className = 'ci-box';
        box.appendChild(document.createElement('img'));
        parentElement.appendChild(box);
    }
    const img = box.querySelector('img');
    if (img.getAttribute('src') !== data.src) img.setAttribute('src', data.src);
    img.alt = data.alt;
    img.title = data.title;
    img.dataset.name = data.name;
    box.style.maxWidth = data.width + 'px';
    img.style.cursor = data.clickable ? 'crosshair' : 'default';
    const texts = JSON.stringify(data.texts);
    if (box.dataset.texts !== texts) {
        box.dataset.texts = texts;
        box.querySelectorAll('.ci-text').forEach(e => e.remove());
        for (const [x, y, text, size] of data.texts) {
            const span = document.createElement('span');
            span.className = 'ci-text';
            span.textContent = text;
            span.dataset.size = size;
            span.style.left = (100 * x / data.natural_width) + '%';
            span.style.top = (100 * y / data.natural_height) + '%';
            box.appendChild(span);
        }
    }
    // Shrunk: smooth (nearest-neighbour drops whole rows of cells); enlarged: crisp cells. Text: at least
    // the minimum size, else as large as the picture draws it.
    const fit = () => {
        const s = box.clientWidth / (img.naturalWidth || data.natural_width);
        if (!s) return;
        img.style.imageRendering = s >= 1 ? 'pixelated' : 'auto';
        box.querySelectorAll('.ci-text').forEach(e => {
            e.style.fontSize = Math.max(data.min_text_px, Number(e.dataset.size) * s) + 'px';
        });
    };
    fit();
    img.onload = () => box.ciFit && box.ciFit();
    if (!box.ciObserver) {
        box.ciObserver = new ResizeObserver(() => box.ciFit && box.ciFit());
        box.ciObserver.observe(box);
    }
    box.ciFit = fit;
    img.onclick = data.clickable ? (e) => {
        const rect = img.getBoundingClientRect();
        const x = (e.clientX - rect.left) * img.naturalWidth / rect.width;
        const y = (e.clientY - rect.top) * img.naturalHeight / rect.height;
        setTriggerValue('click', {x: x, y: y});
    } : null;
}
"""

_click_image = st.components.v2.component("cnnviz_click_image", css=_CSS, js=_JS)


def click_image(
    png: bytes,
    *,
    key: str,
    name: str,
    alt: str = "",
    title: str = "",
    layout,
    clickable: bool = True,
):
    """Show `png` at up to its own width (the column's full width in projector mode), shrunk to fit the
    column; returns (x, y) in the picture's own pixels on the run a click caused, else None. `layout` (a
    `cnnviz.draw.lenet.Layout`): the picture's size and the names to write over it (drawn without them)."""
    width = layout.width * 4 if projector_mode() else layout.width
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    texts = [[t.x, t.y, t.text, t.size] for t in layout.texts]
    result = _click_image(
        key=key,
        data={
            "src": src,
            "width": width,
            "alt": alt,
            "title": title,
            "name": name,
            "clickable": clickable,
            "texts": texts,
            "natural_width": layout.width,
            "natural_height": layout.height,
            "min_text_px": MIN_TEXT_PX,
        },
        on_click_change=lambda: None,
    )
    click = getattr(result, "click", None)
    if clickable and isinstance(click, dict) and "x" in click and "y" in click:
        return float(click["x"]), float(click["y"])
    return None
