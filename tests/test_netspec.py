"""Design your own network: the builder against the Layer arithmetic, refusals by message, files, presets."""

import io
import json
import random
import subprocess
import sys

import pytest
import torch

from cnnviz.lenet.data import to_model_input
from cnnviz.lenet.model import LeNet5
from cnnviz.lenet.netbuild import build, load_weights, weights_bytes
from cnnviz.lessons.layers import Conv, Flatten, Linear, Pool, ReLU, Tanh, analyse, torch_code
from cnnviz.lessons.netspec import (
    INPUT_SHAPE,
    MACS_PER_SECOND,
    MAX_PARAMS,
    MAX_SECONDS_PER_EPOCH,
    NET_PRESETS,
    SECONDS_PER_LAYER_BATCH,
    NetSpec,
    check_trainable,
    layer_macs,
    seconds_per_epoch,
    spec_from_json,
    spec_json,
)


def _random_layer(rng: random.Random, flat: bool):
    if flat:
        return rng.choice([Linear(rng.randint(1, 40)), ReLU(), Tanh()])
    kind = rng.choice(["conv", "conv", "pool", "act", "flatten"])
    if kind == "conv":
        return Conv(
            rng.randint(1, 8),
            rng.randint(1, 5),
            stride=rng.randint(1, 3),
            padding=rng.choice([0, 1, 2, "valid"]),
            dilation=rng.randint(1, 2),
        )
    if kind == "pool":
        size = rng.randint(1, 3)
        return Pool(rng.choice(["max", "avg"]), size, rng.choice([None, 1, 2]), rng.randint(0, size // 2))
    return rng.choice([ReLU(), Tanh()]) if kind == "act" else Flatten()


def _random_specs(n: int, seed: int = 12):
    """`n` random specs that the arithmetic accepts (misfits are redrawn), over random inputs."""
    rng = random.Random(seed)
    specs = []
    while len(specs) < n:
        layers, flat = [], False
        for _ in range(rng.randint(1, 7)):
            layer = _random_layer(rng, flat)
            flat = flat or isinstance(layer, Flatten)
            layers.append(layer)
        shape = (rng.randint(1, 3), rng.randint(6, 30), rng.randint(6, 30))
        if not analyse(shape, layers).error:
            specs.append(NetSpec(shape, tuple(layers)))
    return specs


@pytest.mark.parametrize("spec", _random_specs(40), ids=lambda s: f"{s.input_shape}-{len(s.layers)}layers")
def test_the_built_module_has_the_arithmetics_shapes_and_parameters(spec):
    a = spec.analysis()
    model = build(a, seed=0)
    outputs = model.activations(torch.zeros(2, *spec.input_shape))  # (N, ...) per layer
    assert len(outputs) == len(a.rows)
    for row, out, module in zip(a.rows[1:], outputs[1:], model, strict=True):
        assert tuple(out.shape[1:]) == row.shape, row.what
        assert sum(p.numel() for p in module.parameters()) == row.params, row.what
    assert sum(p.numel() for p in model.parameters()) == a.params


@pytest.mark.parametrize(
    "spec",
    [*_random_specs(10, seed=5), *NET_PRESETS.values()],
    ids=lambda s: f"{s.input_shape}-{len(s.layers)}",
)
def test_the_shown_pytorch_runs_and_builds_the_same_network(spec):
    a = spec.analysis()
    scope: dict = {}
    exec(torch_code(a).replace("print(", "_ = ("), scope)  # the code as the page shows it, without printing
    shown, built = scope["model"], build(a)
    assert [type(m) for m in shown] == [type(m) for m in built]
    assert {k: v.shape for k, v in shown.state_dict().items()} == {
        k: v.shape for k, v in built.state_dict().items()
    }
    built.load_state_dict(shown.state_dict())
    X = torch.randn(3, *spec.input_shape)
    torch.testing.assert_close(built(X), shown(X))


def test_the_lenet_preset_is_the_train_pages_lenet():
    spec = NET_PRESETS["LeNet-5"]
    lenet = LeNet5(seed=3).eval()
    net = build(check_trainable(spec)).eval()
    assert sum(p.numel() for p in net.parameters()) == lenet.n_params() == 61_706
    mapping = {"c1": 0, "c3": 3, "c5": 7, "f6": 9, "out": 11}  # LeNet5's names -> the Sequential's indices
    net.load_state_dict(
        {f"{mapping[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in lenet.state_dict().items()}
    )
    digits = torch.rand(5, 28, 28)
    X = to_model_input(digits)  # (5, 1, 32, 32): the LeNet page pads by 2
    torch.testing.assert_close(net(digits[:, None]), lenet(X))  # padding=2 in C1 is the same padding
    torch.testing.assert_close(net(X), lenet(X))  # and the padded input is cut back to 28x28


@pytest.mark.parametrize("title", [t for t in NET_PRESETS if t != "LeNet-5"])
def test_every_preset_trains_here(title):
    a = check_trainable(NET_PRESETS[title])
    assert a.output.shape == (10,)
    assert tuple(build(a)(torch.zeros(1, *INPUT_SHAPE)).shape) == (1, 10)


def test_the_presets_show_what_their_names_say():
    layers = {t: NET_PRESETS[t].layers for t in NET_PRESETS}
    assert not any(isinstance(x, Pool) for x in layers["No pooling (stride-2 convolutions)"])
    assert any(
        isinstance(x, Conv) and x.kernel == 1
        for x in layers["1x1 convolutions (mix channels, keep the size)"]
    )
    gap = layers["Global average pooling (no flatten + big linear)"]
    assert not any(isinstance(x, Linear) for x in gap)
    assert check_trainable(NET_PRESETS["Global average pooling (no flatten + big linear)"]).rows[
        -2
    ].shape == (10, 1, 1)


# --- Refusals before training, naming the layer ------------------------------------------------------------


def _spec(*layers):
    return NetSpec(INPUT_SHAPE, layers)


def test_a_shape_that_goes_to_zero_is_refused_naming_the_layer():
    spec = _spec(
        Conv(4, 5, name="c1"), Pool("max", 2), Conv(4, 5), Pool("max", 2), Conv(4, 5), Flatten(), Linear(10)
    )
    with pytest.raises(ValueError, match=r"Layer 5 \(conv 5x5, 4 filters\).*larger than"):
        check_trainable(spec)


def test_a_linear_layer_with_the_wrong_input_size_is_refused_naming_the_layer():
    spec = _spec(Conv(4, 3), Flatten(), Linear(10, in_features=100, name="head"))
    with pytest.raises(
        ValueError, match=r"Layer 3 \(head, linear, 10 outputs\).*expects 100 inputs.*gives 2,704"
    ):
        check_trainable(spec)


def test_too_many_parameters_is_refused_naming_the_biggest_layer():
    spec = _spec(Flatten(), Linear(3000, name="wide"), ReLU(), Linear(10))
    with pytest.raises(ValueError, match=rf"over the cap of {MAX_PARAMS:,}.*Layer 2 \(wide, linear"):
        check_trainable(spec)


def test_too_slow_an_epoch_is_refused_naming_the_costliest_layer():
    spec = _spec(
        Conv(64, 5, padding=2),
        ReLU(),
        Conv(64, 5, padding=2, name="heavy"),
        Pool("avg", 28),
        Flatten(),
        Linear(10),
    )
    a = spec.analysis()
    assert a.params < MAX_PARAMS and seconds_per_epoch(a) > MAX_SECONDS_PER_EPOCH
    with pytest.raises(
        ValueError, match=r"s per epoch on a laptop core.*the costliest is Layer 3 \(heavy, conv"
    ):
        check_trainable(spec)


def test_the_input_must_be_the_shipped_digits():
    with pytest.raises(ValueError, match=r"the input is 3@32x32 but the shipped digits are 1@28x28"):
        check_trainable(NetSpec((3, 32, 32), (Flatten(), Linear(10))))


def test_the_output_must_be_ten_class_scores():
    with pytest.raises(
        ValueError, match=r"Layer 2 \(linear, 5 outputs\) gives 5; the last layer must give 10"
    ):
        check_trainable(_spec(Flatten(), Linear(5)))
    with pytest.raises(ValueError, match=r"Layer 1 \(conv 3x3, 2 filters\) gives 2@26x26"):
        check_trainable(_spec(Conv(2, 3)))


def test_the_estimate_counts_multiply_adds_by_hand():
    a = _spec(Conv(4, 3), Flatten(), Linear(10)).analysis()
    # conv: 4@26x26 outputs of 1x3x3 products; flatten: none; linear: 2,704 x 10
    assert layer_macs(a) == [4 * 26 * 26 * 9, 0, 2704 * 10]
    compute = 3 * (4 * 26 * 26 * 9 + 2704 * 10) * 4000 / MACS_PER_SECOND
    overhead = 125 * 3 * SECONDS_PER_LAYER_BATCH  # 4,000 images in batches of 32, 3 layers
    assert seconds_per_epoch(a) == pytest.approx(compute + overhead)


# --- Files: the spec as JSON, the weights as a checked state_dict -----------------------------------------


@pytest.mark.parametrize("title", list(NET_PRESETS))
def test_the_spec_round_trips_through_json(title):
    spec = NET_PRESETS[title]
    text = spec_json(spec)
    assert len(text) < 4000 and json.loads(text)["input"] == [1, 28, 28]
    back = spec_from_json(text)
    assert back.input_shape == spec.input_shape
    assert back.analysis().rows == spec.analysis().rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "this file is not JSON"),
        ('{"layers": []}', "not a cnnviz network"),
        ('{"format": "cnnviz-net", "input": [1, 28], "layers": []}', "three whole numbers"),
        ('{"format": "cnnviz-net", "input": [1, 28, 28], "layers": [{"colour": 1}]}', "rows with the keys"),
        (
            '{"format": "cnnviz-net", "input": [1, 28, 28], "layers": [{"layer": "conv"}]}',
            r"Layer 1 \(conv\)",
        ),
    ],
)
def test_a_bad_spec_file_is_refused_by_message(text, message):
    with pytest.raises(ValueError, match=message):
        spec_from_json(text)


