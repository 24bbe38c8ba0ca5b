"""Multi-layer perceptron."""
from __future__ import annotations

from ember import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU, "silu": nn.SiLU}


def activation(name_or_module):
    """An activation module from its name ('relu', 'tanh', ...) or a module class/instance."""
    if isinstance(name_or_module, str):
        try:
            return _ACTIVATIONS[name_or_module]()
        except KeyError:
            raise ValueError(f"unknown activation {name_or_module!r}; choose from "
                             f"{sorted(_ACTIVATIONS)}") from None
    if isinstance(name_or_module, type):
        return name_or_module()
    return name_or_module


class MLP(nn.Sequential):
    """in_features -> hidden[0] -> ... -> hidden[-1] -> out_features.

    Each hidden layer is Linear, then BatchNorm1d (if ``batch_norm``), the activation, then
    Dropout (if ``dropout`` > 0). The output layer is a bare Linear (logits). Input (N, in),
    output (N, out); inputs with more dims are flattened from dim 1 first.
    """

    def __init__(self, in_features: int, hidden=(128,), out_features: int = 10,
                 activation_fn="relu", dropout: float = 0.0, batch_norm: bool = False):
        layers = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(activation(activation_fn))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
