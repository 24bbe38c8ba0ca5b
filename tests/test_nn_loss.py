"""Losses (ember.nn.functional and ember.nn modules): values vs NumPy formulas for every
reduction, float64 gradcheck w.r.t. every differentiable argument, PyTorch parity (forward and
each gradient, float32/float64, all reductions, weights, pos_weight, broadcasting), extreme
inputs, the legacy size_average/reduce flags, module reprs and state_dict keys, torch's errors
and warnings.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]


def _away(rng, shape, kinks, low=-2.0, high=2.0, gap=0.15):
    x = rng.uniform(low, high, shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + np.where(x[near] >= k, 2 * gap, -2 * gap)
    return x


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


@dataclass
class Case:
    """One loss call: F name, inputs (positional arrays + keyword arrays/values), the indices
    of the differentiable positional inputs, and the unreduced NumPy formula."""
    id: str
    name: str
    make: Callable          # rng -> (list of float64 arrays, dict of kwargs)
    diff: tuple
    ref: Callable           # (*arrays, **kwargs) -> unreduced loss (NumPy)
    reduce_ref: Callable | None = None   # (unreduced, arrays, kwargs, reduction) -> value


def _pair(rng, kinks=(0.0,)):
    x = rng.standard_normal((4, 3))
    d = _away(rng, (4, 3), kinks)
    return x, x - d


def _mean_by_weight(loss, arrays, kw, reduction):
    if reduction == "mean":
        return loss.sum() / kw["weight"].sum()
    return _plain_reduce(loss, reduction)


def _plain_reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def _smooth_l1(d, beta):
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def _huber(d, delta):
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def _cos_loss(x1, x2, t, margin):
    cos = (x1 * x2).sum(1) / np.sqrt(((x1 * x1).sum(1) + 1e-12) * ((x2 * x2).sum(1) + 1e-12))
    return np.where(t == 1, 1 - cos, np.where(t == -1, np.maximum(cos - margin, 0), 0))


def _stirling(t):
    safe = np.where(t > 1, t, 2.0)
    return np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0)


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _cosine_inputs(rng):
    x1 = rng.standard_normal((6, 5))
    x2 = rng.standard_normal((6, 5))
    t = _signs(rng, (6,))
    cos = (x1 * x2).sum(1) / np.sqrt((x1 * x1).sum(1) * (x2 * x2).sum(1))
    x2[np.abs(cos - 0.2) < 0.05] *= -1       # keep cos away from the margin kink
    return [x1, x2, t], {"margin": 0.2}


CASES = [
    Case("mse", "mse_loss", lambda r: (list(_pair(r)), {}), (0, 1), lambda x, t: (x - t) ** 2),
    Case("mse-weight", "mse_loss", lambda r: (list(_pair(r)), {"weight": r.uniform(.5, 2, (4, 3))}),
         (0, 1), lambda x, t, weight: weight * (x - t) ** 2, _mean_by_weight),
    Case("l1", "l1_loss", lambda r: (list(_pair(r)), {}), (0, 1), lambda x, t: np.abs(x - t)),
    Case("l1-weight", "l1_loss", lambda r: (list(_pair(r)), {"weight": r.uniform(.5, 2, (4, 3))}),
         (0, 1), lambda x, t, weight: weight * np.abs(x - t), _mean_by_weight),
    Case("smooth_l1", "smooth_l1_loss", lambda r: (list(_pair(r, (0, .5, -.5))), {"beta": 0.5}),
         (0, 1), lambda x, t, beta: _smooth_l1(x - t, beta)),
    Case("smooth_l1-beta0", "smooth_l1_loss", lambda r: (list(_pair(r)), {"beta": 0.0}), (0, 1),
         lambda x, t, beta: np.abs(x - t)),
    Case("huber", "huber_loss", lambda r: (list(_pair(r, (0, .7, -.7))), {"delta": 0.7}), (0, 1),
         lambda x, t, delta: _huber(x - t, delta)),
    Case("huber-weight", "huber_loss",
         lambda r: (list(_pair(r, (0, .7, -.7))), {"delta": 0.7, "weight": r.uniform(.5, 2, (4, 3))}),
         (0, 1), lambda x, t, delta, weight: weight * _huber(x - t, delta)),
    Case("bce", "binary_cross_entropy",
         lambda r: ([r.uniform(.05, .95, (4, 3)), r.uniform(0, 1, (4, 3))], {}), (0, 1),
         lambda x, t: -(t * np.log(x) + (1 - t) * np.log(1 - x))),
    Case("bce-weight", "binary_cross_entropy",
         lambda r: ([r.uniform(.05, .95, (4, 3)), r.uniform(0, 1, (4, 3))],
                    {"weight": r.uniform(.5, 2, (3,))}), (0, 1),
         lambda x, t, weight: -weight * (t * np.log(x) + (1 - t) * np.log(1 - x))),
    Case("bce_logits", "binary_cross_entropy_with_logits",
         lambda r: ([3 * r.standard_normal((4, 3)), r.uniform(0, 1, (4, 3))], {}), (0, 1),
         lambda x, t: -(t * np.log(_sigmoid(x)) + (1 - t) * np.log(1 - _sigmoid(x)))),
    Case("bce_logits-weights", "binary_cross_entropy_with_logits",
         lambda r: ([3 * r.standard_normal((4, 3)), r.uniform(0, 1, (4, 3))],
                    {"weight": r.uniform(.5, 2, (4, 1)), "pos_weight": r.uniform(.5, 3, (3,))}),
         (0, 1),
         lambda x, t, weight, pos_weight: -weight * (pos_weight * t * np.log(_sigmoid(x)) +
                                                     (1 - t) * np.log(1 - _sigmoid(x)))),
    Case("kl_div", "kl_div",
         lambda r: ([np.log(r.uniform(.05, 1, (4, 3))), r.uniform(.05, 1, (4, 3))], {}), (0, 1),
         lambda x, t: t * (np.log(t) - x)),
    Case("kl_div-log_target", "kl_div",
         lambda r: ([np.log(r.uniform(.05, 1, (4, 3))), np.log(r.uniform(.05, 1, (4, 3)))],
                    {"log_target": True}), (0, 1),
         lambda x, t, log_target: np.exp(t) * (t - x)),
    Case("soft_margin", "soft_margin_loss",
         lambda r: ([r.standard_normal((4, 3)), _signs(r, (4, 3))], {}), (0,),
         lambda x, t: np.log1p(np.exp(-t * x))),
    Case("margin_ranking", "margin_ranking_loss",
         lambda r: ([r.standard_normal(6), r.standard_normal(6), _signs(r, (6,))], {"margin": 0.3}),
         (0, 1), lambda x1, x2, t, margin: np.maximum(-t * (x1 - x2) + margin, 0)),
    Case("hinge_embedding", "hinge_embedding_loss",
         lambda r: ([_away(r, (4, 3), (0.5,)), _signs(r, (4, 3))], {"margin": 0.5}), (0,),
         lambda x, t, margin: np.where(t == 1, x, 0) + np.where(t == -1,
                                                                np.maximum(margin - x, 0), 0)),
    Case("cosine_embedding", "cosine_embedding_loss", _cosine_inputs, (0, 1),
         lambda x1, x2, t, margin: _cos_loss(x1, x2, t, margin)),
    Case("gaussian_nll", "gaussian_nll_loss",
         lambda r: ([r.standard_normal((4, 3)), r.standard_normal((4, 3)),
                     r.uniform(.2, 2, (4, 3))], {}), (0, 1, 2),
         lambda x, t, v: 0.5 * (np.log(v) + (x - t) ** 2 / v)),
    Case("gaussian_nll-homoscedastic-full", "gaussian_nll_loss",
         lambda r: ([r.standard_normal((4, 3)), r.standard_normal((4, 3)), r.uniform(.2, 2, (4,))],
                    {"full": True}), (0, 1, 2),
         lambda x, t, v, full: 0.5 * (np.log(v[:, None]) + (x - t) ** 2 / v[:, None] +
                                      np.log(2 * np.pi))),
    Case("poisson_nll", "poisson_nll_loss",
         lambda r: ([r.standard_normal((4, 3)), 3 * r.uniform(0, 1, (4, 3))], {}), (0, 1),
         lambda x, t: np.exp(x) - t * x),
    Case("poisson_nll-full", "poisson_nll_loss",
         lambda r: ([r.uniform(.5, 3, (4, 3)), _away(r, (4, 3), (1.0,), 0, 4)],
                    {"log_input": False, "full": True}), (0, 1),
         lambda x, t, log_input, full: x - t * np.log(x + 1e-8) + _stirling(t)),
]
CASE_IDS = [c.id for c in CASES]


def _expected(case, arrays, kw, reduction):
    unreduced = case.ref(*arrays, **kw)
    if case.reduce_ref is not None:
        return case.reduce_ref(unreduced, arrays, kw, reduction)
    return _plain_reduce(unreduced, reduction)


def _to(lib, value, dtype, requires_grad=False):
    if isinstance(value, np.ndarray):
        return lib.tensor(value.astype(dtype), requires_grad=requires_grad)
    return value


def _call(lib, case, arrays, kw, reduction, dtype, grad=True):
    inputs = [_to(lib, a, dtype, grad and i in case.diff) for i, a in enumerate(arrays)]
    kwargs = {k: _to(lib, v, dtype) for k, v in kw.items()}
    out = getattr(lib.nn.functional, case.name)(*inputs, **kwargs, reduction=reduction)
    return out, inputs


# ------------------------------------------------------------------------------------ values
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy_formula(case, reduction, dtype, rng):
    arrays, kw = case.make(rng)
    out, _ = _call(ember, case, arrays, kw, reduction, dtype, grad=False)
    expected = _expected(case, arrays, kw, reduction)
    assert out.dtype == ember.tensor(np.zeros(1, dtype)).dtype
    assert tuple(out.shape) == np.shape(expected)
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(out.numpy(), expected, **tol)


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck_float64(case, reduction, rng):
    arrays, kw = case.make(rng)
    inputs = [ember.tensor(a, requires_grad=i in case.diff) for i, a in enumerate(arrays)]
    kwargs = {k: _to(ember, v, np.float64) for k, v in kw.items()}
    fn = getattr(F, case.name)
    assert ember.autograd.gradcheck(lambda *xs: fn(*xs, **kwargs, reduction=reduction), inputs,
                                    eps=1e-6, atol=1e-7, rtol=1e-6)


def test_kl_div_batchmean_and_zero_targets(rng):
    x = np.log(rng.uniform(.05, 1, (4, 3)))
    t = rng.uniform(.05, 1, (4, 3))
    t[0, 1] = 0.0                               # 0 * log 0 counts as 0
    out = F.kl_div(ember.tensor(x), ember.tensor(t), reduction="batchmean")
    ref = np.where(t == 0, 0, t * (np.log(np.where(t == 0, 1, t)) - x))
    assert out.item() == pytest.approx(ref.sum() / 4, rel=1e-14)
    xe = ember.tensor(x, requires_grad=True)
    te = ember.tensor(t, requires_grad=True)
    F.kl_div(xe, te, reduction="sum").backward()
    assert np.isfinite(te.grad.numpy()).all() and te.grad.numpy()[0, 1] == 0


# ---------------------------------------------------------------------------- torch parity
@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parity_with_torch(case, reduction, dtype, rng):
    torch = pytest.importorskip("torch")
    arrays, kw = case.make(rng)
    results = []
    for lib in (ember, torch):
        out, inputs = _call(lib, case, arrays, kw, reduction, dtype)
        g = np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(dtype)
        out.backward(lib.tensor(g))
        grads = [None if inputs[i].grad is None else inputs[i].grad.numpy() for i in case.diff]
        results.append((out.detach().numpy(), grads))
    (eo, eg), (to, tg) = results
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)
    assert eo.shape == to.shape and eo.dtype == to.dtype
    np.testing.assert_allclose(eo, to, **tol)
    for i, (a, b) in zip(case.diff, zip(eg, tg)):
        assert (a is None) == (b is None), f"input {i}"
        np.testing.assert_allclose(a, b, **tol, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "kl_div", "poisson_nll_loss"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcast_target_parity_with_torch(name, dtype, rng):
    """A (4, 1) input against a (3,) target broadcasts to (4, 3) (torch warns for mse/l1/...);
    each gradient is summed back to its own shape."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 1)).astype(dtype)
    t = rng.uniform(0.1, 2.0, 3).astype(dtype)       # valid for kl_div / poisson targets too
    res = []
    for lib in (ember, torch):
        xe = lib.tensor(x, requires_grad=True)
        te = lib.tensor(t, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(lib.nn.functional, name)(xe, te, reduction="sum")
        out.backward()
        res.append((out.item(), xe.grad.numpy(), None if te.grad is None else te.grad.numpy()))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert res[0][0] == pytest.approx(res[1][0], rel=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol)
    if res[1][2] is not None:
        np.testing.assert_allclose(res[0][2], res[1][2], rtol=tol, atol=tol)


def test_size_mismatch_warns_like_torch():
    with pytest.warns(UserWarning, match=r"Using a target size \(ember.Size\(\[3\]\)\) that is "
                                         r"different to the input size \(ember.Size\(\[3, 1\]\)\)"
                                         ". This will likely lead to incorrect results due to "
                                         "broadcasting."):
        out = F.mse_loss(ember.zeros(3, 1), ember.ones(3))
    assert out.item() == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(ember.zeros(3), ember.ones(3))      # same size: silent


# ---------------------------------------------------------------------------- extreme inputs
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_exact_for_huge_logits(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([1e4, 1e4, -1e4, -1e4, 1e4, 50.0, -50.0], dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.0, 1.0], dtype)
    expected = np.array([1e4, 0.0, 1e4, 0.0, 5e3, 50.0, 50.0])
    res = []
    for lib in (ember, torch):
        xe = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.binary_cross_entropy_with_logits(xe, lib.tensor(t),
                                                                 reduction="none")
        out.sum().backward()
        res.append((out.detach().numpy(), xe.grad.numpy()))
    (lo, go), (lt, gt) = res
    np.testing.assert_allclose(lo, expected, rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(go, [1, 0, -1, 0, 0.5, 1, -1], rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(lo, lt, rtol=1e-6)
    np.testing.assert_allclose(go, gt, rtol=1e-6, atol=1e-20)
    # with pos_weight: loss = p t softplus(-x) + (1 - t) softplus(x)
    out = F.binary_cross_entropy_with_logits(ember.tensor(x), ember.tensor(t),
                                             pos_weight=ember.tensor(np.array([3.0], dtype)),
                                             reduction="none")
    np.testing.assert_allclose(out.numpy(), [1e4, 0, 3e4, 0, 5e3, 50, 150], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_clamps_log_at_minus_100_like_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype)
    res = []
    for lib in (ember, torch):
        xe = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.binary_cross_entropy(xe, lib.tensor(t), reduction="none")
        out.sum().backward()
        res.append((out.detach().numpy(), xe.grad.numpy()))
    (lo, go), (lt, gt) = res
    np.testing.assert_allclose(lo, [100, 100, 0, 0, min(100, -math.log(float(x[4])))],
                               rtol=1e-6)
    assert np.isfinite(go).all()
    np.testing.assert_allclose(lo, lt, rtol=1e-6)
    np.testing.assert_allclose(go, gt, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_margin_is_finite_for_huge_margins(dtype):
    # log(1 + exp(1e4)) = 1e4 exactly in floating point (torch's log1p(exp(.)) gives inf)
    x = ember.tensor(np.array([1e4, -1e4, 1e4], dtype), requires_grad=True)
    t = ember.tensor(np.array([-1.0, 1.0, 1.0], dtype))
    out = F.soft_margin_loss(x, t, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), [1e4, 1e4, 0.0], rtol=1e-7)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0], atol=1e-30)


def test_regression_losses_at_large_values():
    x = ember.tensor([1e4, -1e4, 3e4], dtype=ember.float32, requires_grad=True)
    t = ember.tensor([-1e4, 1e4, 3e4], dtype=ember.float32)
    assert F.mse_loss(x, t, reduction="sum").item() == pytest.approx(8e8, rel=1e-6)
    assert F.huber_loss(x, t, reduction="sum", delta=2.0).item() == \
        pytest.approx(2 * 2 * (2e4 - 1), rel=1e-6)
    F.smooth_l1_loss(x, t, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, -1, 0])


