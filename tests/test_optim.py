"""ember.optim: the optimisers against PyTorch (trajectories over 20 steps, float32 and float64,
every option), hand-computed first steps, the Optimizer protocol (param groups, state,
zero_grad, closures, state_dict round trips with torch's layout) and torch's errors for bad
input. PyTorch is the oracle where it is installed; the hand-computed tests need only NumPy.
"""
from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest

import ember
from ember import optim

try:
    import torch
except ImportError:        # the parity tests below ask for it with importorskip
    torch = None

DTYPES = [np.float32, np.float64]
SHAPES = [(5, 4), (7,), (3,)]
STEPS = 20


def need_torch():
    return pytest.importorskip("torch")


# ----------------------------------------------------------------------------- helpers
def assert_rounding_close(actual, expected, dtype, ulps=8, what=""):
    """Equal up to floating-point rounding: within ``ulps`` machine epsilons of the tensor's
    scale (the updates sum many terms, so rounding errors are absolute, not relative)."""
    assert actual.dtype == expected.dtype == dtype, (actual.dtype, expected.dtype, what)
    scale = max(float(np.abs(expected).max()), 1e-30)
    np.testing.assert_allclose(actual, expected, rtol=0,
                               atol=ulps * np.finfo(dtype).eps * scale, err_msg=what)


def problem(dtype, grad_scale=1.0, seed=0):
    """Initial values and a fixed sequence of gradients for three parameters."""
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(grad_scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
             for _ in range(STEPS)]
    return inits, grads


def leaf(lib, array):
    return lib.tensor(array, requires_grad=True)


def trajectory(lib, name, kwargs, dtype, grad_scale=1.0, groups=None, skip_third=True):
    """Run ``lib.optim.<name>`` for STEPS steps on the scripted gradients (the third parameter
    gets no gradient every third step); returns every step's parameter values."""
    inits, grads = problem(dtype, grad_scale)
    ps = [leaf(lib, a) for a in inits]
    params = ps if groups is None else [dict(params=[ps[0]], **groups[0]),
                                        dict(params=ps[1:], **groups[1])]
    opt = getattr(lib.optim, name)(params, **kwargs)
    out = []
    for t in range(STEPS):
        for i, p in enumerate(ps):
            p.grad = None if (skip_third and i == 2 and t % 3 == 0) else lib.tensor(grads[t][i])
        opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    return out


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.2, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.02, betas=(0.5, 0.9), maximize=True)),
]


def config_id(cfg):
    name, kwargs = cfg
    return name + "-" + ",".join(f"{k}={v}" for k, v in kwargs.items())


# ----------------------------------------------------------------------------- torch parity
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_trajectory_matches_torch(cfg, dtype):
    need_torch()
    name, kwargs = cfg
    expected = trajectory(torch, name, kwargs, dtype)
    actual = trajectory(ember, name, kwargs, dtype)
    for t, (e_step, t_step) in enumerate(zip(actual, expected)):
        for i, (e, x) in enumerate(zip(e_step, t_step)):
            assert_rounding_close(e, x, dtype, what=f"step {t + 1}, parameter {i}")


