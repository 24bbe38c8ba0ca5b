"""nn.RNN / nn.LSTM / nn.GRU and nn.RNNCell / nn.LSTMCell / nn.GRUCell against PyTorch.

Parity copies torch's state_dict into the ember module and compares outputs, final states and
the gradients of the input, the initial states and every parameter, over layers, directions,
batch_first, unbatched input, bias and dtype. Also: a float64 gradcheck through the C++
backward, dropout between layers (placement, statistics, eval mode), initialisation bounds,
state_dict keys, reprs, torch's errors, and a small sequence model trained side by side with
torch.
"""
from __future__ import annotations

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F
from ember.ops import reference

torch = pytest.importorskip("torch")

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
E_DTYPE = {np.float32: ember.float32, np.float64: ember.float64}
T_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}

# (class name, extra constructor arguments): RNN twice for its two nonlinearities.
SEQ_KINDS = [("LSTM", {}), ("GRU", {}), ("RNN", {"nonlinearity": "tanh"}),
             ("RNN", {"nonlinearity": "relu"})]
SEQ_IDS = ["LSTM", "GRU", "RNN_tanh", "RNN_relu"]
CELL_KINDS = [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {"nonlinearity": "tanh"}),
              ("RNNCell", {"nonlinearity": "relu"})]
CELL_IDS = ["LSTMCell", "GRUCell", "RNNCell_tanh", "RNNCell_relu"]


@pytest.fixture(autouse=True, scope="module")
def torch_without_onednn():
    """torch's oneDNN LSTM spends ~0.5 s building primitives for every new float32 module;
    its native kernels are the same oracle at a fraction of the cost."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def make_pair(name, *args, dtype=np.float64, seed=0, **kwargs):
    """A torch module and an ember module of the same class holding torch's weights."""
    torch.manual_seed(seed)
    t_mod = getattr(torch.nn, name)(*args, **kwargs).to(T_DTYPE[dtype])
    e_mod = getattr(nn, name)(*args, dtype=E_DTYPE[dtype], **kwargs)
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    return e_mod, t_mod


def leaf_pair(a, requires_grad=True):
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def assert_close(e, t, dtype):
    e = e.detach().numpy() if hasattr(e, "detach") else e
    t = t.detach().numpy() if hasattr(t, "detach") else t
    assert e.shape == t.shape, (e.shape, t.shape)
    assert e.dtype == t.dtype == dtype
    np.testing.assert_allclose(e, t, **TOL[dtype])


