"""conv2d against NumPy (the fastest NumPy form: ember.ops.reference) and PyTorch (oneDNN), one
benchmark group per shape and pass, float32.

Shapes: an RGB first layer, a mid-network layer, LeNet's first layer and a ResNet-50 stage-1
layer; each timed forward only and forward + backward (input, weight and bias gradients).

``pytest benchmarks/test_bench_conv.py`` gives pytest-benchmark's table per group. The machine
is shared and noisy, so the ratios in reports come from ``python benchmarks/test_bench_conv.py
[--rounds 9] [--threads 2]``, which interleaves the implementations round by round (rotating
their order) and prints medians.
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # set thread counts before NumPy/torch start their pools
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
    os.environ["EMBER_BENCH_THREADS"] = _threads
    os.environ["OPENBLAS_NUM_THREADS"] = _threads
    os.environ["OMP_NUM_THREADS"] = _threads
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ember  # noqa: E402
from ember.ops import reference  # noqa: E402
from conftest import THREADS, implementations, torch  # noqa: E402

# (name, N, C, H, W, K, k, padding)
SHAPES = [
    ("32x3x32x32->64 k3 p1", 32, 3, 32, 32, 64, 3, 1),
    ("32x64x16x16->128 k3 p1", 32, 64, 16, 16, 128, 3, 1),
    ("LeNet 32x1x28x28->6 k5", 32, 1, 28, 28, 6, 5, 0),
    ("8x64x56x56->64 k3 p1", 8, 64, 56, 56, 64, 3, 1),
]
PASSES = ["forward", "forward+backward"]


def make_data(n, c, h, w, k, ks, pad, dtype=np.float32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = (rng.standard_normal((k, c, ks, ks)) / np.sqrt(c * ks * ks)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    oh, ow = h + 2 * pad - ks + 1, w + 2 * pad - ks + 1
    gy = rng.standard_normal((n, k, oh, ow)).astype(dtype)
    return x, wt, b, gy


def make_fn(impl, pass_, x, wt, b, gy, pad):
    """A zero-argument callable running one pass; returns the output (and gradients)."""
    if impl in ("ember", "numpy"):
        mod = ember.ops if impl == "ember" else reference
        if pass_ == "forward":
            return lambda: mod.conv2d(x, wt, b, padding=pad)
        return lambda: (mod.conv2d(x, wt, b, padding=pad),
                        *mod.conv2d_backward(gy, x, wt, padding=pad))
    tx, tw, tb, tg = (torch.from_numpy(a) for a in (x, wt, b, gy))
    conv = torch.nn.functional.conv2d
    if pass_ == "forward":
        def fwd():
            with torch.no_grad():
                return conv(tx, tw, tb, padding=pad)
        return fwd
    tx.requires_grad_(), tw.requires_grad_(), tb.requires_grad_()

    def fwd_bwd():
        y = conv(tx, tw, tb, padding=pad)
        gx, gw, gb = torch.autograd.grad(y, (tx, tw, tb), tg)
        return y, gx, gw, gb
    return fwd_bwd


def as_numpy(results):
    if not isinstance(results, tuple):
        results = (results,)
    return [r.detach().numpy() if hasattr(r, "detach") else np.asarray(r) for r in results]


def flops(n, c, h, w, k, ks, pad, pass_):
    oh, ow = h + 2 * pad - ks + 1, w + 2 * pad - ks + 1
    one = 2.0 * n * k * oh * ow * c * ks * ks
    return one if pass_ == "forward" else 3 * one


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("pass_", PASSES)
@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_conv2d(benchmark, shape, pass_, impl):
    name, n, c, h, w, k, ks, pad = shape
    x, wt, b, gy = make_data(n, c, h, w, k, ks, pad)
    fn = make_fn(impl, pass_, x, wt, b, gy, pad)
    # Correctness beside speed: every implementation must give the NumPy twin's numbers.
    expected = as_numpy(make_fn("numpy", pass_, x, wt, b, gy, pad)())
    for got, want in zip(as_numpy(fn()), expected):
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3 * np.abs(want).max())
    benchmark.group = f"conv2d {name} {pass_} float32 threads={THREADS}"
    benchmark.extra_info["gflop"] = flops(n, c, h, w, k, ks, pad, pass_) / 1e9
    benchmark(fn)


def _interleaved(rounds: int, impls: list[str]) -> None:
    """Median time of each implementation per row, interleaved round by round."""
    import time
    print(f"threads={THREADS} ember simd={ember.backend_info()['simd']} rounds={rounds}")
    print(f"{'shape':26s} {'pass':17s} " + " ".join(f"{i + ' ms':>10s}" for i in impls)
          + "  ember GFLOP/s  numpy/ember  torch/ember")
    for name, n, c, h, w, k, ks, pad in SHAPES:
        x, wt, b, gy = make_data(n, c, h, w, k, ks, pad)
        for pass_ in PASSES:
            fns = {i: make_fn(i, pass_, x, wt, b, gy, pad) for i in impls}
            for f in fns.values():
                f()                                   # warm up (workspaces, thread pools)
            times = {i: [] for i in impls}
            for r in range(rounds):
                order = impls[r % len(impls):] + impls[:r % len(impls)]
                for i in order:
                    reps = 1
                    while True:                       # at least ~20 ms per sample
                        t0 = time.perf_counter()
                        for _ in range(reps):
                            fns[i]()
                        dt = time.perf_counter() - t0
                        if dt > 0.02:
                            break
                        reps *= 2
                    times[i].append(dt / reps)
            med = {i: float(np.median(v)) for i, v in times.items()}
            gf = flops(n, c, h, w, k, ks, pad, pass_) / med["ember"] / 1e9
            ratios = "  ".join(f"{med[i] / med['ember']:11.2f}" for i in impls if i != "ember")
            print(f"{name:26s} {pass_:17s} " + " ".join(f"{med[i] * 1e3:10.3f}" for i in impls)
                  + f"  {gf:13.1f}  {ratios}", flush=True)


if __name__ == "__main__":
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 7
    impls = ["ember", "numpy"] + ([] if "--no-torch" in sys.argv or torch is None else ["torch"])
    _interleaved(rounds, impls)
