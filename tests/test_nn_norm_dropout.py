"""Normalisation (batch/layer/group/RMS norm), dropout and noise layers.

Normalisation: values vs a NumPy formula, float64 gradcheck of every input, PyTorch parity of the
forward pass and every gradient in training and eval mode, running statistics over several steps
(momentum, momentum=None, affine=False, track_running_stats=False), state_dict keys/values,
reprs, torch's errors, and a small network that trains like torch's. Dropout: mask statistics,
scaling, eval identity, channel-wise masks, AlphaDropout's moments, reproducibility, in-place
rules, errors. GaussianNoise/GaussianDropout (Keras): statistics and train/eval behaviour.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}


def _lib_dtype(lib, dtype):
    return getattr(lib, np.dtype(dtype).name)


# =============================================================================================
# batch norm
# =============================================================================================
def _np_batch_norm(x, w, b, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * w.reshape(shape) + b.reshape(shape), mean, var


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_training_values_and_running_update(shape, rng):
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.uniform(.5, 1.5, 3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.uniform(.5, 2, 3)
    rm_t, rv_t = ember.tensor(rm.copy()), ember.tensor(rv.copy())
    version = rm_t._version[0]
    y = F.batch_norm(ember.tensor(x), rm_t, rv_t, ember.tensor(w), ember.tensor(b),
                     training=True, momentum=0.3, eps=1e-3)
    expected, mean, var = _np_batch_norm(x, w, b, 1e-3)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    n = x.size // 3
    np.testing.assert_allclose(rm_t.numpy(), 0.7 * rm + 0.3 * mean, rtol=1e-13)
    np.testing.assert_allclose(rv_t.numpy(), 0.7 * rv + 0.3 * var * n / (n - 1), rtol=1e-13)
    assert rm_t._version[0] > version


def test_batch_norm_eval_uses_running_statistics(rng):
    x = rng.standard_normal((5, 3, 2))
    rm, rv = rng.standard_normal(3), rng.uniform(.5, 2, 3)
    w, b = rng.uniform(.5, 1.5, 3), rng.standard_normal(3)
    y = F.batch_norm(ember.tensor(x), ember.tensor(rm), ember.tensor(rv), ember.tensor(w),
                     ember.tensor(b), training=False, eps=1e-5)
    s = (1, 3, 1)
    expected = (x - rm.reshape(s)) / np.sqrt(rv.reshape(s) + 1e-5) * w.reshape(s) + b.reshape(s)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-13)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck(training, affine, rng):
    x = ember.tensor(rng.standard_normal((4, 3, 2)) + 0.5, requires_grad=True)
    rm, rv = ember.tensor(rng.standard_normal(3)), ember.tensor(rng.uniform(.5, 2, 3))
    inputs = [x]
    if affine:
        inputs += [ember.tensor(rng.uniform(.5, 1.5, 3), requires_grad=True),
                   ember.tensor(rng.standard_normal(3), requires_grad=True)]

    def fn(*xs):
        w, b = (xs[1], xs[2]) if affine else (None, None)
        return F.batch_norm(xs[0], None if training else rm, None if training else rv, w, b,
                            training=training, eps=1e-3)
    assert ember.autograd.gradcheck(fn, inputs, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (6, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 5, 6)),
                                       ("BatchNorm3d", (2, 3, 2, 3, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False},
                                    {"track_running_stats": False},
                                    {"momentum": 0.5, "eps": 1e-3}, {"bias": False}],
                         ids=["default", "cumulative", "no-affine", "no-stats", "m0.5", "nobias"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_module_parity_with_torch(cls, shape, kwargs, dtype, rng):
    """Several training steps then eval: outputs, every gradient, and the whole state_dict
    (running statistics, num_batches_tracked) equal torch's at each step."""
    torch = pytest.importorskip("torch")
    em = getattr(nn, cls)(3, **kwargs).to(_lib_dtype(ember, dtype))
    tm = getattr(torch.nn, cls)(3, **kwargs).to(_lib_dtype(torch, dtype))
    if em.weight is not None:
        w = rng.uniform(.5, 1.5, 3).astype(dtype)
        with ember.no_grad():
            em.weight.copy_(ember.tensor(w))
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
    tol = TOL[dtype]
    for step in range(4):
        if step == 3:
            em.eval()
            tm.eval()
        x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
        g = rng.standard_normal(shape).astype(dtype)
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = em(xe), tm(xt)
        ye.backward(ember.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **tol)
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **tol)
        for name, pe in em.named_parameters():
            pt = dict(tm.named_parameters())[name]
            np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), **tol, err_msg=name)
            pe.grad, pt.grad = None, None
        sd_e, sd_t = em.state_dict(), tm.state_dict()
        assert list(sd_e) == list(sd_t)
        for key in sd_t:
            assert sd_e[key].dtype == getattr(ember, str(sd_t[key].dtype).split(".")[1]), key
            np.testing.assert_allclose(sd_e[key].numpy(), sd_t[key].numpy(), **tol, err_msg=key)


