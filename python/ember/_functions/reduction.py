"""Reductions over ``dim`` (None = all elements, an int, or a tuple where torch allows one).

Backward rules, with g the incoming gradient broadcast back over the reduced dims:

    sum        dx = g
    mean       dx = g / N
    amax/amin  dx = g * [x == y] / (number of ties)       split evenly, like torch
    max(dim)   dx = g at the returned index, 0 elsewhere  (values, indices) namedtuple
    var        dx = g * 2 (x - mean) / (N - correction)
    std        dx = g * (x - mean) / (std (N - correction))   (0 where std == 0)
    prod       dx = g * prod of the *other* elements        (exact with zeros)
    logsumexp  dx = g * exp(x - y)
"""
from __future__ import annotations

import builtins
import collections

import numpy as np

from ember._dtype import legacy_name, to_np

from ember._tensor import Tensor, _new_tensor
from ember.autograd.function import ArrayFunction
from ember._functions._util import expand_reduced, quiet, reduce_dims, to_float, wrap_dim

# The (values, indices) result of max/min/sort-like reductions over one dim.
return_types_max = collections.namedtuple("max", ["values", "indices"])
return_types_min = collections.namedtuple("min", ["values", "indices"])


def _count(shape: tuple, axes) -> int:
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64                 # torch sums bool/int in int64
        return np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return expand_reduced(grad, ctx.axes, ctx.keepdim, ctx.shape)


class Mean(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        if dtype is None and x.dtype.kind != "f":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {legacy_name(x.dtype)}")
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.n = _count(x.shape, axes)
        total = np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)
        with quiet():            # an empty reduction is 0/0 = nan, silently like torch
            return total / ctx.n

    @staticmethod
    def backward(ctx, grad):
        with quiet():
            return expand_reduced(grad / ctx.n, ctx.axes, ctx.keepdim, ctx.shape)


class Amax(ArrayFunction):
    """Largest value over ``axes``; ties share the gradient evenly (torch's amax and max())."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest=True):
        if x.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        y = (np.max if largest else np.min)(x, axis=axes, keepdims=keepdim)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y_full = expand_reduced(y, ctx.axes, ctx.keepdim, x.shape)
        mask = (x == y_full) | (np.isnan(x) & np.isnan(y_full))
        ties = mask.sum(axis=ctx.axes, keepdims=True)
        g = expand_reduced(grad, ctx.axes, ctx.keepdim, x.shape)
        return np.where(mask, g / expand_reduced(ties, ctx.axes, True, x.shape), 0)


class MaxDim(ArrayFunction):
    """(values, indices) of the max (or min) along one dim; the gradient goes to the index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest=True):
        if x.ndim == 0:
            idx = np.zeros((), np.int64)
            ctx.mark_non_differentiable(idx)
            ctx.shape, ctx.dim, ctx.keepdim = x.shape, None, keepdim
            return x.copy(), idx
        if x.shape[dim] == 0:
            raise IndexError(f"max(): Expected reduction dim {dim} to have non-zero size.")
        idx = (np.argmax if largest else np.argmin)(x, axis=dim, keepdims=True)
        values = np.take_along_axis(x, idx, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        ctx.save_for_backward(idx)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        ctx.mark_non_differentiable(idx)
        return values, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        if ctx.dim is None:
            return grad
        idx, = ctx.saved_tensors
        out = np.zeros(ctx.shape, grad.dtype)
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.dim)
        np.put_along_axis(out, idx, g, axis=ctx.dim)
        return out


class Var(ArrayFunction):
    """Variance with ``correction`` (1 = unbiased); ``std=True`` returns its square root."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, std):
        if x.dtype.kind != "f":
            raise RuntimeError("std and var only support floating point and complex dtypes")
        n = _count(x.shape, axes)
        denom = builtins.max(n - correction, 0)
        with quiet():
            diff = x - np.sum(x, axis=axes, keepdims=True) / n
            y = np.sum(diff * diff, axis=axes, keepdims=keepdim) / denom
            if std:
                y = np.sqrt(y)
        y = np.asarray(y, dtype=x.dtype)
        ctx.axes, ctx.keepdim, ctx.denom, ctx.std = axes, keepdim, denom, std
        ctx.save_for_backward(diff, y if std else None)
        return y

    @staticmethod
    def backward(ctx, grad):
        diff, y = ctx.saved_tensors
        g = expand_reduced(grad, ctx.axes, ctx.keepdim, diff.shape)
        with quiet():
            if not ctx.std:
                return g * diff * 2 / ctx.denom
            y_full = expand_reduced(y, ctx.axes, ctx.keepdim, diff.shape)
            return np.where(y_full == 0, 0, g * diff / (y_full * ctx.denom))


class Prod(ArrayFunction):
    """Product over one dim (or all elements)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim = dim, keepdim
        ctx.save_for_backward(x)
        if dim is None:
            return np.prod(x, dtype=np.int64 if x.dtype.kind in "biu" else None)
        return np.prod(x, axis=dim, keepdims=keepdim,
                       dtype=np.int64 if x.dtype.kind in "biu" else None)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        if ctx.dim is None:
            others = _prod_of_others(x.reshape(-1), 0).reshape(x.shape)
            return grad * others
        others = _prod_of_others(x, ctx.dim)
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.dim)
        return g * others