def flat_outputs(result):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)]."""
    out, state = result
    return [out] + (list(state) if isinstance(state, tuple) else [state])


def backward_both(e_outs, t_outs, rng, dtype):
    """Backpropagate the same random weighting of every output through both libraries."""
    e_loss, t_loss = 0, 0
    for e, t in zip(e_outs, t_outs):
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        e_loss = e_loss + (e * ember.tensor(w)).sum()
        t_loss = t_loss + (t * torch.tensor(w)).sum()
    e_loss.backward()
    t_loss.backward()


def assert_param_grads(e_mod, t_mod, dtype):
    e_params = dict(e_mod.named_parameters())
    t_params = dict(t_mod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, t_p in t_params.items():
        assert e_params[name].grad is not None, name
        assert_close(e_params[name].grad, t_p.grad, dtype)


# -- sequence modules: torch parity ----------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_sequence_module_matches_torch(kind, num_layers, bidirectional, batch_first, bias,
                                       dtype, rng):
    name, extra = kind
    I, H, T, B = 3, 5, 4, 2
    e_mod, t_mod = make_pair(name, I, H, num_layers=num_layers, bias=bias,
                             batch_first=batch_first, bidirectional=bidirectional,
                             dtype=dtype, **extra)
    D = 2 if bidirectional else 1
    shape = (B, T, I) if batch_first else (T, B, I)
    ex, tx = leaf_pair(rng.standard_normal(shape).astype(dtype))
    eh, th = leaf_pair(rng.standard_normal((num_layers * D, B, H)).astype(dtype))
    if name == "LSTM":
        ec, tc = leaf_pair(rng.standard_normal((num_layers * D, B, H)).astype(dtype))
        e_outs, t_outs = flat_outputs(e_mod(ex, (eh, ec))), flat_outputs(t_mod(tx, (th, tc)))
    else:
        e_outs, t_outs = flat_outputs(e_mod(ex, eh)), flat_outputs(t_mod(tx, th))
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert_close(e, t, dtype)
    assert tuple(e_outs[0].shape) == ((B, T, D * H) if batch_first else (T, B, D * H))

    backward_both(e_outs, t_outs, rng, dtype)
    assert_close(ex.grad, tx.grad, dtype)
    assert_close(eh.grad, th.grad, dtype)
    if name == "LSTM":
        assert_close(ec.grad, tc.grad, dtype)
    assert_param_grads(e_mod, t_mod, dtype)


@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_zero_initial_state_when_hx_is_none(kind, rng):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 4, 6, num_layers=2, bidirectional=True, **extra)
    ex, tx = leaf_pair(rng.standard_normal((5, 3, 4)))
    e_outs, t_outs = flat_outputs(e_mod(ex)), flat_outputs(t_mod(tx))
    for e, t in zip(e_outs, t_outs):
        assert_close(e, t, np.float64)
    backward_both(e_outs, t_outs, rng, np.float64)
    assert_close(ex.grad, tx.grad, np.float64)
    assert_param_grads(e_mod, t_mod, np.float64)

    # Explicit zeros give the same answer as None.
    zeros = ember.zeros(4, 3, 6, dtype=ember.float64)
    hx = (zeros, zeros) if name == "LSTM" else zeros
    for a, b in zip(flat_outputs(e_mod(ex, hx)), e_outs):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("with_hx", [False, True], ids=["hxNone", "hx"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seqfirst", "batchfirst"])
@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_unbatched_input_matches_torch(kind, batch_first, with_hx, rng):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 3, 4, num_layers=2, bidirectional=True,
                             batch_first=batch_first, **extra)
    ex, tx = leaf_pair(rng.standard_normal((5, 3)))
    args_e, args_t = [ex], [tx]
    if with_hx:
        eh, th = leaf_pair(rng.standard_normal((4, 4)))
        if name == "LSTM":
            ec, tc = leaf_pair(rng.standard_normal((4, 4)))
            args_e.append((eh, ec))
            args_t.append((th, tc))
        else:
            args_e.append(eh)
            args_t.append(th)
    e_outs, t_outs = flat_outputs(e_mod(*args_e)), flat_outputs(t_mod(*args_t))
    assert tuple(e_outs[0].shape) == (5, 8)
    for e, t in zip(e_outs, t_outs):
        assert tuple(e.shape) == tuple(t.shape)
        assert_close(e, t, np.float64)
    backward_both(e_outs, t_outs, rng, np.float64)
    assert_close(ex.grad, tx.grad, np.float64)
    if with_hx:
        assert_close(eh.grad, th.grad, np.float64)
        if name == "LSTM":
            assert_close(ec.grad, tc.grad, np.float64)
    assert_param_grads(e_mod, t_mod, np.float64)


@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_single_step_and_single_sample_edges(kind, rng):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 2, 3, num_layers=2, bidirectional=True, **extra)
    for shape in [(1, 1, 2), (1, 4, 2), (6, 1, 2)]:
        x = rng.standard_normal(shape)
        for e, t in zip(flat_outputs(e_mod(ember.tensor(x))),
                        flat_outputs(t_mod(torch.tensor(x)))):
            assert_close(e, t, np.float64)


def numpy_stacked(mod, x, states):
    """The module's forward spelled out on ember.ops.reference's NumPy sequence twins: layers
    in turn, the reverse direction on the time-flipped input, directions concatenated."""
    D = 2 if mod.bidirectional else 1
    seq = x.swapaxes(0, 1) if mod.batch_first else x
    finals = [[] for _ in states]
    for layer in range(mod.num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            w = [getattr(mod, n).detach().numpy() for n in mod._all_weights[k]]
            w += [None] * (4 - len(w))
            inp = seq if d == 0 else seq[::-1]
            st = [None if s is None else s[k] for s in states]
            if mod.mode == "LSTM":
                out, h, c = reference.lstm_sequence_forward(inp, st[0], st[1], *w)[:3]
                last = [h, c]
            elif mod.mode == "GRU":
                out, h = reference.gru_sequence_forward(inp, st[0], *w)[:2]
                last = [h]
            else:
                nl = "tanh" if mod.mode == "RNN_TANH" else "relu"
                out, h = reference.rnn_sequence_forward(inp, st[0], *w, nonlinearity=nl)
                last = [h]
            outs.append(out if d == 0 else out[::-1])
            for acc, v in zip(finals, last):
                acc.append(v)
        seq = np.concatenate(outs, axis=2)
    out = seq.swapaxes(0, 1) if mod.batch_first else seq
    return [out] + [np.stack(acc) for acc in finals]


@pytest.mark.parametrize("with_hx", [False, True], ids=["hxNone", "hx"])
@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_module_matches_numpy_twins_stacked_by_hand(kind, with_hx, rng):
    name, extra = kind
    ember.manual_seed(2)
    m = getattr(nn, name)(3, 5, num_layers=3, bidirectional=True, batch_first=True,
                          dtype=ember.float64, **extra)
    x = rng.standard_normal((2, 6, 3))
    n_states = 2 if name == "LSTM" else 1
    states = [rng.standard_normal((6, 2, 5)) if with_hx else None for _ in range(n_states)]
    args = [ember.tensor(x)]
    if with_hx:
        hx = [ember.tensor(s) for s in states]
        args.append(tuple(hx) if name == "LSTM" else hx[0])
    got = flat_outputs(m(*args))
    want = numpy_stacked(m, x, states)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_empty_sequences_and_batches_like_torch(name):
    e_mod, t_mod = make_pair(name, 3, 4, num_layers=2)
    _same_error_types(lambda: e_mod(ember.zeros(0, 2, 3, dtype=ember.float64)),
                      lambda: t_mod(torch.zeros(0, 2, 3, dtype=torch.float64)),
                      "sequence length to be larger than 0")
    e_outs = flat_outputs(e_mod(ember.zeros(5, 0, 3, dtype=ember.float64)))
    t_outs = flat_outputs(t_mod(torch.zeros(5, 0, 3, dtype=torch.float64)))
    assert [tuple(e.shape) for e in e_outs] == [tuple(t.shape) for t in t_outs]


def test_deepcopy_and_pickle_keep_working(rng):
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((5, 2, 3)))
    want = m(x)[0].detach().numpy()
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        np.testing.assert_array_equal(clone(x)[0].detach().numpy(), want)
        assert list(clone.state_dict()) == list(m.state_dict())


def test_gradcheck_through_the_module():
    """Finite differences of a 2-layer bidirectional LSTM and GRU (float64) w.r.t. the input,
    the initial states and every parameter."""
    ember.manual_seed(3)
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h = ember.tensor(rng.standard_normal((4, 2, 2)) * 0.5, requires_grad=True)
    c = ember.tensor(rng.standard_normal((4, 2, 2)) * 0.5, requires_grad=True)
    lstm = nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=ember.float64)
    params = list(lstm.parameters())
    assert ember.autograd.gradcheck(lambda x, h, c, *p: flat_outputs(lstm(x, (h, c))),
                                    [x, h, c, *params])
    gru = nn.GRU(2, 2, num_layers=2, bidirectional=True, batch_first=True,
                 dtype=ember.float64)
    xb = ember.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, h, *p: gru(x, h), [xb, h, *gru.parameters()])


def test_no_grad_forward_and_double_conversion(rng):
    e_mod, t_mod = make_pair("LSTM", 3, 4, num_layers=2, dtype=np.float32)
    e_mod = e_mod.double()
    t_mod = t_mod.double()
    assert all(p.dtype == ember.float64 for p in e_mod.parameters())
    x = rng.standard_normal((4, 2, 3))
    with ember.no_grad():
        out, (h, c) = e_mod(ember.tensor(x))
    assert not out.requires_grad and not h.requires_grad
    t_out, _ = t_mod(torch.tensor(x))
    assert_close(out, t_out, np.float64)
    assert e_mod.flatten_parameters() is None


# -- dropout between layers ------------------------------------------------------------------
def test_dropout_statistics_and_eval_mode():
    """A 2-layer relu RNN whose first layer outputs exactly 1 everywhere and whose second layer
    is the identity exposes the dropout mask applied between them: each element is 0 with
    probability p and 1 / (1 - p) otherwise; the last layer's output is never dropped."""
    H, p = 10, 0.3
    m = nn.RNN(4, H, num_layers=2, nonlinearity="relu", dropout=p, dtype=ember.float64)
    with ember.no_grad():
        for name, param in m.named_parameters():
            param.zero_()
        m.bias_ih_l0.fill_(1.0)
        m.weight_ih_l1.copy_(ember.eye(H, dtype=ember.float64))
    x = ember.tensor(np.random.default_rng(1).standard_normal((20, 50, 4)))
    ember.manual_seed(11)
    out1 = m(x)[0].detach().numpy()
    out2 = m(x)[0].detach().numpy()
    for out in (out1, out2):
        dropped = out == 0
        np.testing.assert_allclose(out[~dropped], 1 / (1 - p), rtol=1e-12)
        assert abs(dropped.mean() - p) < 0.02  # 10000 draws: std 0.0046
    assert not np.array_equal(out1, out2)  # a fresh mask per call
    m.eval()
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), np.ones((20, 50, H)))
    m.train()
    m.dropout = 0.0
    np.testing.assert_array_equal(m(x)[0].detach().numpy(), np.ones((20, 50, H)))