def test_batch_norm_momentum_none_is_the_cumulative_average(rng):
    bn = nn.BatchNorm1d(2, momentum=None).double()
    batches = [rng.standard_normal((5, 2)) * (i + 1) for i in range(3)]
    for x in batches:
        bn(ember.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([x.mean(0) for x in batches], axis=0), rtol=1e-13)
    # the cumulative average starts from the initial running_var of 1 with weight 0
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in batches], axis=0), rtol=1e-13)
    assert bn.num_batches_tracked.item() == 3 and bn.num_batches_tracked.dtype == ember.int64


def test_batch_norm_eval_without_running_stats_uses_the_batch(rng):
    bn = nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    x = rng.standard_normal((6, 3))
    expected, _, _ = _np_batch_norm(x, np.ones(3), np.zeros(3), 1e-5)
    np.testing.assert_allclose(bn(ember.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    assert bn.running_mean is None and bn.num_batches_tracked is None


def test_batch_norm_reprs_and_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")

    def cases(lib):
        n = lib.nn
        return [n.BatchNorm1d(3), n.BatchNorm2d(3), n.BatchNorm3d(4, eps=1e-3, momentum=0.2),
                n.BatchNorm2d(3, momentum=None, affine=False, track_running_stats=False),
                n.BatchNorm1d(5, affine=False), n.BatchNorm2d(2, bias=False)]
    for e, t in zip(cases(ember), cases(torch)):
        assert repr(e) == repr(t)
        assert list(e.state_dict()) == list(t.state_dict())
        assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
        assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]


def test_batch_norm_loads_a_torch_state_dict(rng):
    torch = pytest.importorskip("torch")
    tm = torch.nn.BatchNorm2d(3).double()
    for _ in range(3):
        tm(torch.tensor(rng.standard_normal((4, 3, 2, 2)) * 2 + 1))
    em = nn.BatchNorm2d(3).double()
    em.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    em.eval()
    tm.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert em.num_batches_tracked.item() == 3


def test_batch_norm_errors_match_torch():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size ember.Size\(\[1, 3\]\)"):
        nn.BatchNorm1d(3)(ember.ones(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm2d(3)(ember.ones(1, 3, 1, 1))
    assert nn.BatchNorm1d(3).eval()(ember.ones(1, 3)).shape == (1, 3)   # fine in eval mode
    with pytest.raises(RuntimeError, match="running_mean should contain 5 elements not 3"):
        nn.BatchNorm1d(3)(ember.ones(4, 5))
    with pytest.raises(RuntimeError, match="running_mean should contain 5 elements not 3"):
        nn.BatchNorm2d(3)(ember.ones(4, 5, 2, 2))
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(ember.ones(4, 3), None, None, weight=ember.ones(4), training=True)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(ember.ones(4, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ember.ones(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(3)(ember.ones(4, 3, 2, 2))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(ember.ones(4, 3), None, None, training=False)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but "
                                         "got 0.0"):
        F.batch_norm(ember.randn(4, 3), None, None, training=True, eps=0.0)


# =============================================================================================
# layer norm, group norm, RMS norm
# =============================================================================================
@pytest.mark.parametrize("shape,ns", [((5, 3), (3,)), ((4, 3, 7), (3, 7)), ((2, 3, 4, 5), (5,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_values_and_gradcheck(shape, ns, affine, rng):
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.uniform(.5, 1.5, ns), rng.standard_normal(ns)
    axes = tuple(range(len(shape) - len(ns), len(shape)))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-4)
    if affine:
        expected = expected * w + b
    args = (ember.tensor(w), ember.tensor(b)) if affine else (None, None)
    y = F.layer_norm(ember.tensor(x), ns, *args, eps=1e-4)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-13)
    xt = ember.tensor(x[:2] if len(shape) > 2 else x, requires_grad=True)
    if affine:
        wt, bt = ember.tensor(w, requires_grad=True), ember.tensor(b, requires_grad=True)
        fn, inputs = (lambda a, c, d: F.layer_norm(a, ns, c, d, 1e-4)), (xt, wt, bt)
    else:
        fn, inputs = (lambda a: F.layer_norm(a, ns, eps=1e-4)), (xt,)
    assert ember.autograd.gradcheck(fn, inputs, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("shape,groups", [((5, 6), 3), ((4, 6, 7), 2), ((2, 4, 3, 5), 4),
                                          ((2, 4, 3, 5), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_values_and_gradcheck(shape, groups, affine, rng):
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    w, b = rng.uniform(.5, 1.5, c), rng.standard_normal(c)
    xg = x.reshape(shape[0], groups, -1)
    y = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-4))
    y = y.reshape(shape)
    cs = (1, c) + (1,) * (len(shape) - 2)
    if affine:
        y = y * w.reshape(cs) + b.reshape(cs)
    args = (ember.tensor(w), ember.tensor(b)) if affine else (None, None)
    out = F.group_norm(ember.tensor(x), groups, *args, eps=1e-4)
    np.testing.assert_allclose(out.numpy(), y, rtol=1e-12, atol=1e-13)
    xt = ember.tensor(x[:2], requires_grad=True)
    if affine:
        wt, bt = ember.tensor(w, requires_grad=True), ember.tensor(b, requires_grad=True)
        fn, inputs = (lambda a, p, q: F.group_norm(a, groups, p, q, 1e-4)), (xt, wt, bt)
    else:
        fn, inputs = (lambda a: F.group_norm(a, groups, eps=1e-4)), (xt,)
    assert ember.autograd.gradcheck(fn, inputs, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_values_and_gradcheck(affine, rng):
    x = rng.standard_normal((3, 4, 5))
    w = rng.uniform(.5, 1.5, (4, 5))
    expected = x / np.sqrt((x * x).mean(axis=(1, 2), keepdims=True) + 1e-4)
    if affine:
        expected = expected * w
    y = F.rms_norm(ember.tensor(x), (4, 5), ember.tensor(w) if affine else None, eps=1e-4)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-13)
    xt = ember.tensor(x, requires_grad=True)
    if affine:
        wt = ember.tensor(w, requires_grad=True)
        assert ember.autograd.gradcheck(lambda a, b: F.rms_norm(a, (4, 5), b, 1e-4), (xt, wt),
                                        atol=1e-7)
    else:
        assert ember.autograd.gradcheck(lambda a: F.rms_norm(a, (5,)), (xt,), atol=1e-7)


def _norm_cases(lib, dtype, rng):
    """(name, module, input shape) for the per-sample normalisation layers."""
    n = lib.nn
    return [("ln", n.LayerNorm(5), (4, 3, 5)), ("ln2", n.LayerNorm((3, 5), eps=1e-3), (4, 3, 5)),
            ("ln-noaffine", n.LayerNorm(5, elementwise_affine=False), (6, 5)),
            ("ln-nobias", n.LayerNorm(5, bias=False), (6, 5)),
            ("gn", n.GroupNorm(2, 6), (3, 6, 4)), ("gn4d", n.GroupNorm(3, 6, eps=1e-3), (2, 6, 3, 2)),
            ("gn-noaffine", n.GroupNorm(3, 6, affine=False), (3, 6, 5)),
            ("rms", n.RMSNorm(5), (4, 3, 5)), ("rms-eps", n.RMSNorm((3, 5), eps=1e-4), (4, 3, 5))]


@pytest.mark.parametrize("index", range(9))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_sample_norm_modules_parity_with_torch(index, dtype, rng):
    torch = pytest.importorskip("torch")
    _, em, shape = _norm_cases(ember, dtype, rng)[index]
    _, tm, _ = _norm_cases(torch, dtype, rng)[index]
    em.to(_lib_dtype(ember, dtype))
    tm.to(_lib_dtype(torch, dtype))
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    for name, p in em.named_parameters():      # non-trivial affine parameters
        v = rng.uniform(.5, 1.5, tuple(p.shape)).astype(dtype)
        with ember.no_grad():
            p.copy_(ember.tensor(v))
        with torch.no_grad():
            dict(tm.named_parameters())[name].copy_(torch.tensor(v))
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = em(xe), tm(xt)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    tol = TOL[dtype]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), **tol)
    for name, p in em.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(tm.named_parameters())[name].grad.numpy(),
                                   **tol, err_msg=name)


def test_per_sample_norm_errors_match_torch():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[3\], expected input with "
                                           r"shape \[\*, 3\], but got input of size\[4, 5\]"):
        nn.LayerNorm(3)(ember.ones(4, 5))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as "
                                           r"normalized_shape, but got weight of shape \[4\] and "
                                           r"normalized_shape = \[3\]"):
        F.layer_norm(ember.ones(4, 3), (3,), weight=ember.ones(4))
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups "
                                         r"\(2\)"):
        nn.GroupNorm(2, 3)
    with pytest.raises(RuntimeError, match=r"Expected weight to be a vector of size equal to the "
                                           r"number of channels in input, but got weight of "
                                           r"shape \[4\] and input of shape \[2, 6, 3\]"):
        nn.GroupNorm(2, 4)(ember.ones(2, 6, 3))
    with pytest.raises(RuntimeError, match=r"Expected number of channels in input to be "
                                           r"divisible by num_groups, but got input of shape "
                                           r"\[4, 6\] and num_groups=4"):
        F.group_norm(ember.ones(4, 6), 4)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions for input tensor but "
                                           "received 1"):
        F.group_norm(ember.ones(4), 2)


def test_normalize_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 4))
    x[1] = 0.0                                  # the eps clamp keeps a zero row at zero
    for p, dim in ((2.0, 1), (1.0, 0), (3.0, -1), (math.inf, 1)):
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = F.normalize(xe, p, dim), torch.nn.functional.normalize(xt, p, dim)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        ye.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_normalize_gradcheck(p, rng):
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.normalize(t, p, dim=1), (x,), atol=1e-7)
    y = F.normalize(ember.tensor(rng.standard_normal((2, 5))), p, dim=-1).numpy()
    np.testing.assert_allclose(np.linalg.norm(y, ord=p, axis=-1), 1.0, rtol=1e-12)


