"""Plain-NumPy twin of ``ember.ops.matmul``."""
from __future__ import annotations

import numpy as np

__all__ = ["matmul"]


def matmul(a, b, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b)``: NumPy's own BLAS-backed product."""
    return np.matmul(a, b, out=out)
