"""ember.nn.functional: softmax, log_softmax, softmin, cross_entropy and nll_loss.

PyTorch's names, signatures, defaults, output shapes and errors; the work is done by the fused
C++ kernels through the autograd Functions in ``ember._functions.softmax`` (see
``ember.ops.softmax`` for the math).
"""
from __future__ import annotations

import warnings

from ember._functions.softmax import CrossEntropy, LogSoftmax, NllLoss, Softmax, Softmin

__all__ = ["softmax", "log_softmax", "softmin", "cross_entropy", "nll_loss"]


def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's (deprecated) implicit dim: 0 for 0-, 1- and 3-d input, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _legacy_reduction(size_average, reduce) -> str:
    """The reduction named by the deprecated size_average/reduce pair (with PyTorch's warning)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (cast to ``dtype`` first when given).

    Each slice along ``dim`` sums to 1; stable for any logits (the row max is subtracted).
    """
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """log(softmax(x)) along ``dim``, computed as (x - max) - log(sum(exp(x - max)))."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, dim)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """softmax(-x) along ``dim`` (the sign is folded into the kernel)."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return Softmin.apply(input, dim)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy between logits ``input`` and class indices or class probabilities.

    input (C,), (N, C) or (N, C, d1, ...); target: class indices of shape (), (N,) or
    (N, d1, ...) (int64; other integer types accepted), or probabilities of input's shape.
    Per position (see ember.ops.cross_entropy for the weight/smoothing formula)
    loss = -log_softmax(input)[target]; 'mean' divides by the summed weights of non-ignored
    targets (class indices) or by the number of positions (probabilities).
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood: -w_t input[t] per position for log-probabilities ``input``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    return NllLoss.apply(input, target, weight, ignore_index, reduction)
