"""LSTM against NumPy and PyTorch, one benchmark group per case, float32.

Cases (batch 64, input 256, hidden 512):
  cell forward, cell forward + backward (all input, state, weight and bias gradients);
  a 50-step sequence forward + backward.
Implementations:
  ember          ember.ops.lstm_cell_* / lstm_sequence_* (the fused C++ kernels);
  ember-autograd the sequence through ``F.lstm_sequence`` and Tensor.backward (what nn.LSTM
                 runs: adds the autograd graph and gradient accumulation on top of ops);
  numpy          ember.ops.reference: a NumPy loop with one fused gate GEMM per step and the
                 input projection of all steps hoisted into one GEMM (the fastest NumPy form);
  torch          torch.lstm_cell for the cell (unfused: two linears and pointwise ops),
                 nn.LSTM (oneDNN's RNN primitive) for the sequence.
``extra_info["gflop"]``: the gate GEMMs, 2*B*4H*(I+H) per step (x3 with backward).

``python -m pytest benchmarks/test_bench_rnn.py --benchmark-only`` gives pytest-benchmark's
table per group. For ratios measured with the implementations interleaved (what reports should
quote on this shared machine) use ``python -m ember.bench --suite lstm``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn import functional as F
from ember.ops import reference
from conftest import THREADS, implementations, torch

B, I, H, T = 64, 256, 512, 50
CELL_PASSES = ["forward", "forward+backward"]


def make_data(dtype=np.float32):
    rng = np.random.default_rng(0)
    s = 1 / np.sqrt(H)
    d = {
        "x": rng.standard_normal((T, B, I)), "h": rng.standard_normal((B, H)),
        "c": rng.standard_normal((B, H)), "w_ih": rng.uniform(-s, s, (4 * H, I)),
        "w_hh": rng.uniform(-s, s, (4 * H, H)), "b_ih": rng.uniform(-s, s, 4 * H),
        "b_hh": rng.uniform(-s, s, 4 * H), "gh": rng.standard_normal((B, H)),
        "gc": rng.standard_normal((B, H)), "gout": rng.standard_normal((T, B, H)),
    }
    return {k: v.astype(dtype) for k, v in d.items()}


def make_cell_fn(impl, pass_, d):
    """One LSTM cell step (on x[0]); returns (h', c') and, with backward, the 6 gradients
    (input, hx, cx, w_ih, w_hh, bias)."""
    x, h, c, wi, wh, bi, bh = (d[k] for k in ("x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh"))
    x = x[0]
    if impl in ("ember", "numpy"):
        mod = ember.ops if impl == "ember" else reference
        if pass_ == "forward":
            return lambda: mod.lstm_cell_forward(x, h, c, wi, wh, bi, bh)[:2]

        def fwd_bwd():
            h1, c1, gates = mod.lstm_cell_forward(x, h, c, wi, wh, bi, bh)
            grads = mod.lstm_cell_backward(d["gh"], d["gc"], x, h, c, wi, wh, c1, gates)
            return (h1, c1) + tuple(grads[:6])
        return fwd_bwd
    t = {k: torch.from_numpy(v) for k, v in dict(x=x, h=h, c=c, wi=wi, wh=wh, bi=bi, bh=bh).items()}
    args = lambda: (t["x"], (t["h"], t["c"]), t["wi"], t["wh"], t["bi"], t["bh"])  # noqa: E731
    if pass_ == "forward":
        def fwd():
            with torch.no_grad():
                return torch.lstm_cell(*args())
        return fwd
    for v in t.values():
        v.requires_grad_()
    tgh, tgc = torch.from_numpy(d["gh"]), torch.from_numpy(d["gc"])

    def torch_fwd_bwd():
        h1, c1 = torch.lstm_cell(*args())
        grads = torch.autograd.grad((h1, c1), [t[k] for k in ("x", "h", "c", "wi", "wh", "bi")],
                                    (tgh, tgc))
        return (h1, c1) + tuple(grads)
    return torch_fwd_bwd


def make_sequence_fn(impl, d):
    """The 50-step sequence forward + backward from h0, c0 with dL/d output = gout; returns the
    output and the 6 gradients (input, h0, c0, w_ih, w_hh, bias)."""
    x, h, c, wi, wh, bi, bh, g = (d[k] for k in ("x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh",
                                                 "gout"))
    if impl in ("ember", "numpy"):
        mod = ember.ops if impl == "ember" else reference

        def fwd_bwd():
            out, _, _, cs, gates = mod.lstm_sequence_forward(x, h, c, wi, wh, bi, bh)
            grads = mod.lstm_sequence_backward(g, None, None, x, h, c, wi, wh, out, cs, gates)
            return (out,) + tuple(grads[:6])
        return fwd_bwd
    if impl == "ember-autograd":
        t = [ember.tensor(v, requires_grad=True) for v in (x, h, c, wi, wh, bi, bh)]
        tg = ember.tensor(g)

        def autograd_fwd_bwd():
            for v in t:
                v.grad = None
            out, _, _ = F.lstm_sequence(*t)
            out.backward(tg)
            return (out,) + tuple(v.grad for v in t[:6])
        return autograd_fwd_bwd
    lstm = torch.nn.LSTM(I, H)
    with torch.no_grad():
        for p, v in zip((lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0),
                        (wi, wh, bi, bh)):
            p.copy_(torch.from_numpy(v))
    tx, th, tc = (torch.from_numpy(v).requires_grad_() for v in (x, h[None], c[None]))
    tg = torch.from_numpy(g)

    def torch_fwd_bwd():
        out, _ = lstm(tx, (th, tc))
        grads = torch.autograd.grad(out, (tx, th, tc, lstm.weight_ih_l0, lstm.weight_hh_l0,
                                          lstm.bias_ih_l0), tg)
        return (out, grads[0], grads[1][0], grads[2][0]) + tuple(grads[3:])
    return torch_fwd_bwd


def as_numpy(results):
    return [r.detach().numpy() if hasattr(r, "detach") else np.asarray(r) for r in results]


def check(got, want):
    # float32 through 50 steps of GEMMs: compare relative to each output's scale.
    for a, b in zip(as_numpy(got), as_numpy(want)):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * max(np.abs(b).max(), 1))


def cell_gflop(pass_):
    return 2 * B * 4 * H * (I + H) * (1 if pass_ == "forward" else 3) / 1e9


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("pass_", CELL_PASSES)
def test_lstm_cell(benchmark, pass_, impl):
    d = make_data()
    fn = make_cell_fn(impl, pass_, d)
    check(fn(), make_cell_fn("numpy", pass_, d)())
    benchmark.group = f"lstm cell B{B} I{I} H{H} {pass_} float32 threads={THREADS}"
    benchmark.extra_info["gflop"] = cell_gflop(pass_)
    benchmark(fn)


@pytest.mark.parametrize("impl", ["ember", "ember-autograd"] + implementations()[1:])
def test_lstm_sequence(benchmark, impl):
    d = make_data()
    fn = make_sequence_fn(impl, d)
    check(fn(), make_sequence_fn("numpy", d)())
    benchmark.group = f"lstm sequence T{T} B{B} I{I} H{H} forward+backward float32 threads={THREADS}"
    benchmark.extra_info["gflop"] = T * cell_gflop("forward+backward")
    benchmark(fn)