def test_dropout_sits_between_layers_and_backpropagates(rng):
    """With the same seed, a training-mode 2-layer bidirectional LSTM equals its layers run by
    hand with F.dropout on the concatenated first-layer output (values and input gradient)."""
    p = 0.4
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dropout=p, dtype=ember.float64)
    x_np = rng.standard_normal((6, 2, 3))

    def by_hand(x):
        layer_in = x
        for layer in range(2):
            outs = []
            for sfx in ("", "_reverse"):
                w = [getattr(m, f"{n}_l{layer}{sfx}")
                     for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                inp = layer_in if not sfx else ember.flip(layer_in, (0,))
                out = F.lstm_sequence(inp, None, None, *w)[0]
                outs.append(out if not sfx else ember.flip(out, (0,)))
            layer_in = ember.cat(outs, dim=2)
            if layer == 0:
                layer_in = F.dropout(layer_in, p, training=True)
        return layer_in

    xa = ember.tensor(x_np, requires_grad=True)
    xb = ember.tensor(x_np, requires_grad=True)
    ember.manual_seed(5)
    out_a = m(xa)[0]
    ember.manual_seed(5)
    out_b = by_hand(xb)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-12)
    w = ember.tensor(rng.standard_normal(tuple(out_a.shape)))
    (out_a * w).sum().backward()
    (out_b * w).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-12)
    # ... and the mask really dropped something (else the test could not fail).
    m.eval()
    assert not np.allclose(m(ember.tensor(x_np))[0].detach().numpy(), out_a.detach().numpy())