# Tiny gradients make eps a large part of the denominator: a misplaced eps (inside the square
# root, or before the bias correction) changes these trajectories at first order.
EPS_CONFIGS = [
    ("Adam", dict(lr=0.01, eps=1e-4)),
    ("Adam", dict(lr=0.01, eps=1e-4, amsgrad=True)),
    ("AdamW", dict(lr=0.01, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, eps=1e-4, centered=True, momentum=0.9)),
    ("Adagrad", dict(lr=0.1, eps=1e-3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("cfg", EPS_CONFIGS, ids=config_id)
def test_eps_placement_matches_torch(cfg, dtype):
    need_torch()
    name, kwargs = cfg
    expected = trajectory(torch, name, kwargs, dtype, grad_scale=1e-4)
    actual = trajectory(ember, name, kwargs, dtype, grad_scale=1e-4)
    moved = np.abs(expected[-1][0] - problem(dtype)[0][0]).max()
    assert moved > 1e-3            # the updates are large enough for eps to matter
    for e_step, t_step in zip(actual, expected):
        for e, x in zip(e_step, t_step):
            assert_rounding_close(e, x, dtype)


GROUPS = [dict(lr=0.05, weight_decay=0.1), dict(lr=0.2, weight_decay=0.0)]


@pytest.mark.parametrize("name,extra", [("SGD", dict(momentum=0.9)), ("Adam", {}),
                                        ("AdamW", {}), ("RMSprop", dict(momentum=0.3)),
                                        ("Adagrad", {})])
def test_param_groups_with_own_lr_and_weight_decay_match_torch(name, extra):
    need_torch()
    groups = [dict(g) for g in GROUPS]
    kwargs = dict(lr=0.01, **extra)
    expected = trajectory(torch, name, kwargs, np.float32, groups=groups)
    actual = trajectory(ember, name, kwargs, np.float32, groups=groups)
    for e_step, t_step in zip(actual, expected):
        for e, x in zip(e_step, t_step):
            assert_rounding_close(e, x, np.float32)
    # the groups really differ: the same gradients through one group give another result
    single = trajectory(ember, name, dict(lr=0.05, weight_decay=0.1, **extra), np.float32)
    assert not np.allclose(single[-1][1], actual[-1][1])


def mlp_run(lib, name, kwargs, steps=20):
    """A 4-8-2 tanh network fitted by ``name`` with real gradients of a mean squared error."""
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = lib.tensor(rng.standard_normal((16, 2)).astype(np.float32))
    w1 = leaf(lib, (0.5 * rng.standard_normal((4, 8))).astype(np.float32))
    b1 = leaf(lib, np.zeros(8, np.float32))
    w2 = leaf(lib, (0.5 * rng.standard_normal((8, 2))).astype(np.float32))
    b2 = leaf(lib, np.zeros(2, np.float32))
    params = [w1, b1, w2, b2]
    opt = getattr(lib.optim, name)(params, **kwargs)
    losses = []

    def closure():
        opt.zero_grad()
        loss = (((x @ w1 + b1).tanh() @ w2 + b2 - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    return losses, [p.detach().numpy().copy() for p in params]


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01)),
                                         ("AdamW", dict(lr=0.01, weight_decay=0.1)),
                                         ("RMSprop", dict(lr=0.005, centered=True)),
                                         ("Adagrad", dict(lr=0.1))])
def test_small_network_trains_like_torch(name, kwargs):
    need_torch()
    t_losses, t_params = mlp_run(torch, name, kwargs)
    e_losses, e_params = mlp_run(ember, name, kwargs)
    assert e_losses[-1] < 0.8 * e_losses[0]        # it trains
    # the gradients themselves differ by matmul rounding, so the comparison is looser
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("SGD", dict(lr=0.1)),
                                         ("Adam", dict(amsgrad=True)), ("AdamW", {}),
                                         ("Adagrad", {}),
                                         ("RMSprop", dict(momentum=0.5, centered=True))])
def test_state_dict_layout_matches_torch(name, kwargs):
    need_torch()

    def layout(lib):
        inits, grads = problem(np.float32)
        ps = [leaf(lib, a) for a in inits]
        opt = getattr(lib.optim, name)([dict(params=ps[:2]), dict(params=ps[2:], lr=0.5)],
                                       **kwargs)
        ps[0].grad = lib.tensor(grads[0][0])
        ps[2].grad = lib.tensor(grads[0][2])
        opt.step()
        sd = opt.state_dict()
        state = {k: {n: (type(v).__name__, str(getattr(v, "dtype", type(v).__name__)),
                         tuple(getattr(v, "shape", ())))
                     for n, v in s.items()} for k, s in sd["state"].items()}
        return sorted(sd), state, sd["param_groups"]

    e_keys, e_state, e_groups = layout(ember)
    t_keys, t_state, t_groups = layout(torch)
    assert e_keys == t_keys == ["param_groups", "state"]
    assert e_state == {k: {n: (typ, dt.replace("torch.", "ember."), shape)
                           for n, (typ, dt, shape) in s.items()}
                       for k, s in t_state.items()}
    assert e_groups == t_groups          # same keys, values and parameter indices


def test_repr_matches_torch():
    need_torch()

    def make(lib):
        a, b = leaf(lib, np.ones(2, np.float32)), leaf(lib, np.ones(3, np.float32))
        return [lib.optim.SGD([dict(params=[a]), dict(params=[b], lr=0.5)], lr=0.1,
                              momentum=0.9),
                lib.optim.Adam([a, b]), lib.optim.RMSprop([a]), lib.optim.Adagrad([b]),
                lib.optim.AdamW([a], amsgrad=True)]

    for e, t in zip(make(ember), make(torch)):
        assert repr(e) == repr(t)


