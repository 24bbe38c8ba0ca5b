"""Matrix product with ``np.matmul`` semantics on ember's C++ GEMM."""
from __future__ import annotations

import numpy as np

from ember import _C
from ember.ops._validate import as_float_array, common_float_dtype, kernel_ready


def matmul(a, b, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for float32/float64 arrays, exactly as ``np.matmul`` shapes it.

    - 2-D: (M, K) @ (K, N) -> (M, N).
    - 1-D operands: ``a`` of shape (K,) acts as (1, K) and ``b`` of shape (K,) as (K, 1); the
      added dimension is removed from the result.
    - N-D: the leading (batch) dimensions broadcast, e.g. (B, 1, M, K) @ (H, K, N) -> (B, H, M, N).

    Mixed float32/float64 computes in float64. Transposed, sliced and broadcast views are read in
    place through their strides (no copy); the GIL is released while the kernel runs.
    ``out``, if given, must be a C-contiguous array of the result's shape and dtype.
    """
    a = as_float_array(a, "a", "matmul")
    b = as_float_array(b, "b", "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got a{a.shape} and b{b.shape}")
    dtype = common_float_dtype("matmul", a=a, b=b)

    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes a{a.shape} and b{b.shape} cannot be multiplied "
            f"({a2.shape[-1]} != {b2.shape[-2]})")
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of a{a.shape} and b{b.shape} do not broadcast") from None

    a3 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b3 = np.broadcast_to(b2, batch + b2.shape[-2:])
    result_shape = batch + a2.shape[-2:-1] + b2.shape[-1:]
    if out is not None:
        if a.ndim == 1 or b.ndim == 1:
            raise ValueError("matmul: out= is only supported when both operands are at least 2-D")
        if out.shape != result_shape or out.dtype != dtype:
            raise ValueError(
                f"matmul: out has shape {out.shape} and dtype {out.dtype}, "
                f"expected {result_shape} and {dtype}")
        if np.may_share_memory(out, a) or np.may_share_memory(out, b):
            raise ValueError("matmul: out must not overlap a or b (the kernel reads them while "
                             "writing out)")
    c = _C.matmul(kernel_ready(a3, dtype), kernel_ready(b3, dtype), out)
    if a.ndim == 1:
        c = c[..., 0, :]
    if b.ndim == 1:
        c = c[..., 0]
    return c
