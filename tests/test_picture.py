"""`ui.picture`: a small picture goes into the page as a lossless PNG data URI; a large one through st.image's URL."""

import base64
import io

import numpy as np
from PIL import Image

import ui.common


def test_a_small_picture_is_in_the_page_pixel_for_pixel_and_a_large_one_is_not(monkeypatch):
    shown = []
    monkeypatch.setattr(ui.common.st, "image", lambda image, **kwargs: shown.append((image, kwargs)))
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, size=(40, 30, 3)).astype(np.uint8)
    ui.common.picture(small, caption="small")
    noise = rng.integers(0, 256, size=(600, 600, 3)).astype(np.uint8)  # noise: a big PNG
    ui.common.picture(noise, caption="large")
    (url, kwargs), (large, large_kwargs) = shown
    assert kwargs == {"caption": "small"} and large_kwargs == {"caption": "large"}
    assert url.startswith("data:image/png;base64,")
    drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(drawn, small)  # lossless, where st.image sends an array as a JPEG
    # Too big for the page: PNG bytes to st.image, which gives them a URL of their own.
    assert isinstance(large, bytes) and large.startswith(b"\x89PNG")
    assert len(large) > ui.common.PICTURE_INLINE_BYTES
