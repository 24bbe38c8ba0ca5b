"""ember.nn.regularizers (L1, L2, L1L2, penalty) and ember.nn.constraints (MaxNorm, UnitNorm,
MinMaxNorm, NonNeg, apply_constraints), Keras's names and semantics: penalty values and their
gradients against the analytic ones, bias exclusion, the effect of constraints on Linear/Conv
weight layouts, in-place behaviour outside autograd, configs and errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.constraints as C
import ember.nn.regularizers as R


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


# =============================================================================================
# regularizers
# =============================================================================================
@pytest.mark.parametrize("reg,l1,l2", [(R.L1(0.3), 0.3, 0.0), (R.L2(0.2), 0.0, 0.2),
                                       (R.L1L2(0.1, 0.05), 0.1, 0.05), (R.L1(), 0.01, 0.0),
                                       (R.L2(), 0.0, 0.01), (R.L1L2(), 0.0, 0.0)])
def test_penalty_value_and_gradient_are_analytic(reg, l1, l2, rng):
    ws = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ts = [ember.tensor(w, requires_grad=True) for w in ws]
    value = reg(ts)
    assert value.dim() == 0
    expected = sum(l1 * np.abs(w).sum() + l2 * (w * w).sum() for w in ws)
    assert value.item() == pytest.approx(expected, rel=1e-14, abs=1e-300)
    value.backward()
    for w, t in zip(ws, ts):
        np.testing.assert_allclose(t.grad.numpy(), l1 * np.sign(w) + 2 * l2 * w, rtol=1e-14)


def test_single_tensor_and_gradcheck(rng):
    w = ember.tensor(rng.standard_normal((2, 3)) + 0.5, requires_grad=True)
    assert R.L2(0.5)(w).item() == pytest.approx(0.5 * (w.detach().numpy() ** 2).sum())
    assert ember.autograd.gradcheck(lambda t: R.L1L2(0.3, 0.7)(t), (w,), atol=1e-7)


def test_penalty_skips_biases_unless_asked(rng):
    model = _model()
    weights = [model[0].weight, model[2].weight]
    everything = list(model.parameters())
    reg = R.L1L2(0.01, 0.02)
    assert R.penalty(model, reg).item() == pytest.approx(reg(weights).item(), rel=1e-6)
    assert R.penalty(model, reg, include_bias=True).item() == \
        pytest.approx(reg(everything).item(), rel=1e-6)
    model[0].weight.requires_grad_(False)           # frozen parameters are not penalised
    assert R.penalty(model, reg).item() == pytest.approx(reg([model[2].weight]).item(),
                                                         rel=1e-6)


def test_l2_penalty_is_weight_decay_in_training(rng):
    """One SGD step on loss + L2(l2) equals a step on the loss plus 2 * l2 * w decay."""
    model = _model()
    x, y = ember.tensor(rng.standard_normal((8, 4)), dtype=ember.float32), ember.zeros(8, 2)
    w0 = model[0].weight.detach().numpy().copy()
    loss = nn.functional.mse_loss(model(x), y)
    g_plain = ember.autograd.grad(loss, model[0].weight, retain_graph=True)[0].numpy()
    total = loss + R.penalty(model, R.L2(0.1))
    total.backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), g_plain + 0.2 * w0, rtol=1e-5,
                               atol=1e-7)
    assert model[0].bias.grad is not None         # bias gets the plain loss gradient only


def test_empty_parameters_and_configs():
    assert R.L2(0.1)([]).item() == 0.0
    assert R.L1(0.2).get_config() == {"l1": 0.2}
    assert R.L2(0.3).get_config() == {"l2": 0.3}
    assert R.L1L2(0.1, 0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    assert isinstance(R.L1L2.from_config({"l1": 0.5, "l2": 0.0}), R.L1L2)
    assert repr(R.L1L2(0.1, 0.2)) == "L1L2(l1=0.1, l2=0.2)"
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert isinstance(R.get("l2"), R.L2) and R.get("l2").l2 == 0.01
    assert R.get(None) is None
    with pytest.raises(ValueError, match="non-negative"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: l3"):
        R.get("l3")


# =============================================================================================
# constraints
# =============================================================================================
def _norms(w, axis):
    return np.sqrt((w * w).sum(axis=axis))


def test_max_norm_per_output_unit_of_linear(rng):
    """axis=1 on Linear's (out, in) weight = one norm per output unit: long rows are scaled to
    max_value, short rows are untouched."""
    layer = nn.Linear(5, 4)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    w[0] *= 10
    w[1] *= 0.01
    with ember.no_grad():
        layer.weight.copy_(ember.tensor(w))
    C.MaxNorm(2.0, axis=1)(layer.weight)
    out = layer.weight.detach().numpy()
    norms = _norms(out, 1)
    for i, n in enumerate(_norms(w, 1)):
        if n > 2.0:
            assert norms[i] == pytest.approx(2.0, rel=1e-5)
            np.testing.assert_allclose(out[i], w[i] * 2.0 / n, rtol=1e-5)   # same direction
        else:
            np.testing.assert_allclose(out[i], w[i] * n / (n + 1e-7), rtol=1e-6)
    assert layer.weight.requires_grad and layer.weight.grad_fn is None


def test_keras_default_axis_0_and_conv_filters(rng):
    w = ember.tensor(rng.standard_normal((3, 6)) * 5)
    C.MaxNorm(1.0)(w)                                # axis=0: one norm per column
    assert np.all(_norms(w.numpy(), 0) <= 1.0 + 1e-6)
    conv = ember.tensor(rng.standard_normal((8, 3, 3, 3)))
    C.UnitNorm(axis=(1, 2, 3))(conv)                 # one norm per output filter
    np.testing.assert_allclose(_norms(conv.numpy().reshape(8, -1), 1), 1.0, rtol=1e-6)


def test_unit_norm_min_max_norm_and_non_neg(rng):
    w = rng.standard_normal((4, 3))
    t = ember.tensor(w.copy())
    C.UnitNorm(axis=1)(t)
    np.testing.assert_allclose(t.numpy(), w / (1e-7 + _norms(w, 1)[:, None]), rtol=1e-14)
    t = ember.tensor(w.copy())
    C.MinMaxNorm(0.5, 1.0, rate=0.5, axis=0)(t)
    n = _norms(w, 0)
    desired = 0.5 * np.clip(n, 0.5, 1.0) + 0.5 * n
    np.testing.assert_allclose(t.numpy(), w * desired / (1e-7 + n), rtol=1e-14)
    t = ember.tensor(w.copy())
    C.NonNeg()(t)
    np.testing.assert_array_equal(t.numpy(), np.where(w >= 0, w, 0))
    zero = ember.zeros(2, 3)
    C.UnitNorm(axis=1)(zero)                         # epsilon keeps all-zero rows finite
    assert np.all(zero.numpy() == 0)


def test_constraints_work_in_place_outside_autograd(rng):
    p = nn.Parameter(ember.tensor(rng.standard_normal((3, 3)) * 5))
    data = p.numpy(force=True)
    version = p._version[0]
    out = C.MaxNorm(1.0, axis=1)(p)
    assert out is p and p.numpy(force=True) is data      # same storage, new values
    assert p._version[0] > version
    assert p.requires_grad and p.is_leaf


def test_apply_constraints_by_name_and_type_after_a_step(rng):
    model = _model()
    opt = ember.optim.SGD(model.parameters(), lr=10.0)
    x = ember.tensor(rng.standard_normal((16, 4)), dtype=ember.float32)
    model(x).pow(2).sum().backward()
    opt.step()
    done = C.apply_constraints(model, {nn.Linear: C.MaxNorm(1.5, axis=1),
                                       "2.bias": C.NonNeg()})
    assert done == ["0.weight", "2.weight", "2.bias"]
    for i in (0, 2):
        assert np.all(_norms(model[i].weight.detach().numpy(), 1) <= 1.5 + 1e-5)
    assert np.all(model[2].bias.detach().numpy() >= 0)
    assert C.apply_constraints(model, {"weight": C.NonNeg()}) == ["0.weight", "2.weight"]
    assert np.all(model[0].weight.detach().numpy() >= 0)
    with pytest.raises(KeyError, match="no parameter matches 'conv.weight'"):
        C.apply_constraints(model, {"conv.weight": C.NonNeg()})
    with pytest.raises(TypeError, match="keys must be parameter names"):
        C.apply_constraints(model, {3: C.NonNeg()})


def test_constraint_configs_and_errors():
    assert C.MaxNorm(3, axis=1).get_config() == {"max_value": 3, "axis": 1}
    assert repr(C.MaxNorm()) == "MaxNorm(max_value=2, axis=0)"
    assert repr(C.NonNeg()) == "NonNeg()"
    assert isinstance(C.get("max_norm"), C.MaxNorm) and C.get(None) is None
    assert C.max_norm is C.MaxNorm and C.non_neg is C.NonNeg
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: foo"):
        C.get("foo")
    with pytest.raises(ValueError, match="axis 2 is out of range for a parameter with 2 "
                                         "dimensions"):
        C.MaxNorm(axis=2)(ember.ones(2, 2))
