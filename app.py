"""Home page: an image is a grid of numbers."""

import io
import zipfile

import streamlit as st

from cnnviz.draw.export import grid_csv
from cnnviz.draw.figures import MAX_NUMBERED, color_range, grid_figure
from cnnviz.draw.picture import picture_figure
from ui.classroom import (
    classroom_bar,
    explain,
    folded,
    projector_mode,
    projector_style,
    show,
    url_slider,
    url_toggle,
)
from ui.common import image_picker, page_setup

page_setup("cnnviz: an image is a grid of numbers", "🔢")
projector = classroom_bar()
explain(
    "A grayscale picture is an H x W grid of intensities from 0 (black) to 255 (white); a colour picture is "
    "three such grids, one each for red, green and blue. Pick a picture, then move the zoom window to read "
    "its pixels."
)

# --- The few controls that drive the picture: one compact row --------------------------------------------------
row = st.columns([1.3, 1, 1, 1, 1], vertical_alignment="bottom")
messages = st.container()  # an unreadable upload is reported here, outside the picture popover
with row[1]:
    colour = url_toggle("Colour (R, G, B)", key="home_rgb")
with row[0], st.popover("Picture…", width="stretch"):
    image, caption = image_picker(
        "home",
        mode="RGB" if colour else "L",
        max_side=256,
        default="scene.png" if colour else "digit_7.png",
        bind=True,
        error_area=messages,
    )
if image is None:
    st.stop()

h, w = image.shape[:2]
channels = image.shape[2] if image.ndim == 3 else 1
with row[2]:
    zoom = url_slider("Zoom (cells per side)", 4, MAX_NUMBERED, min(16, h, w), key="home_zoom")
zoom_h, zoom_w = min(zoom, h), min(zoom, w)
with row[3]:
    top = url_slider("Top row", 0, h - zoom_h, (h - zoom_h) // 2, key="home_top") if h > zoom_h else 0
with row[4]:
    left = url_slider("Left column", 0, w - zoom_w, (w - zoom_w) // 2, key="home_left") if w > zoom_w else 0

# --- The picture beside its numbers ----------------------------------------------------------------------------
window = (top, left, top + zoom_h - 1, left + zoom_w - 1)
crop = image[top : top + zoom_h, left : left + zoom_w]
shape_text = f"{h} rows x {w} columns" + (f" x {channels} channels" if channels > 1 else "")
picture_col, numbers_col = st.columns([1, 1.25], gap="medium")
with picture_col:
    fig = picture_figure(image, window=window, title=f"{caption}: {shape_text}", side_px=360)
    show(projector_style(fig, height=600 if projector else None), key="home_whole")
with numbers_col:
    where = f"rows {top}..{top + zoom_h - 1}, columns {left}..{left + zoom_w - 1}"
    if channels == 1:
        fig = grid_figure(
            crop,
            title=f"The numbers in {where}",
            colors=color_range([crop], image=True),
            showscale=False,
            hover="intensity",
            origin=(top, left),
            cell_px=max(12, min(40, 384 // max(zoom_h, zoom_w))),
        )
        show(
            projector_style(fig, grid_side=max(crop.shape), height=640 if projector else None),
            key="home_crop",
        )
    else:
        # One channel at a time, as large as a grayscale grid; light tints keep the black numbers readable.
        tints = {"Red": "#E06666", "Green": "#6AA84F", "Blue": "#6FA8DC"}
        tabs = st.tabs(list(tints), key="home_channel", bind="query-params")
        for tab, (name, tint), c in zip(tabs, tints.items(), range(3), strict=True):
            with tab:
                fig = grid_figure(
                    crop[:, :, c],
                    title=f"{name} channel, {where}",
                    colors={"colorscale": [[0, "#FFFFFF"], [1, tint]], "zmin": 0, "zmax": 255},
                    showscale=False,
                    cell_px=max(12, min(40, 360 // max(zoom_h, zoom_w))),
                    origin=(top, left),
                )
                height = 640 if projector else None
                show(
                    projector_style(fig, grid_side=max(crop.shape[:2]), height=height),
                    key=f"home_crop_{name}",
                )


def _numbers_csv() -> tuple[bytes, str, str]:
    """The numbers on screen as CSV (one file per channel, zipped, for a colour picture)."""
    if channels == 1:
        return grid_csv(crop).encode(), "pixels.csv", "text/csv"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, c in zip(("red", "green", "blue"), range(3), strict=True):
            z.writestr(f"pixels_{name}.csv", grid_csv(crop[:, :, c]))
    return out.getvalue(), "pixels.zip", "application/zip"


data, file_name, mime = _numbers_csv()
st.download_button(
    "Download these numbers (CSV)", data, file_name=file_name, mime=mime, key="home_csv", on_click="ignore"
)

# --- Below the first screen: why convolution, and where to go next ------------------------------------------------
n_features = h * w * channels
explain(
    f"""
**Why not a fully connected network?** Flattened, this picture is {h} x {w}{f" x {channels}" if channels > 1 else ""}
= **{n_features:,} numbers**. One hidden layer of 1,000 units fed by all of them needs
({n_features:,} + 1) x 1,000 = **{(n_features + 1) * 1000:,} weights**, and the pattern it learns at one place
is not reused anywhere else. A convolution slides one small shared kernel over the grid instead: a 3x3 kernel
has 9 weights, wherever it looks.
"""
)
with folded("What comes next: the pages of this app", key="home_next") as open_:
    if open_:
        st.markdown(
            """
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
        )
if not projector_mode():
    st.caption(
        "Projector mode (in the sidebar) makes the figures fill the screen; the link keeps every setting."
    )
