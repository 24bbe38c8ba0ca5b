"""Loss functions with torch.nn.functional's names, signatures and defaults.

Every loss takes ``reduction='mean' | 'sum' | 'none'`` (and the legacy ``size_average`` /
``reduce`` flags, which override it with torch's deprecation warning). With input x, target t:

    mse_loss                    (x - t)^2
    l1_loss                     |x - t|
    smooth_l1_loss (beta)       0.5 d^2 / beta if |d| < beta else |d| - beta / 2
    huber_loss (delta)          0.5 d^2 if |d| < delta else delta (|d| - delta / 2)
    binary_cross_entropy        -w (t log x + (1 - t) log(1 - x)),  logs clamped at -100
    binary_cross_entropy_with_logits
                                -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))),
                                p = pos_weight (per class, broadcast over the last dim)
    kl_div                      t (log t - x)  (x holds log-probabilities); 'batchmean' divides
                                the sum by the batch size
    soft_margin_loss            log(1 + exp(-t x))
    margin_ranking_loss         max(0, -t (x1 - x2) + margin)
    hinge_embedding_loss        x if t == 1, max(0, margin - x) if t == -1
    cosine_embedding_loss       1 - cos(x1, x2) if t == 1, max(0, cos(x1, x2) - margin) if t == -1
    gaussian_nll_loss           0.5 (log max(var, eps) + (x - t)^2 / max(var, eps)) (+ const)
    poisson_nll_loss            exp(x) - t x (log_input) or x - t log(x + eps)

The pointwise ones run as single fused autograd nodes (``ember._functions.nn_ops``); the rest
are short compositions of Tensor ops. cross_entropy and nll_loss live in ``_softmax.py``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _creation
from ember._functions import elementwise as _E
from ember._functions import nn_ops as _ops
from ember._functions._util import broadcast_error
from ember._tensor import Tensor
from ember.autograd.grad_mode import _state as _grad_state

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "soft_margin_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "gaussian_nll_loss", "poisson_nll_loss"]


# ------------------------------------------------------------------------------- reduction
def _require_tensors(fn: str, **tensors) -> None:
    """torch's TypeError for a non-Tensor argument (instead of an AttributeError further in)."""
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")


def _legacy_reduction(size_average, reduce) -> str:
    """torch's mapping of the deprecated size_average/reduce flags (with its warning)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    """The validated reduction mode: 'none', 'mean' or 'sum'."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ------------------------------------------------------------------------------- shape checks
def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _broadcast_shape(*shapes) -> tuple:
    """np.broadcast_shapes with torch's RuntimeError for shapes that do not broadcast."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        first = shapes[0]
        for other in shapes[1:]:
            try:
                first = np.broadcast_shapes(first, other)
            except ValueError:
                raise broadcast_error(tuple(first), tuple(other)) from None
        raise


def _not_differentiable(fn: str, name: str, t) -> None:
    """torch refuses a gradient-requiring argument that it does not differentiate."""
    if isinstance(t, Tensor) and t.requires_grad and _grad_state.enabled:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{name}'. This input cannot have requires_grad True.")


def _weighted(loss: Tensor, weight: Tensor, input: Tensor, reduction: str,
              mean_by_weight: bool) -> Tensor:
    """Multiply an unreduced loss by ``weight`` (same size as input) and reduce; torch divides a
    weighted 'mean' by the sum of the weights for mse/l1 and by the element count for huber."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _apply_reduction(loss, reduction)