@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_dropout_in_eval_mode_matches_torch(kind, rng):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 3, 4, num_layers=3, dropout=0.5, **extra)
    e_mod.eval()
    t_mod.eval()
    x = rng.standard_normal((5, 2, 3))
    for e, t in zip(flat_outputs(e_mod(ember.tensor(x))), flat_outputs(t_mod(torch.tensor(x)))):
        assert_close(e, t, np.float64)


def test_dropout_with_one_layer_warns_like_torch_and_drops_nothing(rng):
    with pytest.warns(UserWarning, match="num_layers greater than 1, but got dropout=0.5"):
        m = nn.GRU(3, 4, dropout=0.5, dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((5, 2, 3)))
    train_out = m(x)[0].detach().numpy()
    m.eval()
    np.testing.assert_array_equal(train_out, m(x)[0].detach().numpy())


# -- initialisation, parameters, state_dict, repr ---------------------------------------------
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"])
def test_init_is_uniform_within_one_over_sqrt_hidden(name):
    H = 64
    ember.manual_seed(0)
    args = (32, H, 2) if name in ("LSTM", "GRU", "RNN") else (32, H)
    kwargs = {"bidirectional": True} if name in ("LSTM", "GRU", "RNN") else {}
    m = getattr(nn, name)(*args, **kwargs)
    bound = 1 / math.sqrt(H)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.dtype == np.float32 and values.size > 6000
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.03 * bound  # >= 4 standard errors at n = 6272
    # U(-b, b): half of the mass within b/2; variance b^2 / 3.
    assert abs(np.mean(np.abs(values) < bound / 2) - 0.5) < 0.03
    assert abs(values.var() / (bound ** 2 / 3) - 1) < 0.05
    # Every parameter is drawn (no all-equal tensor), and reset_parameters draws afresh.
    for p in m.parameters():
        assert p.detach().numpy().std() > 0.3 * bound
    before = [p.detach().numpy().copy() for p in m.parameters()]
    m.reset_parameters()
    assert all(not np.array_equal(b, p.detach().numpy())
               for b, p in zip(before, m.parameters()))
    # Reproducible under ember.manual_seed.
    ember.manual_seed(0)
    again = getattr(nn, name)(*args, **kwargs)
    for a, b in zip(again.parameters(), before):
        np.testing.assert_array_equal(a.detach().numpy(), b)