def test_mlp_with_batch_norm_trains_like_torch(rng):
    """Linear -> BatchNorm1d -> ReLU -> Linear with identical initial weights and SGD in both
    libraries: the same losses every step (float64) and the same running statistics."""
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((32, 4))
    y = np.sin(X @ np.array([1.0, -1.0, 0.5, 2.0]))[:, None]
    init = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1,
            rng.standard_normal((1, 8)) * 0.5, np.zeros(1)]
    runs = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(),
                                  lib.nn.Linear(8, 1)).double()
        with lib.no_grad():
            for p, v in zip([model[0].weight, model[0].bias, model[3].weight, model[3].bias],
                            init):
                p.copy_(lib.tensor(v))
        losses = []
        for _ in range(25):
            loss = lib.nn.functional.mse_loss(model(lib.tensor(X)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
            losses.append(loss.item())
        runs.append((losses, model[1].running_var.numpy().copy()))
    (le, rve), (lt, rvt) = runs
    assert le[-1] < 0.5 * le[0]
    np.testing.assert_allclose(le, lt, rtol=1e-9)
    np.testing.assert_allclose(rve, rvt, rtol=1e-9)


# =============================================================================================
# dropout
# =============================================================================================
DROPOUT_FNS = [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout,
               F.feature_alpha_dropout]


@pytest.mark.parametrize("fn", DROPOUT_FNS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("p", [-0.1, 1.1])
def test_dropout_probability_out_of_range(fn, p):
    with pytest.raises(ValueError, match=f"^dropout probability has to be between 0 and 1, but "
                                         f"got {p}$"):
        fn(ember.ones(2, 3, 4, 5), p)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                 "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_modules_check_p_and_repr_like_torch(cls):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got -0.1"):
        getattr(nn, cls)(p=-0.1)
    for args in ((), (0.2,), (0.3, True)):
        assert repr(getattr(nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))


@pytest.mark.parametrize("fn", DROPOUT_FNS, ids=lambda f: f.__name__)
def test_dropout_is_identity_in_eval_mode_and_for_p0(fn):
    x = ember.randn(2, 3, 4) if fn is F.dropout1d else ember.randn(2, 3, 4, 5)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x


def test_dropout_mask_statistics_and_scaling():
    ember.manual_seed(0)
    p, n = 0.3, 200_000
    x = ember.ones(n, requires_grad=True)
    y = F.dropout(x, p)
    v = y.detach().numpy()
    dropped = np.mean(v == 0)
    assert abs(dropped - p) < 4 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(np.unique(v), [0.0, 1 / (1 - p)], rtol=1e-7)
    assert abs(v.mean() - 1.0) < 0.01                         # unbiased in expectation
    y.backward(ember.ones(n))
    np.testing.assert_array_equal(x.grad.numpy(), v)          # dy/dx is the scaled mask


def test_dropout_p1_gives_zeros_and_zero_gradient():
    x = ember.ones(3, 4, requires_grad=True)
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_is_reproducible_with_manual_seed():
    x = ember.ones(1000)
    ember.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    ember.manual_seed(123)
    b = F.dropout(x, 0.5).numpy()
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def _channel_values(y, lead):
    """Each channel's distinct values (a channel = every element with the same leading
    ``lead`` indices)."""
    flat = y.reshape(int(np.prod(y.shape[:lead])), -1)
    return [np.unique(row) for row in flat]


@pytest.mark.parametrize("fn,shape,lead", [
    (F.dropout2d, (8, 16, 3, 3), 2), (F.dropout1d, (8, 16, 5), 2), (F.dropout1d, (64, 5), 1),
    (F.dropout3d, (4, 8, 2, 2, 2), 2), (F.dropout3d, (32, 2, 2, 2), 1)])
def test_channel_dropout_zeroes_whole_channels(fn, shape, lead):
    ember.manual_seed(1)
    y = fn(ember.ones(*shape), 0.5).numpy()
    channels = _channel_values(y, lead)
    assert all(len(v) == 1 for v in channels)                 # a channel is all-in or all-out
    kept = np.array([v[0] for v in channels])
    assert set(np.unique(kept)) == {0.0, 2.0}
    assert 0.25 < np.mean(kept == 0) < 0.75


def test_dropout2d_warnings_and_dropout1d_errors_like_torch():
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input to dropout2d and "
                                         "assuming that channel-wise 1D dropout behavior is "
                                         "desired"):
        y = F.dropout2d(ember.ones(4, 8, 5), 0.5).numpy()
    assert all(len(v) == 1 for v in _channel_values(y, 2))
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d, which "
                                         "is deprecated"):
        F.dropout2d(ember.ones(4, 8), 0.5)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input."):
        F.dropout1d(ember.ones(2, 3, 4, 5), training=False)     # checked even in eval, as torch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(ember.ones(2, 3, 4, 5))                   # 4-D: silent


