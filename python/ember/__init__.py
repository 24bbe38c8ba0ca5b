"""ember: a small, fast, teachable deep-learning library."""
import os as _os

# NumPy's OpenBLAS keeps its idle threads spinning for ~2**28 cycles after every call; on a
# 2-core machine they steal the cores ember's OpenMP threads need (measured: a 256^3 ember
# matmul after a NumPy one took 8-16 ms instead of 0.25 ms). A short timeout removes that and
# does not slow NumPy down. It only takes effect if ember is imported before NumPy loads
# OpenBLAS; set OPENBLAS_THREAD_TIMEOUT yourself to choose otherwise.
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from ember._backend import backend_info, get_num_threads, set_num_threads
from ember import ops

__version__ = "0.1.0"
