"""max_pool2d and avg_pool2d against NumPy and PyTorch, one benchmark group per shape, kind and
pass, float32.

NumPy is the fastest form found (PERF_NOTES.md): a loop over the kernel offsets with strided
``np.maximum`` / ``+=`` on the output range each offset reaches (no padded copy). Max pooling's
backward re-finds the first maximum of each window tap by tap (what PyTorch's indices select),
so this NumPy row computes no index array; ember's twin in ember.ops.reference (which does, with
PyTorch's NaN and empty-window rules) is the correctness reference for every row.

Shapes: 2x2 stride 2 on 32x64x32x32 (VGG/LeNet downsampling) and 3x3 stride 2 padding 1 on
8x64x56x56 (the ResNet stem pool); each timed forward only and forward + backward (the input
gradient for a fixed random output gradient; max pooling's backward reuses the argmax indices).
Memory-bound: ``extra_info["mbytes"]`` is the compulsory traffic of one call.

``python -m pytest benchmarks/test_bench_pool.py --benchmark-only`` gives pytest-benchmark's
table per group. For ratios measured with the implementations interleaved (what reports should
quote on this shared machine) use ``python -m ember.bench --suite pool``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import reference
from conftest import THREADS, implementations, torch

# (name, N, C, H, W, kernel, stride, padding)
SHAPES = [
    ("2x2 s2 32x64x32x32", 32, 64, 32, 32, 2, 2, 0),
    ("3x3 s2 p1 8x64x56x56", 8, 64, 56, 56, 3, 2, 1),
]
KINDS = ["max", "avg"]
PASSES = ["forward", "forward+backward"]


from ember.bench.suites.pool import numpy_pool, numpy_pool_backward  # noqa: E402


def make_data(n, c, h, w, k, s, p, dtype=np.float32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    gy = rng.standard_normal((n, c, oh, ow)).astype(dtype)
    return x, gy


def make_fn(impl, kind, pass_, x, gy, k, s, p):
    """A zero-argument callable running one pass; returns the output (and input gradient)."""
    if impl == "numpy":
        if pass_ == "forward":
            return lambda: numpy_pool(kind, x, k, s, p)[0]

        def np_fwd_bwd():
            y, rows, cols = numpy_pool(kind, x, k, s, p)
            return y, numpy_pool_backward(kind, x, y, gy, k, rows, cols)
        return np_fwd_bwd
    if impl in ("ember", "twin"):
        mod = ember.ops if impl == "ember" else reference
        if kind == "max":
            if pass_ == "forward":
                return lambda: mod.max_pool2d(x, k, s, p)[0]

            def max_fwd_bwd():
                y, idx = mod.max_pool2d(x, k, s, p)
                return y, mod.max_pool2d_backward(gy, idx, x.shape)
            return max_fwd_bwd
        if pass_ == "forward":
            return lambda: mod.avg_pool2d(x, k, s, p)

        def avg_fwd_bwd():
            y = mod.avg_pool2d(x, k, s, p)
            return y, mod.avg_pool2d_backward(gy, x.shape, k, s, p)
        return avg_fwd_bwd
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    tx, tg = torch.from_numpy(x), torch.from_numpy(gy)
    if pass_ == "forward":
        def fwd():
            with torch.no_grad():
                return pool(tx, k, s, p)
        return fwd
    tx.requires_grad_()

    def fwd_bwd():
        y = pool(tx, k, s, p)
        (gx,) = torch.autograd.grad(y, (tx,), tg)
        return y, gx
    return fwd_bwd


def as_numpy(results):
    if not isinstance(results, tuple):
        results = (results,)
    return [r.detach().numpy() if hasattr(r, "detach") else np.asarray(r) for r in results]


def traffic(kind, pass_, x, gy):
    """Bytes that must move: x read, y (and int64 indices for max) written; backward also reads
    the output gradient (and indices) and writes the input gradient."""
    idx = gy.size * 8 if kind == "max" else 0
    total = x.nbytes + gy.nbytes + idx
    if pass_ != "forward":
        total += gy.nbytes + idx + x.nbytes
    return total


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("pass_", PASSES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_pool2d(benchmark, shape, kind, pass_, impl):
    name, n, c, h, w, k, s, p = shape
    x, gy = make_data(n, c, h, w, k, s, p)
    fn = make_fn(impl, kind, pass_, x, gy, k, s, p)
    # Correctness beside speed: every implementation must give the NumPy twin's numbers.
    expected = as_numpy(make_fn("twin", kind, pass_, x, gy, k, s, p)())
    for got, want in zip(as_numpy(fn()), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    benchmark.group = f"{kind}_pool2d {name} {pass_} float32 threads={THREADS}"
    benchmark.extra_info["mbytes"] = traffic(kind, pass_, x, gy) / 1e6
    benchmark(fn)
