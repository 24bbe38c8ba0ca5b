"""Plain-NumPy twins of the ``ember.ops`` kernels, with the same signatures.

They are the oracle for the tests and the NumPy baseline in the benchmarks: each is the
straightforward (and, where measured, the fastest idiomatic) NumPy form of the same math.
"""
from __future__ import annotations

import numpy as np


def matmul(a, b, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b)``: NumPy's own BLAS-backed product."""
    return np.matmul(a, b, out=out)
