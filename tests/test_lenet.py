"""LeNet-5: shapes and parameter counts against hand counts, activations, weights files."""

import io
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.geometry import output_size
from cnnviz.lenet.model import LAYER_NAMES, LeNet5, load_weights, save_weights, weights_bytes

# Hand counts from shared/TEACHING.md section 8: weights + biases per layer.
HAND_PARAMS = {
    "C1": 6 * (1 * 5 * 5) + 6,  # 156
    "C3": 16 * (6 * 5 * 5) + 16,  # 2,416 (full connectivity: every C3 filter sees all 6 S2 maps)
    "C5": 120 * (16 * 5 * 5) + 120,  # 48,120
    "F6": 84 * 120 + 84,  # 10,164
    "output": 10 * 84 + 10,  # 850
}


def hand_shapes() -> dict[str, tuple[int, ...]]:
    c1 = output_size(32, 5)  # 28
    s2 = output_size(c1, 2, stride=2)  # 14
    c3 = output_size(s2, 5)  # 10
    s4 = output_size(c3, 2, stride=2)  # 5
    return {
        "input": (1, 32, 32),
        "C1": (6, c1, c1),
        "S2": (6, s2, s2),
        "C3": (16, c3, c3),
        "S4": (16, s4, s4),
        "C5": (120,),
        "F6": (84,),
        "output": (10,),
    }


def test_hand_counts_match_the_lecture():
    assert list(HAND_PARAMS.values()) == [156, 2416, 48120, 10164, 850]
    assert sum(HAND_PARAMS.values()) == 61_706


def test_describe_gives_each_layers_shape_and_parameter_count():
    rows = LeNet5().describe()
    assert [r.name for r in rows] == ["input", "C1", "S2", "C3", "S4", "C5", "F6", "output"]
    assert {r.name: r.output_shape for r in rows} == hand_shapes()
    assert {r.name: r.params for r in rows if r.params} == HAND_PARAMS
    assert sum(r.params for r in rows) == 61_706 == LeNet5().n_params()


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_activations_have_the_documented_shapes(activation, pooling):
    model = LeNet5(activation, pooling, seed=0)
    X = torch.rand(3, 1, 32, 32)
    A = model.activations(X)
    assert tuple(A) == LAYER_NAMES
    for name, shape in hand_shapes().items():
        assert tuple(A[name].shape) == (3, *shape), name
    assert tuple(A["probabilities"].shape) == (3, 10)
    torch.testing.assert_close(A["probabilities"].sum(1), torch.ones(3))
    torch.testing.assert_close(model(X), A["output"])
    assert pooling in model.describe()[2].kind or (pooling == "avg" and "average" in model.describe()[2].kind)


def test_layers_compute_what_the_formulas_say():
    """An independent recomputation with torch.nn.functional in float64."""
    model = LeNet5("tanh", "avg", seed=1).double()
    X = torch.rand(2, 1, 32, 32, dtype=torch.float64)
    A = model.activations(X)
    c1 = torch.tanh(F.conv2d(X, model.c1.weight, model.c1.bias))
    s2 = F.avg_pool2d(c1, 2)
    c3 = torch.tanh(F.conv2d(s2, model.c3.weight, model.c3.bias))
    s4 = F.avg_pool2d(c3, 2)
    c5 = torch.tanh(s4.reshape(2, 400) @ model.c5.weight.T + model.c5.bias)
    for name, expected in {"C1": c1, "S2": s2, "C3": c3, "S4": s4, "C5": c5}.items():
        torch.testing.assert_close(A[name], expected, rtol=1e-12, atol=1e-12)
    assert A["C1"].abs().max() < 1  # tanh squashes into (-1, 1)


def test_sigmoid_and_max_pooling():
    model = LeNet5("sigmoid", "max", seed=2)
    A = model.activations(torch.rand(1, 1, 32, 32))
    assert A["C1"].min() > 0 and A["C1"].max() < 1
    torch.testing.assert_close(A["S2"], F.max_pool2d(A["C1"], 2))


def test_bad_input_and_choices_are_explained():
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\).*to_model_input"):
        LeNet5()(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="activation 'gelu' is not one of relu, tanh, sigmoid"):
        LeNet5("gelu")
    with pytest.raises(ValueError, match="pooling 'min' is not one of max, avg"):
        LeNet5(pooling="min")


def test_seed_fixes_the_start_weights_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = LeNet5(seed=7), LeNet5(seed=7), LeNet5(seed=8)
    assert torch.rand(1) == expected_next
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_weights_round_trip_through_a_file_and_bytes(tmp_path):
    model = LeNet5("tanh", "avg", seed=3)
    X = torch.rand(4, 1, 32, 32)
    save_weights(model, tmp_path / "w.pt")
    for source in (tmp_path / "w.pt", weights_bytes(model)):
        loaded = load_weights(source)
        assert (loaded.activation, loaded.pooling) == ("tanh", "avg")
        torch.testing.assert_close(loaded(X), model(X), rtol=0, atol=0)


def test_a_plain_state_dict_is_accepted():
    model = LeNet5(seed=4)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    loaded = load_weights(buffer.getvalue())
    torch.testing.assert_close(loaded.c3.weight, model.c3.weight)


def test_corrupt_and_wrong_files_are_rejected_with_a_clear_message():
    good = weights_bytes(LeNet5(seed=5))
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_weights(good[: len(good) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_weights(b"this is a text file, not weights")
    wrong = io.BytesIO()
    torch.save({"c1.weight": torch.zeros(8, 1, 3, 3)}, wrong)
    with pytest.raises(ValueError, match="different network"):
        load_weights(wrong.getvalue())
    other = io.BytesIO()
    torch.save([1, 2, 3], other)
    with pytest.raises(ValueError, match="holds no LeNet-5 weights"):
        load_weights(other.getvalue())


class _Exploit:
    def __reduce__(self):
        return (print, ("this code must never run",))


def test_a_pickle_that_would_run_code_is_refused(capsys):
    with pytest.raises(ValueError, match="cnnviz can read") as refused:
        load_weights(pickle.dumps({"state_dict": _Exploit()}, protocol=2))
    assert "never run" not in capsys.readouterr().out
    # PyTorch's own text is not passed on: its colour codes and its advice to load the file unsafely.
    message = str(refused.value)
    assert "weights_only" not in message and "\x1b" not in message and "WeightsUnpickler" not in message


def test_probabilities_are_the_softmax_of_the_logits_as_numpy():
    model = LeNet5(seed=1)
    X = torch.rand(2, 1, 32, 32)
    p = model.probabilities(X)
    assert isinstance(p, np.ndarray) and p.shape == (2, 10) and not model.training
    np.testing.assert_allclose(p, torch.softmax(model(X), dim=1).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
