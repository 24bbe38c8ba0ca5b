"""What the compiled backend chose on this machine, and its thread count."""
from __future__ import annotations

from ember import _C


def backend_info() -> dict:
    """The build and run-time choices of ember's C++ kernels.

    Keys: ``simd`` (the micro-kernel level in use: 'avx512', 'avx2' or 'generic'),
    ``simd_detected`` (the widest the CPU supports), ``openmp`` (built with OpenMP),
    ``num_threads``, ``compiler`` and ``build``.
    """
    return dict(_C.backend_info())


def get_num_threads() -> int:
    """Number of threads ember's kernels may use (``OMP_NUM_THREADS`` by default)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    """Let ember's kernels use up to ``n`` threads (n >= 1). Small problems use fewer."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    _C.set_num_threads(n)
