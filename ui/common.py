"""Widgets and patterns every page uses: page setup, image sources, errors that keep the last good state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cnnviz import load_image

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
T = TypeVar("T")

# The bundled pictures (drawn by scripts/make_assets.py) and what each is good for.
BUNDLED = {
    "digit_7.png": "a handwritten 7, 28x28 (like MNIST)",
    "scene.png": "a house, a tree and the sun, 160x120 RGB",
    "shapes.png": "edges in every direction, 128x128",
    "checkerboard.png": "sharp vertical and horizontal edges, 64x64",
}

PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": False}


def menu() -> list[tuple[str, str]]:
    """(script path relative to app.py, label) for the home page and every page in pages/, in order.

    Labels come from the file names as Streamlit's own pages/ menu makes them ("3_Pooling.py" ->
    "Pooling"), except that app.py is called "Home" rather than "app".
    """
    pages = sorted((ROOT / "pages").glob("[0-9]*_*.py"), key=lambda p: int(p.stem.split("_", 1)[0]))
    return [("app.py", "Home")] + [
        (f"pages/{p.name}", p.stem.split("_", 1)[1].replace("_", " ")) for p in pages
    ]


def sidebar_menu() -> None:
    """The page menu in the sidebar (Streamlit's own is hidden in .streamlit/config.toml: it calls app.py "app")."""
    for path, label in menu():
        try:
            st.sidebar.page_link(path, label=label)
        except StreamlitPageNotFoundError:
            # Only when a page script runs on its own (an AppTest of one page): no other page is registered.
            return


def page_setup(title: str, icon: str = "🔲", *, intro: str = "") -> None:
    """Page config, the sidebar menu, the title and a one-paragraph introduction."""
    st.set_page_config(page_title=f"{title} · cnnviz", page_icon=icon, layout="wide")
    sidebar_menu()
    st.title(title)
    if intro:
        st.markdown(intro)


@st.cache_data(show_spinner=False)
def _bundled(name: str, mode: str, max_side: int | None) -> np.ndarray:
    return load_image(ASSETS / name, mode=mode, max_side=max_side)


def bundled_image(name: str, *, mode: str = "L", max_side: int | None = None) -> np.ndarray:
    """A bundled picture from assets/ (cached; a fresh copy each call, so a page may change it)."""
    return _bundled(name, mode, max_side).copy()


@st.cache_data(show_spinner=False, max_entries=16)
def _uploaded(data: bytes, mode: str, max_side: int | None) -> np.ndarray:
    return load_image(data, mode=mode, max_side=max_side)


def keep_last_good(key: str, make: Callable[[], T]) -> T | None:
    """`make()`, remembered under `key`; on a ValueError show it and return the last good value instead.

    This is how a page shows bad input (a typo in a grid, a file that is not an image) without
    losing what the user had on screen.
    """
    store = f"_last_good_{key}"
    try:
        value = make()
    except ValueError as err:
        st.error(f"{err}", icon="⚠️")
        if store in st.session_state:
            st.caption("Still showing your last valid input.")
        return st.session_state.get(store)
    st.session_state[store] = value
    return value


def image_picker(
    key: str,
    *,
    mode: str = "L",
    max_side: int | None = None,
    default: str = "digit_7.png",
    label: str = "Picture",
) -> tuple[np.ndarray | None, str]:
    """Choose a bundled picture or upload one; returns (array of 0..255, a caption).

    A file that is not an image shows an error and keeps the last good picture.
    """
    names = list(BUNDLED)
    choice = st.radio(
        label,
        ["Bundled picture", "Upload my own"],
        horizontal=True,
        key=f"{key}_source",
    )
    if choice == "Upload my own":
        upload = st.file_uploader(
            "Upload an image (PNG, JPEG, GIF, BMP, WebP)",
            type=None,
            key=f"{key}_upload",
            help="Any picture: a photo is turned upright by its EXIF tag, transparency is laid on white.",
        )
        if upload is None:
            st.info("Choose a file to upload; meanwhile the bundled picture is shown.")
        else:
            image = keep_last_good(
                f"{key}_image", lambda: _uploaded(upload.getvalue(), mode, max_side).copy()
            )
            return image, upload.name
    name = st.selectbox(
        "Bundled picture",
        names,
        index=names.index(default) if default in names else 0,
        format_func=lambda n: f"{n} — {BUNDLED[n]}",
        key=f"{key}_bundled",
    )
    image = bundled_image(name, mode=mode, max_side=max_side)
    st.session_state[f"_last_good_{key}_image"] = image
    return image, name


def plot(fig, *, key: str, width="content", **kwargs):
    """st.plotly_chart with the project's defaults: the figure's own size, so grid cells stay square."""
    return st.plotly_chart(fig, key=key, config=PLOTLY_CONFIG, width=width, **kwargs)
