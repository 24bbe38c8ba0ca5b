"""PyTorch parity of ember's recurrent functions, forward and every gradient:
cells against torch.lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell, sequences against
torch.nn.LSTM / GRU / RNN (one layer) with the same weights. Geometries: batch 1, odd sizes,
H not a multiple of 16, I != H, no bias, strided inputs, unbatched input, both dtypes, 1 and 2
threads. Tolerance: test_rnn.assert_close (relative to the largest value)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from test_rnn import GEOMETRIES, KINDS, assert_close, make_params

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]
ORDER = ["x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh"]
TORCH_CELLS = {"lstm": "lstm_cell", "gru": "gru_cell", "rnn_tanh": "rnn_tanh_cell",
               "rnn_relu": "rnn_relu_cell"}
EMBER_CELLS = {"lstm": F.lstm_cell, "gru": F.gru_cell, "rnn_tanh": F.rnn_tanh_cell,
               "rnn_relu": F.rnn_relu_cell}


def leaves(p, lib):
    """The arrays as leaf tensors requiring grad, in ember or torch."""
    out = {}
    for k, v in p.items():
        if v is None:
            out[k] = None
        elif lib == "torch":
            out[k] = torch.tensor(np.ascontiguousarray(v), requires_grad=True)
        else:
            out[k] = ember.tensor(np.ascontiguousarray(v), requires_grad=True)
    return out


def grad_of(t):
    g = t.grad
    return None if g is None else (g.numpy() if isinstance(g, ember.Tensor) else g.numpy())


def backward_weighted(outputs, weights, lib):
    """sum_k <outputs[k], weights[k]>.backward(): every output gets a different gradient."""
    mk = (lambda w: torch.tensor(w)) if lib == "torch" else (lambda w: ember.tensor(w))
    loss = None
    for o, w in zip(outputs, weights):
        term = (o * mk(w)).sum()
        loss = term if loss is None else loss + term
    loss.backward()


def compare(e_out, t_out, e_leaves, t_leaves, rng, what):
    """Forward values, then every leaf's gradient for the same random output weights."""
    weights = [rng.standard_normal(tuple(o.shape)).astype(o.detach().numpy().dtype)
               for o in t_out]
    for k, (a, b) in enumerate(zip(e_out, t_out)):
        assert_close(a.detach().numpy(), b.detach().numpy(), f"{what} output {k}")
    backward_weighted(e_out, weights, "ember")
    backward_weighted(t_out, weights, "torch")
    for k in e_leaves:
        if t_leaves[k] is not None:
            assert_close(grad_of(e_leaves[k]), grad_of(t_leaves[k]), f"{what} d{k}")


def torch_cell(kind, t):
    fn = getattr(torch, TORCH_CELLS[kind])
    hx = (t["h"], t["c"]) if kind == "lstm" else t["h"]
    out = fn(t["x"], hx, t["w_ih"], t["w_hh"], t["b_ih"], t["b_hh"])
    return tuple(out) if kind == "lstm" else (out,)


def ember_cell(kind, e, x=None, h=None, c=None, w_ih=None):
    x = e["x"] if x is None else x
    h = e["h"] if h is None else h
    c = e["c"] if c is None else c
    w_ih = e["w_ih"] if w_ih is None else w_ih
    hx = (h, c) if kind == "lstm" else h
    out = EMBER_CELLS[kind](x, hx, w_ih, e["w_hh"], e["b_ih"], e["b_hh"])
    return tuple(out) if kind == "lstm" else (out,)