REPR_CASES = [
    ("LSTM", (10, 20), {}),
    ("LSTM", (10, 20, 2), {"bias": False, "batch_first": True, "dropout": 0.25,
                           "bidirectional": True}),
    ("GRU", (3, 7), {"num_layers": 3, "bidirectional": True}),
    ("GRU", (3, 7), {"bias": False}),
    ("RNN", (4, 5, 2, "relu"), {}),
    ("RNN", (4, 5), {"nonlinearity": "tanh", "batch_first": True, "dropout": 0.1,
                     "num_layers": 2}),
    ("LSTMCell", (4, 6), {}),
    ("LSTMCell", (4, 6), {"bias": False}),
    ("GRUCell", (4, 6), {"bias": False}),
    ("RNNCell", (4, 6), {"nonlinearity": "relu"}),
    ("RNNCell", (4, 6), {"bias": False, "nonlinearity": "tanh"}),
]


@pytest.mark.parametrize("name,args,kwargs", REPR_CASES)
def test_repr_state_dict_and_attributes_match_torch(name, args, kwargs):
    e_mod = getattr(nn, name)(*args, **kwargs)
    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    e_sd, t_sd = e_mod.state_dict(), t_mod.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
    assert [n for n, _ in e_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    for attr in ("input_size", "hidden_size", "bias", "num_layers", "batch_first", "dropout",
                 "bidirectional", "proj_size", "mode", "nonlinearity"):
        if hasattr(t_mod, attr):
            assert getattr(e_mod, attr) == getattr(t_mod, attr), attr
    if hasattr(t_mod, "all_weights") and name in ("LSTM", "GRU", "RNN"):
        assert [[tuple(p.shape) for p in group] for group in e_mod.all_weights] == \
            [[tuple(p.shape) for p in group] for group in t_mod.all_weights]
        assert e_mod._flat_weights_names == t_mod._flat_weights_names


def test_cell_without_bias_has_none_biases():
    m = nn.GRUCell(3, 4, bias=False)
    assert m.bias_ih is None and m.bias_hh is None
    assert list(m.state_dict()) == ["weight_ih", "weight_hh"]


# -- cells: torch parity -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["hxNone", "hx"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kind", CELL_KINDS, ids=CELL_IDS)
def test_cell_matches_torch(kind, batched, with_hx, bias, dtype, rng):
    name, extra = kind
    I, H, B = 3, 5, 4
    e_mod, t_mod = make_pair(name, I, H, bias=bias, dtype=dtype, **extra)
    lead = (B,) if batched else ()
    ex, tx = leaf_pair(rng.standard_normal(lead + (I,)).astype(dtype))
    args_e, args_t = [ex], [tx]
    if with_hx:
        eh, th = leaf_pair(rng.standard_normal(lead + (H,)).astype(dtype))
        if name == "LSTMCell":
            ec, tc = leaf_pair(rng.standard_normal(lead + (H,)).astype(dtype))
            args_e.append((eh, ec))
            args_t.append((th, tc))
        else:
            args_e.append(eh)
            args_t.append(th)
    e_res, t_res = e_mod(*args_e), t_mod(*args_t)
    e_outs = list(e_res) if isinstance(e_res, tuple) else [e_res]
    t_outs = list(t_res) if isinstance(t_res, tuple) else [t_res]
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert_close(e, t, dtype)
    backward_both(e_outs, t_outs, rng, dtype)
    assert_close(ex.grad, tx.grad, dtype)
    if with_hx:
        assert_close(eh.grad, th.grad, dtype)
        if name == "LSTMCell":
            assert_close(ec.grad, tc.grad, dtype)
    assert_param_grads(e_mod, t_mod, dtype)


def test_cells_unrolled_equal_the_sequence_module(rng):
    """An LSTMCell stepped over time with nn.LSTM's weights gives nn.LSTM's output."""
    lstm = nn.LSTM(3, 4, dtype=ember.float64)
    cell = nn.LSTMCell(3, 4, dtype=ember.float64)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = ember.tensor(rng.standard_normal((5, 2, 3)))
    out, (h_n, c_n) = lstm(x)
    state = None
    for t in range(5):
        state = cell(x[t], state)
        np.testing.assert_allclose(state[0].detach().numpy(), out[t].detach().numpy(),
                                   rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state[1].detach().numpy(), c_n[0].detach().numpy(), rtol=1e-12)


# -- errors: torch's types and messages --------------------------------------------------------
def _errors(e_call, t_call):
    with pytest.raises(Exception) as t_info:
        t_call()
    with pytest.raises(type(t_info.value)) as e_info:
        e_call()
    return str(e_info.value), str(t_info.value)


def _same_error_types(e_call, t_call, words):
    e_msg, t_msg = _errors(e_call, t_call)
    assert words in e_msg and words in t_msg


def _same_error(e_call, t_call):
    e_msg, t_msg = _errors(e_call, t_call)
    assert e_msg == t_msg


@pytest.mark.parametrize("kind", SEQ_KINDS, ids=SEQ_IDS)
def test_forward_errors_match_torch(kind):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 3, 4, num_layers=2, **extra)
    lstm = name == "LSTM"

    def both(x_shape, *state_shapes, dtype=np.float64):
        x = np.zeros(x_shape, dtype)
        if not state_shapes:
            return (lambda: e_mod(ember.tensor(x))), (lambda: t_mod(torch.tensor(x)))
        states = [np.zeros(s) for s in state_shapes]
        e_s = [ember.tensor(s) for s in states]
        t_s = [torch.tensor(s) for s in states]
        e_hx = tuple(e_s) if lstm else e_s[0]
        t_hx = tuple(t_s) if lstm else t_s[0]
        return (lambda: e_mod(ember.tensor(x), e_hx)), (lambda: t_mod(torch.tensor(x), t_hx))

    good = (2, 2, 4)
    pairs = [
        both((5, 2, 3, 1)),                           # 4-D input
        both((5,)),                                   # 1-D input
        both((5, 2, 7)),                              # wrong input_size
        both((5, 7)),                                 # wrong input_size, unbatched
        both((5, 2, 3), *[(1, 2, 4)] * (1 + lstm)),   # too few layers in hx
        both((5, 2, 3), *[(2, 3, 4)] * (1 + lstm)),   # wrong batch in hx
        both((5, 2, 3), *[(2, 2, 5)] * (1 + lstm)),   # wrong hidden size in hx
        both((5, 2, 3), *[(2, 4)] * (1 + lstm)),      # 2-D hx for batched input
        both((5, 3), *[(2, 1, 4)] * (1 + lstm)),      # 3-D hx for unbatched input
        both((5, 3), *[(3, 4)] * (1 + lstm)),         # unbatched, wrong layer count
    ]
    if lstm:
        pairs.append(both((5, 2, 3), good, (2, 2, 5)))  # c0 of the wrong size
        pairs.append(both((5, 2, 3), good, (2, 4)))     # c0 of the wrong rank
    for e_call, t_call in pairs:
        _same_error(e_call, t_call)
    # dtype mismatch: a ValueError naming both dtypes (torch's names differ only by prefix).
    e_msg, t_msg = _errors(*both((5, 2, 3), dtype=np.float32))
    assert e_msg.replace("ember.", "torch.") == t_msg