def test_named_parameters_and_add_param_group_match_torch():
    need_torch()

    def run(lib):
        inits, grads = problem(np.float32)
        ps = [leaf(lib, a) for a in inits]
        opt = lib.optim.Adagrad([("w", ps[0]), ("b", ps[1])], lr=0.1,
                                initial_accumulator_value=0.2)
        out = []
        for t in range(6):
            if t == 3:
                opt.add_param_group(dict(params=[("c", ps[2])], lr=0.3))
            for i, p in enumerate(ps):
                p.grad = lib.tensor(grads[t][i])
            opt.step()
            out.append([p.detach().numpy().copy() for p in ps])
        return out, opt.state_dict()["param_groups"]

    (e_traj, e_groups), (t_traj, t_groups) = run(ember), run(torch)
    assert e_groups == t_groups
    assert e_groups[0]["param_names"] == ["w", "b"]
    for e_step, t_step in zip(e_traj, t_traj):
        for e, x in zip(e_step, t_step):
            assert_rounding_close(e, x, np.float32)


def test_parameters_are_updated_like_torch():
    """ember.nn.Parameter (a Tensor subclass) goes through the same code path."""
    need_torch()
    rng = np.random.default_rng(5)
    w0, g = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((3, 2))
    e = ember.nn.Parameter(ember.tensor(w0))
    t = torch.nn.Parameter(torch.tensor(w0))
    e_opt, t_opt = ember.optim.Adam([e], lr=0.1), torch.optim.Adam([t], lr=0.1)
    for _ in range(5):
        e.grad, t.grad = ember.tensor(g.astype(np.float32)), torch.tensor(g.astype(np.float32))
        e_opt.step()
        t_opt.step()
    assert isinstance(e, ember.nn.Parameter)
    assert_rounding_close(e.detach().numpy(), t.detach().numpy(), np.float32)


# ----------------------------------------------------------------------------- hand-computed
def test_sgd_momentum_by_hand():
    p = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    theta, buf = np.array([1.0, -2.0]), None
    for g in ([0.5, 1.0], [-1.0, 2.0], [0.25, 0.0]):
        p.grad = ember.tensor(g, dtype=ember.float64)
        opt.step()
        d = np.array(g) + 0.1 * theta
        buf = d.copy() if buf is None else 0.9 * buf + 0.5 * d   # first buffer: undampened
        theta = theta - 0.1 * buf
        np.testing.assert_allclose(p.detach().numpy(), theta, rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), buf, rtol=1e-15)


def test_sgd_nesterov_and_maximize_by_hand():
    p = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.5, momentum=0.5, nesterov=True, maximize=True)
    p.grad = ember.tensor([2.0], dtype=ember.float64)
    opt.step()              # g = -2, b = -2, step along g + 0.5 b = -3
    assert p.item() == 1.0 + 0.5 * 3.0
    opt.step()              # b = 0.5 * -2 - 2 = -3, g + 0.5 b = -3.5
    assert p.item() == 2.5 + 0.5 * 3.5


def test_adam_by_hand():
    p = ember.tensor([1.0, -1.0, 0.0], dtype=ember.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-3)
    g1 = np.array([0.5, -2.0, 0.0])
    p.grad = ember.tensor(g1)
    opt.step()
    # the bias corrections make the first step m_hat = g, v_hat = g^2
    expected = np.array([1.0, -1.0, 0.0]) - 0.1 * g1 / (np.abs(g1) + 1e-3)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-14)
    g2 = np.array([1.0, 1.0, 1.0])
    p.grad = ember.tensor(g2)
    opt.step()
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.99 * 0.01 * g1 ** 2 + 0.01 * g2 ** 2
    expected -= 0.1 / (1 - 0.9 ** 2) * m / (np.sqrt(v) / np.sqrt(1 - 0.99 ** 2) + 1e-3)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-14)
    assert opt.state[p]["step"].item() == 2.0


def test_adam_amsgrad_uses_the_running_maximum():
    p = ember.tensor([0.0], dtype=ember.float64, requires_grad=True)
    opt = optim.Adam([p], lr=1.0, betas=(0.0, 0.5), eps=0.0, amsgrad=True)
    for g in (4.0, 0.0):
        p.grad = ember.tensor([g], dtype=ember.float64)
        opt.step()
    assert opt.state[p]["max_exp_avg_sq"].item() == 8.0     # v: 8, then 4; the max stays
    assert opt.state[p]["exp_avg_sq"].item() == 4.0
    assert p.item() == -1.0                                 # second step: m = 0


