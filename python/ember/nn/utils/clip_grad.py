"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_`` and their parts
(``get_total_norm``, ``clip_grads_with_norm_``), as in torch.nn.utils.

With g the concatenation of all gradients, the total p-norm is
    ||g||_p = (sum_i |g_i|^p)^(1/p)   (p = inf: max |g_i|; p = -inf: min |g_i|; p = 0: count of
                                       nonzeros)
computed as the p-norm of the per-tensor p-norms. Clipping multiplies every gradient in place by
    min(1, max_norm / (||g|| + 1e-6)).
"""
from __future__ import annotations

import types
import warnings

import numpy as np

from ember._dtype import result_type
from ember._tensor import Tensor, _new_tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _vector_norm(a: np.ndarray, p: float) -> float:
    """The p-norm of ``a`` viewed as a vector, accumulated in float64."""
    a = np.abs(a.astype(np.float64, copy=False)).reshape(-1)
    if a.size == 0:
        return 0.0
    if p == np.inf:
        return float(a.max())
    if p == -np.inf:
        return float(a.min())
    if p == 0:
        return float(np.count_nonzero(a))
    if p == 1:
        return float(a.sum())
    if p == 2:
        return float(np.sqrt(np.dot(a, a)))
    return float((a ** p).sum() ** (1.0 / p))


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` seen as one vector, as a 0-d tensor of their
    (promoted) dtype; ``tensor(0.)`` when there are none."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _new_tensor(np.array(0.0, np.float32))
    dtype = tensors[0]._data.dtype
    for t in tensors[1:]:
        dtype = result_type(np.empty(0, dtype), t._data)
    # per-tensor norms rounded to their dtype, then the norm of those (torch's two stages)
    norms = np.array([t._data.dtype.type(_vector_norm(t._data, norm_type)) for t in tensors],
                     dtype=np.float64)
    total = np.array(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return _new_tensor(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every ``p.grad`` in place by min(1, max_norm / (total_norm + 1e-6))."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coef = np.minimum(float(max_norm) / (total + total.dtype.type(1e-6)), 1.0).astype(total.dtype)
    for g in grads:
        np.multiply(g._data, coef, out=g._data, casting="unsafe")
        g._version[0] += 1


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients of ``parameters`` (an iterable of tensors, or one tensor) so that
    their total ``norm_type``-norm is at most ``max_norm``; returns the total norm before
    clipping (a 0-d tensor). ``norm_type`` may be ``inf`` (``'inf'``)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every ``p.grad`` in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        g = p.grad
        if g is not None:
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._version[0] += 1
