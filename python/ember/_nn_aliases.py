"""The few torch.nn.functional ops PyTorch also offers at the top level and as Tensor methods:
``torch.softmax(x, dim)``, ``torch.log_softmax``, ``torch.dropout(x, p, train)``,
``x.softmax(dim)``, ``x.log_softmax(dim)``. They forward to ember.nn.functional."""
from __future__ import annotations

from ember._tensor import Tensor
from ember.nn import functional as F

__all__ = ["softmax", "log_softmax", "dropout"]


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x - max) / sum(exp(x - max)) along ``dim`` (the fused C++ kernel)."""
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (the fused C++ kernel)."""
    return F.log_softmax(input, dim, dtype=dtype)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.dropout``: F.dropout with a required ``train`` flag."""
    return F.dropout(input, p, training=train)


def _softmax_method(self, dim: int, dtype=None) -> Tensor:
    return F.softmax(self, dim, dtype=dtype)


def _log_softmax_method(self, dim: int, dtype=None) -> Tensor:
    return F.log_softmax(self, dim, dtype=dtype)


Tensor.softmax = _softmax_method
Tensor.log_softmax = _log_softmax_method
