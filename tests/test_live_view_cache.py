"""The Train page's live view makes each snapshot and picture once and shares it (ui/train_figures.py): 30
students waiting in line look at the same starting network every 2 s."""

import io

import numpy as np
from PIL import Image

from cnnviz.draw.lenet import activations_picture, filters_picture
from cnnviz.lenet.data import to_model_input
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.training import take_snapshot
from ui.train_figures import activations_png, filters_png, snapshot_of


def test_a_snapshot_is_taken_once_per_model_and_input(digits):
    model = LeNet5(seed=0).eval()
    X0, X1 = to_model_input(digits.X_test[0]), to_model_input(digits.X_test[1])
    first = snapshot_of(model, X0, 0)
    assert snapshot_of(model, X0, 0) is first
    np.testing.assert_array_equal(first.activations["C1"], take_snapshot(model, X0, 0).activations["C1"])
    other_image = snapshot_of(model, X1, 1)
    assert other_image is not first and not np.array_equal(
        other_image.activations["C1"], first.activations["C1"]
    )
    other_model = snapshot_of(LeNet5(seed=1).eval(), X0, 0)
    assert not np.array_equal(other_model.c1, first.c1)


def test_the_pictures_are_drawn_once_per_content(digits):
    snap = take_snapshot(LeNet5(seed=0).eval(), to_model_input(digits.X_test[0]), 0)
    png, layout = filters_png(snap.c1, snap.c3, (None, None))
    assert (png, layout) == filters_picture(snap.c1, snap.c3, text=False)  # the page writes the names
    assert (
        filters_png(snap.c1.copy(), snap.c3.copy(), (None, None))[0] is png
    )  # equal content: the same bytes
    assert filters_png(-snap.c1, snap.c3, (None, None))[0] != png  # red and blue swapped
    picture, layout = activations_png(snap.activations, digits.class_names)
    assert (picture, layout) == activations_picture(snap.activations, digits.class_names, text=False)
    assert activations_png(dict(snap.activations), digits.class_names)[0] is picture


def test_a_picture_without_text_lists_its_names_for_the_page(digits):
    snap = take_snapshot(LeNet5(seed=0).eval(), to_model_input(digits.X_test[0]), 0)
    with_text, layout = activations_picture(snap.activations, digits.class_names)
    bare, bare_layout = activations_picture(snap.activations, digits.class_names, text=False)
    assert layout == bare_layout and {"S4 16@5x5", "C5 120 units", "7"} <= {t.text for t in layout.texts}
    a, b = (np.asarray(Image.open(io.BytesIO(png)).convert("L")) for png in (with_text, bare))
    s4 = next(t for t in layout.texts if t.text == "S4 16@5x5")
    band = (slice(s4.y, s4.y + s4.size), slice(s4.x, s4.x + 60))  # where the name is written
    assert (a[band] < 128).sum() > 20 and (b[band] < 128).sum() == 0  # dark letters only in the first
