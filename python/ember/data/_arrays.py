"""Helpers shared by ember.data: array conversion, typed indexing and seeds."""
from __future__ import annotations

import numpy as np

from ember._generator import Generator, fresh_rng, rng_of
from ember._tensor import Tensor, _new_tensor


def to_numpy(x, name: str) -> np.ndarray:
    """A NumPy view of an array-like (ember Tensor, ndarray, list)."""
    if isinstance(x, Tensor):
        return x._data
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a scalar")
    return arr


def take(x, idx: np.ndarray):
    """Rows ``idx`` of ``x``, of the same kind as ``x`` (Tensor, ndarray or list)."""
    if isinstance(x, Tensor):
        return _new_tensor(x._data[idx])
    if isinstance(x, np.ndarray):
        return x[idx]
    if isinstance(x, (list, tuple)):
        return [x[i] for i in idx.tolist()]
    return np.asarray(x)[idx]


def n_samples(x, name: str) -> int:
    if isinstance(x, (Tensor, np.ndarray)):
        if x.ndim == 0:
            raise ValueError(f"{name} must be an array of samples, got a 0-d array")
        return x.shape[0]
    return len(x)


def rng_from_seed(seed) -> np.random.Generator:
    """``seed`` None: one draw from ember's global generator (so ``ember.manual_seed`` fixes
    the result); an int: a fresh generator seeded with it; an ``ember.Generator`` or NumPy
    Generator: that generator."""
    if seed is None:
        return fresh_rng(None)
    if isinstance(seed, (Generator, np.random.Generator)):
        return rng_of(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None, an int or a Generator, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def as_tensors(*arrays, float_dtype=np.float32):
    """Arrays as ember Tensors: floating arrays in ``float_dtype``, integers as int64."""
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(float_dtype, copy=False)
        elif a.dtype.kind in "iu":
            a = a.astype(np.int64, copy=False)
        out.append(_new_tensor(np.ascontiguousarray(a)))
    return tuple(out)
