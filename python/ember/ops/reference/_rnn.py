"""Plain-NumPy twins of ``ember.ops.rnn``: LSTM, GRU and Elman RNN cells and sequences.

Same signatures, same results (and the same workspaces) as the C++ kernels, written the way a
fast NumPy implementation is: the gate products of a step summed into one (B, G*H) buffer, the
nonlinearities applied in place on slices of it, the input projection of all T steps done as
one GEMM before the recurrence, and the weight gradients as GEMMs merged over all T steps.
"""
from __future__ import annotations

import numpy as np

from ember.ops.rnn import check_rnn_args

__all__ = [
    "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward", "gru_cell_backward",
    "rnn_cell_forward", "rnn_cell_backward",
    "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
    "gru_sequence_backward", "rnn_sequence_forward", "rnn_sequence_backward",
]


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """a = 1 / (1 + exp(-a)) in place (exp may overflow to inf: the result is then 0)."""
    with np.errstate(over="ignore"):
        a *= -1                     # not np.negative(a, out=a): wrong on some strided views
        np.exp(a, out=a)            # in NumPy 2.4.6 (a (B, 1) column of a (B, 4) float32 array)
    a += 1
    np.reciprocal(a, out=a)
    return a


def _zeros_if_none(a, shape, dtype):
    return np.zeros(shape, dtype) if a is None else a


