"""nn.LSTM / nn.GRU / nn.RNN modules against NumPy and PyTorch, one group per (module, pass).

Case: 2 layers, bidirectional, batch_first, T 50, B 16, I 64, H 128, float32 (a small
sequence classifier), zero initial states.
Implementations:
  ember  the nn module: per (layer, direction) one fused C++ sequence call through autograd,
         the reverse direction on the time-flipped input, dropout off;
  numpy  forward only: the same stacking over ember.ops.reference's NumPy sequence twins (one
         hoisted input GEMM per layer and direction, then a NumPy loop over steps);
  torch  torch.nn's module (oneDNN's RNN primitive for LSTM/GRU in float32).
Passes: forward under no_grad, and forward + backward of output.sum() (every parameter and
input gradient). ``extra_info["gflop"]``: the gate GEMMs (x3 with backward).

``python -m pytest benchmarks/test_bench_nn_rnn_modules.py --benchmark-only``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import reference
from conftest import THREADS, implementations, torch

T, B, I, H, L = 50, 16, 64, 128, 2
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
PASSES = ["forward", "forward+backward"]


def gflop(name, pass_):
    G = GATES[name] * H
    per_dir = 2 * T * B * G * ((I + H) + (2 * H + H) * (L - 1))
    return 2 * per_dir * (1 if pass_ == "forward" else 3) / 1e9


def numpy_forward(mod, x):
    """mod's forward (zero states) on the NumPy sequence twins; returns the output."""
    seq = np.ascontiguousarray(x.swapaxes(0, 1))
    for layer in range(L):
        outs = []
        for d in range(2):
            w = [getattr(mod, n).detach().numpy() for n in mod._all_weights[layer * 2 + d]]
            inp = seq if d == 0 else np.ascontiguousarray(seq[::-1])
            if mod.mode == "LSTM":
                out = reference.lstm_sequence_forward(inp, None, None, *w)[0]
            elif mod.mode == "GRU":
                out = reference.gru_sequence_forward(inp, None, *w)[0]
            else:
                out = reference.rnn_sequence_forward(inp, None, *w)[0]
            outs.append(out if d == 0 else out[::-1])
        seq = np.concatenate(outs, axis=2)
    return seq.swapaxes(0, 1)


def make_fn(impl, name, pass_, e_mod, t_mod, x):
    if impl == "numpy":
        return lambda: numpy_forward(e_mod, x)
    lib, mod = (ember, e_mod) if impl == "ember" else (torch, t_mod)
    if pass_ == "forward":
        tx = lib.tensor(x)

        def fwd():
            with lib.no_grad():
                return mod(tx)[0]
        return fwd
    tx = lib.tensor(x, requires_grad=True)

    def fwd_bwd():
        mod.zero_grad()
        tx.grad = None
        out = mod(tx)[0]
        out.sum().backward()
        return out
    return fwd_bwd


@pytest.mark.parametrize("impl", implementations())
@pytest.mark.parametrize("pass_", PASSES)
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_rnn_module(benchmark, name, pass_, impl):
    if impl == "numpy" and pass_ != "forward":
        pytest.skip("the NumPy row is forward only")
    ember.manual_seed(0)
    e_mod = getattr(ember.nn, name)(I, H, L, bidirectional=True, batch_first=True)
    t_mod = None
    if torch is not None:
        t_mod = getattr(torch.nn, name)(I, H, L, bidirectional=True, batch_first=True)
        t_mod.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                               for k, v in e_mod.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((B, T, I)).astype(np.float32)
    fn = make_fn(impl, name, pass_, e_mod, t_mod, x)
    got = fn()
    got = got.detach().numpy() if hasattr(got, "detach") else got
    np.testing.assert_allclose(got, numpy_forward(e_mod, x), rtol=1e-3, atol=1e-4)
    benchmark.group = (f"nn.{name} L{L} bidirectional T{T} B{B} I{I} H{H} {pass_} float32 "
                       f"threads={THREADS}")
    benchmark.extra_info["gflop"] = gflop(name, pass_)
    benchmark(fn)
