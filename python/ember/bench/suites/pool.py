"""pool: max and average pooling at the kernel issue's shapes.

  max/avg 2x2 stride 2 on 32x64x32x32   (a VGG/LeNet-style downsampling)
  max/avg 3x3 stride 2 padding 1 on 8x64x56x56   (the ResNet stem pool)

forward: the pooled output (max also writes the argmax indices its backward reuses).
forward+backward: forward, then the input gradient for a random output gradient.
Memory-bound: the rate is GB/s of compulsory traffic (input read, output and indices written;
for backward also the output gradient and indices read and the input gradient written).
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

SHAPES = [((32, 64, 32, 32), 2, 2, 0), ((8, 64, 56, 56), 3, 2, 1)]
QUICK_SHAPES = [((4, 16, 16, 16), 2, 2, 0), ((2, 16, 15, 15), 3, 2, 1)]


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


def _case(kind, shape, k, s, p, dtype, backward, torch):
    n, c, h, w = shape
    oh, ow = _out(h, k, s, p), _out(w, k, s, p)
    item = np.dtype(dtype).itemsize
    x_bytes, y_bytes = n * c * h * w * item, n * c * oh * ow * item
    idx_bytes = n * c * oh * ow * 8 if kind == "max" else 0
    traffic = x_bytes + y_bytes + idx_bytes
    if backward:
        traffic += y_bytes + idx_bytes + x_bytes

    def prepare():
        rng = np.random.default_rng(0)
        x = random(rng, shape, dtype)
        g = random(rng, (n, c, oh, ow), dtype)
        impls = {}
        for name, lib in (("ember", ember.ops), ("numpy", ember.ops.reference)):
            if kind == "max":
                if not backward:
                    impls[name] = (lambda lib: lambda: lib.max_pool2d(x, k, s, p)[0])(lib)
                else:
                    def step(lib=lib):
                        y, idx = lib.max_pool2d(x, k, s, p)
                        return y, lib.max_pool2d_backward(g, idx, x.shape)
                    impls[name] = step
            else:
                if not backward:
                    impls[name] = (lambda lib: lambda: lib.avg_pool2d(x, k, s, p))(lib)
                else:
                    def step(lib=lib):
                        y = lib.avg_pool2d(x, k, s, p)
                        return y, lib.avg_pool2d_backward(g, x.shape, k, s, p)
                    impls[name] = step
        if torch is not None:
            F = torch.nn.functional
            pool = F.max_pool2d if kind == "max" else F.avg_pool2d
            tx = torch.from_numpy(x).requires_grad_(backward)
            tg = torch.from_numpy(g)
            if not backward:
                impls["torch"] = lambda: pool(tx, k, s, p)
            else:
                def torch_step():
                    tx.grad = None
                    y = pool(tx, k, s, p)
                    y.backward(tg)
                    return y.detach(), tx.grad
                impls["torch"] = torch_step
        return Prepared(impls)

    label = f"{kind} {k}x{k} s{s} p{p} {'x'.join(map(str, shape))} {'fwd+bwd' if backward else 'fwd'}"
    return Case("pool", label, dtype, prepare, bytes=traffic)


def cases(dtype: str, quick: bool, torch):
    for shape, k, s, p in (QUICK_SHAPES if quick else SHAPES):
        for kind in ("max", "avg"):
            for backward in (False, True):
                yield _case(kind, shape, k, s, p, dtype, backward, torch)
