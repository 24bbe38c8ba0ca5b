"""Multi-layer perceptron."""
from __future__ import annotations

import copy

from ember import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU, "silu": nn.SiLU}


def activation(name_or_module):
    """A fresh activation module from its name ('relu', 'tanh', ...), a module class, or a
    module instance (deep-copied, so layers never share an activation's parameters)."""
    if isinstance(name_or_module, str):
        try:
            return _ACTIVATIONS[name_or_module]()
        except KeyError:
            raise ValueError(f"unknown activation {name_or_module!r}; choose from "
                             f"{sorted(_ACTIVATIONS)}") from None
    if isinstance(name_or_module, type) and issubclass(name_or_module, nn.Module):
        return name_or_module()
    if isinstance(name_or_module, nn.Module):
        return copy.deepcopy(name_or_module)
    raise TypeError(f"activation must be a name, an nn.Module class or instance, got "
                    f"{type(name_or_module).__name__}")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def layer_widths(hidden, name: str = "hidden") -> list:
    """``hidden`` as a list of positive ints (a single int means one hidden layer)."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    return [_positive_int(h, f"{name}[{i}]") for i, h in enumerate(hidden)]


class MLP(nn.Sequential):
    """in_features -> hidden[0] -> ... -> hidden[-1] -> out_features.

    Each hidden layer is Linear, then BatchNorm1d (if ``batch_norm``), the activation, then
    Dropout (if ``dropout`` > 0). The output layer is a bare Linear (logits). Input (N, in),
    output (N, out); inputs with more dims are flattened from dim 1 first. ``hidden`` may be
    a sequence of widths, one int, or () for a linear model. Linear layers keep PyTorch's
    default initialisation (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))).
    """

    def __init__(self, in_features: int, hidden=(128,), out_features: int = 10,
                 activation_fn="relu", dropout: float = 0.0, batch_norm: bool = False):
        width = _positive_int(in_features, "in_features")
        _positive_int(out_features, "out_features")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers = [nn.Flatten()]
        for h in layer_widths(hidden):
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(activation(activation_fn))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
