"""Train LeNet in classroom mode: settings from the link (a bad value warns), projector mode, the exports."""

import csv
import io
import re

import numpy as np
from conftest import app_test
from PIL import Image
from test_page_train import run_until, stop_training

from cnnviz.draw.export import curves_csv
from cnnviz.draw.lenet import filters_picture
from cnnviz.lenet.training import TrainConfig

PAGE = "pages/6_Train_LeNet.py"

LINK = {
    "train_dataset": "Small digits 8x8",
    "train_start_from": "Random",
    "train_activation": "tanh",
    "train_pooling": "avg",
    "train_optimizer": "SGD",
    "train_lr": "0.05",
    "train_batch": "128",
    "train_epochs": "3",
    "train_seed": "7",
    "train_probe": "12",
}


def test_every_setting_comes_from_the_link():
    at = app_test(PAGE)
    at.query_params.update(LINK)
    at.run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key="train_dataset").value == "digits"
    assert at.radio(key="train_start_from").value == "random"
    assert at.selectbox(key="train_activation").value == "tanh"
    assert at.selectbox(key="train_pooling").value == "avg"
    assert at.selectbox(key="train_optimizer").value == "sgd"
    assert at.select_slider(key="train_lr").value == 0.05
    assert at.select_slider(key="train_batch").value == 128
    assert at.number_input(key="train_epochs").value == 3
    assert at.number_input(key="train_seed").value == 7
    assert at.number_input(key="train_probe").value == 12
    assert at.radio(key="train_network").value == "lenet"
    assert any("Test image 12, fresh random weights" in c.value for c in at.caption)


def test_a_bad_link_warns_and_keeps_the_defaults():
    at = app_test(PAGE)
    at.query_params.update(
        {"train_dataset": "ImageNet", "train_lr": "7", "train_epochs": "-3", "train_activation": "gelu"}
    )
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    for key, raw in (("train_dataset", "ImageNet"), ("train_lr", "7"), ("train_epochs", "-3")):
        assert key in warnings and f"`{raw}`" in warnings, warnings
    assert "train_activation" in warnings and "gelu" in warnings
    assert at.selectbox(key="train_dataset").value == "mnist5k"
    assert at.select_slider(key="train_lr").value == 0.002
    assert at.number_input(key="train_epochs").value == TrainConfig().epochs


def test_projector_mode_hides_the_explanations():
    at = app_test(PAGE).run()
    assert any("LeNet-5 (LeCun et al. 1998)" in m.value for m in at.markdown)
    at = app_test(PAGE)
    at.query_params["projector"] = "true"
    at.run()
    assert not at.exception
    assert at.toggle(key="projector").value
    assert not any("LeNet-5 (LeCun et al. 1998)" in m.value for m in at.markdown)
    assert not any("This page's address holds the run" in c.value for c in at.caption)
    assert at.button(key="train_start")  # the controls stay


def test_the_run_token_and_the_settings_share_the_link_and_the_exports_hold_the_run():
    at = app_test(PAGE)
    at.query_params.update({**LINK, "train_epochs": "1", "train_batch": "256", "train_lr": "0.1"})
    at.run()
    try:
        at.button(key="train_start").click().run()
        assert at.query_params["run"] and at.query_params["train_seed"] == "7"
        run_until(at, lambda a: a.session_state["train_holder"].job.view().state == "finished", timeout=120)
        assert at.query_params["train_dataset"] == "Small digits 8x8" and at.query_params["run"]
        labels = [b.proto.label for b in at.get("download_button")]
        assert "Curves as CSV" in labels and "C1 and C3 filters as PNG" in labels
        job = at.session_state["train_holder"].job
        view = job.view()
    finally:
        stop_training(at)

    rows = list(csv.DictReader(io.StringIO(curves_csv(view.train_curve, view.test_curve))))
    train = [r for r in rows if r["train_loss"]]
    test = [r for r in rows if r["test_loss"]]
    assert len(train) == len(view.train_curve["epoch"]) > 0 and len(test) == len(view.test_curve["epoch"]) > 0
    np.testing.assert_allclose([float(r["train_loss"]) for r in train], view.train_curve["loss"])
    np.testing.assert_allclose([float(r["train_accuracy"]) for r in train], view.train_curve["accuracy"])
    np.testing.assert_allclose([float(r["test_loss"]) for r in test], view.test_curve["loss"])
    np.testing.assert_allclose([float(r["test_accuracy"]) for r in test], view.test_curve["accuracy"])
    np.testing.assert_allclose([float(r["epoch"]) for r in test], view.test_curve["epoch"])

    snap = view.live
    png, layout = filters_picture(snap.c1, snap.c3)
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert picture.shape[1] >= 6 * 5 * 12 and picture.shape[0] > 100
    checked = 0
    for tile in layout.tiles:
        weights = snap.c1[tile.map] if tile.layer == "C1w" else None
        if weights is None:
            continue
        peak = np.abs(snap.c1).max()
        for (r, c), w in np.ndenumerate(weights):
            if abs(w) < 0.4 * peak:
                continue
            red, _, blue = picture[
                tile.y + r * tile.scale + tile.scale // 2, tile.x + c * tile.scale + tile.scale // 2
            ]
            assert (red > blue) == (w > 0), (tile.map, r, c, w, red, blue)
            checked += 1
    assert checked >= 6


def test_the_csv_leaves_cells_empty_where_a_curve_has_no_point():
    text = curves_csv(
        {"epoch": [0.5, 1.0], "loss": [2.0, 1.0], "accuracy": [0.1, 0.5]},
        {"epoch": [1.0], "loss": [0.9], "accuracy": [0.6]},
    )
    assert text.splitlines() == [
        "epoch,train_loss,train_accuracy,test_loss,test_accuracy",
        "0.5,2.0,0.1,,",
        "1.0,1.0,0.5,0.9,0.6",
    ]
    assert re.fullmatch(r"[\w.,\n]+", text)
