"""Home page: an image is a grid of numbers."""

import numpy as np
import streamlit as st

from cnnviz.figures import MAX_NUMBERED, color_range, grid_figure
from ui.common import image_picker, page_setup, plot

page_setup(
    "cnnviz: an image is a grid of numbers",
    "🔢",
    intro=(
        "A grayscale picture is an H x W grid of intensities from 0 (black) to 255 (white); a colour "
        "picture is three such grids, one each for red, green and blue. Everything a convolutional network "
        "does starts from these numbers. Pick a picture, then move the zoom window to read its pixels."
    ),
)

left, right = st.columns([1, 1], gap="large")
with left:
    colour = st.toggle("Colour (R, G, B channels)", value=False, key="home_rgb")
    mode = "RGB" if colour else "L"
    image, caption = image_picker(
        "home", mode=mode, max_side=256, default="scene.png" if colour else "digit_7.png"
    )

if image is None:
    st.stop()


@st.fragment
def pixel_view(image: np.ndarray, caption: str) -> None:
    """The whole picture with the zoom window, and the numbers under it.

    A fragment: moving the zoom sliders reruns only this, not the picture choice, the menu or the text.
    """
    h, w = image.shape[:2]
    channels = image.shape[2] if image.ndim == 3 else 1
    left, right = st.columns([1, 1], gap="large")
    with left:
        zoom = st.slider("Zoom window (cells per side)", 4, MAX_NUMBERED, min(16, h, w), key="home_zoom")
        zoom_h, zoom_w = min(zoom, h), min(zoom, w)
        top = (
            st.slider("Zoom window: top row", 0, h - zoom_h, (h - zoom_h) // 2, key="home_top")
            if h > zoom_h
            else 0
        )
        left_col = (
            st.slider("Zoom window: left column", 0, w - zoom_w, (w - zoom_w) // 2, key="home_left")
            if w > zoom_w
            else 0
        )

    window = (top, left_col, top + zoom_h - 1, left_col + zoom_w - 1)
    with right:
        whole = image.mean(axis=2) if channels > 1 else image
        fig = grid_figure(
            whole,
            title="Whole picture"
            + (" (mean of R, G, B)" if channels > 1 else "")
            + ": hover to read a pixel",
            colors=color_range([whole], image=True),
            numbers=False,
            outlines=[(window, "#ff9900")],
            showscale=False,
            cell_px=max(2, 420 // max(h, w)),
            hover="intensity",
        )
        plot(fig, key="home_whole")

    st.subheader(
        f"The numbers in rows {top}..{top + zoom_h - 1}, columns {left_col}..{left_col + zoom_w - 1}"
    )
    crop = image[top : top + zoom_h, left_col : left_col + zoom_w]
    if channels == 1:
        fig = grid_figure(
            crop,
            colors=color_range([crop], image=True),
            showscale=False,
            hover="intensity",
            origin=(top, left_col),
        )
        plot(fig, key="home_crop")
    else:
        scales = {"Red": "Reds", "Green": "Greens", "Blue": "Blues"}
        for column, (name, scale), c in zip(st.columns(3), scales.items(), range(3), strict=True):
            with column:
                fig = grid_figure(
                    crop[:, :, c],
                    title=f"{name} channel",
                    colors={"colorscale": scale, "zmin": 0, "zmax": 255},
                    showscale=False,
                    cell_px=22,
                    origin=(top, left_col),
                )
                plot(fig, key=f"home_crop_{name}")


h, w = image.shape[:2]
channels = image.shape[2] if image.ndim == 3 else 1
with right:
    st.markdown(
        f"**{caption}**: {h} rows x {w} columns" + (f" x {channels} channels" if channels > 1 else "")
    )
    if channels > 1:
        st.image(image.astype(np.uint8), caption="The picture as you see it", width=min(480, 3 * w))
pixel_view(image, caption)

n_features = h * w * channels
st.markdown(
    f"""
**Why not a fully connected network?** Flattened, this picture is {h} x {w}{f" x {channels}" if channels > 1 else ""}
= **{n_features:,} numbers**. One hidden layer of 1,000 units fed by all of them needs
({n_features:,} + 1) x 1,000 = **{(n_features + 1) * 1000:,} weights**, and the pattern it learns at one place
is not reused anywhere else. A convolution slides one small shared kernel over the grid instead: a 3x3 kernel
has 9 weights, wherever it looks.
"""
)

st.divider()
st.subheader("What comes next")
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
