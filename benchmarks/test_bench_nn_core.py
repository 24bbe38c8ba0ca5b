"""nn core layers against a hand-written NumPy version and PyTorch, one group per shape.

- Linear forward + backward (dx, dW, db) on MLP-sized layers, float32: ember's F.linear is one
  GEMM per product (through ember.ops.matmul); the NumPy row is the same three products with
  OpenBLAS, the floor of what any Python-level implementation can reach.
- Embedding forward + backward (row gather + scatter-add of the gradient).
- The per-call overhead of a tiny Linear (where Python bookkeeping dominates).
"""
import numpy as np
import pytest

import ember
from conftest import THREADS, implementations, torch

LINEAR_SHAPES = [(1, 16, 16), (64, 784, 512), (256, 512, 512), (4096, 256, 256)]
EMBED_SHAPES = [(10000, 128, 2048), (100, 64, 32768)]


def make_linear(impl, x, w, b, g):
    if impl == "numpy":
        def run():
            x @ w.T + b
            g @ w, g.T @ x, g.sum(axis=0)
        return run
    lib = ember if impl == "ember" else torch
    tx = lib.tensor(x, requires_grad=True)
    tw, tb, tg = (lib.tensor(a, requires_grad=True) for a in (w, b, g))
    tg = tg.detach()

    def run():
        lib.nn.functional.linear(tx, tw, tb).backward(tg)
        tx.grad = tw.grad = tb.grad = None
    return run


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("n,k,m", LINEAR_SHAPES, ids=str)
def test_linear_fwd_bwd(benchmark, n, k, m, impl):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, k)).astype(np.float32)
    w = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal(m).astype(np.float32)
    g = rng.standard_normal((n, m)).astype(np.float32)
    if impl == "ember":        # correctness beside speed
        tx, tw = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        ember.nn.functional.linear(tx, tw, ember.tensor(b)).backward(ember.tensor(g))
        np.testing.assert_allclose(tw.grad.numpy(), g.T.astype(np.float64) @ x, rtol=1e-3,
                                   atol=1e-3 * np.sqrt(n))
    benchmark.group = f"linear fwd+bwd {n}x{k}->{m} float32 threads={THREADS}"
    benchmark.extra_info["gflop"] = 6 * n * k * m / 1e9
    benchmark(make_linear(impl, x, w, b, g))


@pytest.mark.parametrize("impl", [i for i in implementations() if i != "numpy"])
@pytest.mark.parametrize("v,d,n", EMBED_SHAPES, ids=str)
def test_embedding_fwd_bwd(benchmark, v, d, n, impl):
    rng = np.random.default_rng(0)
    lib = ember if impl == "ember" else torch
    weight = lib.tensor(rng.standard_normal((v, d)).astype(np.float32), requires_grad=True)
    idx = lib.tensor(rng.integers(0, v, n))
    g = lib.tensor(rng.standard_normal((n, d)).astype(np.float32))

    def run():
        lib.nn.functional.embedding(idx, weight).backward(g)
        weight.grad = None
    benchmark.group = f"embedding fwd+bwd V={v} D={d} N={n} float32 threads={THREADS}"
    benchmark(run)


@pytest.mark.parametrize("impl", [i for i in implementations() if i != "numpy"])
def test_module_call_overhead(benchmark, impl):
    lib = ember if impl == "ember" else torch
    layer = lib.nn.Linear(16, 16)
    x = lib.ones(1, 16)

    def run():
        with lib.no_grad():
            layer(x)
    benchmark.group = f"Linear(16, 16) call, no_grad, batch 1 threads={THREADS}"
    benchmark(run)
