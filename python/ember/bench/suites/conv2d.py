"""conv2d: the kernel issue's convolution shapes, forward and forward+backward.

  32x3x32x32 -> 64, k3 p1        (a CIFAR first layer: 3 input channels)
  32x64x16x16 -> 128, k3 p1
  32x1x28x28 -> 6, k5            (LeNet's first layer)
  8x64x56x56 -> 64, k3 p1        (a ResNet stage-1 layer)

forward: output = conv2d(x, w, b). forward+backward: also grad_input, grad_weight, grad_bias
for a random output gradient (the NumPy twin computes them with im2col/col2im + GEMMs).
Rate: GFLOP/s counting 2*N*K*OH*OW*C*kH*kW per pass (forward 1 pass, with backward 3).
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

SHAPES = [((32, 3, 32, 32), 64, 3, 1), ((32, 64, 16, 16), 128, 3, 1), ((32, 1, 28, 28), 6, 5, 0),
          ((8, 64, 56, 56), 64, 3, 1)]
QUICK_SHAPES = [((4, 3, 16, 16), 8, 3, 1), ((2, 16, 12, 12), 16, 3, 1)]


def _case(shape, k_out, ks, pad, dtype, backward, torch):
    n, c, h, w = shape
    oh, ow = h + 2 * pad - ks + 1, w + 2 * pad - ks + 1
    flops = 2.0 * n * k_out * oh * ow * c * ks * ks * (3 if backward else 1)

    def prepare():
        rng = np.random.default_rng(0)
        x = random(rng, shape, dtype)
        wt = random(rng, (k_out, c, ks, ks), dtype, scale=1.0 / np.sqrt(c * ks * ks))
        b = random(rng, (k_out,), dtype)
        g = random(rng, (n, k_out, oh, ow), dtype)
        impls = {}
        for name, lib in (("ember", ember.ops), ("numpy", ember.ops.reference)):
            if not backward:
                impls[name] = (lambda lib: lambda: lib.conv2d(x, wt, b, 1, pad))(lib)
            else:
                def step(lib=lib):
                    y = lib.conv2d(x, wt, b, 1, pad)
                    return (y,) + tuple(lib.conv2d_backward(g, x, wt, 1, pad))
                impls[name] = step
        if torch is not None:
            F = torch.nn.functional
            tx = torch.from_numpy(x).requires_grad_(backward)
            tw = torch.from_numpy(wt).requires_grad_(backward)
            tb = torch.from_numpy(b).requires_grad_(backward)
            tg = torch.from_numpy(g)
            if not backward:
                impls["torch"] = lambda: F.conv2d(tx, tw, tb, 1, pad)
            else:
                def torch_step():
                    tx.grad = tw.grad = tb.grad = None
                    y = F.conv2d(tx, tw, tb, 1, pad)
                    y.backward(tg)
                    return y.detach(), tx.grad, tw.grad, tb.grad
                impls["torch"] = torch_step
        return Prepared(impls)

    label = (f"{'x'.join(map(str, shape))}->{k_out} k{ks} p{pad} "
             f"{'fwd+bwd' if backward else 'fwd'}")
    return Case("conv2d", label, dtype, prepare, flops=flops)


def cases(dtype: str, quick: bool, torch):
    for shape, k_out, ks, pad in (QUICK_SHAPES if quick else SHAPES):
        for backward in (False, True):
            yield _case(shape, k_out, ks, pad, dtype, backward, torch)
