"""ember.nn.functional recurrent cells and sequences: float64 gradcheck through the C++
backward for every input (input, states, both weights, both biases), the functional layer's
conveniences (unbatched input, hx=None, no bias), sequence == unrolled cells through autograd,
gradients of only some inputs, and torch-style errors."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from test_rnn import GATES, KINDS, make_params

CELLS = {"lstm": F.lstm_cell, "gru": F.gru_cell, "rnn_tanh": F.rnn_tanh_cell,
         "rnn_relu": F.rnn_relu_cell}


def tensors(p, requires_grad=True, keys=None):
    """The arrays of make_params as float64 leaf tensors (None stays None)."""
    out = {}
    for k, v in p.items():
        if v is None:
            out[k] = None
        else:
            t = ember.tensor(np.ascontiguousarray(v))
            t.requires_grad_(requires_grad and (keys is None or k in keys))
            out[k] = t
    return out


def call_cell(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """F's cell for ``kind``; returns a tuple of outputs."""
    if kind == "lstm":
        return F.lstm_cell(x, None if h is None else (h, c), w_ih, w_hh, b_ih, b_hh)
    return (CELLS[kind](x, h, w_ih, w_hh, b_ih, b_hh),)


def call_sequence(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    if kind == "lstm":
        return F.lstm_sequence(x, h, c, w_ih, w_hh, b_ih, b_hh)
    if kind == "gru":
        return F.gru_sequence(x, h, w_ih, w_hh, b_ih, b_hh)
    return F.rnn_sequence(x, h, w_ih, w_hh, b_ih, b_hh,
                          nonlinearity="relu" if kind == "rnn_relu" else "tanh")


ORDER = ["x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh"]
# Central differences in float64 are good to ~1e-9 here, so the check can be much tighter than
# gradcheck's defaults (a 1e-4 relative error in any gradient fails it).
TIGHT = dict(atol=1e-8, rtol=1e-6)


def gradcheck_inputs(t):
    """Positional inputs for gradcheck (None-free: absent entries are passed as None)."""
    return tuple(t[k] for k in ORDER)


# ----------------------------------------------------------------------------------------------
# gradcheck, every input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("geom", [(2, 3, 4), (1, 2, 3), (3, 4, 2)], ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_cell_gradcheck(rng, kind, geom):
    t = tensors(make_params(rng, kind, *geom, np.float64))
    assert gradcheck(lambda *a: call_cell(kind, *a), gradcheck_inputs(t), **TIGHT)


@pytest.mark.parametrize("steps", [1, 3, 4])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_gradcheck(rng, kind, steps):
    t = tensors(make_params(rng, kind, 2, 3, 4, np.float64, T=steps))
    assert gradcheck(lambda *a: call_sequence(kind, *a), gradcheck_inputs(t), **TIGHT)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_without_bias_and_unbatched(rng, kind):
    t = tensors(make_params(rng, kind, 2, 3, 4, np.float64, bias=False))
    assert gradcheck(lambda *a: call_cell(kind, *a), gradcheck_inputs(t), **TIGHT)
    t = tensors(make_params(rng, kind, 1, 3, 4, np.float64))
    for k in ("x", "h", "c"):
        if t[k] is not None:
            t[k] = ember.tensor(t[k]._data[0], requires_grad=True)
    assert gradcheck(lambda *a: call_cell(kind, *a), gradcheck_inputs(t), **TIGHT)
    s = tensors(make_params(rng, kind, 1, 3, 4, np.float64, T=3, bias=False))
    s["x"] = ember.tensor(s["x"]._data[:, 0], requires_grad=True)
    for k in ("h", "c"):
        if s[k] is not None:
            s[k] = ember.tensor(s[k]._data[0], requires_grad=True)
    assert gradcheck(lambda *a: call_sequence(kind, *a), gradcheck_inputs(s), **TIGHT)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_zero_initial_state(rng, kind):
    """hx=None / h0=None: the zero state is created inside and needs no gradient."""
    t = tensors(make_params(rng, kind, 2, 3, 4, np.float64))
    t["h"] = t["c"] = None
    assert gradcheck(lambda *a: call_cell(kind, *a), gradcheck_inputs(t), **TIGHT)
    s = tensors(make_params(rng, kind, 2, 3, 4, np.float64, T=3))
    s["h"] = s["c"] = None
    assert gradcheck(lambda *a: call_sequence(kind, *a), gradcheck_inputs(s), **TIGHT)


# ----------------------------------------------------------------------------------------------
# Sequence == cells unrolled, through autograd
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_equals_unrolled_cells(rng, kind, dtype):
    T, B, I, H = 4, 3, 5, 6
    p = make_params(rng, kind, B, I, H, dtype, T=T)
    seq_t, cell_t = tensors(p), tensors(p)
    seq_out = call_sequence(kind, *gradcheck_inputs(seq_t))
    h, c, outs = cell_t["h"], cell_t["c"], []
    for step in range(T):
        res = call_cell(kind, cell_t["x"][step], h, c, cell_t["w_ih"], cell_t["w_hh"],
                        cell_t["b_ih"], cell_t["b_hh"])
        h = res[0]
        c = res[1] if kind == "lstm" else None
        outs.append(h)
    cell_out = (ember.stack(outs), h) + ((c,) if kind == "lstm" else ())
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    weights = [rng.standard_normal(o.shape).astype(dtype) for o in seq_out]
    for a, b, w in zip(seq_out, cell_out, weights):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    sum(((o * ember.tensor(w)).sum() for o, w in zip(seq_out, weights))).backward()
    sum(((o * ember.tensor(w)).sum() for o, w in zip(cell_out, weights))).backward()
    for k in ORDER:
        if seq_t[k] is not None:
            np.testing.assert_allclose(seq_t[k].grad.numpy(), cell_t[k].grad.numpy(), **tol,
                                       err_msg=k)


# ----------------------------------------------------------------------------------------------
# Only some inputs need gradients; outputs without a gradient
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_of_some_inputs(rng, kind):
    p = make_params(rng, kind, 3, 4, 5, np.float64, T=3)
    full = tensors(p)
    sum(o.sum() for o in call_sequence(kind, *gradcheck_inputs(full))).backward()
    for keys in (["w_ih", "w_hh"], ["x"], ["h"], ["b_hh"]):
        part = tensors(p, keys=keys)
        sum(o.sum() for o in call_sequence(kind, *gradcheck_inputs(part))).backward()
        for k in ORDER:
            if part[k] is None:
                continue
            if k in keys:
                np.testing.assert_allclose(part[k].grad.numpy(), full[k].grad.numpy(),
                                           rtol=1e-13, atol=1e-14)
            else:
                assert part[k].grad is None


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_only_final_state_used(rng, kind):
    """Backward from h_n alone (output unused) and, for the LSTM, from c_n alone."""
    t = tensors(make_params(rng, kind, 2, 3, 4, np.float64, T=3))
    for k in range(1, 3 if kind == "lstm" else 2):
        assert gradcheck(lambda *a: call_sequence(kind, *a)[k], gradcheck_inputs(t), **TIGHT)
    if kind == "lstm":
        c = tensors(make_params(rng, kind, 2, 3, 4, np.float64))
        assert gradcheck(lambda *a: call_cell(kind, *a)[1], gradcheck_inputs(c), **TIGHT)


def test_strided_tensor_inputs(rng):
    """A batch_first input transposed to (T, B, I) and a transposed weight view give the same
    values and gradients as contiguous copies."""
    p = make_params(rng, "lstm", 3, 5, 6, np.float64, T=4)
    xb = ember.tensor(np.ascontiguousarray(p["x"].swapaxes(0, 1)), requires_grad=True)
    wt = ember.tensor(np.ascontiguousarray(p["w_ih"].T), requires_grad=True)
    t = tensors(p)
    out = F.lstm_sequence(xb.transpose(0, 1), t["h"], t["c"], wt.t(), t["w_hh"], t["b_ih"],
                          t["b_hh"])
    ref = F.lstm_sequence(*gradcheck_inputs(t))
    for a, b in zip(out, ref):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-13)
    sum(o.sum() for o in out).backward()
    sum(o.sum() for o in ref).backward()
    np.testing.assert_allclose(xb.grad.numpy().swapaxes(0, 1), t["x"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(wt.grad.numpy().T, t["w_ih"].grad.numpy(), rtol=1e-12)


def test_inplace_change_of_saved_output_is_detected(rng):
    t = tensors(make_params(rng, "lstm", 2, 3, 4, np.float64, T=3))
    out, h_n, c_n = F.lstm_sequence(*gradcheck_inputs(t))
    out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h_n.sum().backward()


# ----------------------------------------------------------------------------------------------
# Shapes and errors of the functional layer
# ----------------------------------------------------------------------------------------------
def test_output_shapes(rng):
    t = tensors(make_params(rng, "lstm", 3, 5, 7, np.float32, T=4))
    h, c = F.lstm_cell(t["x"][0], (t["h"], t["c"]), t["w_ih"], t["w_hh"])
    assert h.shape == (3, 7) and c.shape == (3, 7) and h.dtype == ember.float32
    h, c = F.lstm_cell(t["x"][0, 0], None, t["w_ih"], t["w_hh"])
    assert h.shape == (7,) and c.shape == (7,)
    out, h_n, c_n = F.lstm_sequence(t["x"], None, None, t["w_ih"], t["w_hh"])
    assert out.shape == (4, 3, 7) and h_n.shape == (3, 7) and c_n.shape == (3, 7)
    out, h_n, c_n = F.lstm_sequence(t["x"][:, 0], t["h"][0], t["c"][0], t["w_ih"], t["w_hh"])
    assert out.shape == (4, 7) and h_n.shape == (7,) and c_n.shape == (7,)
    g = tensors(make_params(rng, "gru", 3, 5, 7, np.float64, T=4))
    assert F.gru_cell(g["x"][0], None, g["w_ih"], g["w_hh"]).dtype == ember.float64
    out, h_n = F.gru_sequence(g["x"], g["h"], g["w_ih"], g["w_hh"], g["b_ih"], g["b_hh"])
    assert out.shape == (4, 3, 7) and h_n.shape == (3, 7)
    np.testing.assert_array_equal(out[-1].detach().numpy(), h_n.detach().numpy())


def test_functional_errors(rng):
    t = tensors(make_params(rng, "lstm", 3, 5, 7, np.float32, T=4), requires_grad=False)
    x, h, c, wi, wh = t["x"], t["h"], t["c"], t["w_ih"], t["w_hh"]
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        F.lstm_cell(x, (h, c), wi, wh)
    with pytest.raises(ValueError, match=r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D"):
        F.lstm_cell(x[0], (h, x), wi, wh)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 4"):
        F.lstm_cell(x[0], (h, c), wi[:, :4], wh)
    with pytest.raises(RuntimeError, match=r"w_ih first dim must be 4 \* hidden_size = 28"):
        F.lstm_cell(x[0], (h, c), wi[:27], wh)
    with pytest.raises(RuntimeError, match=r"hx must have shape \(batch, hidden_size\) = \(3, 7\)"):
        F.lstm_cell(x[0], (h[:, :6], c), wi, wh)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.lstm_cell(x[0].double(), (h, c), wi, wh)
    with pytest.raises(RuntimeError, match=r"hx must be a pair"):
        F.lstm_cell(x[0], (h,), wi, wh)
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D"):
        F.gru_cell(x, h, wi[:21], wh[:21])
    with pytest.raises(RuntimeError, match="w_hh must have shape"):
        F.rnn_tanh_cell(x[0], h, wi[:7], wh[:6])
    with pytest.raises(ValueError, match="Expected input to be 2D .unbatched. or 3D"):
        F.lstm_sequence(x[0, 0], h, c, wi, wh)
    with pytest.raises(RuntimeError, match="For batched 3-D input, h0 should also be 2-D"):
        F.lstm_sequence(x, h[0], c, wi, wh)
    with pytest.raises(RuntimeError, match="larger than 0"):
        F.gru_sequence(x[:0], None, wi[:21], wh[:21])
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        F.rnn_sequence(x, None, wi[:7], wh[:7], nonlinearity="gelu")
