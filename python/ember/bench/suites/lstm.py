"""lstm: the LSTM cell (batch 64, input 256, hidden 512) forward and forward+backward, and a
50-step sequence of the same, forward+backward.

ember runs its fused C++ cell/sequence kernels; NumPy runs the twin (one gate GEMM per step,
the input projection of all steps hoisted into one GEMM); PyTorch runs torch.lstm_cell for the
cell and nn.LSTM (oneDNN's RNN primitive) for the sequence.
Rate: GFLOP/s of the gate GEMMs, 2*B*4H*(I+H) per step (forward; x3 with backward).
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared, random

FULL = (64, 256, 512, 50)
QUICK = (8, 16, 32, 5)


def _weights(rng, I, H, dtype):
    s = 1.0 / np.sqrt(H)
    return (random(rng, (4 * H, I), dtype, s), random(rng, (4 * H, H), dtype, s),
            random(rng, (4 * H,), dtype, s), random(rng, (4 * H,), dtype, s))


def _cell_case(B, I, H, dtype, backward, torch):
    flops = 2.0 * B * 4 * H * (I + H) * (3 if backward else 1)

    def prepare():
        rng = np.random.default_rng(0)
        x, h, c = random(rng, (B, I), dtype), random(rng, (B, H), dtype), random(rng, (B, H), dtype)
        w_ih, w_hh, b_ih, b_hh = _weights(rng, I, H, dtype)
        gh, gc = random(rng, (B, H), dtype), random(rng, (B, H), dtype)
        impls = {}
        for name, lib in (("ember", ember.ops), ("numpy", ember.ops.reference)):
            if not backward:
                impls[name] = (lambda lib: lambda: lib.lstm_cell_forward(
                    x, h, c, w_ih, w_hh, b_ih, b_hh)[:2])(lib)
            else:
                def step(lib=lib):
                    h1, c1, gates = lib.lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh)
                    grads = lib.lstm_cell_backward(gh, gc, x, h, c, w_ih, w_hh, c1, gates)
                    return (h1, c1) + tuple(grads[:6])
                impls[name] = step
        if torch is not None:
            t = {k: torch.from_numpy(v).requires_grad_(backward) for k, v in
                 dict(x=x, h=h, c=c, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh).items()}
            tgh, tgc = torch.from_numpy(gh), torch.from_numpy(gc)
            if not backward:
                impls["torch"] = lambda: torch.lstm_cell(t["x"], (t["h"], t["c"]), t["w_ih"],
                                                         t["w_hh"], t["b_ih"], t["b_hh"])
            else:
                def torch_step():
                    for v in t.values():
                        v.grad = None
                    h1, c1 = torch.lstm_cell(t["x"], (t["h"], t["c"]), t["w_ih"], t["w_hh"],
                                             t["b_ih"], t["b_hh"])
                    torch.autograd.backward([h1, c1], [tgh, tgc])
                    return (h1.detach(), c1.detach(), t["x"].grad, t["h"].grad, t["c"].grad,
                            t["w_ih"].grad, t["w_hh"].grad, t["b_ih"].grad)
                impls["torch"] = torch_step
        return Prepared(impls)

    return Case("lstm", f"cell B{B} I{I} H{H} {'fwd+bwd' if backward else 'fwd'}", dtype,
                prepare, flops=flops)


def _sequence_case(B, I, H, T, dtype, torch):
    flops = 2.0 * T * B * 4 * H * (I + H) * 3

    def prepare():
        rng = np.random.default_rng(0)
        x = random(rng, (T, B, I), dtype)
        h0, c0 = random(rng, (B, H), dtype), random(rng, (B, H), dtype)
        w_ih, w_hh, b_ih, b_hh = _weights(rng, I, H, dtype)
        g = random(rng, (T, B, H), dtype)
        impls = {}
        for name, lib in (("ember", ember.ops), ("numpy", ember.ops.reference)):
            def step(lib=lib):
                out, hn, cn, cs, gates = lib.lstm_sequence_forward(x, h0, c0, w_ih, w_hh, b_ih,
                                                                   b_hh)
                grads = lib.lstm_sequence_backward(g, None, None, x, h0, c0, w_ih, w_hh, out, cs,
                                                   gates)
                return (out,) + tuple(grads[:6])
            impls[name] = step
        if torch is not None:
            lstm = torch.nn.LSTM(I, H).to(getattr(torch, dtype))
            with torch.no_grad():
                for p, v in zip((lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
                                 lstm.bias_hh_l0), (w_ih, w_hh, b_ih, b_hh)):
                    p.copy_(torch.from_numpy(v))
            tx = torch.from_numpy(x).requires_grad_(True)
            th = torch.from_numpy(h0[None]).requires_grad_(True)
            tc = torch.from_numpy(c0[None]).requires_grad_(True)
            tg = torch.from_numpy(g)

            def torch_step():
                lstm.zero_grad()
                tx.grad = th.grad = tc.grad = None
                out, _ = lstm(tx, (th, tc))
                out.backward(tg)
                return (out.detach(), tx.grad, th.grad[0], tc.grad[0], lstm.weight_ih_l0.grad,
                        lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad)
            impls["torch"] = torch_step
        return Prepared(impls)

    return Case("lstm", f"sequence T{T} B{B} I{I} H{H} fwd+bwd", dtype, prepare, flops=flops)


def cases(dtype: str, quick: bool, torch):
    B, I, H, T = QUICK if quick else FULL
    yield _cell_case(B, I, H, dtype, False, torch)
    yield _cell_case(B, I, H, dtype, True, torch)
    yield _sequence_case(B, I, H, T, dtype, torch)
