"""Input checks shared by the ``ember.ops`` kernels: dtype choice and the array layouts _C accepts."""
from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(x, name: str, op: str) -> np.ndarray:
    """Return ``x`` as a float32/float64 ndarray, or raise TypeError naming ``name`` and its dtype.

    Integer and bool input is refused rather than silently converted: ember's kernels are float
    kernels, and the caller decides the precision.
    """
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: {name} must be a float32 or float64 array, got dtype {arr.dtype}")
    return arr


def common_float_dtype(op: str, **arrays: np.ndarray) -> np.dtype:
    """float64 if any input is float64, else float32 (NumPy's promotion for these two)."""
    return np.result_type(*arrays.values())


def kernel_ready(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``arr`` in ``dtype`` with a layout the C++ kernels can read without copying when possible.

    Any strides are fine (negative and zero included) as long as each is a whole number of
    elements and the data is aligned; anything else is copied.
    """
    if arr.dtype != dtype:
        return arr.astype(dtype)
    if not arr.flags.aligned or any(s % arr.itemsize for s in arr.strides):
        # a fresh copy: np.ascontiguousarray returns an already C-contiguous but misaligned
        # array unchanged, and the kernels would then load misaligned elements (UBSan)
        return np.array(arr, order="C", copy=True)
    return arr