def test_adamw_decays_the_weights_directly():
    p = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = ember.tensor([0.0], dtype=ember.float64)
    opt.step()              # zero gradient: only the decay theta *= 1 - lr * wd acts
    assert p.item() == 2.0 * (1 - 0.1 * 0.5)
    q = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    l2 = optim.Adam([q], lr=0.1, weight_decay=0.5)
    q.grad = ember.tensor([0.0], dtype=ember.float64)
    l2.step()               # L2 in the gradient: Adam normalises it to a full lr step
    np.testing.assert_allclose(q.item(), 2.0 - 0.1, rtol=1e-7)


def test_adagrad_by_hand():
    p = ember.tensor([1.0, 1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=0.5, lr_decay=0.1, initial_accumulator_value=1.0, eps=0.0)
    grads = [np.array([1.0, 3.0]), np.array([2.0, 0.0])]
    theta, s = np.array([1.0, 1.0]), np.ones(2)
    for t, g in enumerate(grads, 1):
        p.grad = ember.tensor(g)
        opt.step()
        s += g * g
        theta -= 0.5 / (1 + (t - 1) * 0.1) * g / np.sqrt(s)
        np.testing.assert_allclose(p.detach().numpy(), theta, rtol=1e-15)


def test_rmsprop_centered_momentum_by_hand():
    p = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    opt = optim.RMSprop([p], lr=0.1, alpha=0.5, eps=0.0, momentum=0.5, centered=True)
    theta, v, gbar, b = np.array([0.0, 1.0]), np.zeros(2), np.zeros(2), np.zeros(2)
    for g in (np.array([1.0, -2.0]), np.array([3.0, 1.0])):
        p.grad = ember.tensor(g)
        opt.step()
        v = 0.5 * v + 0.5 * g * g
        gbar = 0.5 * gbar + 0.5 * g
        b = 0.5 * b + g / np.sqrt(v - gbar * gbar)
        theta = theta - 0.1 * b
        np.testing.assert_allclose(p.detach().numpy(), theta, rtol=1e-14)


# ----------------------------------------------------------------------------- protocol
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_update_is_in_place_in_the_parameter_dtype(name):
    for dtype in (ember.float32, ember.float64):
        p = ember.randn(4, 3, dtype=dtype, requires_grad=True)
        array, version = p._data, p._version[0]
        opt = getattr(optim, name)([p], lr=0.1)
        p.grad = ember.ones(4, 3, dtype=dtype)
        opt.step()
        assert p._data is array and p.dtype == dtype
        assert p._version[0] > version
        assert p.requires_grad and p.is_leaf and p.grad_fn is None
        for v in opt.state[p].values():
            if v.dim() > 0:
                assert v.dtype == dtype
            assert not v.requires_grad


def test_step_invalidates_graphs_that_saved_the_parameter():
    p = ember.randn(3, requires_grad=True)
    loss = (p * p).sum()        # saves p for backward
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_parameters_without_grad_are_skipped(name):
    a, b = ember.randn(3, requires_grad=True), ember.randn(2, requires_grad=True)
    before = b.detach().clone()
    opt = getattr(optim, name)([a, b], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    a.grad = ember.ones(3)
    opt.step()
    assert ember.equal(b, before)
    if name != "Adagrad":           # Adagrad creates its state in the constructor (as torch)
        assert b not in opt.state


def test_zero_grad():
    p = ember.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and np.array_equal(grad.numpy(), np.zeros(3, np.float32))
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()           # no gradients at all: nothing to do


def test_step_returns_the_closure_loss_computed_with_grad_enabled():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)
    calls = []

    def closure():
        calls.append(ember.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 1.0])
    assert opt.step() is None


def test_step_hooks():
    p = ember.randn(2, requires_grad=True)
    opt = optim.Adam([p])
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", o)))
    p.grad = ember.ones(2)
    opt.step()
    assert seen == [("pre", opt), ("post", opt)]
    pre.remove()
    post.remove()
    opt.step()
    assert len(seen) == 2


def test_defaults_and_groups():
    a, b = ember.randn(2, requires_grad=True), ember.randn(2, requires_grad=True)
    opt = optim.SGD([dict(params=[a]), dict(params=b, lr=0.5)], lr=0.1, momentum=0.9)
    assert opt.defaults["lr"] == 0.1 and opt.defaults["nesterov"] is False
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    c = ember.randn(2, requires_grad=True)
    opt.add_param_group(dict(params=[c], momentum=0.0))
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    g = list(ember.randn(2, requires_grad=True) for _ in range(2))
    assert len(optim.Adam(iter(g)).param_groups[0]["params"]) == 2   # any iterable


