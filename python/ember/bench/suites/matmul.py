"""matmul: square products 128..2048 and the MLP layer shape 64x784 @ 784x512.

forward: C = A @ B.  forward+backward adds dA = dC @ B^T and dB = A^T @ dC (3 products).
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

SHAPES = [(128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
          (2048, 2048, 2048), (64, 784, 512)]
QUICK_SHAPES = [(128, 128, 128), (64, 784, 512)]


def _case(m, k, n, dtype, backward, torch):
    def prepare():
        rng = np.random.default_rng(0)
        a, b = random(rng, (m, k), dtype), random(rng, (k, n), dtype)
        g = random(rng, (m, n), dtype)
        mm, ref = ember.ops.matmul, np.matmul
        if not backward:
            impls = {"ember": lambda: mm(a, b), "numpy": lambda: ref(a, b)}
        else:
            impls = {"ember": lambda: (mm(a, b), mm(g, b.T), mm(a.T, g)),
                     "numpy": lambda: (ref(a, b), ref(g, b.T), ref(a.T, g))}
        if torch is not None:
            ta = torch.from_numpy(a).requires_grad_(backward)
            tb = torch.from_numpy(b).requires_grad_(backward)
            tg = torch.from_numpy(g)
            if not backward:
                impls["torch"] = lambda: torch.matmul(ta, tb)
            else:
                def torch_step():
                    ta.grad = tb.grad = None
                    c = torch.matmul(ta, tb)
                    c.backward(tg)
                    return c.detach(), ta.grad, tb.grad
                impls["torch"] = torch_step
        return Prepared(impls)

    passes = 3 if backward else 1
    return Case("matmul", f"{m}x{k}x{n} {'fwd+bwd' if backward else 'fwd'}", dtype, prepare,
                flops=2.0 * m * k * n * passes)


def cases(dtype: str, quick: bool, torch):
    for m, k, n in (QUICK_SHAPES if quick else SHAPES):
        yield _case(m, k, n, dtype, False, torch)
        if not quick or (m, k, n) == (64, 784, 512):
            yield _case(m, k, n, dtype, True, torch)
