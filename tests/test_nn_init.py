"""nn.init: every scheme's distribution (bounds, mean, std over large tensors) against torch's
formulas and torch's own samples, fans for dense and conv weights, calculate_gain for every
nonlinearity, orthogonality, truncation, in-place semantics, seeding, and the default
initialisation of Linear, Bilinear and Embedding."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init


def _torch():
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seeded():
    """Every test draws the same numbers whatever ran before it."""
    ember.manual_seed(1234)


def sample(fn, shape, *args, **kwargs) -> np.ndarray:
    t = ember.empty(shape)
    out = fn(t, *args, **kwargs)
    assert out is t
    return t.numpy().astype(np.float64)


def check_uniform(x: np.ndarray, lo: float, hi: float):
    n = x.size
    assert x.min() >= lo and x.max() <= hi
    width = hi - lo
    assert x.min() < lo + 0.001 * width and x.max() > hi - 0.001 * width
    assert abs(x.mean() - (lo + hi) / 2) < 5 * width / math.sqrt(12 * n)
    assert x.std() == pytest.approx(width / math.sqrt(12), rel=0.01)


def check_normal(x: np.ndarray, mean: float, std: float):
    n = x.size
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(n)
    assert x.std() == pytest.approx(std, rel=0.01)
    # a Gaussian, not a uniform of the same std: kurtosis ~ 3 (uniform: 1.8)
    z = (x - x.mean()) / x.std()
    assert (z ** 4).mean() == pytest.approx(3.0, abs=0.1)


# ------------------------------------------------------------------------------ gains and fans
@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    torch = _torch()
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_calculate_gain_formulas_and_errors():
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == 0.75
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.5) == pytest.approx(math.sqrt(2 / 1.25))
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("shape", [(5, 3), (1, 7), (16, 3, 5), (64, 3, 3, 3), (8, 4, 2, 3, 5),
                                   (4, 0), (0, 3, 2)])
def test_fans_match_torch(shape):
    torch = _torch()
    assert init._calculate_fan_in_and_fan_out(ember.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_values_and_errors():
    assert init._calculate_fan_in_and_fan_out(ember.empty(64, 3, 3, 3)) == (27, 576)
    assert init._calculate_fan_in_and_fan_out(ember.empty(10, 20)) == (20, 10)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


# ------------------------------------------------------------------------------ distributions
def test_uniform_normal_constant():
    check_uniform(sample(init.uniform_, (400, 500)), 0.0, 1.0)
    check_uniform(sample(init.uniform_, (400, 500), -3.0, -1.0), -3.0, -1.0)
    check_normal(sample(init.normal_, (400, 500)), 0.0, 1.0)
    check_normal(sample(init.normal_, (400, 500), mean=2.0, std=0.1), 2.0, 0.1)
    assert (sample(init.constant_, (3, 4), 2.5) == 2.5).all()
    assert (sample(init.zeros_, (3, 4)) == 0).all()
    assert (sample(init.ones_, (3, 4)) == 1).all()


@pytest.mark.parametrize("shape", [(400, 500), (128, 64, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    check_uniform(sample(init.xavier_uniform_, shape, gain=gain), -bound, bound)
    check_normal(sample(init.xavier_normal_, shape, gain=gain), 0.0, std)


@pytest.mark.parametrize("shape", [(400, 500), (128, 64, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_IN"])
@pytest.mark.parametrize("nonlinearity,a", [("leaky_relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("relu", 0), ("tanh", 0), ("selu", 0),
                                            ("linear", 0)])
def test_kaiming(shape, mode, nonlinearity, a):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(shape))
    fan = fan_in if mode.lower() == "fan_in" else fan_out
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    check_uniform(sample(init.kaiming_uniform_, shape, a=a, mode=mode,
                         nonlinearity=nonlinearity), -bound, bound)
    check_normal(sample(init.kaiming_normal_, shape, a=a, mode=mode,
                        nonlinearity=nonlinearity), 0.0, std)


@pytest.mark.parametrize("name,kwargs", [
    ("xavier_uniform_", {}), ("xavier_normal_", {"gain": 3.0}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_normal_", {"mode": "fan_out"}),
    ("kaiming_uniform_", {"nonlinearity": "relu"}), ("uniform_", {"a": -2.0, "b": 5.0}),
    ("normal_", {"mean": 1.0, "std": 3.0}), ("trunc_normal_", {"std": 2.0, "a": -1.0, "b": 3.0})])
def test_statistics_match_torch_samples(name, kwargs):
    torch = _torch()
    torch.manual_seed(0)
    shape = (300, 100, 3, 3)
    t = getattr(torch.nn.init, name)(torch.empty(shape), **kwargs).numpy().astype(np.float64)
    e = sample(getattr(init, name), shape, **kwargs)
    if "uniform" in name or "trunc" in name:        # bounded: the same support
        assert e.min() == pytest.approx(t.min(), abs=0.01 * t.std())
        assert e.max() == pytest.approx(t.max(), abs=0.01 * t.std())
    assert e.std() == pytest.approx(t.std(), rel=0.01)
    assert abs(e.mean() - t.mean()) < 6 * t.std() / math.sqrt(t.size)
    # same distribution shape, not only moments (the tolerance is ~5 standard errors of the
    # difference of two sample quantiles at n = 270k)
    for q in (0.01, 0.1, 0.5, 0.9, 0.99):
        assert np.quantile(e, q) == pytest.approx(np.quantile(t, q), abs=0.05 * t.std())


def _truncated_normal_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)   # noqa: E731
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))              # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z
                      - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 2.0, 0.0, 10.0), (0.0, 1.0, 3.0, 4.0),
                                          (0.0, 1.0, -7.0, -6.0), (0.0, 1.0, -0.1, 0.1)])
def test_trunc_normal(mean, std, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = sample(init.trunc_normal_, (500, 400), mean=mean, std=std, a=a, b=b)
    assert x.min() >= a and x.max() <= b
    m, s = _truncated_normal_moments(mean, std, a, b)
    assert abs(x.mean() - m) < 6 * s / math.sqrt(x.size)
    assert x.std() == pytest.approx(s, rel=0.01)


def test_trunc_normal_far_tail_warns_like_torch():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(ember.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_ndtri_accuracy_against_torch():
    torch = _torch()
    p = np.concatenate([np.logspace(-300, -1, 200), np.linspace(0.01, 0.99, 999),
                        1 - np.logspace(-15, -1, 100)])
    ref = torch.special.ndtri(torch.tensor(p, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(init._ndtri(p), ref, rtol=2e-9, atol=1e-12)


def test_eye_and_dirac_match_torch():
    torch = _torch()
    for shape in [(3, 3), (2, 5), (5, 2)]:
        np.testing.assert_array_equal(sample(init.eye_, shape),
                                      torch.nn.init.eye_(torch.empty(shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 4, 3, 3), 2), ((2, 3, 3, 5, 1), 1),
                          ((4, 4, 4, 4), 4)]:
        np.testing.assert_array_equal(sample(init.dirac_, shape, groups),
                                      torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_dirac_is_identity_convolution_structure():
    w = sample(init.dirac_, (3, 3, 5))
    for o in range(3):
        assert w[o].sum() == 1 and w[o, o, 2] == 1
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(ember.empty(3, 3, 3), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ember.empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(10, 10), (6, 20), (20, 6), (8, 4, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = ember.empty(shape, dtype=ember.float64)
    init.orthogonal_(w, gain=gain)
    m = w.numpy().reshape(shape[0], -1) / gain
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(ember.empty(4))
    t = ember.empty(0, 3)
    assert init.orthogonal_(t) is t


def test_sparse():
    x = sample(init.sparse_, (100, 40), 0.3, std=0.05)
    zeros_per_col = (x == 0).sum(axis=0)
    assert (zeros_per_col == 30).all()
    assert x[x != 0].std() == pytest.approx(0.05, rel=0.1)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(ember.empty(3), 0.1)


def test_zero_element_kaiming_warns_and_returns():
    t = ember.empty(0, 4)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(t) is t


def test_deprecated_aliases_warn():
    t = ember.empty(3, 3)
    with pytest.warns(FutureWarning, match="nn.init.xavier_uniform` is now deprecated"):
        assert init.xavier_uniform(t) is t


# ------------------------------------------------------------------------------ semantics
def test_init_on_parameter_is_in_place_and_not_recorded():
    p = nn.Parameter(ember.zeros(50, 40))
    data, version = p._data, p._version[0]
    for fn in (init.xavier_uniform_, init.kaiming_normal_, init.orthogonal_, init.trunc_normal_,
               init.eye_, init.zeros_):
        assert fn(p) is p
    assert p._data is data and p.grad_fn is None and p.requires_grad and p.is_leaf
    assert p._version[0] > version
    assert ember.is_grad_enabled()


def test_init_keeps_dtype_and_generator_and_seed():
    t = ember.empty(4, 5, dtype=ember.float64)
    init.normal_(t)
    assert t.dtype == ember.float64
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    a = init.kaiming_uniform_(ember.empty(4, 5), generator=g1).numpy().copy()
    b = init.kaiming_uniform_(ember.empty(4, 5), generator=g2).numpy().copy()
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(11)
    c = nn.Linear(5, 4).weight.detach().numpy().copy()
    ember.manual_seed(11)
    d = nn.Linear(5, 4).weight.detach().numpy().copy()
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, c)


# ------------------------------------------------------------------------------ layer defaults
def _gather(make, n):
    return [np.concatenate([make().weight.detach().numpy().ravel() for _ in range(n)]),
            np.concatenate([make().bias.detach().numpy().ravel() for _ in range(n)])]


def test_linear_default_init():
    w = nn.Linear(400, 300).weight.detach().numpy().astype(np.float64)
    check_uniform(w, -1 / math.sqrt(400), 1 / math.sqrt(400))
    b = np.concatenate([nn.Linear(400, 300).bias.detach().numpy() for _ in range(200)])
    check_uniform(b.astype(np.float64), -1 / math.sqrt(400), 1 / math.sqrt(400))
    with pytest.warns(UserWarning, match="zero-element"):   # fan_in 0: as torch, zero bound
        m = nn.Linear(0, 3)
    assert m.bias.abs().max().item() == 0


def test_layer_defaults_match_torch():
    torch = _torch()
    torch.manual_seed(0)
    cases = [(lambda: nn.Linear(300, 200), lambda: torch.nn.Linear(300, 200), 300),
             (lambda: nn.Bilinear(20, 30, 400), lambda: torch.nn.Bilinear(20, 30, 400), 20)]
    for e_make, t_make, fan_in in cases:
        bound = 1 / math.sqrt(fan_in)
        e_w, e_b = _gather(e_make, 10)
        t_w, t_b = _gather(t_make, 10)
        for e, t in ((e_w, t_w), (e_b, t_b)):
            assert e.dtype == t.dtype
            assert abs(t).max() <= bound and abs(e).max() <= bound
            assert abs(e).max() > 0.99 * bound and abs(t).max() > 0.99 * bound
            assert e.std() == pytest.approx(t.std(), rel=0.05)
    e = nn.Embedding(1000, 64, padding_idx=3).weight.detach().numpy()
    t = torch.nn.Embedding(1000, 64, padding_idx=3).weight.detach().numpy()
    assert (e[3] == 0).all() and (t[3] == 0).all()
    rest = np.delete(e, 3, axis=0).astype(np.float64)
    check_normal(rest, 0.0, 1.0)
    assert rest.std() == pytest.approx(np.delete(t, 3, axis=0).std(), rel=0.02)


def test_bilinear_default_init_bounds():
    m = nn.Bilinear(50, 7, 600)
    bound = 1 / math.sqrt(50)
    check_uniform(m.weight.detach().numpy().astype(np.float64), -bound, bound)
    assert abs(m.bias.detach().numpy()).max() <= bound


def test_dtype_argument_of_layers():
    for m in (nn.Linear(3, 2, dtype=ember.float64), nn.Bilinear(2, 2, 2, dtype=ember.float64),
              nn.Embedding(4, 3, dtype=ember.float64)):
        assert all(p.dtype == ember.float64 for p in m.parameters())
    with pytest.raises(RuntimeError, match="cpu"):
        nn.Linear(3, 2, device="cuda")
