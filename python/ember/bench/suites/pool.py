"""pool: max and average pooling at the kernel issue's shapes.

  max/avg 2x2 stride 2 on 32x64x32x32   (a VGG/LeNet-style downsampling)
  max/avg 3x3 stride 2 padding 1 on 8x64x56x56   (the ResNet stem pool)

forward: the pooled output alone.
forward+backward: forward with the (int32) argmax indices ember's autograd keeps, then the input
gradient for a random output gradient.
Memory-bound: the rate is GB/s of compulsory traffic (input read, output written; for
forward+backward also the indices written and read, the output gradient read and the input
gradient written).
numpy: the fastest plain-NumPy form (below), not the readable twin in ember.ops.reference.
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

SHAPES = [((32, 64, 32, 32), 2, 2, 0), ((8, 64, 56, 56), 3, 2, 1)]
QUICK_SHAPES = [((4, 16, 16, 16), 2, 2, 0), ((2, 16, 15, 15), 3, 2, 1)]


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


# ----------------------------------------------------------------------------------------------
# The fastest plain-NumPy pooling (the comparison row): one strided np.maximum / += per kernel
# offset over the whole batch, no padded copy, no index arrays. ember.ops.reference is the
# readable twin (it also returns indices and follows PyTorch's NaN rules), so it is slower.
# ----------------------------------------------------------------------------------------------
def _taps(k, s, p, size, out):
    """Per kernel offset: (output slice, input slice) of the outputs whose tap lands inside."""
    taps = []
    for off in range(k):
        lo = max(0, -(-(p - off) // s))                  # first o with o*s - p + off >= 0
        hi = min(out, (size - 1 + p - off) // s + 1)     # past the last one inside
        start = lo * s - p + off
        taps.append((slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s)))
    return taps


def numpy_pool(kind, x, k, s, p):
    """Fastest-NumPy pooling forward: y, plus (for the backward) the tap slices."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    rows, cols = _taps(k, s, p, h, oh), _taps(k, s, p, w, ow)
    if kind == "max":
        y = np.full((n, c, oh, ow), -np.inf, x.dtype)
        for ro, ri in rows:
            for co, ci in cols:
                v = y[:, :, ro, co]
                np.maximum(v, x[:, :, ri, ci], out=v)
    else:
        y = np.zeros((n, c, oh, ow), x.dtype)
        for ro, ri in rows:
            for co, ci in cols:
                y[:, :, ro, co] += x[:, :, ri, ci]
        y *= x.dtype.type(1.0 / (k * k))             # count_include_pad=True, as torch
    return y, rows, cols


def numpy_pool_backward(kind, x, y, gy, k, rows, cols):
    gx = np.zeros_like(x)
    if kind == "max":
        taken = np.zeros(y.shape, bool)                  # the first maximum of a window wins
        for ro, ri in rows:
            for co, ci in cols:
                hit = x[:, :, ri, ci] == y[:, :, ro, co]
                hit &= ~taken[:, :, ro, co]
                taken[:, :, ro, co] |= hit
                gx[:, :, ri, ci] += np.where(hit, gy[:, :, ro, co], 0)
    else:
        share = gy * x.dtype.type(1.0 / (k * k))
        for ro, ri in rows:
            for co, ci in cols:
                gx[:, :, ri, ci] += share[:, :, ro, co]
    return gx



def _case(kind, shape, k, s, p, dtype, backward, torch):
    n, c, h, w = shape
    oh, ow = _out(h, k, s, p), _out(w, k, s, p)
    item = np.dtype(dtype).itemsize
    x_bytes, y_bytes = n * c * h * w * item, n * c * oh * ow * item
    # the forward alone computes no indices (as torch's without autograd); training keeps int32
    # argmax indices (written by the forward, read by the backward) as ember's autograd does
    idx_bytes = n * c * oh * ow * 4 if kind == "max" and backward else 0
    traffic = x_bytes + y_bytes
    if backward:
        traffic += 2 * idx_bytes + y_bytes + x_bytes

    def prepare():
        rng = np.random.default_rng(0)
        x = random(rng, shape, dtype)
        g = random(rng, (n, c, oh, ow), dtype)
        impls = {}
        if not backward:
            impls["ember"] = ((lambda: ember.ops.max_pool2d(x, k, s, p, return_indices=False))
                              if kind == "max" else (lambda: ember.ops.avg_pool2d(x, k, s, p)))
            impls["numpy"] = lambda: numpy_pool(kind, x, k, s, p)[0]
        else:
            def ember_step():
                if kind == "max":
                    y, idx = ember.ops.max_pool2d(x, k, s, p, index_dtype=np.int32)
                    return y, ember.ops.max_pool2d_backward(g, idx, x.shape)
                y = ember.ops.avg_pool2d(x, k, s, p)
                return y, ember.ops.avg_pool2d_backward(g, x.shape, k, s, p)

            def numpy_step():
                y, rows, cols = numpy_pool(kind, x, k, s, p)
                return y, numpy_pool_backward(kind, x, y, g, k, rows, cols)
            impls["ember"], impls["numpy"] = ember_step, numpy_step
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
