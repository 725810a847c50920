"""Training a designed network (`cnnviz.lessons.netspec.SpecNet`) with the same job as LeNet-5's live view.

`NetTrainingJob` is `cnnviz.lenet.job.TrainingJob` with another snapshot: every layer's output for the followed
test image and the weights of every conv layer (what the page draws and explains), instead of LeNet's named
layers. The training loop, the child process, pause/stop and the heartbeat are LeNet's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.lenet.job import TrainingJob
from cnnviz.lenet.netbuild import SpecNet

__all__ = ["NetSnapshot", "NetTrainingJob", "take_net_snapshot"]


@dataclass(frozen=True, eq=False)
class NetSnapshot:
    """A designed network at one moment: one image's way through it and its conv layers' weights."""

    step: int
    epoch: float
    probe_index: int  # which test image (-1: an image from elsewhere)
    activations: tuple[np.ndarray, ...]  # the input, then each layer's output, batch axis dropped
    weights: dict[int, np.ndarray]  # layer number (1-based) -> conv weight (C_out, C_in, kh, kw)
    biases: dict[int, np.ndarray]  # layer number -> conv bias (C_out,)

    @property
    def probabilities(self) -> np.ndarray:
        z = self.activations[-1].ravel()
        e = np.exp(z - z.max())
        return e / e.sum()


def take_net_snapshot(
    model: SpecNet, probe: torch.Tensor, probe_index: int, step: int = 0, epoch: float = 0.0
):
    """A NetSnapshot of `model` with the activations of one input `probe` (1, 1, 28 or 32, 28 or 32)."""
    with torch.no_grad():
        outputs = model.activations(probe)
        convs = {n: m for n, m in enumerate(model, start=1) if isinstance(m, nn.Conv2d)}
        return NetSnapshot(
            step=step,
            epoch=epoch,
            probe_index=probe_index,
            activations=tuple(a[0].numpy().copy() for a in outputs),
            weights={n: m.weight.detach().numpy().copy() for n, m in convs.items()},
            biases={n: m.bias.detach().numpy().copy() for n, m in convs.items()},
        )


class NetTrainingJob(TrainingJob):
    """A `TrainingJob` for a `SpecNet`: the same process, commands and curves; `NetSnapshot`s for the view."""

    snapshot_fn = staticmethod(take_net_snapshot)
