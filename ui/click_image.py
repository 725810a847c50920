"""A picture you can click: a PNG shown at up to its own size, reporting where it was clicked in its pixels.

A components-v2 element (inline JS, no iframe, no build step, no network). The live view redraws it once a
second by passing new PNG bytes; the browser only swaps the picture's `src`.
"""

from __future__ import annotations

import base64

import streamlit as st

_JS = """
export default function(component) {
    const { data, parentElement, setTriggerValue } = component;
    let img = parentElement.querySelector('img');
    if (!img) {
        img = document.createElement('img');
        parentElement.appendChild(img);
    }
    if (img.getAttribute('src') !== data.src) img.setAttribute('src', data.src);
    img.alt = data.alt;
    img.title = data.title;
    img.dataset.name = data.name;
    img.style.width = '100%';
    img.style.maxWidth = data.width + 'px';
    img.style.imageRendering = 'pixelated';
    img.style.cursor = 'crosshair';
    img.style.display = 'block';
    img.onclick = (e) => {
        const box = img.getBoundingClientRect();
        const x = (e.clientX - box.left) * img.naturalWidth / box.width;
        const y = (e.clientY - box.top) * img.naturalHeight / box.height;
        setTriggerValue('click', {x: x, y: y});
    };
}
"""

_click_image = st.components.v2.component("cnnviz_click_image", js=_JS)


def click_image(png: bytes, *, width: int, key: str, name: str, alt: str = "", title: str = ""):
    """Show `png` (its natural width `width` px, shrunk to fit the column); returns (x, y) in the picture's
    own pixels on the run a click caused, else None."""
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    result = _click_image(
        key=key,
        data={"src": src, "width": width, "alt": alt, "title": title, "name": name},
        on_click_change=lambda: None,
    )
    click = getattr(result, "click", None)
    if isinstance(click, dict) and "x" in click and "y" in click:
        return float(click["x"]), float(click["y"])
    return None
