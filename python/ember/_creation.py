"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``rand`` ...

Signatures and dtype inference follow torch: Python floats become the default float dtype
(float32), Python ints int64, bools bool; NumPy arrays keep their dtype. Sizes may be given as
varargs (``zeros(2, 3)``) or one sequence (``zeros((2, 3))``). ``device`` is accepted for torch
compatibility and must be 'cpu'.
"""
from __future__ import annotations

import math

import numpy as np

from ember import _dtype, _random
from ember._tensor import Tensor, _new_tensor, _parse_size, check_device


def _finish(data: np.ndarray, requires_grad: bool, device=None) -> Tensor:
    check_device(device)
    t = _new_tensor(data)
    if requires_grad:
        t.requires_grad_(True)   # refuses integer dtypes with torch's message
    return t


def _float_np(dtype) -> np.dtype:
    return _dtype.get_default_dtype().np if dtype is None else _dtype.to_np(dtype)


def _infer_np(data) -> np.ndarray:
    """``data`` as an ndarray with torch's dtype inference for Python values."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, np.ndarray):
        _dtype.from_np(data.dtype)        # refuse dtypes ember has no name for
        return np.array(data, copy=True)
    arr = np.array(data)
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(_dtype.get_default_dtype().np, copy=False)
    if kind in "iu":
        return arr.astype(np.int64, copy=False)
    if kind == "b":
        return arr
    if kind == "O" or kind in "US":
        raise TypeError(f"Could not infer dtype of {type(data).__name__}: ember.tensor takes "
                        "numbers, nested sequences of numbers, NumPy arrays or tensors")
    return arr


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, ndarray or tensor)."""
    if dtype is not None:
        arr = np.array(data._data if isinstance(data, Tensor) else data, dtype=_dtype.to_np(dtype))
    else:
        arr = _infer_np(data)
    return _finish(arr, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but without a copy when ``data`` is already an ndarray/tensor of ``dtype``."""
    if isinstance(data, Tensor) and (dtype is None or _dtype.to_np(dtype) == data._data.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_np(dtype) == data.dtype):
        _dtype.from_np(data.dtype)
        return _new_tensor(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (writes through either are visible in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_np(array.dtype)
    return _new_tensor(array)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    return _finish(np.zeros(_parse_size(size), _float_np(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    return _finish(np.ones(_parse_size(size), _float_np(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    return _finish(np.empty(_parse_size(size), _float_np(dtype)), requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value's type."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    np_dtype = _dtype.to_np(dtype) if dtype is not None else _dtype.scalar_dtype(fill_value)
    return _finish(np.full(_parse_size((size,) if isinstance(size, int) else size), fill_value,
                           np_dtype), requires_grad, device)


def _like_dtype(input: Tensor, dtype) -> np.dtype:
    return input._data.dtype if dtype is None else _dtype.to_np(dtype)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.ones(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.empty(input._data.shape, _like_dtype(input, dtype)), requires_grad, device)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None,
              requires_grad=False) -> Tensor:
    return _finish(np.full(input._data.shape, fill_value, _like_dtype(input, dtype)),
                   requires_grad, device)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(input._data.shape, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(input._data.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values start, start+step, ... below ``end``; int64 unless an argument is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in vals)
        np_dtype = _dtype.get_default_dtype().np if is_float else np.dtype(np.int64)
    else:
        np_dtype = _dtype.to_np(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    data = (vals[0] + np.arange(n, dtype=np.float64) * vals[2]) if np_dtype.kind == "f" \
        else np.arange(vals[0], vals[1], vals[2])
    return _finish(data.astype(np_dtype, copy=False), requires_grad, device)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32)."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _finish(np.linspace(start, end, steps).astype(_float_np(dtype)), requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float_np(dtype)), requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = generator if generator is not None else _random.get_rng()
    np_dtype = _float_np(dtype)
    data = rng.random(_parse_size(size), dtype=np.float32 if np_dtype == np.float32
                      else np.float64).astype(np_dtype, copy=False)
    return _finish(data, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    rng = generator if generator is not None else _random.get_rng()
    np_dtype = _float_np(dtype)
    data = rng.standard_normal(_parse_size(size), dtype=np.float32 if np_dtype == np.float32
                               else np.float64).astype(np_dtype, copy=False)
    return _finish(data, requires_grad, device)


def randint(*args, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high)."""
    args = list(args)
    if size is None:
        if not args or not isinstance(args[-1], (tuple, list)):
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    rng = generator if generator is not None else _random.get_rng()
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    data = rng.integers(low, high, _parse_size(size), dtype=np.int64).astype(np_dtype, copy=False)
    return _finish(data, requires_grad, device)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    rng = generator if generator is not None else _random.get_rng()
    np_dtype = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    return _finish(rng.permutation(n).astype(np_dtype), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None) -> Tensor:
    """Samples from N(mean, std**2); mean/std may be tensors (their broadcast shape)."""
    rng = generator if generator is not None else _random.get_rng()
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _parse_size(size) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    return _new_tensor(rng.normal(m, s, shape).astype(_float_np(dtype)))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (elementwise), else 0; same dtype as ``input``."""
    rng = generator if generator is not None else _random.get_rng()
    probs = input._data if p is None else p
    return _new_tensor((rng.random(input._data.shape) < probs).astype(input._data.dtype))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input._data.size