def test_dtype_mismatches_are_runtime_errors_like_torch():
    """A state or input of another dtype than the weights: torch's RuntimeError (ember's
    message lists every argument's dtype)."""
    for name in ("GRU", "LSTM"):
        e_mod, t_mod = make_pair(name, 3, 4)
        e_h = ember.zeros(1, 1, 4, dtype=ember.float32)
        t_h = torch.zeros(1, 1, 4, dtype=torch.float32)
        e_hx, t_hx = ((e_h, e_h), (t_h, t_h)) if name == "LSTM" else (e_h, t_h)
        e_msg, _ = _errors(lambda: e_mod(ember.zeros(2, 1, 3, dtype=ember.float64), e_hx),
                           lambda: t_mod(torch.zeros(2, 1, 3, dtype=torch.float64), t_hx))
        assert "float32" in e_msg and "float64" in e_msg
    e_cell, t_cell = make_pair("GRUCell", 3, 4, dtype=np.float32)
    e_msg, _ = _errors(lambda: e_cell(ember.zeros(2, 3, dtype=ember.float64)),
                       lambda: t_cell(torch.zeros(2, 3, dtype=torch.float64)))
    assert "float32" in e_msg and "float64" in e_msg
    e_msg, _ = _errors(lambda: e_cell(ember.zeros(2, 3), ember.zeros(2, 4, dtype=ember.float64)),
                       lambda: t_cell(torch.zeros(2, 3), torch.zeros(2, 4, dtype=torch.float64)))
    assert "hx float64" in e_msg