def _bias_sum(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _check_steps(op, T, shape):
    if T == 0:
        raise ValueError(f"{op}: Expected sequence length to be larger than 0 in RNN, got "
                         f"input of shape {shape}")


def _check_nonlinearity(op, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{op}: Unknown nonlinearity '{nonlinearity}' (expected 'tanh' or "
                         "'relu')")


def _weight_grads(dg, x2, h_prev2, need_w, need_b, need_x, w_ih):
    """dx, dw_ih, dw_hh, db from the (N, G*H) gate gradients and the (N, I) / (N, H) inputs."""
    dx = dg @ w_ih if need_x else None
    dwi = dg.T @ x2 if need_w else None
    dwh = dg.T @ h_prev2 if need_w else None
    db = dg.sum(axis=0) if need_b else None
    return dx, dwi, dwh, db


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------
def _lstm_step(x_proj, h, c, w_hh):
    """One step on the precomputed x @ w_ih^T + biases (B, 4H), modified in place into the
    activations i, f, g, o. Returns (h', c', gates)."""
    H = w_hh.shape[1]
    gates = x_proj
    gates += h @ w_hh.T
    _sigmoid_(gates[:, :2 * H])
    np.tanh(gates[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])
    _sigmoid_(gates[:, 3 * H:])
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    c_new = f * c
    c_new += i * g
    h_new = np.tanh(c_new)
    h_new *= o
    return h_new, c_new, gates


def _lstm_step_backward(dh, dc, gates, c_prev, c_new):
    """dG (B, 4H) of the gate pre-activations and dL/dc_prev, from dL/dh' and dL/dc'."""
    H = c_new.shape[1]
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tc = np.tanh(c_new)
    dct = dc + dh * o * (1 - tc * tc)
    dg = np.empty_like(gates)
    dg[:, :H] = dct * g * i * (1 - i)
    dg[:, H:2 * H] = dct * c_prev * f * (1 - f)
    dg[:, 2 * H:3 * H] = dct * i * (1 - g * g)
    dg[:, 3 * H:] = dh * tc * o * (1 - o)
    return dg, dct * f


def lstm_cell_forward(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    """NumPy twin of ``ember.ops.lstm_cell_forward``: ``(h', c', gates)``."""
    dt, (_, B, I, H), a = check_rnn_args("lstm_cell_forward", "lstm", input,
                                         {"hx": hx, "cx": cx}, w_ih, w_hh, b_ih, b_hh, False)
    proj = a["input"] @ a["w_ih"].T
    b = _bias_sum(a["b_ih"], a["b_hh"])
    if b is not None:
        proj += b
    return _lstm_step(proj, _zeros_if_none(a["hx"], (B, H), dt),
                      _zeros_if_none(a["cx"], (B, H), dt), a["w_hh"])


def lstm_cell_backward(grad_h, grad_c, input, hx, cx, w_ih, w_hh, c_new, gates, *,
                       input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """NumPy twin of ``ember.ops.lstm_cell_backward``."""
    dt, (_, B, I, H), a = check_rnn_args("lstm_cell_backward", "lstm", input,
                                         {"hx": hx, "cx": cx}, w_ih, w_hh, None, None, False)
    h = _zeros_if_none(a["hx"], (B, H), dt)
    c = _zeros_if_none(a["cx"], (B, H), dt)
    dg, dc = _lstm_step_backward(_zeros_if_none(grad_h, (B, H), dt),
                                 _zeros_if_none(grad_c, (B, H), dt), gates, c, c_new)
    dx, dwi, dwh, db = _weight_grads(dg, a["input"], h, weight_grad, bias_grad, input_grad,
                                     a["w_ih"])
    dh = dg @ a["w_hh"] if hidden_grad else None
    return (dx, dh, dc if hidden_grad else None, dwi, dwh, db,
            None if db is None else db.copy())


def lstm_sequence_forward(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """NumPy twin of ``ember.ops.lstm_sequence_forward``: ``(output, h_n, c_n, cs, gates)``."""
    op = "lstm_sequence_forward"
    dt, (T, B, I, H), a = check_rnn_args(op, "lstm", input, {"h0": h0, "c0": c0}, w_ih, w_hh,
                                         b_ih, b_hh, True)
    _check_steps(op, T, a["input"].shape)
    gates = (a["input"].reshape(T * B, I) @ a["w_ih"].T).reshape(T, B, 4 * H)
    b = _bias_sum(a["b_ih"], a["b_hh"])
    if b is not None:
        gates += b
    out = np.empty((T, B, H), dt)
    cs = np.empty((T, B, H), dt)
    h = _zeros_if_none(a["h0"], (B, H), dt)
    c = _zeros_if_none(a["c0"], (B, H), dt)
    for t in range(T):
        h, c, _ = _lstm_step(gates[t], h, c, a["w_hh"])
        out[t], cs[t] = h, c
    return out, out[-1].copy(), cs[-1].copy(), cs, gates


def lstm_sequence_backward(grad_output, grad_h_n, grad_c_n, input, h0, c0, w_ih, w_hh, output,
                           cs, gates, *, input_grad=True, hidden_grad=True, weight_grad=True,
                           bias_grad=True):
    """NumPy twin of ``ember.ops.lstm_sequence_backward``."""
    dt, (T, B, I, H), a = check_rnn_args("lstm_sequence_backward", "lstm", input,
                                         {"h0": h0, "c0": c0}, w_ih, w_hh, None, None, True)
    h0 = _zeros_if_none(a["h0"], (B, H), dt)
    c0 = _zeros_if_none(a["c0"], (B, H), dt)
    dG = np.empty((T, B, 4 * H), dt)
    dh = _zeros_if_none(grad_h_n, (B, H), dt)
    dc = _zeros_if_none(grad_c_n, (B, H), dt)
    for t in range(T - 1, -1, -1):
        dh_t = dh if grad_output is None else dh + grad_output[t]
        dG[t], dc = _lstm_step_backward(dh_t, dc, gates[t], cs[t - 1] if t else c0, cs[t])
        dh = dG[t] @ a["w_hh"]
    h_prev = np.concatenate([h0[np.newaxis], output[:-1]]).reshape(T * B, H)
    dx, dwi, dwh, db = _weight_grads(dG.reshape(T * B, 4 * H), a["input"].reshape(T * B, I),
                                     h_prev, weight_grad, bias_grad, input_grad, a["w_ih"])
    return (None if dx is None else dx.reshape(T, B, I), dh if hidden_grad else None,
            dc if hidden_grad else None, dwi, dwh, db, None if db is None else db.copy())


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------
def _gru_step(gi, h, w_hh, b_hh):
    """One step from gi = x @ w_ih^T + b_ih (B, 3H): returns (h', ws) with ws (B, 4H) =
    r, z, n, hn."""
    H = w_hh.shape[1]
    gh = h @ w_hh.T
    if b_hh is not None:
        gh += b_hh
    ws = np.empty((h.shape[0], 4 * H), h.dtype)
    rz = ws[:, :2 * H]
    np.add(gi[:, :2 * H], gh[:, :2 * H], out=rz)
    _sigmoid_(rz)
    r, z = ws[:, :H], ws[:, H:2 * H]
    ws[:, 3 * H:] = gh[:, 2 * H:]
    n = ws[:, 2 * H:3 * H]
    np.multiply(r, gh[:, 2 * H:], out=n)
    n += gi[:, 2 * H:]
    np.tanh(n, out=n)
    h_new = h - n      # h' = (1 - z) n + z h = n + z (h - n)
    h_new *= z
    h_new += n
    return h_new, ws


def _gru_step_backward(dh, ws, h_prev):
    """(dGi, dGh, direct part of dL/dh_prev) of one step, from dL/dh'."""
    H = h_prev.shape[1]
    r, z, n, hn = ws[:, :H], ws[:, H:2 * H], ws[:, 2 * H:3 * H], ws[:, 3 * H:]
    dan = dh * (1 - z) * (1 - n * n)
    daz = dh * (h_prev - n) * z * (1 - z)
    dar = dan * hn * r * (1 - r)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    return dgi, dgh, dh * z


def gru_cell_forward(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """NumPy twin of ``ember.ops.gru_cell_forward``: ``(h', ws)``."""
    dt, (_, B, I, H), a = check_rnn_args("gru_cell_forward", "gru", input, {"hx": hx}, w_ih,
                                         w_hh, b_ih, b_hh, False)
    gi = a["input"] @ a["w_ih"].T
    if a["b_ih"] is not None:
        gi += a["b_ih"]
    return _gru_step(gi, _zeros_if_none(a["hx"], (B, H), dt), a["w_hh"], a["b_hh"])


def gru_cell_backward(grad_h, input, hx, w_ih, w_hh, ws, *, input_grad=True, hidden_grad=True,
                      weight_grad=True, bias_grad=True):
    """NumPy twin of ``ember.ops.gru_cell_backward``."""
    dt, (_, B, I, H), a = check_rnn_args("gru_cell_backward", "gru", input, {"hx": hx}, w_ih,
                                         w_hh, None, None, False)
    h = _zeros_if_none(a["hx"], (B, H), dt)
    dgi, dgh, dh_direct = _gru_step_backward(_zeros_if_none(grad_h, (B, H), dt), ws, h)
    dx, dwi, _, dbi = _weight_grads(dgi, a["input"], h, weight_grad, bias_grad, input_grad,
                                    a["w_ih"])
    dwh = dgh.T @ h if weight_grad else None
    dbh = dgh.sum(axis=0) if bias_grad else None
    dh = dh_direct + dgh @ a["w_hh"] if hidden_grad else None
    return dx, dh, dwi, dwh, dbi, dbh


def gru_sequence_forward(input, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """NumPy twin of ``ember.ops.gru_sequence_forward``: ``(output, h_n, ws)``."""
    op = "gru_sequence_forward"
    dt, (T, B, I, H), a = check_rnn_args(op, "gru", input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh,
                                         True)
    _check_steps(op, T, a["input"].shape)
    gi = (a["input"].reshape(T * B, I) @ a["w_ih"].T).reshape(T, B, 3 * H)
    if a["b_ih"] is not None:
        gi += a["b_ih"]
    out = np.empty((T, B, H), dt)
    ws = np.empty((T, B, 4 * H), dt)
    h = _zeros_if_none(a["h0"], (B, H), dt)
    for t in range(T):
        h, ws[t] = _gru_step(gi[t], h, a["w_hh"], a["b_hh"])
        out[t] = h
    return out, out[-1].copy(), ws


def gru_sequence_backward(grad_output, grad_h_n, input, h0, w_ih, w_hh, output, ws, *,
                          input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """NumPy twin of ``ember.ops.gru_sequence_backward``."""
    dt, (T, B, I, H), a = check_rnn_args("gru_sequence_backward", "gru", input, {"h0": h0},
                                         w_ih, w_hh, None, None, True)
    h0 = _zeros_if_none(a["h0"], (B, H), dt)
    dGi = np.empty((T, B, 3 * H), dt)
    dGh = np.empty((T, B, 3 * H), dt)
    dh = _zeros_if_none(grad_h_n, (B, H), dt)
    for t in range(T - 1, -1, -1):
        dh_t = dh if grad_output is None else dh + grad_output[t]
        dGi[t], dGh[t], direct = _gru_step_backward(dh_t, ws[t], output[t - 1] if t else h0)
        dh = direct + dGh[t] @ a["w_hh"]
    h_prev = np.concatenate([h0[np.newaxis], output[:-1]]).reshape(T * B, H)
    dgi2, dgh2 = dGi.reshape(T * B, 3 * H), dGh.reshape(T * B, 3 * H)
    dx, dwi, _, dbi = _weight_grads(dgi2, a["input"].reshape(T * B, I), h_prev, weight_grad,
                                    bias_grad, input_grad, a["w_ih"])
    dwh = dgh2.T @ h_prev if weight_grad else None
    dbh = dgh2.sum(axis=0) if bias_grad else None
    return (None if dx is None else dx.reshape(T, B, I), dh if hidden_grad else None, dwi, dwh,
            dbi, dbh)


# ----------------------------------------------------------------------------------------------
# Elman RNN
# ----------------------------------------------------------------------------------------------
def _act_(a, nonlinearity):
    if nonlinearity == "tanh":
        return np.tanh(a, out=a)
    return np.maximum(a, 0, out=a)


def _act_grad(dh, h, nonlinearity):
    if nonlinearity == "tanh":
        return dh * (1 - h * h)
    return dh * (h > 0)


def rnn_cell_forward(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """NumPy twin of ``ember.ops.rnn_cell_forward``: h'."""
    op = "rnn_cell_forward"
    _check_nonlinearity(op, nonlinearity)
    dt, (_, B, I, H), a = check_rnn_args(op, "rnn", input, {"hx": hx}, w_ih, w_hh, b_ih, b_hh,
                                         False)
    pre = a["input"] @ a["w_ih"].T
    pre += _zeros_if_none(a["hx"], (B, H), dt) @ a["w_hh"].T
    b = _bias_sum(a["b_ih"], a["b_hh"])
    if b is not None:
        pre += b
    return _act_(pre, nonlinearity)


def rnn_cell_backward(grad_h, input, hx, w_ih, w_hh, h_new, nonlinearity="tanh", *,
                      input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """NumPy twin of ``ember.ops.rnn_cell_backward``."""
    op = "rnn_cell_backward"
    _check_nonlinearity(op, nonlinearity)
    dt, (_, B, I, H), a = check_rnn_args(op, "rnn", input, {"hx": hx}, w_ih, w_hh, None, None,
                                         False)
    h = _zeros_if_none(a["hx"], (B, H), dt)
    dg = _act_grad(_zeros_if_none(grad_h, (B, H), dt), h_new, nonlinearity)
    dx, dwi, dwh, db = _weight_grads(dg, a["input"], h, weight_grad, bias_grad, input_grad,
                                     a["w_ih"])
    dh = dg @ a["w_hh"] if hidden_grad else None
    return dx, dh, dwi, dwh, db, None if db is None else db.copy()


def rnn_sequence_forward(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """NumPy twin of ``ember.ops.rnn_sequence_forward``: ``(output, h_n)``."""
    op = "rnn_sequence_forward"
    _check_nonlinearity(op, nonlinearity)
    dt, (T, B, I, H), a = check_rnn_args(op, "rnn", input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh,
                                         True)
    _check_steps(op, T, a["input"].shape)
    out = (a["input"].reshape(T * B, I) @ a["w_ih"].T).reshape(T, B, H)
    b = _bias_sum(a["b_ih"], a["b_hh"])
    if b is not None:
        out += b
    h = _zeros_if_none(a["h0"], (B, H), dt)
    for t in range(T):
        out[t] += h @ a["w_hh"].T
        h = _act_(out[t], nonlinearity)
    return out, out[-1].copy()


def rnn_sequence_backward(grad_output, grad_h_n, input, h0, w_ih, w_hh, output,
                          nonlinearity="tanh", *, input_grad=True, hidden_grad=True,
                          weight_grad=True, bias_grad=True):
    """NumPy twin of ``ember.ops.rnn_sequence_backward``."""
    op = "rnn_sequence_backward"
    _check_nonlinearity(op, nonlinearity)
    dt, (T, B, I, H), a = check_rnn_args(op, "rnn", input, {"h0": h0}, w_ih, w_hh, None, None,
                                         True)
    h0 = _zeros_if_none(a["h0"], (B, H), dt)
    dG = np.empty((T, B, H), dt)
    dh = _zeros_if_none(grad_h_n, (B, H), dt)
    for t in range(T - 1, -1, -1):
        dh_t = dh if grad_output is None else dh + grad_output[t]
        dG[t] = _act_grad(dh_t, output[t], nonlinearity)
        dh = dG[t] @ a["w_hh"]
    h_prev = np.concatenate([h0[np.newaxis], output[:-1]]).reshape(T * B, H)
    dx, dwi, dwh, db = _weight_grads(dG.reshape(T * B, H), a["input"].reshape(T * B, I), h_prev,
                                     weight_grad, bias_grad, input_grad, a["w_ih"])
    return (None if dx is None else dx.reshape(T, B, I), dh if hidden_grad else None, dwi, dwh,
            db, None if db is None else db.copy())
