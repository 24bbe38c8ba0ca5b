"""Helpers shared by the op families: dims, dtype fixes, error messages, warning control."""
from __future__ import annotations

import numpy as np

from ember import _dtype


def wrap_dim(dim: int, ndim: int) -> int:
    """``dim`` in [-ndim, ndim) as a non-negative index; torch's IndexError otherwise."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def reduce_dims(dim, ndim: int):
    """A ``dim`` argument (None, int, tuple/list) as None or a tuple of non-negative axes.

    0-d tensors accept dim 0/-1 and reduce over nothing (axis=()).
    """
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = tuple(wrap_dim(int(d), ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes} appears multiple times in the list of dims")
    return axes if ndim else ()


def to_float(a: np.ndarray) -> np.ndarray:
    """Integer/bool input to math functions is computed in the default float dtype, like torch."""
    if a.dtype.kind == "f":
        return a
    return a.astype(_dtype.get_default_dtype().np)


def broadcast_error(a_shape: tuple, b_shape: tuple) -> RuntimeError:
    """torch's message for shapes that do not broadcast (first clash from the right)."""
    ndim = max(len(a_shape), len(b_shape))
    for i in range(ndim - 1, -1, -1):
        off = ndim - 1 - i
        sa = a_shape[len(a_shape) - 1 - off] if off < len(a_shape) else 1
        sb = b_shape[len(b_shape) - 1 - off] if off < len(b_shape) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                                f"({sb}) at non-singleton dimension {i}")
    return RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} cannot be broadcast")


def expand_reduced(grad: np.ndarray, axes, keepdim: bool, shape: tuple) -> np.ndarray:
    """Re-insert reduced axes into ``grad`` (if not kept) and broadcast it to ``shape``.

    The result is a read-only broadcast view: no memory is spent on repeated values.
    """
    if axes is None:
        return np.broadcast_to(grad.reshape((1,) * len(shape)), shape)
    if not keepdim and axes:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


# Floating-point warnings: NaN/inf propagate silently as in torch (log(0), 1/0, 0*inf).
def quiet() -> np.errstate:
    """A fresh errstate each time: NumPy 2 refuses to re-enter one instance."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")
