"""softmax, log_softmax and cross_entropy against NumPy (the fastest NumPy form:
ember.ops.reference, in-place ufuncs, the row max subtracted once, no one-hot matrix) and
PyTorch, one benchmark group per op, shape and pass, float32.

Shapes: 4096x1000 (a large classifier batch; memory-bound, ~16 MB per array) and 64x10 (an MNIST
batch; pure call overhead). Each timed forward only and forward + backward (the input gradient
for a fixed random output gradient; cross-entropy uses class-index targets, mean reduction,
and its backward reuses the forward's log-sum-exp as ember's autograd does).
``extra_info["mbytes"]`` is the compulsory traffic of one call (x read, y written; backward:
y and the gradient read, the input gradient written).

``python -m pytest benchmarks/test_bench_softmax.py --benchmark-only`` gives pytest-benchmark's
table per group. For ratios measured with the implementations interleaved (what reports should
quote on this shared machine) use ``python -m ember.bench --suite softmax``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import reference
from conftest import THREADS, implementations, torch

SHAPES = [(4096, 1000), (64, 10)]
OPS = ["softmax", "log_softmax", "cross_entropy"]
PASSES = ["forward", "forward+backward"]


def make_data(n, c, dtype=np.float32):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    g = rng.standard_normal((n, c)).astype(dtype)
    target = rng.integers(0, c, n)
    return x, g, target


def make_fn(impl, op, pass_, x, g, target):
    """A zero-argument callable running one pass; returns the output (and input gradient)."""
    if impl in ("ember", "numpy"):
        mod = ember.ops if impl == "ember" else reference
        if op == "cross_entropy":
            if pass_ == "forward":
                return lambda: mod.cross_entropy(x, target)

            def ce_fwd_bwd():
                loss, lse = mod.cross_entropy(x, target, return_lse=True)
                return loss, mod.cross_entropy_backward(x, target, 1.0, lse=lse)
            return ce_fwd_bwd
        fwd, bwd = getattr(mod, op), getattr(mod, op + "_backward")
        if pass_ == "forward":
            return lambda: fwd(x, -1)

        def fwd_bwd():
            y = fwd(x, -1)
            return y, bwd(y, g, -1)
        return fwd_bwd
    F = torch.nn.functional
    tx, tg, tt = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(target)
    if op == "cross_entropy":
        call = lambda: F.cross_entropy(tx, tt)  # noqa: E731
    else:
        call = lambda: getattr(F, op)(tx, -1)  # noqa: E731
    if pass_ == "forward":
        def fwd():
            with torch.no_grad():
                return call()
        return fwd
    tx.requires_grad_()

    def fwd_bwd():
        y = call()
        (gx,) = torch.autograd.grad(y, (tx,), None if op == "cross_entropy" else tg)
        return y, gx
    return fwd_bwd


def as_numpy(results):
    if not isinstance(results, tuple):
        results = (results,)
    return [r.detach().numpy() if hasattr(r, "detach") else np.asarray(r) for r in results]


def traffic(op, pass_, x):
    out = 0 if op == "cross_entropy" else x.nbytes
    total = x.nbytes + out
    if pass_ != "forward":
        total += (x.nbytes if op == "cross_entropy" else 2 * x.nbytes) + x.nbytes
    return total


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("pass_", PASSES)
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("n,c", SHAPES, ids=lambda v: str(v))
def test_softmax_family(benchmark, n, c, op, pass_, impl):
    x, g, target = make_data(n, c)
    fn = make_fn(impl, op, pass_, x, g, target)
    # Correctness beside speed: every implementation must give the NumPy twin's numbers.
    expected = as_numpy(make_fn("numpy", op, pass_, x, g, target)())
    for got, want in zip(as_numpy(fn()), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(np.abs(want).max(), 1))
    benchmark.group = f"{op} {n}x{c} {pass_} float32 threads={THREADS}"
    benchmark.extra_info["mbytes"] = traffic(op, pass_, x) / 1e6
    benchmark(fn)