# ---------------------------------------------------------------------------- reductions
def test_invalid_reduction_message_like_torch():
    x, t = ember.rand(3), ember.rand(3)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy,
               F.binary_cross_entropy_with_logits, F.soft_margin_loss, F.kl_div,
               F.poisson_nll_loss):
        with pytest.raises(ValueError, match="^foo is not a valid value for reduction$"):
            fn(x, t, reduction="foo")
    loss = nn.MSELoss(reduction="foo")           # accepted at construction, like torch
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        loss(x, t)
    with pytest.raises(ValueError, match="^foo is not valid$"):
        F.gaussian_nll_loss(x, t, ember.ones(3), reduction="foo")
    with pytest.raises(ValueError, match="batchmean is not a valid value for reduction"):
        F.mse_loss(x, t, reduction="batchmean")


@pytest.mark.parametrize("size_average,reduce,expected", [
    (False, None, "sum"), (None, False, "none"), (True, True, "mean"), (False, True, "sum"),
    (True, False, "none")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    x, t = ember.tensor([1.0, 2.0, 4.0]), ember.zeros(3)
    with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, "
                                         f"please use reduction='{expected}' instead."):
        out = F.mse_loss(x, t, size_average=size_average, reduce=reduce)
    ref = {"sum": 21.0, "mean": 7.0, "none": [1.0, 4.0, 16.0]}[expected]
    np.testing.assert_allclose(out.numpy(), ref)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        module = nn.L1Loss(size_average=size_average, reduce=reduce)
    assert module.reduction == expected


def test_elementwise_mean_is_deprecated_mean():
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        out = F.l1_loss(ember.tensor([1.0, 3.0]), ember.zeros(2), reduction="elementwise_mean")
    assert out.item() == 2.0


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the "
                                         "batch size and the support size."):
        F.kl_div(ember.zeros(2, 3), ember.ones(2, 3))


