"""Explaining one activation: the window, the products, the sum plus bias equal what PyTorch computed."""

import numpy as np
import pytest
import torch

from cnnviz.draw.lenet import activations_picture, filters_picture
from cnnviz.lenet.data import load_mnist5k, to_model_input
from cnnviz.lenet.model import SHIPPED_WEIGHTS, LeNet5, load_weights
from cnnviz.lenet.training import take_snapshot
from cnnviz.lessons.explain import explain


@pytest.fixture(scope="module")
def digit():
    return to_model_input(load_mnist5k().X_test[7])  # (1, 1, 32, 32)


@pytest.mark.parametrize(("activation", "pooling"), [("relu", "max"), ("tanh", "avg"), ("sigmoid", "max")])
def test_every_c1_and_c3_activation_is_its_sum_plus_bias_as_torch_computed(digit, activation, pooling):
    model = LeNet5(activation, pooling, seed=3).eval()
    snap = take_snapshot(model, digit, 7)
    with torch.no_grad():
        pre_c1 = model.c1(digit)[0].double().numpy()  # (6, 28, 28) before the activation function
        pre_c3 = model.c3(model.s2(model.act(model.c1(digit))))[0].double().numpy()  # (16, 10, 10)
    rng = np.random.default_rng(0)
    for layer, pre in (("C1", pre_c1), ("C3", pre_c3)):
        for _ in range(12):
            k, i, j = (int(rng.integers(n)) for n in pre.shape)
            channel = int(rng.integers(1 if layer == "C1" else 6))
            e = explain(snap, layer, k, i, j, activation=activation, pooling=pooling, channel=channel)
            assert e.pre_activation == pytest.approx(pre[k, i, j], abs=1e-5)
            assert e.activation == pytest.approx(float(snap.activations[layer][k, i, j]), abs=1e-5)
            assert len(e.channel_sums) == (1 if layer == "C1" else 6)
            # The stepper's cell is that channel's sum of products: window * kernel summed.
            step = e.trace.step(i, j)
            assert step.value == pytest.approx(e.channel_sums[channel], abs=1e-9)
            assert step.products.sum() == pytest.approx(step.value, abs=1e-9)
            pooled = e.pool_window.max() if pooling == "max" else e.pool_window.mean()
            assert e.pooled == pytest.approx(pooled, abs=1e-5)
            assert snap.activations[layer][k, i, j] in e.pool_window


def test_a_c1_window_sits_on_the_input_where_the_cell_is(digit):
    snap = take_snapshot(load_weights(SHIPPED_WEIGHTS), digit, 7)
    e = explain(snap, "C1", 2, 10, 17, activation="relu", pooling="max")
    step = e.trace.step(10, 17)
    np.testing.assert_array_equal(step.window, digit[0, 0, 10:15, 17:22].double().numpy())
    np.testing.assert_array_equal(step.kernel, snap.c1[2])
    assert e.pooled_layer == "S2" and e.pooled_cell == (5, 8)
    assert "+ (" in e.sum_expression() and e.sum_expression().endswith(f"= {e.pre_activation:.4g}")


def test_bad_requests_are_explained(digit):
    snap = take_snapshot(LeNet5(seed=0), digit, 0)
    with pytest.raises(ValueError, match="only C1 and C3"):
        explain(snap, "S2", 0, 0, 0, activation="relu", pooling="max")
    with pytest.raises(ValueError, match="no \\(6, 0, 0\\)"):
        explain(snap, "C1", 6, 0, 0, activation="relu", pooling="max")
    with pytest.raises(ValueError, match="channel 6 does not exist"):
        explain(snap, "C3", 0, 0, 0, activation="relu", pooling="max", channel=6)


def test_a_click_on_the_pictures_finds_the_map_and_cell(digit):
    snap = take_snapshot(LeNet5(seed=0), digit, 0)
    png, layout = activations_picture(snap.activations, tuple("0123456789"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and layout.height > 300
    for layer, k, i, j in (("C1", 5, 27, 0), ("C3", 11, 4, 9), ("input", 0, 31, 31), ("S4", 15, 0, 4)):
        t = layout.tile(layer, k)
        hit = layout.hit(t.x + j * t.scale + t.scale / 2, t.y + i * t.scale + t.scale / 2)
        assert hit == (layer, k, i, j)
    c1 = layout.tile("C1", 0)
    assert layout.hit(c1.x - 1, c1.y) is None  # the gap left of the first map
    png, layout = filters_picture(snap.c1, snap.c3)
    assert {t.layer for t in layout.tiles} == {"C1w", "C3w"} and len(layout.tiles) == 6 + 96


@pytest.mark.slow
def test_the_shipped_weights_load_safely_and_read_the_shipped_digits():
    model = load_weights(SHIPPED_WEIGHTS)  # torch.load(weights_only=True) inside
    assert (model.activation, model.pooling) == ("relu", "max")
    d = load_mnist5k()
    with torch.no_grad():
        predicted = model(to_model_input(d.X_test)).argmax(1).numpy()
    assert (predicted == d.y_test).mean() >= 0.97  # 97.4% when trained by the recorded command
    assert SHIPPED_WEIGHTS.stat().st_size < 300_000
    recorded = SHIPPED_WEIGHTS.with_suffix(".md").read_text()
    assert "python -m cnnviz.lenet.train --seed 0 --save assets/lenet5_mnist5k.pt" in recorded