@pytest.mark.parametrize("kwargs", [
    dict(dropout=1.5), dict(dropout=-0.1), dict(dropout=True), dict(num_layers=0),
    dict(bias=1), dict(batch_first=None), dict(proj_size=-1), dict(proj_size=4),
    dict(proj_size=1, _cls="GRU"), dict(proj_size=1, _cls="RNN"),
    dict(nonlinearity="sigmoid", _cls="RNN"), dict(_args=(0, 4)), dict(_args=(3, 0)),
    dict(_args=(3.0, 4)), dict(_args=(3, "4")),
])
def test_constructor_errors_match_torch(kwargs):
    kwargs = dict(kwargs)
    cls = kwargs.pop("_cls", "LSTM")
    args = kwargs.pop("_args", (3, 4))
    _same_error(lambda: getattr(nn, cls)(*args, **kwargs),
                lambda: getattr(torch.nn, cls)(*args, **kwargs))


def test_lstm_projections_are_not_implemented():
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)


@pytest.mark.parametrize("kind", CELL_KINDS, ids=CELL_IDS)
def test_cell_errors_match_torch(kind):
    name, extra = kind
    e_mod, t_mod = make_pair(name, 3, 4, **extra)
    lstm = name == "LSTMCell"

    def both(x_shape, state_shape=None, state_shape2=None):
        x = np.zeros(x_shape)
        if state_shape is None:
            return (lambda: e_mod(ember.tensor(x))), (lambda: t_mod(torch.tensor(x)))
        s1 = np.zeros(state_shape)
        s2 = np.zeros(state_shape2 or state_shape)
        e_hx = (ember.tensor(s1), ember.tensor(s2)) if lstm else ember.tensor(s1)
        t_hx = (torch.tensor(s1), torch.tensor(s2)) if lstm else torch.tensor(s1)
        return (lambda: e_mod(ember.tensor(x), e_hx)), (lambda: t_mod(torch.tensor(x), t_hx))

    # Rank errors: torch's ValueErrors word for word.
    _same_error(*both((2, 2, 3)))
    _same_error(*both((2, 3), (1, 2, 4)))
    if lstm:
        _same_error(*both((2, 3), (2, 4), (1, 2, 4)))
    # Size errors: RuntimeErrors (ember's messages name the argument and both shapes).
    for args, words in [(((2, 5),), ["input", "got 5", "expected 3"]),
                        (((2, 3), (3, 4)), ["hx", "(3, 4)"]),
                        (((2, 3), (2, 6)), ["hx", "(2, 6)"])]:
        e_msg, _ = _errors(*both(*args))
        assert all(w in e_msg for w in words), e_msg
    if lstm:
        e_msg, _ = _errors(*both((2, 3), (2, 4), (2, 5)))
        assert "cx" in e_msg and "(2, 5)" in e_msg