def test_repr_format():
    opt = optim.SGD([ember.randn(2, requires_grad=True)], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
                         "    foreach: None\n    fused: None\n    lr: 0.1\n    maximize: False\n"
                         "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")


# ----------------------------------------------------------------------------- state dict
RESUME = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
          ("AdamW", dict(lr=0.01)), ("RMSprop", dict(momentum=0.5, centered=True)),
          ("Adagrad", dict(lr_decay=0.01))]


def run_steps(opt, ps, grads, steps):
    for t in steps:
        for i, p in enumerate(ps):
            p.grad = None if (i == 2 and t % 3 == 0) else ember.tensor(grads[t][i])
        opt.step()


@pytest.mark.parametrize("transport", ["direct", "pickle", "deepcopy"])
@pytest.mark.parametrize("name,kwargs", RESUME, ids=[r[0] for r in RESUME])
def test_state_dict_round_trip_resumes_identically(name, kwargs, transport):
    inits, grads = problem(np.float32)
    groups = lambda ps: [dict(params=ps[:1], lr=0.02), dict(params=ps[1:])]  # noqa: E731

    ps = [leaf(ember, a) for a in inits]
    straight = getattr(optim, name)(groups(ps), **kwargs)
    run_steps(straight, ps, grads, range(STEPS))

    qs = [leaf(ember, a) for a in inits]
    first = getattr(optim, name)(groups(qs), **kwargs)
    run_steps(first, qs, grads, range(10))
    saved = first.state_dict()
    if transport == "pickle":
        saved = pickle.loads(pickle.dumps(saved))
    elif transport == "deepcopy":
        saved = copy.deepcopy(saved)
    rs = [leaf(ember, q.detach().numpy()) for q in qs]          # e.g. a reloaded model
    second = getattr(optim, name)(groups(rs), lr=123.0, **{k: v for k, v in kwargs.items()
                                                           if k != "lr"})
    second.load_state_dict(saved)
    assert [g["lr"] for g in second.param_groups] == [g["lr"] for g in first.param_groups]
    run_steps(second, rs, grads, range(10, STEPS))
    for p, r in zip(ps, rs):
        np.testing.assert_array_equal(r.detach().numpy(), p.detach().numpy())
    # loading copied the buffers: stepping the first optimiser leaves the second alone
    before = {k: v.numpy().copy() for k, v in second.state[rs[0]].items()}
    run_steps(first, qs, grads, range(10, 12))
    for k, v in second.state[rs[0]].items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_state_dict_indices_and_sharing():
    a, b, c = (ember.randn(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([dict(params=[a, b]), dict(params=[c])], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = ember.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]
    assert sd["state"][0]["momentum_buffer"] is opt.state[a]["momentum_buffer"]
    assert "params" in opt.param_groups[0] and opt.param_groups[0]["params"][0] is a


def test_load_state_dict_casts_buffers_to_the_parameter_dtype():
    p64 = ember.randn(3, dtype=ember.float64, requires_grad=True)
    src = optim.Adam([p64])
    p64.grad = ember.ones(3, dtype=ember.float64)
    src.step()
    p32 = ember.randn(3, requires_grad=True)
    dst = optim.Adam([p32])
    dst.load_state_dict(src.state_dict())
    assert dst.state[p32]["exp_avg"].dtype == ember.float32
    assert dst.state[p32]["step"].dtype == src.state[p64]["step"].dtype == ember.float32
    assert dst.state[p32]["step"].item() == 1.0


def test_load_state_dict_rejects_a_different_layout():
    a, b = ember.randn(2, requires_grad=True), ember.randn(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([dict(params=[a]), dict(params=[b])], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_optimizer_pickles_and_deepcopies():
    p = ember.randn(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    p.grad = ember.ones(3)
    opt.step()
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert repr(clone) == repr(opt)
        q = clone.param_groups[0]["params"][0]
        np.testing.assert_array_equal(clone.state[q]["exp_avg"].numpy(),
                                      opt.state[p]["exp_avg"].numpy())


# ----------------------------------------------------------------------------- bad input
def p1():
    return ember.randn(2, requires_grad=True)


BAD = [
    ("SGD", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    ("SGD", dict(lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4), ValueError, "Invalid weight_decay value: -0.0001"),
    ("SGD", dict(lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(lr=-0.001), ValueError, "Invalid learning rate: -0.001"),
    ("Adam", dict(eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    ("Adam", dict(betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(-0.1, 0.999)), ValueError, "Invalid beta parameter at index 0: -0.1"),
    ("Adam", dict(betas=(0.9, 1.5)), ValueError, "Invalid beta parameter at index 1: 1.5"),
    ("Adam", dict(weight_decay=-1.0), ValueError, "Invalid weight_decay value: -1.0"),
    ("AdamW", dict(betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    ("AdamW", dict(lr=-2), ValueError, "Invalid learning rate: -2"),
    ("Adagrad", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    ("Adagrad", dict(lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", dict(eps=-1), ValueError, "Invalid epsilon value: -1"),
    ("RMSprop", dict(lr=-1), ValueError, "Invalid learning rate: -1"),
    ("RMSprop", dict(alpha=-0.1), ValueError, "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-1), ValueError, "Invalid momentum value: -1"),
    ("RMSprop", dict(eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
]


@pytest.mark.parametrize("name,kwargs,exc,message", BAD,
                         ids=[f"{b[0]}-{list(b[1].items())}" for b in BAD])
def test_bad_hyperparameters(name, kwargs, exc, message):
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        getattr(optim, name)([p1()], **kwargs)
    if torch is not None:       # the same message as torch
        with pytest.raises(exc, match="^" + re.escape(message) + "$"):
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)


def _bad_params():
    a = p1()
    return [
        (lambda: optim.SGD(a, lr=0.1), TypeError,
         "params argument given to the optimizer should be an iterable of Tensors or dicts, "
         "but got ember.FloatTensor"),
        (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: optim.SGD([a, 3], lr=0.1), TypeError,
         "optimizer can only optimize Tensors, but one of the params is int"),
        (lambda: optim.SGD([dict(params=[a]), dict(params=[a])], lr=0.1), ValueError,
         "some parameters appear in more than one parameter group"),
        (lambda: optim.Adam([a * 2]), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda: optim.Adam([dict(params={a})]), TypeError,
         "optimizer parameters need to be organized in ordered collections, but the ordering "
         "of tensors in sets will change between runs. Please use a list instead."),
        (lambda: optim.Adam([a], betas=(0, 0.9)), ValueError,
         "betas must be either both floats or both Tensors"),
        (lambda: optim.Adam([a]).add_param_group([a]), TypeError,
         "param_group must be a dict, but got <class 'list'>"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_params())))
def test_bad_params(case):
    make, exc, message = _bad_params()[case]
    with pytest.raises(exc, match="^" + re.escape(message) + "$"):
        make()


def test_bad_params_messages_match_torch():
    need_torch()
    a = torch.zeros(2, requires_grad=True)
    cases = [lambda: torch.optim.SGD(a, lr=0.1), lambda: torch.optim.SGD([], lr=0.1),
             lambda: torch.optim.SGD([a, 3], lr=0.1),
             lambda: torch.optim.SGD([dict(params=[a]), dict(params=[a])], lr=0.1),
             lambda: torch.optim.Adam([a * 2]), lambda: torch.optim.Adam([dict(params={a})]),
             lambda: torch.optim.Adam([a], betas=(0, 0.9)),
             lambda: torch.optim.Adam([a]).add_param_group([a])]
    for (_, exc, message), make in zip(_bad_params(), cases):
        with pytest.raises(exc) as info:
            make()
        assert str(info.value) == message.replace("ember.", "torch.")


def test_adding_a_group_with_a_parameter_already_present():
    a = p1()
    opt = optim.Adam([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group(dict(params=[a]))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_differentiable_step_is_refused():
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam([p1()], differentiable=True)


def test_base_class_step_is_abstract():
    class Plain(optim.Optimizer):
        pass

    opt = Plain([p1()], dict(lr=0.1))
    with pytest.raises(NotImplementedError):
        opt.step()


def test_custom_optimizer_in_torch_style():
    """A tutorial-style subclass: ``required`` defaults, ``@no_grad`` step, self.state."""
    from ember.optim.optimizer import required

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad.sign(), alpha=-group["lr"])
                        self.state[p]["n"] = self.state[p].get("n", 0) + 1

    p = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                         "parameter lr"):
        SignSGD([p])
    opt = SignSGD([p], lr=0.5)
    p.grad = ember.tensor([3.0, -0.1])
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, -0.5])
    assert opt.state_dict()["state"] == {0: {"n": 1}}
