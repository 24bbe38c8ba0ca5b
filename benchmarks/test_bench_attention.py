"""Attention: F.scaled_dot_product_attention (forward), nn.MultiheadAttention and
nn.TransformerEncoderLayer (forward + backward), ember against PyTorch (and a NumPy formula
for SDPA), one benchmark group per shape.

ember's SDPA is one autograd node computed in L2-sized blocks from its batched C++ GEMM and
C++ softmax (torch uses a fused flash-attention kernel); MultiheadAttention adds the
projections (F.linear) and, with need_weights=True, the composed path that returns weights.
"""
import math

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as F
from conftest import THREADS, torch

# (batch, heads, sequence length, head dim)
SDPA_SHAPES = [(8, 4, 128, 32), (4, 8, 256, 64)]
# (batch, sequence length, embed dim, heads)
MHA_SHAPES = [(16, 64, 128, 4), (8, 128, 256, 8)]


def _impls(with_numpy=False):
    names = ["ember"] + (["numpy"] if with_numpy else [])
    return names + (["torch"] if torch is not None else [])


def _np_sdpa(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) * (1 / math.sqrt(q.shape[-1]))
    s = np.exp(s - s.max(-1, keepdims=True))
    return (s / s.sum(-1, keepdims=True)) @ v


@pytest.mark.parametrize("impl", _impls(with_numpy=True))
@pytest.mark.parametrize("shape", SDPA_SHAPES, ids=str)
def test_sdpa_forward(benchmark, shape, impl):
    n, h, L, d = shape
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((n, h, L, d)).astype(np.float32) for _ in range(3))
    if impl == "ember":
        eq, ek, ev = ember.tensor(q), ember.tensor(k), ember.tensor(v)
        fn = lambda: F.scaled_dot_product_attention(eq, ek, ev).numpy()  # noqa: E731
    elif impl == "numpy":
        fn = lambda: _np_sdpa(q, k, v)  # noqa: E731
    else:
        tq, tk, tv = torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v)
        fn = lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv).numpy()  # noqa
    np.testing.assert_allclose(fn(), _np_sdpa(q, k, v), rtol=1e-4, atol=1e-5)
    benchmark.group = f"sdpa fwd {shape} float32 threads={THREADS}"
    benchmark.extra_info["gflop"] = 4 * n * h * L * L * d / 1e9
    benchmark(fn)


def _mha_pair(E, H):
    torch.manual_seed(0)
    t_mod = torch.nn.MultiheadAttention(E, H, batch_first=True)
    e_mod = enn.MultiheadAttention(E, H, batch_first=True)
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    return e_mod, t_mod


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("need_weights", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("shape", MHA_SHAPES, ids=str)
def test_mha_forward_backward(benchmark, shape, need_weights, impl):
    if torch is None:
        pytest.skip("PyTorch is needed for the shared weights")
    n, L, E, H = shape
    e_mod, t_mod = _mha_pair(E, H)
    x = np.random.default_rng(0).standard_normal((n, L, E)).astype(np.float32)

    if impl == "ember":
        def fn():
            xe = ember.tensor(x, requires_grad=True)
            out = e_mod(xe, xe, xe, need_weights=need_weights)[0]
            out.sum().backward()
            return out.detach().numpy()
    else:
        def fn():
            xt = torch.tensor(x, requires_grad=True)
            out = t_mod(xt, xt, xt, need_weights=need_weights)[0]
            out.sum().backward()
            return out.detach().numpy()
    with torch.no_grad():
        ref = t_mod(*(torch.from_numpy(x),) * 3, need_weights=need_weights)[0].numpy()
    np.testing.assert_allclose(fn(), ref, rtol=1e-4, atol=1e-5)
    benchmark.group = f"mha fwd+bwd {shape} need_weights={need_weights} threads={THREADS}"
    benchmark(fn)


@pytest.mark.parametrize("impl", _impls())
@pytest.mark.parametrize("shape", MHA_SHAPES[:1], ids=str)
def test_encoder_layer_forward_backward(benchmark, shape, impl):
    if torch is None:
        pytest.skip("PyTorch is needed for the shared weights")
    n, L, E, H = shape
    torch.manual_seed(0)
    t_mod = torch.nn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0, batch_first=True)
    e_mod = enn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0, batch_first=True)
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((n, L, E)).astype(np.float32)
    lib, mod = (ember, e_mod) if impl == "ember" else (torch, t_mod)

    def fn():
        xi = lib.tensor(x, requires_grad=True)
        out = mod(xi)
        out.sum().backward()
        return out.detach().numpy()
    with torch.no_grad():
        ref = t_mod(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(fn(), ref, rtol=1e-4, atol=1e-4)
    benchmark.group = f"encoder layer fwd+bwd {shape} ff={4 * E} threads={THREADS}"
    benchmark(fn)
