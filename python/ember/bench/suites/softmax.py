"""softmax: softmax, log_softmax and cross-entropy over the last axis of a (N, C) batch.

  4096x1000   a large classifier batch (16 MB per float32 array: memory-bound)
  64x10       an MNIST batch (a few hundred bytes: pure per-call overhead)

forward: softmax / log_softmax output, or the mean cross-entropy loss for class-index targets.
forward+backward: forward, then the input gradient for a random output gradient (cross-entropy:
for the upstream gradient 1, reusing the forward's log-sum-exp as ember's autograd does).
ember runs its fused C++ kernels, NumPy the twin in ember.ops.reference (in-place ufuncs, the
row maximum subtracted once, no one-hot matrix), PyTorch torch.nn.functional.
Rate: GB/s of compulsory traffic (x read, y written; backward also y and the gradient read and
the input gradient written; cross-entropy reads x once more in backward and writes no y).
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

SHAPES = [(4096, 1000), (64, 10)]
QUICK_SHAPES = [(256, 100), (64, 10)]
OPS = ("softmax", "log_softmax", "cross_entropy")


def _traffic(op, n, c, dtype, backward):
    a = n * c * np.dtype(dtype).itemsize
    if op == "cross_entropy":
        return a + n * 8 + ((a + n * 8 + a) if backward else 0)   # + int64 targets
    return 2 * a + (3 * a if backward else 0)


def _ours(lib, op, x, g, target, backward):
    """ember.ops or its NumPy twin (same signatures) as one zero-argument callable."""
    if op == "cross_entropy":
        if not backward:
            return lambda: lib.cross_entropy(x, target)

        def ce_step():
            loss, lse = lib.cross_entropy(x, target, return_lse=True)
            return loss, lib.cross_entropy_backward(x, target, 1.0, lse=lse)
        return ce_step
    fwd, bwd = getattr(lib, op), getattr(lib, op + "_backward")
    if not backward:
        return lambda: fwd(x, -1)

    def step():
        y = fwd(x, -1)
        return y, bwd(y, g, -1)
    return step


def _torch(torch, op, x, g, target, backward):
    F = torch.nn.functional
    tx, tg, tt = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(target)
    if op == "cross_entropy":
        call = lambda: F.cross_entropy(tx, tt)  # noqa: E731
    else:
        call = lambda: getattr(F, op)(tx, -1)  # noqa: E731
    if not backward:
        def fwd():
            with torch.no_grad():
                return call()
        return fwd
    tx.requires_grad_(True)

    def step():
        y = call()
        (gx,) = torch.autograd.grad(y, (tx,), None if op == "cross_entropy" else tg)
        return y.detach(), gx
    return step


def _case(op, n, c, dtype, backward, torch):
    def prepare():
        rng = np.random.default_rng(0)
        x = random(rng, (n, c), dtype, 3.0)
        g = random(rng, (n, c), dtype)
        target = rng.integers(0, c, n)
        impls = {"ember": _ours(ember.ops, op, x, g, target, backward),
                 "numpy": _ours(ember.ops.reference, op, x, g, target, backward)}
        if torch is not None:
            impls["torch"] = _torch(torch, op, x, g, target, backward)
        return Prepared(impls)

    label = f"{op} {n}x{c} {'fwd+bwd' if backward else 'fwd'}"
    return Case("softmax", label, dtype, prepare, bytes=_traffic(op, n, c, dtype, backward))


def cases(dtype: str, quick: bool, torch):
    for n, c in (QUICK_SHAPES if quick else SHAPES):
        for op in OPS:
            for backward in (False, True):
                yield _case(op, n, c, dtype, backward, torch)
