"""Training and explaining a designed network: the job, its snapshots, and any conv activation against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.draw.net import first_filters_picture, net_maps_picture
from cnnviz.lenet.data import load_mnist5k
from cnnviz.lenet.net_training import NetTrainingJob, take_net_snapshot
from cnnviz.lenet.netbuild import build
from cnnviz.lenet.recorder import JobState
from cnnviz.lenet.training import TrainConfig
from cnnviz.lessons.explain import explain_conv
from cnnviz.lessons.layers import Conv, Flatten, Linear, Pool, ReLU
from cnnviz.lessons.netspec import INPUT_SHAPE, NET_PRESETS, NetSpec, check_trainable


@pytest.mark.slow
def test_a_designed_network_trains_in_the_job_and_learns_a_little():
    spec = NET_PRESETS["No pooling (stride-2 convolutions)"]
    model = build(check_trainable(spec), seed=0)
    data = load_mnist5k().subset(256, 64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    job = NetTrainingJob(model, data, TrainConfig(epochs=1, batch_size=32, lr=5e-3), probe_index=3)
    job.start()
    assert job.join(120)
    view = job.view()
    assert view.state is JobState.FINISHED, view.message
    assert view.step == 8 and len(view.test_curve["accuracy"]) == 1
    assert not torch.equal(before["0.weight"], job.current_model().state_dict()["0.weight"])
    snap = view.live
    assert snap.probe_index == 3 and sorted(snap.weights) == [1, 3]
    assert [a.shape for a in snap.activations][:2] == [(1, 28, 28), (8, 14, 14)]
    assert snap.probabilities.sum() == pytest.approx(1.0)
    png, layout = net_maps_picture(snap.activations, [1, 3], {1: "conv1"}, data.class_names)
    assert png.startswith(b"\x89PNG") and {t.layer for t in layout.tiles} == {"0", "1", "3"}
    png, layout = first_filters_picture(snap.weights[1], 1)
    assert len(layout.tiles) == 8


@pytest.mark.parametrize(
    ("conv", "channel"),
    [
        (Conv(5, 3, stride=2, padding=1), 1),
        (Conv(4, 3, padding="same", dilation=2), 2),
        (Conv(3, (2, 3), stride=(1, 2)), 0),
    ],
)
def test_any_conv_activation_is_explained_as_torch_computes_it(conv, channel):
    spec = NetSpec(INPUT_SHAPE, (Conv(3, 5), ReLU(), Pool("max", 2), conv, Flatten(), Linear(10)))
    model = build(spec.analysis(), seed=2).double().requires_grad_(False)
    X = torch.rand(1, *INPUT_SHAPE, dtype=torch.float64)
    A = model.activations(X)
    layer = model[3]
    for k, i, j in [(0, 0, 0), (conv.out_channels - 1, 2, 3), (1, 5, 4)]:
        e = explain_conv(
            A[3][0].numpy(),
            layer.weight.detach().numpy(),
            layer.bias.detach().numpy(),
            k,
            i,
            j,
            stride=layer.stride,
            padding=layer.padding,
            dilation=layer.dilation,
            channel=channel,
        )
        assert e.pre_activation == pytest.approx(A[4][0, k, i, j].item(), abs=1e-10)
        # one channel alone: torch's conv2d of that slice, no bias
        one = F.conv2d(
            A[3][:, channel : channel + 1],
            layer.weight[k : k + 1, channel : channel + 1],
            stride=layer.stride,
            padding=layer.padding,
            dilation=layer.dilation,
        )
        assert e.trace.output[i, j] == pytest.approx(one[0, 0, i, j].item(), abs=1e-10)
        assert len(e.channel_sums) == 3


def test_explain_conv_refuses_cells_and_filters_that_do_not_exist():
    X, W, b = np.zeros((2, 6, 6)), np.zeros((3, 2, 3, 3)), np.zeros(3)
    with pytest.raises(ValueError, match="this layer's maps are 4x4; there is no cell"):
        explain_conv(X, W, b, 0, 4, 0)
    with pytest.raises(ValueError, match="this layer has 3 filters; there is no filter 3"):
        explain_conv(X, W, b, 3, 0, 0)
    with pytest.raises(ValueError, match="reads 2 input channel"):
        explain_conv(X, W, b, 0, 0, 0, channel=2)


def test_a_snapshot_of_the_padded_input_sees_the_digit():
    model = build(NET_PRESETS["LeNet-5"].analysis(), seed=0)
    digit = torch.rand(1, 1, 28, 28)
    snap = take_net_snapshot(model, F.pad(digit, (2, 2, 2, 2)), 0)
    np.testing.assert_array_equal(snap.activations[0][0], digit[0, 0].numpy())
