"""Argument normalisation shared by the functional ops: PyTorch accepts an int or a tuple for
kernel_size, stride, padding and dilation."""
from __future__ import annotations


def _ntuple(value, n: int, name: str) -> tuple:
    """``value`` as an n-tuple of ints: an int is repeated, a sequence must have length n."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {tuple(value)}")
        out = tuple(value)
    else:
        out = (value,) * n
    for v in out:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in out)


def _single(value, name: str) -> tuple:
    return _ntuple(value, 1, name)


def _pair(value, name: str) -> tuple:
    return _ntuple(value, 2, name)
