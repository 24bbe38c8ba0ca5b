"""ember.models.MLP and QNetwork: layer structure, shapes, activations, init, training."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.models import MLP, QNetwork


def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_mlp_structure_and_shapes():
    m = MLP(6, hidden=(16, 8), out_features=3)
    lin = _linears(m)
    assert [(l.in_features, l.out_features) for l in lin] == [(6, 16), (16, 8), (8, 3)]
    assert [type(x) for x in m] == [nn.Flatten, nn.Linear, nn.ReLU, nn.Linear, nn.ReLU,
                                    nn.Linear]
    assert m(ember.randn(5, 6)).shape == (5, 3)
    assert m(ember.randn(5, 2, 3)).shape == (5, 3)           # flattened from dim 1
    n_params = sum(p.numel() for p in m.parameters())
    assert n_params == 6 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3


def test_mlp_hidden_forms():
    assert len(_linears(MLP(4, hidden=7, out_features=2))) == 2           # one int
    linear = MLP(4, hidden=(), out_features=2)                            # logistic regression
    assert [type(x) for x in linear] == [nn.Flatten, nn.Linear]


def test_mlp_batchnorm_dropout_order():
    m = MLP(4, hidden=(8,), out_features=2, activation_fn="tanh", dropout=0.25, batch_norm=True)
    assert [type(x) for x in m] == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout,
                                    nn.Linear]
    assert m[4].p == 0.25
    m.eval()                                                   # dropout off: deterministic
    x = ember.randn(3, 4)
    np.testing.assert_array_equal(m(x).detach().numpy(), m(x).detach().numpy())


@pytest.mark.parametrize("name,cls,fn", [
    ("relu", nn.ReLU, lambda z: np.maximum(z, 0)),
    ("tanh", nn.Tanh, np.tanh),
    ("sigmoid", nn.Sigmoid, lambda z: 1 / (1 + np.exp(-z))),
    ("leaky_relu", nn.LeakyReLU, lambda z: np.where(z > 0, z, 0.01 * z)),
])
def test_mlp_activation_values(name, cls, fn):
    m = MLP(3, hidden=(5,), out_features=2, activation_fn=name).double()
    assert isinstance(m[2], cls)
    x = np.random.default_rng(0).standard_normal((4, 3))
    w1, b1 = m[1].weight.detach().numpy(), m[1].bias.detach().numpy()
    w2, b2 = m[3].weight.detach().numpy(), m[3].bias.detach().numpy()
    expected = fn(x @ w1.T + b1) @ w2.T + b2
    np.testing.assert_allclose(m(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-10,
                               atol=1e-12)


def test_mlp_activation_class_and_instance_not_shared():
    m = MLP(3, hidden=(4, 4), out_features=1, activation_fn=nn.PReLU(init=0.1))
    prelus = [x for x in m if isinstance(x, nn.PReLU)]
    assert len(prelus) == 2 and prelus[0] is not prelus[1]
    assert prelus[0].weight is not prelus[1].weight            # each layer its own slope
    assert isinstance(MLP(3, (4,), 1, activation_fn=nn.ELU)[2], nn.ELU)


def test_mlp_errors():
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLP(3, (4,), 1, activation_fn="swishy")
    with pytest.raises(TypeError, match="activation"):
        MLP(3, (4,), 1, activation_fn=3)
    with pytest.raises(ValueError, match="in_features"):
        MLP(0, (4,), 1)
    with pytest.raises(ValueError, match=r"hidden\[1\]"):
        MLP(3, (4, -2), 1)
    with pytest.raises(ValueError, match="dropout"):
        MLP(3, (4,), 1, dropout=1.0)


def test_mlp_default_init_bounds():
    """PyTorch's Linear default: weight and bias in U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    ember.manual_seed(0)
    m = MLP(400, hidden=(300,), out_features=10)
    for lin in _linears(m):
        bound = 1 / math.sqrt(lin.in_features)
        w = lin.weight.detach().numpy()
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.95 * bound                  # fills the range
        assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
        assert np.abs(lin.bias.detach().numpy()).max() <= bound


def test_mlp_seeded_init_is_reproducible():
    ember.manual_seed(3)
    a = MLP(4, (8,), 2)
    ember.manual_seed(3)
    b = MLP(4, (8,), 2)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_mlp_trains_on_xor_like_data():
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(256, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)             # not linearly separable
    X, y = ember.from_numpy(X), ember.from_numpy(y)
    m = MLP(2, hidden=(32, 32), out_features=2)
    opt = ember.optim.Adam(m.parameters(), lr=0.01)
    first = None
    for _ in range(300):
        opt.zero_grad()
        loss = F.cross_entropy(m(X), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    acc = float((m(X).argmax(1) == y).float().mean().item())
    assert loss.item() < 0.3 * first
    assert acc >= 0.95
    assert all(p.grad is not None for p in m.parameters())


def test_qnetwork_structure_and_shapes():
    q = QNetwork(4, 3, hidden=(32, 16))
    assert [(l.in_features, l.out_features) for l in _linears(q)] == [(4, 32), (32, 16),
                                                                       (16, 3)]
    assert isinstance(q[-1], nn.Linear)                        # unbounded Q-values
    assert q(ember.randn(7, 4)).shape == (7, 3)
    assert q.num_actions == 3
    assert isinstance(QNetwork(2, 2, hidden=8, activation_fn="tanh")[1], nn.Tanh)
    with pytest.raises(ValueError, match="num_actions"):
        QNetwork(4, 0)


def test_qnetwork_act_greedy_and_random():
    ember.manual_seed(0)
    q = QNetwork(3, 4, hidden=(8,))
    state = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    with ember.no_grad():
        best = int(q(ember.from_numpy(state[None])).numpy().argmax())
    assert q.act(state) == best
    assert q.act(state, epsilon=0.0) == best
    rng = np.random.default_rng(0)
    picks = [q.act(state, epsilon=1.0, rng=rng) for _ in range(400)]
    counts = np.bincount(picks, minlength=4)
    assert counts.min() > 60                                   # uniform over the 4 actions
    rng = np.random.default_rng(1)
    mostly = [q.act(state, epsilon=0.2, rng=rng) for _ in range(500)]
    share = np.mean(np.array(mostly) == best)                  # 1 - eps + eps / 4 = 0.85
    assert 0.78 < share < 0.92
    with pytest.raises(ValueError, match="epsilon"):
        q.act(state, epsilon=1.5)


def test_qnetwork_fits_bellman_targets():
    """Regress Q(s, a) on fixed targets for the taken actions only (the DQN update)."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    S = rng.standard_normal((128, 4)).astype(np.float32)
    A = rng.integers(0, 2, 128)
    target = np.where(A == 0, S[:, 0], -S[:, 1]).astype(np.float32)
    q = QNetwork(4, 2, hidden=(32,))
    opt = ember.optim.Adam(q.parameters(), lr=0.01)
    s, a, t = ember.from_numpy(S), ember.from_numpy(A.reshape(-1, 1)), ember.from_numpy(target)
    for _ in range(300):
        opt.zero_grad()
        loss = F.mse_loss(q(s).gather(1, a).reshape(-1), t)
        loss.backward()
        opt.step()
    assert loss.item() < 0.02
