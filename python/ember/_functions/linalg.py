"""Matrix products through ember's C++ GEMM (``ember.ops.matmul``), forward and backward.

For C = A @ B with A (..., M, K) and B (..., K, N):

    dA = dC @ B^T    (..., M, K)
    dB = A^T @ dC    (..., K, N)

Broadcast batch dims are summed back by the engine. 1-D operands are handled by the usual
promotion: a vector A (K,) acts as (1, K), a vector B (K,) as (K, 1), and the inserted dim is
removed from the gradients again.
"""
from __future__ import annotations

import numpy as np

from ember import ops
from ember._dtype import legacy_name
from ember.autograd.function import ArrayFunction


def _mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.matmul semantics: the C++ kernel for floats, NumPy for integer tensors."""
    if a.dtype.kind == "f":
        return ops.matmul(a, b)
    return np.matmul(a, b)


def _swap(x: np.ndarray) -> np.ndarray:
    return x.swapaxes(-1, -2)


def _shape_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    if a.ndim == 1 and b.ndim == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                            f"[{b.shape[0]}] to have the same number of elements, but got "
                            f"{a.shape[0]} and {b.shape[0]} elements respectively")
    if a.ndim <= 2 and b.ndim <= 2:
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                            f"({a2.shape[0]}x{a2.shape[1]} and {b2.shape[0]}x{b2.shape[1]})")
    return RuntimeError(f"matmul: shapes {list(a.shape)} and {list(b.shape)} cannot be "
                        f"multiplied (inner dims {a.shape[-1]} and "
                        f"{b.shape[-2] if b.ndim > 1 else b.shape[0]}, or batch dims that do "
                        f"not broadcast)")


class Matmul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a.ndim}D and {b.ndim}D")
        if a.dtype != b.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{legacy_name(a.dtype).lower()} != "
                               f"{legacy_name(b.dtype).lower()}")
        ctx.save_for_backward(a, b)
        try:
            return _mm(a, b)
        except ValueError:
            raise _shape_error(a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # Promote vectors to matrices so one pair of formulas covers every case.
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:                       # restore the N dim first, then M before it
            g2 = g2[..., np.newaxis]
        if a.ndim == 1:
            g2 = g2[..., np.newaxis, :]

        ga = gb = None
        if need_a:
            ga = _mm(g2, _swap(b2))                     # (..., M, K)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if need_b:
            if b2.ndim == 2 and a2.ndim > 2:
                # Shared weight (a linear layer on (batch, seq, K) input): one big GEMM
                # (K, batch*seq) @ (batch*seq, N) instead of a batch of small ones and a sum.
                k, n = a2.shape[-1], g2.shape[-1]
                gb = _mm(_swap(a2.reshape(-1, k)), g2.reshape(-1, n))
            else:
                gb = _mm(_swap(a2), g2)                  # (..., K, N)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


def matmul(input, other):
    """Matrix product with NumPy/torch broadcasting rules (1-D, 2-D and batched operands)."""
    return Matmul.apply(input, other)


def mm(input, mat2):
    """2-D @ 2-D only."""
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"self must be a matrix" if input._data.ndim != 2 else
                           "mat2 must be a matrix")
    return Matmul.apply(input, mat2)


def bmm(input, mat2):
    """(B, M, K) @ (B, K, N) with equal batch sizes."""
    if input._data.ndim != 3 or mat2._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input._data.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{input._data.shape[0]} and {mat2._data.shape[0]}")
    return Matmul.apply(input, mat2)


def mv(input, vec):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError("vector + matrix @ vector expected, got "
                           f"{input._data.ndim}, {vec._data.ndim}")
    return Matmul.apply(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    return Matmul.apply(input, other)


inner = dot


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


