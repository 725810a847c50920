"""LeNet-5 (LeCun et al. 1998) in PyTorch, with full C3 connectivity, as in shared/TEACHING.md section 8.

    input 1@32x32 -> C1 6@28x28 (5x5) -> S2 6@14x14 (2x2) -> C3 16@10x10 (5x5) -> S4 16@5x5
    -> C5 120 -> F6 84 -> output 10

The original squashed with sigmoid/tanh-like functions and subsampled by averaging; the modern form uses ReLU
and max pooling. Both are a constructor argument here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
POOLINGS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}

# The names of the activations `LeNet5.activations` returns, in the order the input flows through them.
LAYER_NAMES = ("input", "C1", "S2", "C3", "S4", "C5", "F6", "output", "probabilities")

INPUT_SIZE = 32  # the model's input is 1@32x32
N_CLASSES = 10
WEIGHTS_FORMAT = "cnnviz-lenet5"  # written into every weights file, checked on load
# Trained on the shipped MNIST digits by `python -m cnnviz.lenet.train`; the command is in assets/lenet5_mnist5k.md.
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "lenet5_mnist5k.pt"


@dataclass(frozen=True)
class LayerInfo:
    """One row of the architecture table."""

    name: str
    kind: str  # what the layer does, e.g. "conv 5x5, 6 filters"
    output_shape: tuple[int, ...]  # (C, H, W) for maps, (features,) for vectors; no batch axis
    params: int


class LeNet5(nn.Module):
    """LeNet-5 with full C3 connectivity: 61,706 parameters.

    `activation` is "relu", "tanh" or "sigmoid"; `pooling` is "max" or "avg". Given a `seed`, the initial
    weights depend on that seed only (the global torch generator is left as it was).
    """

    def __init__(self, activation: str = "relu", pooling: str = "max", seed: int | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling {pooling!r} is not one of {', '.join(POOLINGS)}")
        self.activation = activation
        self.pooling = pooling
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.c1 = nn.Conv2d(1, 6, kernel_size=5)  # 6 * (1*5*5) + 6 = 156
            self.s2 = POOLINGS[pooling](kernel_size=2, stride=2)
            self.c3 = nn.Conv2d(6, 16, kernel_size=5)  # 16 * (6*5*5) + 16 = 2,416
            self.s4 = POOLINGS[pooling](kernel_size=2, stride=2)
            self.c5 = nn.Linear(16 * 5 * 5, 120)  # 120 * 400 + 120 = 48,120
            self.f6 = nn.Linear(120, 84)  # 84 * 120 + 84 = 10,164
            self.out = nn.Linear(84, N_CLASSES)  # 10 * 84 + 10 = 850
        self.act = ACTIVATIONS[activation]()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Class scores (logits), (N, 10), for a batch `X` of shape (N, 1, 32, 32)."""
        return self.activations(X)["output"]

    def activations(self, X: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every intermediate result for a batch `X` (N, 1, 32, 32), keyed by `LAYER_NAMES`.

        C1, C3, C5 and F6 are taken after the activation function; "output" is the logits and
        "probabilities" their softmax.
        """
        _check_input(X)
        A: dict[str, torch.Tensor] = {"input": X}
        A["C1"] = self.act(self.c1(X))  # (N, 6, 28, 28)
        A["S2"] = self.s2(A["C1"])  # (N, 6, 14, 14)
        A["C3"] = self.act(self.c3(A["S2"]))  # (N, 16, 10, 10)
        A["S4"] = self.s4(A["C3"])  # (N, 16, 5, 5)
        flat = A["S4"].flatten(1)  # (N, 400)
        A["C5"] = self.act(self.c5(flat))  # (N, 120)
        A["F6"] = self.act(self.f6(A["C5"]))  # (N, 84)
        A["output"] = self.out(A["F6"])  # (N, 10)
        A["probabilities"] = torch.softmax(A["output"], dim=1)  # (N, 10)
        return A

    def probabilities(self, X: torch.Tensor) -> np.ndarray:
        """The class probabilities (the softmax of the logits), (N, 10), in evaluation mode, with no gradient."""
        with torch.no_grad():
            return self.eval().activations(X)["probabilities"].numpy()

    def describe(self) -> list[LayerInfo]:
        """The architecture layer by layer: name, what it does, output shape, parameter count."""
        with torch.no_grad():
            A = self.activations(torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE))
        pool = "max" if self.pooling == "max" else "average"
        act = self.activation
        kinds = {
            "input": ("image", None),
            "C1": (f"conv 5x5, 6 filters, {act}", self.c1),
            "S2": (f"{pool} pool 2x2, stride 2", None),
            "C3": (f"conv 5x5, 16 filters over 6 maps, {act}", self.c3),
            "S4": (f"{pool} pool 2x2, stride 2", None),
            "C5": (f"fully connected 400 -> 120, {act}", self.c5),
            "F6": (f"fully connected 120 -> 84, {act}", self.f6),
            "output": ("fully connected 84 -> 10 (logits)", self.out),
        }
        return [
            LayerInfo(
                name=name,
                kind=kind,
                output_shape=tuple(A[name].shape[1:]),
                params=0 if layer is None else sum(p.numel() for p in layer.parameters()),
            )
            for name, (kind, layer) in kinds.items()
        ]

    def n_params(self) -> int:
        """The number of trainable parameters (61,706)."""
        return sum(p.numel() for p in self.parameters())


def _check_input(X: torch.Tensor) -> None:
    if X.ndim != 4 or tuple(X.shape[1:]) != (1, INPUT_SIZE, INPUT_SIZE):
        raise ValueError(
            f"LeNet-5 takes a batch of shape (N, 1, 32, 32); got {tuple(X.shape)}. "
            "Use cnnviz.lenet.data.to_model_input to pad 28x28 or upscale 8x8 images first."
        )


def save_weights(model: LeNet5, file: str | Path | BinaryIO) -> None:
    """Write the model's weights and its choices (activation, pooling) to a file or binary stream."""
    torch.save(
        {
            "format": WEIGHTS_FORMAT,
            "activation": model.activation,
            "pooling": model.pooling,
            "state_dict": model.state_dict(),
        },
        file,
    )


def weights_bytes(model: LeNet5) -> bytes:
    """The bytes `save_weights` would write: what a download button serves."""
    buffer = io.BytesIO()
    save_weights(model, buffer)
    return buffer.getvalue()


def load_weights(file: str | Path | BinaryIO | bytes) -> LeNet5:
    """A LeNet5 rebuilt from a file written by `save_weights`; ValueError for anything else.

    Loads with `weights_only=True`, so a file cannot run code. A plain `state_dict` of this architecture is
    accepted too (taken as relu + max pooling).
    """
    if isinstance(file, bytes | bytearray):
        file = io.BytesIO(file)
    try:
        saved = torch.load(file, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many kinds (pickle, zip, EOF...) for a bad file
        # Its own text is not for students: terminal colour codes, and advice to load untrusted files unsafely.
        raise ValueError(
            "this is not a weights file cnnviz can read (it may be corrupt or truncated, or not a PyTorch "
            "file); download the weights again from the Train LeNet page"
        ) from None
    if isinstance(saved, dict) and saved.get("format") == WEIGHTS_FORMAT:
        activation, pooling, state = saved.get("activation"), saved.get("pooling"), saved.get("state_dict")
    elif isinstance(saved, dict) and all(isinstance(v, torch.Tensor) for v in saved.values()):
        activation, pooling, state = "relu", "max", saved
    else:
        raise ValueError("this PyTorch file holds no LeNet-5 weights; save them from the Train LeNet page")
    if activation not in ACTIVATIONS or pooling not in POOLINGS or not isinstance(state, dict):
        raise ValueError("this weights file names an unknown activation or pooling; cnnviz did not save it")
    model = LeNet5(activation, pooling)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}
    if found != expected:
        wrong = sorted(set(expected) ^ set(found)) or [k for k in expected if expected[k] != found[k]]
        raise ValueError(
            f"these weights are for a different network (mismatch in {', '.join(wrong[:4])}); "
            "cnnviz expects LeNet-5 with 6 C1 filters, 16 C3 filters, 120, 84 and 10 units"
        )
    model.load_state_dict(state)
    return model