def test_empty_input_mean_is_nan_sum_is_zero():
    e = ember.zeros(0)
    assert math.isnan(F.mse_loss(e, e).item())
    assert F.mse_loss(e, e, reduction="sum").item() == 0.0


# ---------------------------------------------------------------------------- bad input
def test_errors_match_torch():
    p = ember.rand(2, 3) * 0.8 + 0.1
    with pytest.raises(ValueError, match=r"Using a target size \(ember.Size\(\[3\]\)\) that is "
                                         r"different to the input size \(ember.Size\(\[2, 3\]\)\)"
                                         " is deprecated. Please ensure they have the same size."):
        F.binary_cross_entropy(p, ember.rand(3))
    with pytest.raises(ValueError, match=r"Target size \(ember.Size\(\[3\]\)\) must be the same "
                                         r"as input size \(ember.Size\(\[2, 3\]\)\)"):
        F.binary_cross_entropy_with_logits(p, ember.rand(3))
    with pytest.raises(RuntimeError, match="The size of tensor a \\(2\\) must match the size of "
                                           "tensor b \\(4\\) at non-singleton dimension 1"), \
            pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(ember.zeros(3, 2), ember.zeros(4))
    with pytest.raises(RuntimeError, match=r"output with shape \[4, 1\] doesn't match the "
                                           r"broadcast shape \[4, 3\]"):
        F.soft_margin_loss(ember.zeros(4, 1), ember.ones(3))
    assert F.soft_margin_loss(ember.zeros(4, 3), ember.ones(3), reduction="none").shape == (4, 3)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([3.0]))
    with pytest.raises(RuntimeError, match="The function 'binary_cross_entropy' is not "
                                           "differentiable with respect to argument 'weight'"):
        F.binary_cross_entropy(p, p.detach(), weight=ember.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match="is not differentiable with respect to argument "
                                           "'pos_weight'"):
        F.binary_cross_entropy_with_logits(p, p.detach(),
                                           pos_weight=ember.ones(3, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 3\] doesn't match the "
                                           r"broadcast shape \[2, 2, 3\]"):
        F.binary_cross_entropy(p, p.detach(), weight=ember.ones(2, 2, 3))
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for "
                                           "delta."):
        F.huber_loss(p, p, delta=0.0)
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for "
                                           "beta."):
        F.smooth_l1_loss(p, p, beta=-1.0)
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(p, p, weight=ember.ones(3))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(ember.ones(2, 3, 2), ember.ones(2, 3, 2), ember.ones(2))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not "
                                           "supported"):
        F.cosine_embedding_loss(ember.ones(2, 3), ember.ones(2, 3), ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="margin_ranking_loss : All input tensors should have "
                                           "same dimension"):
        F.margin_ranking_loss(ember.ones(3), ember.ones(3), ember.ones(1, 3))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(p, p, -ember.ones(2, 3))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(p, p, ember.ones(5))