def test_trained_weights_round_trip_with_their_spec():
    spec = NET_PRESETS["No pooling (stride-2 convolutions)"]
    model = build(spec.analysis(), seed=1)
    loaded = load_weights(weights_bytes(spec, model), spec)
    X = torch.rand(2, *INPUT_SHAPE)
    torch.testing.assert_close(loaded(X), model(X))
    plain = io.BytesIO()
    torch.save(model.state_dict(), plain)  # a plain state_dict is fine too
    torch.testing.assert_close(load_weights(plain.getvalue(), spec)(X), model(X))


def test_weights_of_another_network_name_the_mismatching_tensor():
    spec = NET_PRESETS["No pooling (stride-2 convolutions)"]
    other = _spec(
        Conv(8, 5, stride=2, padding=1),
        ReLU(),
        Conv(16, 3, stride=2, padding=1),
        ReLU(),
        Flatten(),
        Linear(10),
    )
    data = weights_bytes(other, build(other.analysis()))
    with pytest.raises(
        ValueError,
        match=r"tensor 0.weight: the file has shape \(8, 1, 5, 5\), this network needs \(8, 1, 3, 3\)",
    ):
        load_weights(data, spec)


def test_missing_and_extra_tensors_are_named():
    spec = _spec(Flatten(), Linear(10))
    buffer = io.BytesIO()
    torch.save({"1.weight": torch.zeros(10, 784)}, buffer)
    with pytest.raises(ValueError, match=r"tensor 1.bias \(10\) is missing"):
        load_weights(buffer.getvalue(), spec)
    buffer = io.BytesIO()
    torch.save(
        {"1.weight": torch.zeros(10, 784), "1.bias": torch.zeros(10), "2.weight": torch.zeros(3)}, buffer
    )
    with pytest.raises(ValueError, match=r"tensor 2.weight in the file has no place"):
        load_weights(buffer.getvalue(), spec)


def test_a_file_that_is_not_pytorch_is_refused():
    with pytest.raises(ValueError, match="not a weights file cnnviz can read"):
        load_weights(b"hello", _spec(Flatten(), Linear(10)))
    buffer = io.BytesIO()
    torch.save([1, 2, 3], buffer)
    with pytest.raises(ValueError, match="holds no state_dict"):
        load_weights(buffer.getvalue(), _spec(Flatten(), Linear(10)))


def test_checking_a_network_loads_no_torch():
    code = "import sys, cnnviz.lessons.netspec as n; n.check_trainable(n.NET_PRESETS['LeNet-5']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
