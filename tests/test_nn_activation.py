"""Activations (ember.nn.functional and ember.nn modules): values vs NumPy formulas, float64
gradcheck, PyTorch parity (forward and gradient, float32/float64), extreme inputs, in-place
semantics, module reprs and parameters, torch's errors; the erf/erfc/normal-CDF fits behind
the exact GELU against math.erf.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember._functions import nn_ops

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


@dataclass
class Act:
    """One activation: F name + kwargs, an independent NumPy formula, and the kink points that
    finite differences must stay away from."""
    name: str
    kwargs: dict
    ref: Callable
    kinks: tuple = ()
    inplace: bool = False           # has an inplace= flag in torch
    id: str = field(default="")

    def __post_init__(self):
        self.id = self.name + "".join(f"-{k}={v}" for k, v in self.kwargs.items())


ACTS = [
    Act("relu", {}, lambda x: np.maximum(x, 0), (0,), True),
    Act("relu6", {}, lambda x: np.clip(x, 0, 6), (0, 6), True),
    Act("leaky_relu", {}, lambda x: np.where(x > 0, x, 0.01 * x), (0,), True),
    Act("leaky_relu", {"negative_slope": 0.2}, lambda x: np.where(x > 0, x, 0.2 * x), (0,),
        True),
    Act("elu", {}, lambda x: np.where(x > 0, x, np.exp(x) - 1), (0,), True),
    Act("elu", {"alpha": 0.7}, lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1)), (0,), True),
    Act("selu", {}, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
        (0,), True),
    Act("celu", {"alpha": 0.6}, lambda x: np.where(x > 0, x, 0.6 * (np.exp(x / 0.6) - 1)), (0,),
        True),
    Act("gelu", {}, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    Act("gelu", {"approximate": "tanh"},
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    Act("silu", {}, lambda x: x * _np_sigmoid(x), (), True),
    Act("mish", {}, lambda x: x * np.tanh(np.log1p(np.exp(x))), (), True),
    Act("softplus", {}, lambda x: np.log1p(np.exp(x))),
    Act("softplus", {"beta": 2.0, "threshold": 3.0},
        lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), (1.5,)),
    Act("logsigmoid", {}, lambda x: np.log(_np_sigmoid(x))),
    Act("hardtanh", {}, lambda x: np.clip(x, -1, 1), (-1, 1), True),
    Act("hardtanh", {"min_val": -0.5, "max_val": 2.0}, lambda x: np.clip(x, -0.5, 2), (-0.5, 2),
        True),
    Act("hardsigmoid", {}, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3, 3), True),
    Act("hardswish", {}, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-3, 3), True),
    Act("softsign", {}, lambda x: x / (1 + np.abs(x))),
    Act("tanhshrink", {}, lambda x: x - np.tanh(x)),
    Act("softshrink", {}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), (-0.5, 0.5)),
    Act("softshrink", {"lambd": 1.2}, lambda x: np.sign(x) * np.maximum(np.abs(x) - 1.2, 0),
        (-1.2, 1.2)),
    Act("hardshrink", {}, lambda x: np.where(np.abs(x) > 0.5, x, 0), (-0.5, 0.5)),
    Act("threshold", {"threshold": 0.3, "value": -2.0}, lambda x: np.where(x > 0.3, x, -2.0),
        (0.3,), True),
    Act("sigmoid", {}, _np_sigmoid),
    Act("tanh", {}, np.tanh),
]
IDS = [a.id for a in ACTS]


def away_from_kinks(rng, shape, kinks, low=-4.0, high=4.0, gap=0.15):
    """Uniform values, each moved at least ``gap`` away from every kink point."""
    x = rng.uniform(low, high, shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, gap, -gap) * 2
    return x


def call(act, x, **extra):
    return getattr(F, act.name)(x, **act.kwargs, **extra)


# ------------------------------------------------------------------------------------ values
@pytest.mark.parametrize("act", ACTS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy_formula(act, dtype, rng):
    x = away_from_kinks(rng, (3, 5, 4), act.kinks).astype(dtype)
    y = call(act, ember.tensor(x))
    assert y.dtype == ember.tensor(x).dtype
    assert y.shape == x.shape
    expected = act.ref(x.astype(np.float64))
    tol = dict(rtol=2e-6, atol=2e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(y.numpy(), expected, **tol)


@pytest.mark.parametrize("act", ACTS, ids=IDS)
def test_gradcheck_float64(act, rng):
    x = ember.tensor(away_from_kinks(rng, (3, 4), act.kinks), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: call(act, t), (x,), eps=1e-6, atol=1e-7,
                                    rtol=1e-6)


def test_prelu_values_and_gradcheck(rng):
    x = away_from_kinks(rng, (2, 3, 4), (0,))
    w = np.array([0.1, -0.3, 0.7])
    y = F.prelu(ember.tensor(x), ember.tensor(w))
    np.testing.assert_allclose(y.numpy(), np.where(x > 0, x, w[None, :, None] * x), rtol=1e-15)
    xt = ember.tensor(x, requires_grad=True)
    wt = ember.tensor(w, requires_grad=True)
    assert ember.autograd.gradcheck(F.prelu, (xt, wt), atol=1e-7)
    shared = ember.tensor([0.25], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(F.prelu, (xt, shared), atol=1e-7)


def test_glu_values_and_gradcheck(rng):
    x = rng.standard_normal((3, 6, 2))
    y = F.glu(ember.tensor(x), dim=1)
    np.testing.assert_allclose(y.numpy(), x[:, :3] * _np_sigmoid(x[:, 3:]), rtol=1e-14)
    xt = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.glu(t, -1), (xt,), atol=1e-7)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 "
                                           "is size 5"):
        F.glu(ember.ones(2, 5), 1)


# ---------------------------------------------------------------------------- torch parity
# torch's float64 backward of celu and hardsigmoid uses float32 constants (1/alpha and 1/6
# rounded to float): its hardsigmoid slope is off by 3e-8 relative, its celu slope
# exp(x * 1/alpha) by |x| * 5e-8 (up to 3e-7 on these inputs). ember's are exact (the gradcheck
# above and test_exact_derivatives_where_torch_rounds check that).
_F64_GRAD_RTOL = {"celu": 1e-6, "hardsigmoid": 1e-7}


def _parity(act_fn, torch_fn, x, g, dtype, grad_rtol64=1e-10):
    torch = pytest.importorskip("torch")
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye, yt = act_fn(xe), torch_fn(xt)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    if dtype == np.float32:
        fwd, bwd = dict(rtol=1e-5, atol=1e-6), dict(rtol=1e-5, atol=1e-5)
    else:
        fwd, bwd = dict(rtol=1e-12, atol=1e-14), dict(rtol=grad_rtol64, atol=1e-14)
    assert ye.dtype == getattr(ember, str(yt.dtype).split(".")[1])
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **fwd)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **bwd)


@pytest.mark.parametrize("act", ACTS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parity_with_torch(act, dtype, rng):
    torch = pytest.importorskip("torch")
    x = away_from_kinks(rng, (4, 7), act.kinks, low=-6, high=6).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    tf = getattr(torch.nn.functional, act.name)
    _parity(lambda t: call(act, t), lambda t: tf(t, **act.kwargs), x, g, dtype,
            _F64_GRAD_RTOL.get(act.name, 1e-10))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_parity_with_torch(dtype, channels, rng):
    torch = pytest.importorskip("torch")
    x = away_from_kinks(rng, (2, 3, 5), (0,)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    em, tm = nn.PReLU(channels).to(getattr(ember, dtype.__name__)), \
        torch.nn.PReLU(channels).to(getattr(torch, dtype.__name__))
    with ember.no_grad():
        em.weight.copy_(ember.tensor(np.linspace(-0.5, 0.5, channels).astype(dtype)))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(np.linspace(-0.5, 0.5, channels).astype(dtype)))
    _parity(em, tm, x, g, dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(em.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=tol,
                               atol=tol)


def test_exact_derivatives_where_torch_rounds():
    # d/dx celu(x, 0.6) = exp(x / 0.6) for x < 0; hardsigmoid' = 1/6 inside (-3, 3)
    x = ember.tensor([-0.5, -2.0], dtype=ember.float64, requires_grad=True)
    F.celu(x, alpha=0.6).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.array([-0.5, -2.0]) / 0.6),
                               rtol=1e-15)
    x = ember.tensor([-1.0, 2.5], dtype=ember.float64, requires_grad=True)
    F.hardsigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 / 6, 1 / 6], rtol=1e-15)


# ---------------------------------------------------------------------------- extreme inputs
EXTREME = [-1e4, -100.0, -50.0, -20.0, -1e-30, 0.0, 1e-30, 20.0, 50.0, 100.0, 1e4]


def _mp_formulas(mp):
    """The default-argument activations in mpmath (50 digits): the exact values."""
    def clip(x, lo, hi):
        return min(max(x, lo), hi)
    a, s = mp.mpf(SELU_ALPHA), mp.mpf(SELU_SCALE)
    return {
        "relu": lambda x: max(x, 0), "relu6": lambda x: clip(x, 0, 6),
        "leaky_relu": lambda x: x if x > 0 else x / 100,
        "elu": lambda x: x if x > 0 else mp.expm1(x),
        "selu": lambda x: s * (x if x > 0 else a * mp.expm1(x)),
        "celu": lambda x: x if x > 0 else mp.expm1(x),
        "gelu": lambda x: x * mp.ncdf(x),
        "silu": lambda x: x / (1 + mp.exp(-x)),
        "mish": lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
        "softplus": lambda x: x if x > 20 else mp.log1p(mp.exp(x)),
        "logsigmoid": lambda x: -mp.log1p(mp.exp(-x)),
        "hardtanh": lambda x: clip(x, -1, 1),
        "hardsigmoid": lambda x: clip(x + 3, 0, 6) / 6,
        "hardswish": lambda x: x * clip(x + 3, 0, 6) / 6,
        "softsign": lambda x: x / (1 + abs(x)), "tanhshrink": lambda x: x - mp.tanh(x),
        "softshrink": lambda x: x - mp.mpf(0.5) if x > 0.5 else (x + mp.mpf(0.5)
                                                                if x < -0.5 else 0),
        "hardshrink": lambda x: x if abs(x) > 0.5 else 0,
        "sigmoid": lambda x: 1 / (1 + mp.exp(-x)), "tanh": mp.tanh,
    }


DEFAULT_ACTS = [a for a in ACTS if a.kwargs == {}]


@pytest.mark.parametrize("act", DEFAULT_ACTS, ids=[a.id for a in DEFAULT_ACTS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_finite_and_exact_where_torch_is(act, dtype):
    """|x| up to 1e4: every value and slope is finite, and each one equals torch's or, where
    they differ, the exact value (50-digit mpmath) - so ember is never less exact than torch."""
    torch = pytest.importorskip("torch")
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    exact_fn = _mp_formulas(mp)[act.name]
    x = np.array(EXTREME, dtype)
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye = call(act, xe)
    yt = getattr(torch.nn.functional, act.name)(xt)
    ye.sum().backward()
    yt.sum().backward()
    ours = [ye.detach().numpy(), xe.grad.numpy()]
    theirs = [yt.detach().numpy(), xt.grad.numpy()]
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    tiny = np.finfo(dtype).tiny           # below it (subnormals) digits are lost anyway

    def close(a, b):
        return abs(float(a) - float(b)) <= rtol * abs(float(b)) + tiny

    for kind, (mine, ref) in enumerate(zip(ours, theirs)):
        assert np.all(np.isfinite(mine))
        for i, xi in enumerate(x):
            if close(mine[i], ref[i]):
                continue
            point = mp.mpf(float(xi))
            exact = exact_fn(point) if kind == 0 else mp.diff(exact_fn, point)
            assert close(mine[i], exact), (f"{act.name}{' slope' if kind else ''} at {xi}: "
                                           f"ember {mine[i]}, torch {ref[i]}, exact {exact}")


def test_sigmoid_family_keeps_relative_precision_in_the_far_tail():
    # sigmoid(-50) = 1.9287e-22: a tanh-based formula would round it to 0
    x = ember.tensor([-50.0, -30.0], dtype=ember.float64)
    expected = np.exp([-50.0, -30.0]) / (1 + np.exp([-50.0, -30.0]))
    np.testing.assert_allclose(F.sigmoid(x).numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(F.silu(x).numpy(), [-50, -30] * expected, rtol=1e-15)
    x32 = ember.tensor([-30.0], dtype=ember.float32)
    assert F.sigmoid(x32).item() == pytest.approx(math.exp(-30), rel=1e-6)


# ---------------------------------------------------------------------------- in-place
INPLACE_ACTS = [a for a in ACTS if a.inplace]


@pytest.mark.parametrize("act", INPLACE_ACTS, ids=[a.id for a in INPLACE_ACTS])
def test_inplace_writes_into_the_input_and_returns_it(act, rng):
    x = away_from_kinks(rng, (3, 4), act.kinks)
    t = ember.tensor(x.copy())
    version = t._version[0]
    out = call(act, t, inplace=True)
    assert out is t
    assert t._version[0] > version
    np.testing.assert_allclose(t.numpy(), act.ref(x), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("act", INPLACE_ACTS, ids=[a.id for a in INPLACE_ACTS])
def test_inplace_on_leaf_requiring_grad_raises_like_torch(act):
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        call(act, x, inplace=True)


@pytest.mark.parametrize("act", INPLACE_ACTS, ids=[a.id for a in INPLACE_ACTS])
def test_inplace_on_non_leaf_gives_the_out_of_place_gradient(act, rng):
    x0 = away_from_kinks(rng, (3, 4), act.kinks)
    g = rng.standard_normal(x0.shape)
    a = ember.tensor(x0, requires_grad=True)
    (call(act, a * 1.0) * ember.tensor(g)).sum().backward()
    b = ember.tensor(x0, requires_grad=True)
    h = b * 1.0
    out = call(act, h, inplace=True)
    assert out is h
    (h * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-14)


def test_underscore_variants_are_inplace():
    for fn, args in [(F.relu_, ()), (F.elu_, ()), (F.leaky_relu_, (0.1,)), (F.selu_, ()),
                     (F.celu_, ()), (F.hardtanh_, ()), (F.threshold_, (0.0, 1.0))]:
        t = ember.tensor([-1.5, 0.5])
        assert fn(t, *args) is t
    t = ember.tensor([-1.5, 0.5])
    F.threshold_(t, 0.0, 7.0)
    assert t.tolist() == [7.0, 0.5]


def test_inplace_modules():
    t = ember.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(t) is t and t.tolist() == [0.0, 2.0]
    t = ember.tensor([-1.0, 8.0])
    assert nn.ReLU6(inplace=True)(t) is t and t.tolist() == [0.0, 6.0]
    t = ember.tensor([-1.0, 2.0])
    out = nn.ReLU()(t)
    assert out is not t and t.tolist() == [-1.0, 2.0]


# ---------------------------------------------------------------------------- modules
def _module_cases(lib):
    n = lib.nn
    return [n.ReLU(), n.ReLU(True), n.ReLU6(), n.ReLU6(inplace=True), n.LeakyReLU(),
            n.LeakyReLU(0.2, True), n.ELU(), n.ELU(0.5, True), n.SELU(), n.SELU(True),
            n.CELU(), n.CELU(0.3), n.GELU(), n.GELU("tanh"), n.SiLU(), n.SiLU(True), n.Mish(),
            n.Mish(True), n.Sigmoid(), n.Tanh(), n.Softplus(), n.Softplus(2, 10),
            n.LogSigmoid(), n.Hardtanh(), n.Hardtanh(-2.0, 2, True), n.Hardsigmoid(),
            n.Hardsigmoid(True), n.Hardswish(), n.Softsign(), n.Tanhshrink(), n.Softshrink(),
            n.Softshrink(0.3), n.Hardshrink(), n.Threshold(0.1, 20),
            n.Threshold(0.1, 20, True), n.PReLU(), n.PReLU(3), n.GLU(), n.Softmax(),
            n.Softmax(1), n.LogSoftmax(dim=-1), n.Softmin(0)]


def test_module_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for e, t in zip(_module_cases(ember), _module_cases(torch)):
        assert repr(e) == repr(t)


def test_modules_compute_their_functional(rng):
    x = ember.tensor(rng.standard_normal((2, 3, 4)))
    pairs = [(nn.ReLU(), F.relu(x)), (nn.LeakyReLU(0.3), F.leaky_relu(x, 0.3)),
             (nn.ELU(0.5), F.elu(x, 0.5)), (nn.CELU(0.5), F.celu(x, 0.5)),
             (nn.SELU(), F.selu(x)), (nn.GELU("tanh"), F.gelu(x, approximate="tanh")),
             (nn.SiLU(), F.silu(x)), (nn.Mish(), F.mish(x)), (nn.Sigmoid(), F.sigmoid(x)),
             (nn.Tanh(), F.tanh(x)), (nn.Softplus(2, 5), F.softplus(x, 2, 5)),
             (nn.LogSigmoid(), F.logsigmoid(x)), (nn.Hardtanh(-0.5, 0.5), F.hardtanh(x, -.5, .5)),
             (nn.ReLU6(), F.relu6(x)), (nn.Hardsigmoid(), F.hardsigmoid(x)),
             (nn.Hardswish(), F.hardswish(x)), (nn.Softsign(), F.softsign(x)),
             (nn.Tanhshrink(), F.tanhshrink(x)), (nn.Softshrink(0.2), F.softshrink(x, 0.2)),
             (nn.Hardshrink(0.2), F.hardshrink(x, 0.2)),
             (nn.Threshold(0.1, -1.0), F.threshold(x, 0.1, -1.0)), (nn.GLU(1), None)]
    for module, expected in pairs[:-1]:
        np.testing.assert_array_equal(module(x).numpy(), expected.numpy())
    assert nn.GLU(-1)(x).shape == (2, 3, 2)


def test_prelu_module_parameters_match_torch():
    torch = pytest.importorskip("torch")
    e, t = nn.PReLU(4, init=0.1), torch.nn.PReLU(4, init=0.1)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert e.weight.shape == (4,) and e.weight.requires_grad
    np.testing.assert_array_equal(e.weight.detach().numpy(), np.full(4, 0.1, np.float32))
    assert [n for n, _ in e.named_parameters()] == ["weight"]


def test_softmax_modules_delegate_to_functional(rng):
    x = ember.tensor(rng.standard_normal((2, 5)))
    np.testing.assert_array_equal(nn.Softmax(1)(x).numpy(), F.softmax(x, 1).numpy())
    np.testing.assert_array_equal(nn.LogSoftmax(1)(x).numpy(), F.log_softmax(x, 1).numpy())
    np.testing.assert_array_equal(nn.Softmin(1)(x).numpy(), F.softmin(x, 1).numpy())
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been "
                                         "deprecated"):
        nn.Softmax()(x)


# ---------------------------------------------------------------------------- bad input
def test_errors_match_torch():
    x = ember.randn(3)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for "
                                           "input dtype Float, but found -1"):
        F.softshrink(x, -1)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, alpha=0.0)
    with pytest.raises(NotImplementedError, match="\"leaky_relu_cpu\" not implemented for "
                                                  "'Long'"):
        F.leaky_relu(ember.arange(3))
    with pytest.raises(NotImplementedError, match="\"GeluKernelImpl\" not implemented for "
                                                  "'Long'"):
        F.gelu(ember.arange(3))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 2 and channel size "
                                           "= 3."):
        F.prelu(ember.randn(2, 3, 4), ember.ones(2))
    # integer input where torch accepts it keeps its dtype
    assert F.relu(ember.tensor([-1, 2])).tolist() == [0, 2]
    assert F.hardtanh(ember.tensor([-3, 0, 3])).tolist() == [-1, 0, 1]


# ---------------------------------------------------------------------------- erf fits
def test_erf_and_erfc_match_math_to_double_precision():
    x = np.concatenate([np.linspace(-8, 8, 40001), [0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300]])
    np.testing.assert_allclose(nn_ops.erf(x), _erf(x), rtol=3e-15, atol=1e-300)
    erfc = np.vectorize(math.erfc)(x)
    np.testing.assert_allclose(nn_ops.erfc(x), erfc, rtol=1e-14, atol=1e-300)
    far = np.linspace(6, 26, 2001)          # right tail: relative error grows like x^2 eps
    np.testing.assert_allclose(nn_ops.erfc(far), np.vectorize(math.erfc)(far), rtol=1e-13)


def test_erf_float32_set_and_special_values():
    x = np.linspace(-6, 6, 20001).astype(np.float32)
    exact = _erf(x.astype(np.float64))
    got = nn_ops.erf(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, exact, rtol=1.5e-7, atol=1e-38)
    special = np.array([np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(nn_ops.erf(special), [1.0, -1.0, np.nan])
    np.testing.assert_array_equal(nn_ops.erfc(special), [0.0, 2.0, np.nan])


def test_normal_cdf_tails():
    x = np.array([-38.0, -20.0, -5.0, 0.0, 5.0, 9.0])
    expected = 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))
    np.testing.assert_allclose(nn_ops.ndtr(x), expected, rtol=1e-13)
    # gelu(x) = x Phi(x) keeps its tiny negative tail (torch's 1 + erf form rounds it to -0)
    assert F.gelu(ember.tensor([-20.0], dtype=ember.float64)).item() == \
        pytest.approx(-20.0 * expected[1], rel=1e-13)