# ---------------------------------------------------------------------------- modules
def _loss_modules(lib):
    n = lib.nn
    return [n.L1Loss(), n.MSELoss(reduction="sum"), n.SmoothL1Loss(beta=0.5), n.HuberLoss(),
            n.BCELoss(), n.BCEWithLogitsLoss(pos_weight=lib.ones(3)),
            n.CrossEntropyLoss(weight=lib.ones(3)), n.NLLLoss(), n.KLDivLoss(),
            n.SoftMarginLoss(), n.MarginRankingLoss(0.1), n.HingeEmbeddingLoss(),
            n.CosineEmbeddingLoss(), n.GaussianNLLLoss(), n.PoissonNLLLoss()]


def test_module_reprs_attributes_and_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    for e, t in zip(_loss_modules(ember), _loss_modules(torch)):
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
        assert e.reduction == t.reduction
        for attr in ("beta", "delta", "margin", "log_target", "full", "eps", "log_input",
                     "ignore_index", "label_smoothing"):
            assert getattr(e, attr, None) == getattr(t, attr, None), attr


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_modules_compute_the_functional(case, rng):
    arrays, kw = case.make(rng)
    modules = {
        "mse_loss": lambda kw: nn.MSELoss(reduction="sum"),
        "l1_loss": lambda kw: nn.L1Loss(reduction="sum"),
        "smooth_l1_loss": lambda kw: nn.SmoothL1Loss(reduction="sum", beta=kw["beta"]),
        "huber_loss": lambda kw: nn.HuberLoss(reduction="sum", delta=kw["delta"]),
        "binary_cross_entropy": lambda kw: nn.BCELoss(weight=_to(ember, kw.get("weight"),
                                                                 np.float64), reduction="sum"),
        "binary_cross_entropy_with_logits": lambda kw: nn.BCEWithLogitsLoss(
            weight=_to(ember, kw.get("weight"), np.float64), reduction="sum",
            pos_weight=_to(ember, kw.get("pos_weight"), np.float64)),
        "kl_div": lambda kw: nn.KLDivLoss(reduction="sum", log_target=kw.get("log_target", 0)),
        "soft_margin_loss": lambda kw: nn.SoftMarginLoss(reduction="sum"),
        "margin_ranking_loss": lambda kw: nn.MarginRankingLoss(kw["margin"], reduction="sum"),
        "hinge_embedding_loss": lambda kw: nn.HingeEmbeddingLoss(kw["margin"], reduction="sum"),
        "cosine_embedding_loss": lambda kw: nn.CosineEmbeddingLoss(kw["margin"],
                                                                   reduction="sum"),
        "gaussian_nll_loss": lambda kw: nn.GaussianNLLLoss(full=kw.get("full", False),
                                                           reduction="sum"),
        "poisson_nll_loss": lambda kw: nn.PoissonNLLLoss(log_input=kw.get("log_input", True),
                                                         full=kw.get("full", False),
                                                         reduction="sum"),
    }
    if "weight" in kw and case.name in ("mse_loss", "l1_loss", "huber_loss"):
        return      # the modules have no weight argument (torch's neither)
    module = modules[case.name](kw)
    inputs = [ember.tensor(a) for a in arrays]
    expected = _expected(case, arrays, kw, "sum")
    assert module(*inputs).item() == pytest.approx(float(expected), rel=1e-12)


