"""ember.ops.matmul against NumPy (OpenBLAS) and PyTorch, one benchmark group per shape.

Square products 128..2048 and the MLP layer shape 64x784 @ 784x512, float32 and float64.
The group's table gives the ratios; ``benchmarks/interleaved.py`` measures the same rows with
the implementations interleaved for RESULTS.md.
"""
import numpy as np
import pytest

import ember
from conftest import THREADS, implementations, torch

SHAPES = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
          (2048, 2048, 2048), (64, 784, 512)]


def make_matmul(impl, a, b):
    if impl == "ember":
        return lambda: ember.ops.matmul(a, b)
    if impl == "numpy":
        return lambda: np.matmul(a, b)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    return lambda: torch.matmul(ta, tb)


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m,k,n", SHAPES, ids=lambda v: str(v))
def test_matmul(benchmark, m, k, n, dtype, impl):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    fn = make_matmul(impl, a, b)
    # Correctness beside speed: a fast wrong kernel must not pass as a result.
    np.testing.assert_allclose(np.asarray(fn()), a.astype(np.float64) @ b, rtol=1e-3, atol=1e-3 * np.sqrt(k))
    benchmark.group = f"matmul {m}x{k}x{n} {dtype} threads={THREADS}"
    benchmark.extra_info["gflop"] = 2 * m * n * k / 1e9
    benchmark(fn)
