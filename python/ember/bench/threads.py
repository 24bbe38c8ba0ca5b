"""Pinning the thread counts of every implementation a benchmark compares.

ember's own count is ``ember.set_num_threads``; PyTorch's is ``torch.set_num_threads``. NumPy's
BLAS (OpenBLAS) reads ``OPENBLAS_NUM_THREADS`` once, when NumPy is imported, which happens before
this module can run; so its count is changed afterwards through OpenBLAS's own C entry point,
found among the libraries loaded into this process (the approach of threadpoolctl).
"""
from __future__ import annotations

import ctypes
import os

_SET_NAMES = ("openblas_set_num_threads", "openblas_set_num_threads64_",
              "scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")
_GET_NAMES = ("openblas_get_num_threads", "openblas_get_num_threads64_",
              "scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads")


def _loaded_openblas() -> list:
    """Paths of the OpenBLAS libraries mapped into this process (Linux: /proc/self/maps)."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rstrip().split(" ")[-1]
                name = os.path.basename(path).lower()
                if "openblas" in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _blas_functions(names):
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                return fn
    return None


def get_blas_threads() -> int | None:
    """Threads NumPy's OpenBLAS uses, or None when it cannot be found (another BLAS)."""
    fn = _blas_functions(_GET_NAMES)
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    return int(fn())


def set_blas_threads(n: int) -> bool:
    """Set NumPy's OpenBLAS thread count; False when no OpenBLAS is loaded."""
    import numpy  # noqa: F401  (make sure NumPy has loaded its BLAS)

    fn = _blas_functions(_SET_NAMES)
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int]
    fn(int(n))
    return True


def pin_threads(n: int, torch=None) -> dict:
    """Give ember, NumPy's BLAS and (if given) PyTorch ``n`` threads each; return what each
    reports afterwards, for the record."""
    import ember

    ember.set_num_threads(n)
    set_blas_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    return {"ember": ember.get_num_threads(), "numpy_blas": get_blas_threads(),
            "torch": torch.get_num_threads() if torch is not None else None}
