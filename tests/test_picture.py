"""`ui.picture`: a small picture goes into the page as a lossless PNG data URI; a large one through st.image's URL."""

import base64
import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest


def _page():
    import numpy as np

    from ui.common import picture

    rng = np.random.default_rng(0)
    picture(rng.integers(0, 256, size=(40, 30, 3)).astype(np.uint8), caption="small")
    picture(rng.integers(0, 256, size=(600, 600, 3)).astype(np.uint8), caption="large")  # noise: a big PNG


def test_a_small_picture_is_in_the_page_pixel_for_pixel_and_a_large_one_is_not():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    small, large = (img.proto.imgs[0] for img in at.image)
    assert small.caption == "small" and large.caption == "large"
    assert small.url.startswith("data:image/png;base64,")
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(small.url.split(",", 1)[1]))))
    want = np.random.default_rng(0).integers(0, 256, size=(40, 30, 3)).astype(np.uint8)
    assert np.array_equal(shown, want)  # lossless, where st.image sends an array as a JPEG
    assert not large.url.startswith("data:")  # over the size for the page: Streamlit's media URL
