"""What only a real server shows: a browser sends every widget's value with each rerun (AppTest sends the
changed ones), so a range that shrinks under a widget's old value must be handled where the browser's value
does not win (a callback)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from stclient import Session  # noqa: E402
from timing import serve_streamlit  # noqa: E402


@pytest.fixture(scope="module")
def app_url():
    proc, url = serve_streamlit(ROOT / "app.py", ROOT)
    yield url
    proc.terminate()
    proc.wait(10)


def slider(session: Session, label: str):
    return next(w for w in session.widgets.values() if w.kind == "slider" and w.proto.label == label)


@pytest.mark.slow
def test_home_a_larger_zoom_keeps_the_window_inside_the_picture(app_url):
    """The moves bench_class's random student made before the page failed with StreamlitValueAboveMaxError
    (the 28x28 digit: a zoom of 23 leaves Left column 0..5, a zoom of 24 leaves 0..4)."""
    session = Session(app_url, "").open()
    try:
        session.run()
        moves = [("Left column", 9), ("Zoom (cells per side)", 23), ("Left column", 5), ("Left column", 4)]
        for label, value in [*moves, ("Zoom (cells per side)", 24)]:
            result = session.slide(slider(session, label), value)
            assert not result.exceptions, (label, value, result.exceptions)
        assert slider(session, "Left column").proto.max == 4
        again = session.slide(slider(session, "Top row"), 0)  # and the page goes on working
        assert not again.exceptions, again.exceptions
    finally:
        session.close()


def number_box(session: Session, label: str):
    return next(
        w for w in session.widgets.values() if w.kind == "number_input" and w.proto.label.startswith(label)
    )


def choose(session: Session, label: str, option: str):
    """Pick `option` (its label as shown) in the selectbox `label`, as a student does."""
    box = next(w for w in session.widgets.values() if w.kind == "selectbox" and w.proto.label == label)
    return session.run([WidgetState(id=box.id, string_value=option)], fragment_id=box.fragment_id)


def type_number(session: Session, label: str, value: float):
    box = number_box(session, label)
    state = WidgetState(id=box.id)
    if box.proto.data_type == box.proto.INT:  # what the browser sends for a whole-number box
        state.int_value = int(value)
    else:
        state.double_value = value
    return session.run([state], fragment_id=box.fragment_id)


def sent_number(session: Session, box) -> float:
    """The number the browser sends for this box with the next rerun."""
    state = session.values[box.id]
    return getattr(state, state.WhichOneof("value"))


# A slider whose range changes is a new widget to Streamlit (its id includes the range): without a value set
# in the changing widget's callback, it starts at its default, or (kept in the link) at the link's value.


@pytest.mark.slow
def test_pooling_a_larger_crop_and_a_smaller_window_keep_their_numbers_in_range(app_url):
    """Home's moves on the Pooling crop (the 28x28 digit): before the crop size's callback, a crop of 24 sent
    Crop: left column from 4 (still in range) back to its default 2. Then padding 3 under a window of 6, 4, 2.
    """
    session = Session(app_url, "Pooling").open()
    session.query = "pool_input_source=Picture&pool_img_bundled=digit_7.png"
    try:
        session.run()
        moves = [("Crop: left column", 9), ("Crop size (cells per side)", 23), ("Crop: left column", 4)]
        for label, value in [*moves, ("Crop size (cells per side)", 24), ("Window size f (f x f)", 6)]:
            result = session.slide(slider(session, label), value)
            assert not result.exceptions, (label, value, result.exceptions)
        assert "digit_7.png: rows 4..27, columns 4..27" in session.texts  # Top row was 8, then 5, then 4
        padding = next(
            w for w in session.widgets.values() if w.kind == "slider" and "Padding p" in w.proto.label
        )
        assert not session.slide(padding, 3).exceptions
        for size in (4, 2):
            result = session.slide(slider(session, "Window size f (f x f)"), size)
            assert not result.exceptions, (size, result.exceptions)
        padding = next(
            w for w in session.widgets.values() if w.kind == "slider" and "Padding p" in w.proto.label
        )
        assert (padding.proto.max, list(padding.proto.value)) == (1, [1])
    finally:
        session.close()


@pytest.mark.slow
def test_correlation_a_larger_stride_keeps_the_chosen_cell_in_the_output(app_url):
    """Full padding (8x8 output), the cell (5, 6), then strides 2, 3, 4: the cell follows the output's edge
    (a number box keeps its id when its range changes: this passed before the callback too)."""
    session = Session(app_url, "Correlation_vs_convolution").open()
    session.query = "corr_padding=full"
    try:
        session.run()
        for label, value in [
            ("Output row i", 5),
            ("Output column j", 6),
            *(("Stride", s) for s in (2, 3, 4)),
        ]:
            result = type_number(session, label, value)
            assert not result.exceptions, (label, value, result.exceptions)
        assert "Output cell (1, 1): the two loops over the kernel" in session.texts
    finally:
        session.close()


@pytest.mark.slow
def test_train_a_smaller_test_set_keeps_the_followed_image_in_it(app_url):
    """Test image 900 of MNIST 5k's 1,000, then the small digits (359 test images), then back (a number box:
    this passed before the callback too)."""
    session = Session(app_url, "Train_LeNet").open()
    try:
        session.run()
        assert not type_number(session, "Test image to follow", 900).exceptions
        for option in ("Small digits 8x8", "MNIST 5k (shipped)"):
            result = choose(session, "Images", option)
            assert not result.exceptions, (option, result.exceptions)
            box = number_box(session, "Test image to follow")
            assert sent_number(session, box) == 358, (
                option,
                box.proto.label,
            )  # what the browser shows
    finally:
        session.close()


@pytest.mark.slow
def test_a_slider_reruns_only_the_page_below_its_title(app_url):
    """Each page's body is a fragment (`page_body`): moving its slider sends neither the menu nor the sidebar
    again (about a third of a rerun's server time on Home and Pooling)."""
    for page, label, value in (("", "Zoom (cells per side)", 9), ("Pooling", "Window size f (f x f)", 3)):
        session = Session(app_url, page).open()
        try:
            full = session.run()
            moved = session.slide(slider(session, label), value)
            assert slider(session, label).fragment_id, page  # drawn by the body's fragment
            assert not moved.exceptions, (page, moved.exceptions)
            assert moved.messages < full.messages - 5, (page, moved.messages, full.messages)
            session.run()  # a whole rerun shows the moved slider (the browser writes the link: browser tests)
            assert list(session.values[slider(session, label).id].double_array_value.data) == [value], page
        finally:
            session.close()