# ------------------------------------------------------------------------------- regression
def _regression(kind: str, param, input, target, reduction, weight, mean_by_weight=True):
    _broadcast_shape(input.shape, target.shape)
    if weight is None:
        return _ops.RegressionLoss.apply(input, target, kind, param, reduction)
    loss = _ops.RegressionLoss.apply(input, target, kind, param, "none")
    return _weighted(loss, weight, input, reduction, mean_by_weight)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error (x - t)^2; target broadcasts against input (with a warning)."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _regression("mse", None, input, target, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error |x - t|."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    return _regression("l1", None, input, target, reduction, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (d = x - t); beta=0 is l1_loss."""
    _warn_size(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _regression("l1", None, input, target, reduction, None)
    return _regression("smooth_l1", float(beta), input, target, reduction, None)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2)."""
    _warn_size(input, target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _regression("huber", float(delta), input, target, reduction, weight,
                       mean_by_weight=False)


# ------------------------------------------------------------------------------- binary
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1] (logs clamped at -100).

    ``target`` must have input's shape; ``weight`` broadcasts to it. Prefer
    binary_cross_entropy_with_logits on raw scores: it is exact where sigmoid saturates.
    """
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        _not_differentiable("binary_cross_entropy", "weight", weight)
        shape = _broadcast_shape(tuple(target.shape), tuple(weight.shape))
        if shape != tuple(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
    return _ops.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable step on logits x:
    loss = w ((1 - t) x + (1 + (p - 1) t) softplus(-x)), p = pos_weight (broadcast over the last
    dim, one weight per class), w = weight (broadcast to input)."""
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            _not_differentiable("binary_cross_entropy_with_logits", name, w)
            _broadcast_shape(tuple(input.shape), tuple(w.shape))
    return _ops.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-t x)) for targets t in {-1, 1}, computed without overflow."""
    reduction = _reduction(reduction, size_average, reduce)
    shape = _broadcast_shape(tuple(input.shape), tuple(target.shape))
    if shape != tuple(input.shape):      # the target may broadcast, the input may not
        raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    return _ops.SoftMargin.apply(input, target, reduction)


# ------------------------------------------------------------------------------- distributions
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || q) pointwise, with ``input`` = log q: t (log t - x), or exp(t) (t - x) when
    ``log_target``. 'batchmean' (sum / batch size) is the mathematically correct KL; 'mean'
    divides by every element and warns, as torch does."""
    _require_tensors("kl_div", input=input, target=target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    batchmean = reduction == "batchmean"
    reduction = "sum" if batchmean else _reduction(reduction)
    _broadcast_shape(input.shape, target.shape)
    out = _ops.KLDiv.apply(input, target, bool(log_target), reduction)
    if batchmean and input.dim() != 0:
        out = out / input.shape[0]
    return out


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log v + (x - t)^2 / v) with v = max(var, eps) (+ 0.5 log 2 pi if ``full``).

    ``var`` is a float, input's shape, or one dim short/one dim of size 1 (homoscedastic). The
    clamp is not differentiated (gradient passes as if var >= eps), as in torch.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _creation.full_like(input, float(var))
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(y for x, y in zip(input.shape, var.shape) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    prev, _grad_state.enabled = _grad_state.enabled, False
    try:
        var.clamp_(min=eps)
    finally:
        _grad_state.enabled = prev
    loss = (_E.log(var) + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: exp(x) - t x if ``log_input`` else x - t log(x + eps);
    ``full`` adds Stirling's approximation t log t - t + 0.5 log(2 pi t) where t > 1."""
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = _E.exp(input) - target * input
    else:
        loss = input - target * _E.log(input + eps)
    if full:
        t = target
        safe = _E.where(t > 1, t, 2.0)
        stirling = safe * _E.log(safe) - safe + 0.5 * _E.log(2 * math.pi * safe)
        loss = loss + _E.where(t > 1, stirling, 0.0)
    return _apply_reduction(loss, reduction)


# ------------------------------------------------------------------------------- ranking
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -t (x1 - x2) + margin): x1 should rank above x2 where t = 1, below where t = -1."""
    _require_tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """x where t == 1, max(0, margin - x) where t == -1 (x is usually a distance)."""
    _require_tensors("hinge_embedding_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    margin_part = _E.where(target != 1, (margin - input).clamp_min(0), 0.0)
    self_part = _E.where(target != -1, input, 0.0)
    return _apply_reduction(margin_part + self_part, reduction)


_COS_EPS = 1e-12


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where t == 1, max(0, cos(x1, x2) - margin) where t == -1.

    Inputs are (N, D) with target (N,), or (D,) with a 0-d target; the cosine is taken over D
    (each squared norm gets 1e-12 added, like torch)."""
    _require_tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    tdim = target.dim()
    if tdim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    if tdim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    dot = (input1 * input2).sum(tdim)
    mag1 = (input1 * input1).sum(tdim) + _COS_EPS
    mag2 = (input2 * input2).sum(tdim) + _COS_EPS
    cos = dot / _E.sqrt(mag1 * mag2)
    pos = _E.where(target == 1, 1 - cos, 0.0)
    neg = _E.where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return _apply_reduction(pos + neg, reduction)