# -- training side by side with torch ---------------------------------------------------------
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_small_sequence_model_trains_like_torch(name):
    """Regress the running mean of a sequence from a 2-layer bidirectional recurrent net and a
    linear head: 6 SGD-with-momentum steps give torch's losses and weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 7, 3))            # batch_first
    y = np.cumsum(x.sum(-1), axis=1)[:, -1:] / 7  # (8, 1)
    torch.manual_seed(1)
    t_rnn = getattr(torch.nn, name)(3, 6, num_layers=2, bidirectional=True, batch_first=True,
                                    dtype=torch.float64)
    t_head = torch.nn.Linear(12, 1, dtype=torch.float64)
    e_rnn = getattr(nn, name)(3, 6, num_layers=2, bidirectional=True, batch_first=True,
                              dtype=ember.float64)
    e_head = nn.Linear(12, 1, dtype=ember.float64)
    for e_m, t_m in ((e_rnn, t_rnn), (e_head, t_head)):
        e_m.load_state_dict({k: v.detach().numpy() for k, v in t_m.state_dict().items()})
    t_params = list(t_rnn.parameters()) + list(t_head.parameters())
    e_params = list(e_rnn.parameters()) + list(e_head.parameters())
    e_opt = ember.optim.SGD(e_params, lr=0.05, momentum=0.9)
    t_bufs = [None] * len(t_params)
    t_losses, e_losses = [], []
    for _ in range(6):
        t_out = t_rnn(torch.tensor(x))[0]
        t_loss = torch.nn.functional.mse_loss(t_head(t_out[:, -1]), torch.tensor(y))
        t_loss.backward()
        with torch.no_grad():  # torch.optim.SGD(lr=0.05, momentum=0.9), spelled out: the
            for i, p in enumerate(t_params):  # first torch.optim step costs seconds of imports
                t_bufs[i] = p.grad.clone() if t_bufs[i] is None else 0.9 * t_bufs[i] + p.grad
                p -= 0.05 * t_bufs[i]
                p.grad = None
        t_losses.append(t_loss.item())
        e_opt.zero_grad()
        e_out = e_rnn(ember.tensor(x))[0]
        e_loss = F.mse_loss(e_head(e_out[:, -1]), ember.tensor(y))
        e_loss.backward()
        e_opt.step()
        e_losses.append(e_loss.item())
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-9)
    assert e_losses[-1] < 0.9 * e_losses[0]  # it actually learns
    for e_p, t_p in zip(e_params, t_params):
        np.testing.assert_allclose(e_p.detach().numpy(), t_p.detach().numpy(), rtol=1e-8,
                                   atol=1e-10)


def test_module_runs_without_warnings(rng):
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, (h, c) = m(ember.tensor(rng.standard_normal((2, 5, 3)).astype(np.float32)))
    assert tuple(out.shape) == (2, 5, 8) and tuple(h.shape) == tuple(c.shape) == (4, 2, 4)
