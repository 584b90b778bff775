"""Onward to PyTorch: the same network as a torch module (torch is imported here only)."""

from __future__ import annotations

from typing import Any

from microgrid.nn.layers import LEAKY_SLOPE, MLP

__all__ = ['to_torch']


def to_torch(model: MLP) -> Any:
    """The same network as a float64 torch.nn.Sequential of Linear and activation modules."""
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch: expected an MLP, got {type(model).__name__}")
    import torch

    modules: list = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if layer.activation == 'relu':
            modules.append(torch.nn.ReLU())
        elif layer.activation == 'tanh':
            modules.append(torch.nn.Tanh())
        elif layer.activation == 'sigmoid':
            modules.append(torch.nn.Sigmoid())
        elif layer.activation == 'leaky_relu':
            modules.append(torch.nn.LeakyReLU(LEAKY_SLOPE))
    return torch.nn.Sequential(*modules)