def test_weighted_loss_buffers_follow_the_module():
    w = ember.tensor([1.0, 2.0, 3.0])
    loss = nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    assert [n for n, _ in loss.named_buffers()] == ["weight", "pos_weight"]
    loss.double()
    assert loss.weight.dtype == ember.float64 and loss.pos_weight.dtype == ember.float64
    assert list(nn.BCELoss().state_dict()) == []


def test_cross_entropy_and_nll_modules_delegate_to_functional(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, -100, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    for kwargs in ({}, {"weight": w}, {"label_smoothing": 0.1}, {"ignore_index": 3}):
        if "ignore_index" in kwargs:
            y = np.array([0, 3, 1, 3, 2])
        e_kw = {k: _to(ember, v, np.float64) for k, v in kwargs.items()}
        t_kw = {k: _to(torch, v, np.float64) for k, v in kwargs.items()}
        ce_e = nn.CrossEntropyLoss(**e_kw)(ember.tensor(x), ember.tensor(y))
        ce_t = torch.nn.CrossEntropyLoss(**t_kw)(torch.tensor(x), torch.tensor(y))
        assert ce_e.item() == pytest.approx(ce_t.item(), rel=1e-12)
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    nll_e = nn.NLLLoss(weight=ember.tensor(w))(ember.tensor(logp), ember.tensor(y))
    nll_t = torch.nn.NLLLoss(weight=torch.tensor(w))(torch.tensor(logp), torch.tensor(y))
    assert nll_e.item() == pytest.approx(nll_t.item(), rel=1e-12)


# ---------------------------------------------------------------------------- training
def test_logistic_regression_trains_like_torch(rng):
    """The same BCE-with-logits model, data and SGD steps in ember and torch end at the same
    loss and weights (float64), and the loss actually falls."""
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((64, 5))
    y = (X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.3 > 0).astype(np.float64)[:, None]
    w0 = rng.standard_normal((1, 5)) * 0.1
    final = []
    for lib in (ember, torch):
        model = lib.nn.Linear(5, 1).double()
        with lib.no_grad():
            model.weight.copy_(lib.tensor(w0))
            model.bias.zero_()
        loss_fn = lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor([1.5], dtype=lib.float64))
        losses = []
        for _ in range(40):
            loss = loss_fn(model(lib.tensor(X)), lib.tensor(y))
            for p in model.parameters():
                p.grad = None
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.5 * p.grad
            losses.append(loss.item())
        final.append((losses, model.weight.detach().numpy().copy()))
    (le, we), (lt, wt) = final
    assert le[-1] < 0.5 * le[0]
    np.testing.assert_allclose(le, lt, rtol=1e-10)
    np.testing.assert_allclose(we, wt, rtol=1e-9)