def test_alpha_dropout_keeps_selu_moments():
    """On SELU-normalised activations (mean 0, variance 1) alpha dropout keeps mean ~0 and
    variance ~1; kept values are a (x + alpha p) and dropped ones -a alpha (1 - p)."""
    ember.manual_seed(3)
    x = F.selu(ember.randn(400_000, dtype=ember.float64))
    xs = x.numpy()
    assert abs(xs.mean()) < 0.01 and abs(xs.var() - 1) < 0.02
    for p in (0.1, 0.3):
        y = F.alpha_dropout(x, p, training=True).numpy()
        assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.02
        alpha = 1.7580993408473766
        a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
        dropped_value = -a * alpha * (1 - p)
        dropped = np.isclose(y, dropped_value, rtol=1e-12, atol=0)
        assert abs(dropped.mean() - p) < 0.005
        np.testing.assert_allclose(y[~dropped], a * (xs[~dropped] + alpha * p), rtol=1e-12,
                                   atol=1e-15)


def test_feature_alpha_dropout_drops_channels():
    ember.manual_seed(4)
    y = F.feature_alpha_dropout(ember.zeros(8, 16, 3), 0.5, training=True).numpy()
    assert all(len(v) == 1 for v in _channel_values(y, 2))


def test_dropout_inplace_rules():
    x = ember.ones(100)
    assert F.dropout(x, 0.5, inplace=True) is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    leaf = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        F.dropout(leaf, 0.5, inplace=True)
    # on a non-leaf the in-place mask is part of the graph
    ember.manual_seed(5)
    a = ember.ones(50, requires_grad=True)
    h = a * 1.0
    nn.Dropout(0.5, inplace=True)(h)
    h.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), h.detach().numpy())


