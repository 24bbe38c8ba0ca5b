"""Weight penalties with Keras's names (``keras.regularizers``): add them to the loss.

    L1(l1=0.01)           l1 * sum |w|
    L2(l2=0.01)           l2 * sum w^2            (no factor 1/2, as in Keras)
    L1L2(l1=0.0, l2=0.0)  l1 * sum |w| + l2 * sum w^2   (elastic net)

A regularizer is a callable: given one tensor, or an iterable of tensors such as
``model.parameters()``, it returns the penalty as a 0-d Tensor that is differentiable, so
``loss = criterion(out, y) + reg(model.parameters())`` trains with weight decay. Its gradient is
l1 * sign(w) + 2 * l2 * w (sign(0) = 0).

``penalty(model, regularizer)`` applies one to a Module's weights and skips biases (names ending
in "bias") unless ``include_bias=True``: penalising biases rarely helps and Keras attaches
regularizers to kernels by default.

    reg = ember.nn.regularizers.L2(1e-4)
    loss = F.cross_entropy(model(x), y) + ember.nn.regularizers.penalty(model, reg)
"""
from __future__ import annotations

from ember._creation import zeros
from ember._functions import elementwise as _E
from ember._tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "penalty", "get"]


def _tensors(params):
    if isinstance(params, Tensor):
        return [params]
    return [p for p in params if p is not None]


class Regularizer:
    """Base class: subclasses implement ``__call__(params) -> 0-d Tensor``."""

    def __call__(self, params) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum |w| + l2 * sum w^2 over every given tensor."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _validate(l1, "l1")
        self.l2 = _validate(l2, "l2")

    def __call__(self, params) -> Tensor:
        tensors = _tensors(params)
        if not tensors:
            return zeros(())
        total = None
        for w in tensors:
            term = None
            if self.l1:
                term = _E.abs(w).sum() * self.l1
            if self.l2:
                sq = (w * w).sum() * self.l2
                term = sq if term is None else term + sq
            if term is None:                   # both factors 0: a zero that keeps the graph
                term = (w * 0).sum()
            total = term if total is None else total + term
        return total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1(L1L2):
    """l1 * sum |w| (drives weights to exactly 0: sparse models)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum w^2 (weight decay: gradient 2 * l2 * w)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


def _validate(value, name: str) -> float:
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"Value for argument `{name}` must be a non-negative finite float. "
                         f"Received: {name}={value}")
    return value


# Keras's lower-case aliases
l1 = L1
l2 = L2
l1_l2 = L1L2


def get(identifier) -> Regularizer | None:
    """A regularizer from a name ('l1', 'l2', 'l1_l2'), a config dict, an instance or None."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        table = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
        if identifier.lower() not in table:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
        return table[identifier.lower()]()
    if isinstance(identifier, dict):
        cls = {"L1": L1, "L2": L2, "L1L2": L1L2}[identifier["class_name"]]
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")


def penalty(model, regularizer, include_bias: bool = False) -> Tensor:
    """``regularizer`` applied to ``model``'s trainable parameters (``requires_grad``), skipping
    those whose name ends in "bias" unless ``include_bias``. A 0-d Tensor."""
    params = [p for name, p in model.named_parameters()
              if p.requires_grad and (include_bias or not name.split(".")[-1] == "bias")]
    return regularizer(params)
