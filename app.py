"""Home page: an image is a grid of numbers."""

import io
import zipfile

import numpy as np
import streamlit as st

import ui.page as ui
from cnnviz.draw.export import grid_csv
from cnnviz.draw.figures import MAX_NUMBERED, color_range, grid_figure
from cnnviz.draw.picture import crop, picture_figure
from cnnviz.lessons.convolution import dense_layer_text

TINTS = {"Red": "#E06666", "Green": "#6AA84F", "Blue": "#6FA8DC"}  # light, so the black numbers stay readable
PAGES = """
| Page | What you do there |
|---|---|
| **Convolution** | Step a kernel over a grid or a picture cell by cell: the window, the products, the sum written out, the output filling in; padding, stride and dilation with the output-size arithmetic on your numbers; check your own hand-worked answer. |
| **Correlation vs convolution** | Cross-correlation (what PyTorch computes) beside true convolution with the flipped kernel; associativity; 1-D convolution; the FFT route. |
| **Pooling** | Max, average, min and L2 pooling cell by cell; where the gradient goes; shift invariance; conv, ReLU, pool as one pipeline. |
| **Feature maps** | A bank of classic kernels on a real picture; RGB kernels per channel plus bias; 1x1, transposed and dilated convolution. |
| **Layer arithmetic** | Build a small network and read each layer's output shape, parameter count and receptive field. |
| **Train LeNet** | Train LeNet-5 on handwritten digits in the browser and watch its loss, filters and activations live. |
| **Learn a filter** | Gradient descent finds the nine numbers of an edge kernel from examples. |

Use the sidebar to move between pages.
"""


def fit_window(h: int, w: int) -> None:
    """The zoom's callback: keep the Top row and Left column inside their new ranges. A larger zoom shrinks them;
    a zoom as large as the picture hides them, and the link still holds their old values, which a slider that
    comes back would take (and fail on). A value set here wins over both the link and the browser's."""
    zoom = st.session_state["home_zoom"]
    for key, side in (("home_top", h), ("home_left", w)):
        most = side - min(zoom, side)
        st.session_state[key] = min(st.session_state.get(key, most // 2), most)


def controls_section() -> tuple[np.ndarray, str, np.ndarray, tuple[int, int, int, int]] | None:
    """The few controls that drive the picture, on one compact row: (image, caption, the zoomed crop, its box)."""
    row = st.columns([1.3, 1, 1, 1, 1], vertical_alignment="bottom")
    messages = st.container()  # an unreadable upload is reported here, outside the picture popover
    with row[1]:
        colour = ui.url_toggle("Colour (R, G, B)", key="home_rgb")
    with row[0], st.popover("Picture…", width="stretch"):
        image, caption = ui.image_picker(
            "home",
            mode="RGB" if colour else "L",
            max_side=256,
            default="scene.png" if colour else "digit_7.png",
            bind=True,
            error_area=messages,
        )
    if image is None:
        return None
    h, w = image.shape[:2]
    with row[2]:
        zoom = ui.url_slider(
            "Zoom (cells per side)",
            4,
            MAX_NUMBERED,
            min(16, h, w),
            key="home_zoom",
            on_change=fit_window,
            args=(h, w),
        )
    zoom_h, zoom_w = min(zoom, h), min(zoom, w)
    ui.keep_within("home_top", h - zoom_h)  # a smaller picture shrinks their ranges (the zoom: `fit_window`)
    ui.keep_within("home_left", w - zoom_w)
    with row[3]:
        top = ui.url_slider("Top row", 0, h - zoom_h, (h - zoom_h) // 2, key="home_top") if h > zoom_h else 0
    with row[4]:
        left = (
            ui.url_slider("Left column", 0, w - zoom_w, (w - zoom_w) // 2, key="home_left")
            if w > zoom_w
            else 0
        )
    return (image, caption, *crop(image, top, left, zoom_h, zoom_w))


def numbers_section(part: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """The numbers of the zoomed part: one grid, or one tab per colour channel."""
    top, left, bottom, right = box
    where = f"rows {top}..{bottom}, columns {left}..{right}"
    height = 640 if ui.projector_mode() else None
    side = max(part.shape[:2])
    if part.ndim == 2:
        fig = grid_figure(
            part,
            title=f"The numbers in {where}",
            colors=color_range([part], image=True),
            showscale=False,
            hover="intensity",
            origin=(top, left),
            cell_px=max(12, min(40, 384 // side)),
        )
        ui.show(ui.projector_style(fig, grid_side=side, height=height), key="home_crop")
        return
    # One channel at a time, as large as a grayscale grid.
    tabs = st.tabs(list(TINTS), key="home_channel", bind="query-params")
    for tab, (name, tint), c in zip(tabs, TINTS.items(), range(3), strict=True):
        with tab:
            fig = grid_figure(
                part[:, :, c],
                title=f"{name} channel, {where}",
                colors={"colorscale": [[0, "#FFFFFF"], [1, tint]], "zmin": 0, "zmax": 255},
                showscale=False,
                cell_px=max(12, min(40, 360 // side)),
                origin=(top, left),
            )
            ui.show(ui.projector_style(fig, grid_side=side, height=height), key=f"home_crop_{name}")


def numbers_csv(part: np.ndarray) -> bytes:
    """The numbers on screen as CSV (one file per channel, zipped, for a colour picture)."""
    if part.ndim == 2:
        return grid_csv(part).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, c in zip(("red", "green", "blue"), range(3), strict=True):
            z.writestr(f"pixels_{name}.csv", grid_csv(part[:, :, c]))
    return out.getvalue()


def picture_section(image: np.ndarray, caption: str, part: np.ndarray, box) -> None:
    """The picture beside its numbers, and the numbers as CSV."""
    h, w = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    shape_text = f"{h} rows x {w} columns" + (f" x {channels} channels" if channels > 1 else "")
    picture_col, numbers_col = st.columns([1, 1.25], gap="medium")
    with picture_col:
        fig = picture_figure(image, window=box, title=f"{caption}: {shape_text}", side_px=360)
        ui.show(ui.projector_style(fig, height=600 if ui.projector_mode() else None), key="home_whole")
    with numbers_col:
        numbers_section(part, box)
    grey = part.ndim == 2
    st.download_button(
        "Download these numbers (CSV)",
        lambda: numbers_csv(part),  # made when clicked, not on every move of a slider
        file_name="pixels.csv" if grey else "pixels.zip",
        mime="text/csv" if grey else "application/zip",
        key="home_csv",
        on_click="ignore",
    )


def next_section(image: np.ndarray) -> None:
    """Below the first screen: why convolution, and where to go next."""
    ui.explain(dense_layer_text(image.shape))
    with ui.folded("What comes next: the pages of this app", key="home_next") as open_:
        if open_:
            st.markdown(PAGES)
    if not ui.projector_mode():
        st.caption(
            "Projector mode (in the sidebar) makes the figures fill the screen; the link keeps every setting."
        )


def main() -> None:
    ui.page_setup("cnnviz: an image is a grid of numbers", "🔢")
    ui.explain(
        "A grayscale picture is an H x W grid of intensities from 0 (black) to 255 (white); a colour picture is "
        "three such grids, one each for red, green and blue. Pick a picture, then move the zoom window to read "
        "its pixels."
    )
    page_body()


@st.fragment
def page_body() -> None:
    """Everything below the title (a fragment: moving a slider reruns only this, not the page's menu)."""
    chosen = controls_section()
    if chosen is None:
        return
    image, caption, part, box = chosen
    picture_section(image, caption, part, box)
    next_section(image)


main()
