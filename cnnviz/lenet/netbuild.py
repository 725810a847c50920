"""A designed network (`cnnviz.lessons.netspec.NetSpec`) as PyTorch: built from the Layer arithmetic rows, and its
weights saved and loaded (with `weights_only=True`, checked tensor by tensor against the network's shapes).
"""

from __future__ import annotations

import io

import torch
from torch import nn

from cnnviz.lessons.layers import Analysis, torch_call
from cnnviz.lessons.netspec import FORMAT, INPUT_SHAPE, NetSpec, layer_label, spec_json

__all__ = ["SpecNet", "build", "load_weights", "weights_bytes"]


class SpecNet(nn.Sequential):
    """An `nn.Sequential` (same layers, same `state_dict` keys) that also takes the training pipeline's input.

    `cnnviz.lenet.data.to_model_input` pads a 28x28 digit by 2 zero pixels to LeNet's 32x32; a network designed
    for 1@28x28 gets the digit back by cutting those 2 pixels off again.
    """

    def __init__(self, *modules: nn.Module, input_shape: tuple[int, int, int] = INPUT_SHAPE):
        super().__init__(*modules)
        self.input_shape = tuple(input_shape)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.shape[-1] == X.shape[-2] == self.input_shape[-1] + 4:
            X = X[..., 2:-2, 2:-2]  # (N, 1, 32, 32) -> (N, 1, 28, 28): undo the zero padding
        return super().forward(X)

    def activations(self, X: torch.Tensor) -> list[torch.Tensor]:
        """The input (as the first layer sees it) and every layer's output, in order."""
        if X.shape[-1] == X.shape[-2] == self.input_shape[-1] + 4:
            X = X[..., 2:-2, 2:-2]
        out = [X]
        for module in self:
            out.append(module(out[-1]))
        return out


def build(analysis: Analysis, seed: int | None = None) -> SpecNet:
    """The analysed layers as an `nn.Sequential`, module by module from `torch_call`, parameters checked."""
    if analysis.error:
        raise ValueError(analysis.error)
    modules = []
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        for prev, row in zip(analysis.rows, analysis.rows[1:], strict=False):
            cls, args, kwargs = torch_call(prev.shape, row.layer)
            module = getattr(nn, cls)(*args, **kwargs)
            n = sum(p.numel() for p in module.parameters())
            if n != row.params:  # the arithmetic and PyTorch must agree; a bug if not
                raise AssertionError(
                    f"{layer_label(analysis, row.index)}: {n} parameters, table says {row.params}"
                )
            modules.append(module)
    return SpecNet(*modules, input_shape=analysis.input_shape)


def weights_bytes(spec: NetSpec, model: nn.Module) -> bytes:
    """The network's spec and trained weights as one PyTorch file."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "spec": spec_json(spec), "state_dict": model.state_dict()}, buffer)
    return buffer.getvalue()


def _read_state(data: bytes) -> dict:
    try:
        saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds (pickle, zip, EOF...) for a bad file
        raise ValueError(
            f"this is not a weights file cnnviz can read (corrupt, cut short, or not PyTorch). Details: {error}"
        ) from None
    if isinstance(saved, dict) and saved.get("format") == FORMAT:
        saved = saved.get("state_dict")
    if not isinstance(saved, dict) or not all(isinstance(v, torch.Tensor) for v in saved.values()):
        raise ValueError("this PyTorch file holds no state_dict (a dict of tensors)")
    return saved


def load_weights(data: bytes, spec: NetSpec) -> SpecNet:
    """`spec`'s network with the weights of a file (`weights_bytes`, or a plain `state_dict`).

    Loads with `weights_only=True` (a file cannot run code) and checks every tensor's name and shape against
    the network first; a ValueError names the first tensor that differs.
    """
    state = _read_state(data)
    model = build(spec.analysis())
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    for key, shape in expected.items():
        if key not in state:
            raise ValueError(f"tensor {key} ({'x'.join(map(str, shape))}) is missing from the file")
        found = tuple(state[key].shape)
        if found != shape:
            raise ValueError(
                f"tensor {key}: the file has shape {found}, this network needs {shape}; "
                "these weights are for a different network"
            )
    extra = sorted(set(state) - set(expected))
    if extra:
        raise ValueError(f"tensor {extra[0]} in the file has no place in this network ({len(extra)} extra)")
    model.load_state_dict(state)
    return model