def test_dropout_modules_follow_train_and_eval():
    x = ember.ones(4, 6, 3, 3)
    for module in (nn.Dropout(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5)):
        assert module(x) is not x
        module.eval()
        assert module(x) is x
        module.train()
        assert module(x) is not x


# =============================================================================================
# noise (Keras names)
# =============================================================================================
def test_gaussian_noise_statistics_train_and_eval():
    ember.manual_seed(6)
    layer = nn.GaussianNoise(0.3)
    assert repr(layer) == "GaussianNoise(stddev=0.3)"
    x = ember.full((500, 400), 2.0, requires_grad=True)
    y = layer(x)
    noise = y.detach().numpy() - 2.0
    assert abs(noise.mean()) < 0.003 and abs(noise.std() - 0.3) < 0.003
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((500, 400), np.float32))
    layer.eval()
    assert layer(x) is x
    assert nn.GaussianNoise(0.0)(x) is x


def test_gaussian_noise_seed_and_dtype():
    a = nn.GaussianNoise(1.0, seed=7)(ember.zeros(5, dtype=ember.float64))
    b = nn.GaussianNoise(1.0, seed=7)(ember.zeros(5, dtype=ember.float64))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == ember.float64
    with pytest.raises(ValueError, match="Expected a float value >= 0. Received: stddev=-1"):
        nn.GaussianNoise(-1)


def test_gaussian_dropout_statistics():
    ember.manual_seed(8)
    layer = nn.GaussianDropout(0.2)
    assert repr(layer) == "GaussianDropout(rate=0.2)"
    x = ember.ones(200_000, requires_grad=True)
    y = layer(x)
    m = y.detach().numpy()
    assert abs(m.mean() - 1) < 0.005 and abs(m.var() - 0.25) < 0.005   # rate / (1 - rate)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), m)
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        nn.GaussianDropout(1.5)