# ----------------------------------------------------------------------------------------------
# Cells
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("geom", GEOMETRIES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_cell_parity(rng, threads, kind, geom, dtype, bias):
    p = make_params(rng, kind, *geom, dtype, bias=bias)
    e, t = leaves(p, "ember"), leaves(p, "torch")
    compare(ember_cell(kind, e), torch_cell(kind, t), e, t, rng, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_parity_strided(rng, kind):
    """ember reads strided views (a column slice of the input, a sliced state, a transposed
    weight) in place; the gradients flow back to the underlying leaves."""
    B, I, H = 5, 9, 11
    p = make_params(rng, kind, B, I, H, np.float32)
    t = leaves(p, "torch")
    e = leaves(p, "ember")
    x_big = ember.tensor(np.repeat(p["x"], 2, axis=1), requires_grad=True)
    h_big = ember.tensor(np.repeat(p["h"], 3, axis=1), requires_grad=True)
    w_t = ember.tensor(np.ascontiguousarray(p["w_ih"].T), requires_grad=True)
    out = ember_cell(kind, e, x=x_big[:, ::2], h=h_big[:, 1::3], w_ih=w_t.t())
    weights = [rng.standard_normal((B, H)).astype(np.float32) for _ in out]
    t_out = torch_cell(kind, t)
    for a, b in zip(out, t_out):
        assert_close(a.detach().numpy(), b.detach().numpy(), "strided forward")
    backward_weighted(out, weights, "ember")
    backward_weighted(t_out, weights, "torch")
    assert_close(x_big.grad.numpy()[:, ::2], t["x"].grad.numpy(), "dx")
    assert np.all(x_big.grad.numpy()[:, 1::2] == 0)
    assert_close(h_big.grad.numpy()[:, 1::3], t["h"].grad.numpy(), "dh")
    assert_close(w_t.grad.numpy().T, t["w_ih"].grad.numpy(), "dw_ih")
    for k in ("w_hh", "b_ih", "b_hh") + (("c",) if kind == "lstm" else ()):
        assert_close(e[k].grad.numpy(), t[k].grad.numpy(), f"d{k}")


@pytest.mark.parametrize("kind", KINDS)
def test_cell_parity_unbatched_and_zero_state(rng, kind):
    """Unbatched (I,) input and hx=None, against torch's cell modules (which add both)."""
    I, H = 6, 5
    p = make_params(rng, kind, 1, I, H, np.float64)
    module = {"lstm": torch.nn.LSTMCell(I, H), "gru": torch.nn.GRUCell(I, H),
              "rnn_tanh": torch.nn.RNNCell(I, H, nonlinearity="tanh"),
              "rnn_relu": torch.nn.RNNCell(I, H, nonlinearity="relu")}[kind].double()
    with torch.no_grad():
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            getattr(module, name.replace("w_", "weight_").replace("b_", "bias_")).copy_(
                torch.tensor(p[name]))
    tx = torch.tensor(p["x"][0], requires_grad=True)
    ex = ember.tensor(p["x"][0], requires_grad=True)
    e = leaves(p, "ember")
    for hx in ("zero", "given"):
        if hx == "zero":
            t_out = module(tx)
            e_out = EMBER_CELLS[kind](ex, None, e["w_ih"], e["w_hh"], e["b_ih"], e["b_hh"])
        else:
            th, eh = torch.tensor(p["h"][0]), ember.tensor(p["h"][0])
            if kind == "lstm":
                tc, ec = torch.tensor(p["c"][0]), ember.tensor(p["c"][0])
                t_out = module(tx, (th, tc))
                e_out = F.lstm_cell(ex, (eh, ec), e["w_ih"], e["w_hh"], e["b_ih"], e["b_hh"])
            else:
                t_out = module(tx, th)
                e_out = EMBER_CELLS[kind](ex, eh, e["w_ih"], e["w_hh"], e["b_ih"], e["b_hh"])
        t_out = tuple(t_out) if kind == "lstm" else (t_out,)
        e_out = tuple(e_out) if kind == "lstm" else (e_out,)
        for a, b in zip(e_out, t_out):
            assert a.shape == (H,)
            assert_close(a.detach().numpy(), b.detach().numpy(), f"unbatched {hx}")
        tx.grad = None
        ex.grad = None
        backward_weighted(t_out, [np.ones(H)] * len(t_out), "torch")
        backward_weighted(e_out, [np.ones(H)] * len(e_out), "ember")
        assert_close(ex.grad.numpy(), tx.grad.numpy(), "unbatched dx")


# ----------------------------------------------------------------------------------------------
# Sequences
# ----------------------------------------------------------------------------------------------
def torch_module(kind, I, H, bias, p, dtype):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN,
           "rnn_relu": torch.nn.RNN}[kind]
    kwargs = {"nonlinearity": "relu" if kind == "rnn_relu" else "tanh"} if "rnn" in kind else {}
    m = cls(I, H, num_layers=1, bias=bias, **kwargs)
    m = m.double() if dtype == np.float64 else m.float()
    with torch.no_grad():
        m.weight_ih_l0.copy_(torch.tensor(p["w_ih"]))
        m.weight_hh_l0.copy_(torch.tensor(p["w_hh"]))
        if bias:
            m.bias_ih_l0.copy_(torch.tensor(p["b_ih"]))
            m.bias_hh_l0.copy_(torch.tensor(p["b_hh"]))
    return m


def sequence_parity(rng, kind, p, bias, dtype, unbatched=False):
    T, B, I = p["x"].shape
    H = p["w_hh"].shape[1]
    m = torch_module(kind, I, H, bias, p, dtype)
    sq = (lambda a: a[:, 0]) if unbatched else (lambda a: a)
    tx = torch.tensor(sq(p["x"]), requires_grad=True)
    th = torch.tensor(p["h"][None][:, 0] if unbatched else p["h"][None], requires_grad=True)
    ex = ember.tensor(sq(p["x"]), requires_grad=True)
    eh = ember.tensor(p["h"][0] if unbatched else p["h"], requires_grad=True)
    e = leaves(p, "ember")
    if kind == "lstm":
        tc = torch.tensor(p["c"][None][:, 0] if unbatched else p["c"][None], requires_grad=True)
        ec = ember.tensor(p["c"][0] if unbatched else p["c"], requires_grad=True)
        t_o, (t_h, t_c) = m(tx, (th, tc))
        t_out = (t_o, t_h[0] if not unbatched else t_h[0], t_c[0])
        e_out = F.lstm_sequence(ex, eh, ec, e["w_ih"], e["w_hh"], e["b_ih"], e["b_hh"])
    else:
        t_o, t_h = m(tx, th)
        t_out = (t_o, t_h[0])
        fn = F.gru_sequence if kind == "gru" else (
            lambda *a: F.rnn_sequence(*a, nonlinearity="relu" if kind == "rnn_relu" else "tanh"))
        e_out = fn(ex, eh, e["w_ih"], e["w_hh"], e["b_ih"], e["b_hh"])
    weights = [rng.standard_normal(tuple(o.shape)).astype(dtype) for o in t_out]
    for k, (a, b) in enumerate(zip(e_out, t_out)):
        assert_close(a.detach().numpy(), b.detach().numpy(), f"{kind} sequence output {k}")
    backward_weighted(e_out, weights, "ember")
    backward_weighted(t_out, weights, "torch")
    assert_close(ex.grad.numpy(), tx.grad.numpy(), "d_input")
    assert_close(eh.grad.numpy(), th.grad.numpy().reshape(eh.shape), "d_h0")
    if kind == "lstm":
        assert_close(ec.grad.numpy(), tc.grad.numpy().reshape(ec.shape), "d_c0")
    names = ["w_ih", "w_hh"] + (["b_ih", "b_hh"] if bias else [])
    for k in names:
        tp = getattr(m, k.replace("w_", "weight_").replace("b_", "bias_") + "_l0")
        assert_close(e[k].grad.numpy(), tp.grad.numpy(), f"d{k}")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("geom", [(1, 1, 1), (1, 5, 3), (3, 5, 7), (4, 7, 5), (2, 13, 17),
                                  (5, 33, 40), (64, 37, 130)], ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity(rng, threads, kind, geom, dtype, bias):
    steps = 3 if geom[0] * geom[2] > 1000 else 6
    p = make_params(rng, kind, *geom, dtype, T=steps, bias=bias)
    sequence_parity(rng, kind, p, bias, dtype)


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity_unbatched(rng, kind):
    p = make_params(rng, kind, 1, 4, 6, np.float64, T=5)
    sequence_parity(rng, kind, p, True, np.float64, unbatched=True)


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_parity_batch_first_view(rng, kind):
    """batch_first data transposed to (T, B, I) (a strided view, as nn.LSTM(batch_first=True)
    will pass it) against torch's batch_first module."""
    B, T, I, H = 3, 5, 4, 6
    p = make_params(rng, kind, B, I, H, np.float32, T=T)
    m = torch_module(kind, I, H, True, p, np.float32)
    m.batch_first = True
    xb = np.ascontiguousarray(p["x"].swapaxes(0, 1))
    tx = torch.tensor(xb, requires_grad=True)
    ex = ember.tensor(xb, requires_grad=True)
    e = leaves(p, "ember")
    if kind == "lstm":
        t_o = m(tx, (torch.tensor(p["h"][None]), torch.tensor(p["c"][None])))[0]
        e_o = F.lstm_sequence(ex.transpose(0, 1), e["h"], e["c"], e["w_ih"], e["w_hh"],
                              e["b_ih"], e["b_hh"])[0].transpose(0, 1)
    else:
        t_o = m(tx, torch.tensor(p["h"][None]))[0]
        fn = F.gru_sequence if kind == "gru" else (
            lambda *a: F.rnn_sequence(*a, nonlinearity="relu" if kind == "rnn_relu" else "tanh"))
        e_o = fn(ex.transpose(0, 1), e["h"], e["w_ih"], e["w_hh"], e["b_ih"],
                 e["b_hh"])[0].transpose(0, 1)
    assert_close(e_o.detach().numpy(), t_o.detach().numpy(), "batch_first output")
    w = rng.standard_normal((B, T, H)).astype(np.float32)
    backward_weighted([e_o], [w], "ember")
    backward_weighted([t_o], [w], "torch")
    assert_close(ex.grad.numpy(), tx.grad.numpy(), "batch_first d_input")
    assert_close(e["w_ih"].grad.numpy(), m.weight_ih_l0.grad.numpy(), "batch_first dw_ih")
