"""Widgets and patterns every page uses: page setup, image sources, errors that keep the last good state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cnnviz import load_image
from cnnviz.draw.picture import png_bytes, png_uri

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
PICTURE_INLINE_BYTES = 96_000  # a PNG up to this size goes into the page itself (`picture`)


def picture(image, **kwargs) -> None:
    """`st.image` of a picture (an array of 0..255, a PIL image or PNG bytes; `kwargs` as st.image's), written
    into the page as a PNG data URI when it is small. The browser then draws it with the page: st.image's own
    URL is a second request that a first render waited for last (Train's Try it pictures, Feature maps'
    thumbnail), and st.image sends an array as a JPEG, where a PNG keeps every pixel."""
    png = png_bytes(image)
    if len(png) <= PICTURE_INLINE_BYTES:
        st.image(png_uri(png), **kwargs)
    else:
        st.image(png, **kwargs)


def component_js(path: Path) -> str:
    """A component's JavaScript as Streamlit sends it: every mount of a components-v2 element carries its whole
    code (a figure's 35 KB, hashed and sent on each rerun that changes it), so full-line comments and
    indentation are left out. Lines stay lines, so the code means the same."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


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
    """Page config, the sidebar menu, the title and a one-paragraph introduction (hidden in projector mode).

    A session opened in projector mode (`?projector=true`) starts with the sidebar collapsed, so the room
    sees the page; switching projector mode on later keeps the sidebar (and its Copy link button) open.
    """
    from ui.classroom import explain, projector_mode  # ui.classroom imports this module

    sidebar = st.session_state.setdefault("_sidebar_state", "collapsed" if projector_mode() else "auto")
    st.set_page_config(
        page_title=f"{title} · cnnviz", page_icon=icon, layout="wide", initial_sidebar_state=sidebar
    )
    sidebar_menu()
    st.title(title)
    if intro:
        explain(intro)


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
    losing what the user had on screen. `refused(key)` is the error of this run's `make()` ("" if none),
    for a page that says it again elsewhere.
    """
    store = f"_last_good_{key}"
    try:
        value = make()
    except ValueError as err:
        st.session_state[f"_refused_{key}"] = str(err)
        st.error(f"{err}", icon="⚠️")
        if store in st.session_state:
            st.caption("Still showing your last valid input.")
        return st.session_state.get(store)
    st.session_state[f"_refused_{key}"] = ""
    st.session_state[store] = value
    return value


def refused(key: str) -> str:
    """The error the last `keep_last_good(key, ...)` showed, "" if its value was good."""
    return st.session_state.get(f"_refused_{key}", "")


def image_picker(
    key: str,
    *,
    mode: str = "L",
    max_side: int | None = None,
    default: str = "digit_7.png",
    label: str = "Picture",
    bind: bool = False,
    error_area=None,
) -> tuple[np.ndarray | None, str]:
    """Choose a bundled picture or upload one; returns (array of 0..255, a caption).

    A file that is not an image shows an error and keeps the last good picture, and the caption names
    that picture (not the file that failed). `bind=True` keeps the bundled choice in the link (under
    `{key}_bundled`, by file name; the descriptions go to the help text). `error_area` (a container) is
    where an unreadable upload is reported, for a picker that sits in a popover the user may close.
    """
    choice = _source_choice(key, label, bind)
    if choice == UPLOAD:
        upload = st.file_uploader(
            "Upload an image (PNG, JPEG, GIF, BMP, WebP)",
            type=None,
            key=f"{key}_upload",
            help="Any picture: a photo is turned upright by its EXIF tag, transparency is laid on white.",
        )
        if upload is None and st.session_state.get(f"_{key}_source_in_link") == UPLOAD:
            (error_area or st).info(
                "This link used an uploaded picture, which cannot travel in a link: upload it again "
                f"(under {label}). Meanwhile the default bundled picture is shown.",
                icon="🔗",
            )
        elif upload is None:
            st.info("Choose a file to upload; meanwhile the bundled picture is shown.")
        else:
            return _uploaded_or_last_good(key, upload, mode, max_side, error_area or st)
    name = _bundled_choice(key, default, bind)
    image = bundled_image(name, mode=mode, max_side=max_side)
    _remember(key, image, name)
    return image, name


UPLOAD = "Upload my own"
SOURCES = ["Bundled picture", UPLOAD]

# Where a stepper page's input comes from: the same labels on every page (they are in links).
LECTURE, TYPED, RANDOM, PICTURE = "Lecture example", "Type a grid", "Random grid", "Picture"
INPUT_SOURCES = [LECTURE, TYPED, RANDOM, PICTURE]
OLD_SOURCE_LABELS = {"Worked example": LECTURE, "Image crop": PICTURE}  # what older links say


def input_source(label: str, *, key: str, **kwargs) -> str:
    """The input's source, one of `INPUT_SOURCES`, kept in the link under `key` (older links' labels work)."""
    from ui.classroom import url_select  # here, not at the top: ui.classroom imports this module

    return url_select(label, INPUT_SOURCES, key=key, old_labels=OLD_SOURCE_LABELS, **kwargs)


def random_grid(
    keys: tuple[str, str, str], *, max_side: int, values: tuple[int, int] | None = None, values_key: str = ""
) -> np.ndarray:
    """A random grid of whole numbers: rows, columns and seed kept in the link under `keys`.

    `values`: where a slider for the numbers' range (-20 to 20, under `values_key`) starts; without it the
    numbers are 0..9.
    """
    from ui.classroom import url_number  # here, not at the top: ui.classroom imports this module

    rows_key, cols_key, seed_key = keys
    r, c, s = st.columns(3)
    with r:
        rows = url_number("Rows", 2, max_side, 6, key=rows_key)
    with c:
        cols = url_number("Columns", 2, max_side, 6, key=cols_key)
    with s:
        seed = url_number("Seed", 0, 10_000, 0, key=seed_key)
    if values is None:
        lo, hi = 0, 9
        st.caption("Whole numbers 0..9; the same seed gives the same grid.")
    else:
        lo, hi = st.slider("Values from .. to", -20, 20, values, key=values_key)
    return np.random.default_rng(int(seed)).integers(lo, hi + 1, (int(rows), int(cols))).astype(float)


def _source_choice(key: str, label: str, bind: bool) -> str:
    """Bundled or uploaded; with `bind`, kept in the link (`{key}_source`), and what the link said when the
    session opened is remembered (an upload cannot travel in a link, so it is asked for again)."""
    if not bind:
        return st.radio(label, SOURCES, horizontal=True, key=f"{key}_source")
    from ui.classroom import url_select  # here, not at the top: ui.classroom imports this module

    st.session_state.setdefault(f"_{key}_source_in_link", st.query_params.get(f"{key}_source"))
    return url_select(label, SOURCES, key=f"{key}_source", widget=st.radio, horizontal=True)


def _bundled_choice(key: str, default: str, bind: bool) -> str:
    names = list(BUNDLED)
    index = names.index(default) if default in names else 0
    if not bind:
        return st.selectbox(
            "Bundled picture",
            names,
            index=index,
            format_func=lambda n: f"{n} — {BUNDLED[n]}",
            key=f"{key}_bundled",
        )
    from ui.classroom import url_select  # here, not at the top: ui.classroom imports this module

    return url_select(
        "Bundled picture",
        names,
        index=index,
        key=f"{key}_bundled",
        help="\n".join(f"- {n}: {what}" for n, what in BUNDLED.items()),
    )


def _remember(key: str, image: np.ndarray, caption: str) -> None:
    st.session_state[f"_last_good_{key}_image"] = image
    st.session_state[f"_last_good_{key}_caption"] = caption


def _uploaded_or_last_good(
    key: str, upload, mode: str, max_side: int | None, area
) -> tuple[np.ndarray | None, str]:
    """The uploaded picture; if it cannot be read, the last good picture with its own name as the caption."""
    try:
        image = _uploaded(upload.getvalue(), mode, max_side).copy()
    except ValueError as err:
        area.error(f"{upload.name}: {err}", icon="⚠️")
        image = st.session_state.get(f"_last_good_{key}_image")
        if image is not None:
            area.caption("Still showing your last valid picture.")
        return image, st.session_state.get(f"_last_good_{key}_caption", "")
    _remember(key, image, upload.name)
    return image, upload.name