def _prod_of_others(x: np.ndarray, axis: int) -> np.ndarray:
    """For each element, the product of the other elements along ``axis`` (no division, so
    zeros are handled exactly): exclusive cumulative products from the left and the right."""
    ones = np.ones_like(np.take(x, [0], axis=axis))
    left = np.concatenate([ones, np.cumprod(x, axis=axis)], axis=axis)
    right = np.flip(np.cumprod(np.flip(x, axis), axis=axis), axis)
    right = np.concatenate([right, ones], axis=axis)
    n = x.shape[axis]
    return np.take(left, range(n), axis=axis) * np.take(right, range(1, n + 1), axis=axis)


class Logsumexp(ArrayFunction):
    """log(sum(exp(x))) over ``axes``, shifted by the max for stability."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        x = to_float(x)
        with quiet():
            m = np.max(x, axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim)
            m = np.where(np.isfinite(m), m, 0)
            y = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        y = y.astype(x.dtype, copy=False)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(x, y)
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = expand_reduced(grad, ctx.axes, ctx.keepdim, x.shape)
        with quiet():
            return g * np.exp(x - y)


class Cumsum(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=np.int64 if x.dtype.kind in "biu" else None)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.dim), axis=ctx.dim), ctx.dim)


# ------------------------------------------------------------------------- public functions
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Sum over ``dim`` (all elements when None)."""
    return Sum.apply(input, reduce_dims(dim, input._data.ndim), keepdim, to_np(dtype))


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Mean over ``dim``; float tensors only (like torch)."""
    return Mean.apply(input, reduce_dims(dim, input._data.ndim), keepdim, to_np(dtype))


def _max_or_min(input, dim, keepdim, largest: bool):
    if isinstance(dim, Tensor):                  # max(a, b): elementwise
        from ember._functions.elementwise import maximum, minimum
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        return Amax.apply(input, None, False, largest)
    d = wrap_dim(dim, input._data.ndim)
    values, indices = MaxDim.apply(input, d, keepdim, largest)
    return (return_types_max if largest else return_types_min)(values, indices)


def max(input, dim=None, keepdim: bool = False):
    """``max()``: the largest element (ties share the gradient). ``max(dim)``: a namedtuple
    (values, indices). ``max(other)``: elementwise maximum."""
    return _max_or_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim: bool = False):
    """Like ``max`` for the smallest element."""
    return _max_or_min(input, dim, keepdim, False)


def amax(input, dim=(), keepdim: bool = False):
    """Largest values over ``dim`` (int or tuple; () means all); ties share the gradient."""
    axes = None if dim == () or dim is None else reduce_dims(dim, input._data.ndim)
    return Amax.apply(input, axes, keepdim, True)


def amin(input, dim=(), keepdim: bool = False):
    axes = None if dim == () or dim is None else reduce_dims(dim, input._data.ndim)
    return Amax.apply(input, axes, keepdim, False)


def _arg(fn, input, dim, keepdim):
    x = input._data
    if dim is None:
        out = fn(x.reshape(-1))
        return _new_tensor(np.asarray(out, np.int64).reshape((1,) * x.ndim if keepdim else ()))
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _new_tensor(np.zeros((), np.int64))
    return _new_tensor(fn(x, axis=d, keepdims=keepdim).astype(np.int64))


def argmax(input, dim=None, keepdim: bool = False):
    """Index of the largest value (of the flattened tensor when ``dim`` is None); no grad."""
    return _arg(np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim: bool = False):
    return _arg(np.argmin, input, dim, keepdim)


def _correction(unbiased, correction) -> float:
    if correction is not None:
        if unbiased is not None:
            raise RuntimeError("var/std: pass either unbiased or correction, not both")
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over ``dim``, dividing by N - correction (correction=1 unless unbiased=False)."""
    if isinstance(dim, bool):                    # legacy var(unbiased)
        dim, unbiased = None, dim
    axes = reduce_dims(dim, input._data.ndim)
    return Var.apply(input, axes, _correction(unbiased, correction), keepdim, False)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation: sqrt(var)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    axes = reduce_dims(dim, input._data.ndim)
    return Var.apply(input, axes, _correction(unbiased, correction), keepdim, True)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Product of all elements, or over one ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    d = None if dim is None else wrap_dim(dim, input._data.ndim)
    if d is not None and input._data.ndim == 0:
        d = None
    return Prod.apply(input, d, keepdim)


def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(input), dim)) computed stably."""
    return Logsumexp.apply(input, reduce_dims(dim, input._data.ndim), keepdim)


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return Cumsum.apply(input, wrap_dim(dim, input._data.ndim) if input._data.ndim else None)


def all(input, dim=None, keepdim: bool = False):
    axes = reduce_dims(dim, input._data.ndim)
    return _new_tensor(np.asarray(np.all(input._data, axis=axes, keepdims=keepdim)))


def any(input, dim=None, keepdim: bool = False):
    axes = reduce_dims(dim, input._data.ndim)
    return _new_tensor(np.asarray(np.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    axes = reduce_dims(dim, input._data.ndim)
    return _new_tensor(np.asarray(np.count_nonzero(input._data, axis=axes), np.int64))


def norm(input, p="fro", dim=None, keepdim: bool = False):
    """Vector p-norm over ``dim`` (all elements by default): (sum |x|^p)^(1/p); p=2 / 'fro'."""
    from ember._functions import elementwise as E
    if p in ("fro", 2, 2.0):
        return E.sqrt(sum(input * input, dim, keepdim))
    if p in (float("inf"), "inf"):
        return amax(E.abs(input), () if dim is None else dim, keepdim)
    if p == 1:
        return sum(E.abs(input), dim, keepdim)
    return sum(E.abs(input) ** p, dim, keepdim) ** (1.0 / p)
