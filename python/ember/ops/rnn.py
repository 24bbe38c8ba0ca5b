"""Recurrent cells and whole sequences (LSTM, GRU, Elman RNN) on ember's C++ kernels.

NumPy arrays in and out, float32 or float64 (all arguments of one call in the same dtype).
Weights use PyTorch's layout and gate order, for hidden size H and input size I:

    LSTM  w_ih (4H, I), w_hh (4H, H), b_ih, b_hh (4H,)   gates i, f, g, o
    GRU   w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H,)   gates r, z, n
    RNN   w_ih (H, I),  w_hh (H, H),  b_ih, b_hh (H,)

Cells take one step: input (B, I), hidden states (B, H). Sequences take input (T, B, I) and
initial states (B, H) for one layer and one direction (``ember.nn.LSTM`` and friends stack
layers and directions on top of these). Biases are optional, and a None initial state means
zeros. Inputs and weights may be any strided view (transposed weights are read in place).

Every ``*_forward`` also returns what its ``*_backward`` reuses (the gate activations of every
step), so the backward needs no recomputation; every ``*_backward`` returns one gradient per
array input, in order, with None for the ones switched off by ``input_grad``, ``hidden_grad``,
``weight_grad`` or ``bias_grad`` (their GEMMs are skipped). A None incoming gradient is zero.
``ember.ops.reference`` has a plain-NumPy twin of each function with the same signature.
"""
from __future__ import annotations

import numpy as np

from ember import _C
from ember.ops._validate import as_float_array, kernel_ready

__all__ = [
    "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward", "gru_cell_backward",
    "rnn_cell_forward", "rnn_cell_backward",
    "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
    "gru_sequence_backward", "rnn_sequence_forward", "rnn_sequence_backward",
]

_GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def check_rnn_args(op: str, kind: str, input, states: dict, w_ih, w_hh, b_ih, b_hh,
                   sequence: bool):
    """Validate one layer's arguments; return (dtype, T or None, B, I, H) and the arrays.

    Raises TypeError for non-float arrays and ValueError, naming the argument and the shapes,
    for wrong ranks, sizes or mixed dtypes. ``states`` maps names (``hx``, ``cx``, ``h0``, ...)
    to arrays or None. Shared with the reference twins so both refuse the same input.
    """
    g = _GATES[kind]
    arrays = {"input": input, "w_ih": w_ih, "w_hh": w_hh, **states, "b_ih": b_ih, "b_hh": b_hh}
    arrays = {k: (None if v is None else as_float_array(v, k, op)) for k, v in arrays.items()}
    dtypes = {k: v.dtype for k, v in arrays.items() if v is not None}
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{k} {d}" for k, d in dtypes.items())
        raise ValueError(f"{op}: all arrays must have the same dtype, got {listing}")
    x, wi, wh = arrays["input"], arrays["w_ih"], arrays["w_hh"]
    x_rank = 3 if sequence else 2
    if x.ndim != x_rank:
        layout = "(seq_len, batch, input_size)" if sequence else "(batch, input_size)"
        raise ValueError(f"{op}: input must be {x_rank}-D {layout}, got shape {x.shape}")
    for name, w in (("w_ih", wi), ("w_hh", wh)):
        if w.ndim != 2:
            raise ValueError(f"{op}: {name} must be 2-D, got shape {w.shape}")
    hidden = wh.shape[1]
    gh = f"{g} * hidden_size" if g > 1 else "hidden_size"
    if wh.shape[0] != g * hidden:
        raise ValueError(f"{op}: w_hh must have shape ({gh}, hidden_size) = "
                         f"({g * hidden}, {hidden}), got {wh.shape}")
    if wi.shape[0] != g * hidden:
        raise ValueError(f"{op}: w_ih first dim must be {gh} = {g * hidden} (w_hh is "
                         f"{wh.shape}), got w_ih of shape {wi.shape}")
    if x.shape[-1] != wi.shape[1]:
        raise ValueError(f"{op}: input has inconsistent input_size: got {x.shape[-1]} expected "
                         f"{wi.shape[1]} (input {x.shape}, w_ih {wi.shape})")
    batch = x.shape[-2]
    for name in states:
        s = arrays[name]
        if s is not None and s.shape != (batch, hidden):
            raise ValueError(f"{op}: {name} must have shape (batch, hidden_size) = "
                             f"({batch}, {hidden}), got {s.shape}")
    for name in ("b_ih", "b_hh"):
        b = arrays[name]
        if b is not None and b.shape != (g * hidden,):
            raise ValueError(f"{op}: {name} must have shape ({g * hidden},), got {b.shape}")
    dtype = x.dtype
    dims = (x.shape[0] if sequence else None, batch, x.shape[-1], hidden)
    return dtype, dims, arrays


def _c_aligned(a, dtype=None) -> np.ndarray:
    """C-contiguous and aligned (np.ascontiguousarray keeps a misaligned contiguous array as it
    is, and the kernels must not load misaligned elements)."""
    return np.require(a, dtype, ("C", "A"))


def _state(a, dtype, shape):
    """A hidden state as the kernels want it: C-contiguous, zeros when None."""
    return np.zeros(shape, dtype) if a is None else _c_aligned(a)


def _grad(op, name, g, dtype, shape):
    """An incoming gradient (or None) checked and made C-contiguous."""
    if g is None:
        return None
    g = as_float_array(g, name, op)
    if g.shape != shape:
        raise ValueError(f"{op}: {name} must have the output's shape {shape}, got {g.shape}")
    return _c_aligned(g, dtype)


def _saved(op, name, a, dtype, shape):
    """A forward result handed back to a backward: checked, C-contiguous."""
    a = as_float_array(a, name, op)
    if a.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape} (from the forward), got {a.shape}")
    return _c_aligned(a, dtype)


def _bias(b):
    return None if b is None else _c_aligned(b)


def _seq(x, dtype):
    """(B, I) as a one-step sequence (1, B, I), strides kept."""
    return kernel_ready(x, dtype)[np.newaxis]


def _check_nonlinearity(op, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{op}: Unknown nonlinearity '{nonlinearity}' (expected 'tanh' or "
                         "'relu')")


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------
def lstm_cell_forward(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: ``(h', c', gates)``.

    gates = input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh split into i, f, g, o;
    i, f, o = sigmoid(.), g = tanh(.);  c' = f * cx + i * g;  h' = o * tanh(c').
    input (B, I), hx and cx (B, H) or None (zeros) -> h', c' (B, H) and ``gates`` (B, 4H), the
    activations i, f, g, o that ``lstm_cell_backward`` reuses.
    """
    op = "lstm_cell_forward"
    dt, (_, B, I, H), a = check_rnn_args(op, "lstm", input, {"hx": hx, "cx": cx}, w_ih, w_hh,
                                         b_ih, b_hh, False)
    out, cs, gates = _C.lstm_forward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), _state(a["cx"], dt, (B, H)),
        kernel_ready(a["w_ih"], dt), kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]),
        _bias(a["b_hh"]))
    return out[0], cs[0], gates[0]


def lstm_cell_backward(grad_h, grad_c, input, hx, cx, w_ih, w_hh, c_new, gates, *,
                       input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """Gradients of ``lstm_cell_forward``: ``(d_input, d_hx, d_cx, d_w_ih, d_w_hh, d_b_ih,
    d_b_hh)``.

    grad_h, grad_c: dL/dh', dL/dc' (B, H) or None. c_new and gates: from the forward. With
    dG the gradient of the gate pre-activations (B, 4H): d_input = dG @ w_ih, d_hx = dG @ w_hh,
    d_cx = dL/dc * f, d_w_ih = dG^T @ input, d_w_hh = dG^T @ hx, d_b_ih = d_b_hh = sum_B dG.
    """
    op = "lstm_cell_backward"
    dt, (_, B, I, H), a = check_rnn_args(op, "lstm", input, {"hx": hx, "cx": cx}, w_ih, w_hh,
                                         None, None, False)
    c_new = _saved(op, "c_new", c_new, dt, (B, H))
    gates = _saved(op, "gates", gates, dt, (B, 4 * H))
    gh, gc = _grad(op, "grad_h", grad_h, dt, (B, H)), _grad(op, "grad_c", grad_c, dt, (B, H))
    dx, dh, dc, dwi, dwh, db = _C.lstm_backward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), _state(a["cx"], dt, (B, H)),
        kernel_ready(a["w_ih"], dt), kernel_ready(a["w_hh"], dt), None, c_new[np.newaxis],
        gates[np.newaxis], None if gh is None else gh[np.newaxis], None, gc,
        input_grad, hidden_grad, hidden_grad, weight_grad, weight_grad, bias_grad)
    return (None if dx is None else dx[0], dh, dc, dwi, dwh, db,
            None if db is None else db.copy())


def lstm_sequence_forward(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM layer over a sequence: ``(output, h_n, c_n, cs, gates)``.

    input (T, B, I); h0, c0 (B, H) or None (zeros). output (T, B, H) holds h_1 .. h_T; h_n and
    c_n (B, H) are the final states; cs (T, B, H) = c_1 .. c_T and gates (T, B, 4H) (the
    activations of every step) are for ``lstm_sequence_backward``. All T input projections are
    one GEMM (T*B, I) @ w_ih^T before the recurrence.
    """
    op = "lstm_sequence_forward"
    dt, (T, B, I, H), a = check_rnn_args(op, "lstm", input, {"h0": h0, "c0": c0}, w_ih, w_hh,
                                         b_ih, b_hh, True)
    if T == 0:
        raise ValueError(f"{op}: Expected sequence length to be larger than 0 in RNN, got "
                         f"input of shape {a['input'].shape}")
    out, cs, gates = _C.lstm_forward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), _state(a["c0"], dt, (B, H)),
        kernel_ready(a["w_ih"], dt), kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]),
        _bias(a["b_hh"]))
    return out, out[-1].copy(), cs[-1].copy(), cs, gates


def lstm_sequence_backward(grad_output, grad_h_n, grad_c_n, input, h0, c0, w_ih, w_hh, output,
                           cs, gates, *, input_grad=True, hidden_grad=True, weight_grad=True,
                           bias_grad=True):
    """Gradients of ``lstm_sequence_forward``: ``(d_input, d_h0, d_c0, d_w_ih, d_w_hh, d_b_ih,
    d_b_hh)``.

    grad_output (T, B, H), grad_h_n and grad_c_n (B, H): incoming gradients or None. output,
    cs, gates: from the forward. The recurrence runs backwards step by step; d_input, d_w_ih
    and d_w_hh are then single GEMMs over all T*B rows (e.g. d_w_ih = dG^T (4H, T*B) @ X).
    """
    op = "lstm_sequence_backward"
    dt, (T, B, I, H), a = check_rnn_args(op, "lstm", input, {"h0": h0, "c0": c0}, w_ih, w_hh,
                                         None, None, True)
    out = _saved(op, "output", output, dt, (T, B, H))
    cs = _saved(op, "cs", cs, dt, (T, B, H))
    gates = _saved(op, "gates", gates, dt, (T, B, 4 * H))
    dx, dh, dc, dwi, dwh, db = _C.lstm_backward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), _state(a["c0"], dt, (B, H)),
        kernel_ready(a["w_ih"], dt), kernel_ready(a["w_hh"], dt), out, cs, gates,
        _grad(op, "grad_output", grad_output, dt, (T, B, H)),
        _grad(op, "grad_h_n", grad_h_n, dt, (B, H)), _grad(op, "grad_c_n", grad_c_n, dt, (B, H)),
        input_grad, hidden_grad, hidden_grad, weight_grad, weight_grad, bias_grad)
    return dx, dh, dc, dwi, dwh, db, None if db is None else db.copy()


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------
def gru_cell_forward(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (PyTorch's formulation): ``(h', ws)``.

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.
    input (B, I), hx (B, H) or None -> h' (B, H) and ws (B, 4H) = r, z, n, W_hn h + b_hn.
    """
    op = "gru_cell_forward"
    dt, (_, B, I, H), a = check_rnn_args(op, "gru", input, {"hx": hx}, w_ih, w_hh, b_ih, b_hh,
                                         False)
    out, ws = _C.gru_forward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]), _bias(a["b_hh"]))
    return out[0], ws[0]


def gru_cell_backward(grad_h, input, hx, w_ih, w_hh, ws, *, input_grad=True, hidden_grad=True,
                      weight_grad=True, bias_grad=True):
    """Gradients of ``gru_cell_forward``: ``(d_input, d_hx, d_w_ih, d_w_hh, d_b_ih, d_b_hh)``.

    With dGi = [da_r, da_z, da_n] (input side) and dGh = [da_r, da_z, r * da_n] (hidden side):
    d_input = dGi @ w_ih, d_hx = z * grad_h + dGh @ w_hh, d_w_ih = dGi^T @ input,
    d_w_hh = dGh^T @ hx, d_b_ih = sum_B dGi, d_b_hh = sum_B dGh.
    """
    op = "gru_cell_backward"
    dt, (_, B, I, H), a = check_rnn_args(op, "gru", input, {"hx": hx}, w_ih, w_hh, None, None,
                                         False)
    ws = _saved(op, "ws", ws, dt, (B, 4 * H))
    gh = _grad(op, "grad_h", grad_h, dt, (B, H))
    dx, dh, dwi, dwh, dbi, dbh = _C.gru_backward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), None, ws[np.newaxis],
        None if gh is None else gh[np.newaxis], None,
        input_grad, hidden_grad, weight_grad, weight_grad, bias_grad)
    return None if dx is None else dx[0], dh, dwi, dwh, dbi, dbh


def gru_sequence_forward(input, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU layer over a sequence: ``(output, h_n, ws)``.

    input (T, B, I), h0 (B, H) or None -> output (T, B, H), h_n (B, H) and ws (T, B, 4H)
    (r, z, n, W_hn h + b_hn of every step) for ``gru_sequence_backward``.
    """
    op = "gru_sequence_forward"
    dt, (T, B, I, H), a = check_rnn_args(op, "gru", input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh,
                                         True)
    if T == 0:
        raise ValueError(f"{op}: Expected sequence length to be larger than 0 in RNN, got "
                         f"input of shape {a['input'].shape}")
    out, ws = _C.gru_forward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]), _bias(a["b_hh"]))
    return out, out[-1].copy(), ws


def gru_sequence_backward(grad_output, grad_h_n, input, h0, w_ih, w_hh, output, ws, *,
                          input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """Gradients of ``gru_sequence_forward``: ``(d_input, d_h0, d_w_ih, d_w_hh, d_b_ih,
    d_b_hh)``; grad_output (T, B, H) and grad_h_n (B, H) may be None."""
    op = "gru_sequence_backward"
    dt, (T, B, I, H), a = check_rnn_args(op, "gru", input, {"h0": h0}, w_ih, w_hh, None, None,
                                         True)
    out = _saved(op, "output", output, dt, (T, B, H))
    ws = _saved(op, "ws", ws, dt, (T, B, 4 * H))
    return _C.gru_backward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), out, ws,
        _grad(op, "grad_output", grad_output, dt, (T, B, H)),
        _grad(op, "grad_h_n", grad_h_n, dt, (B, H)),
        input_grad, hidden_grad, weight_grad, weight_grad, bias_grad)


# ----------------------------------------------------------------------------------------------
# Elman RNN
# ----------------------------------------------------------------------------------------------
def rnn_cell_forward(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN step: h' = act(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh), act = tanh or
    relu. input (B, I), hx (B, H) or None -> h' (B, H) (all the backward needs)."""
    op = "rnn_cell_forward"
    _check_nonlinearity(op, nonlinearity)
    dt, (_, B, I, H), a = check_rnn_args(op, "rnn", input, {"hx": hx}, w_ih, w_hh, b_ih, b_hh,
                                         False)
    out = _C.rnn_forward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]), _bias(a["b_hh"]), nonlinearity)
    return out[0]


def rnn_cell_backward(grad_h, input, hx, w_ih, w_hh, h_new, nonlinearity="tanh", *,
                      input_grad=True, hidden_grad=True, weight_grad=True, bias_grad=True):
    """Gradients of ``rnn_cell_forward``: ``(d_input, d_hx, d_w_ih, d_w_hh, d_b_ih, d_b_hh)``.

    dG = grad_h * act'(h') with tanh' = 1 - h'^2, relu' = [h' > 0]; then d_input = dG @ w_ih,
    d_hx = dG @ w_hh, d_w_ih = dG^T @ input, d_w_hh = dG^T @ hx, d_b_ih = d_b_hh = sum_B dG.
    """
    op = "rnn_cell_backward"
    _check_nonlinearity(op, nonlinearity)
    dt, (_, B, I, H), a = check_rnn_args(op, "rnn", input, {"hx": hx}, w_ih, w_hh, None, None,
                                         False)
    h_new = _saved(op, "h_new", h_new, dt, (B, H))
    gh = _grad(op, "grad_h", grad_h, dt, (B, H))
    dx, dh, dwi, dwh, db = _C.rnn_backward(
        _seq(a["input"], dt), _state(a["hx"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), h_new[np.newaxis], None if gh is None else gh[np.newaxis],
        None, nonlinearity, input_grad, hidden_grad, weight_grad, weight_grad, bias_grad)
    return (None if dx is None else dx[0], dh, dwi, dwh, db,
            None if db is None else db.copy())


def rnn_sequence_forward(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN layer over a sequence: ``(output, h_n)``; input (T, B, I), h0 (B, H) or
    None -> output (T, B, H) = h_1 .. h_T (also the backward's workspace), h_n (B, H)."""
    op = "rnn_sequence_forward"
    _check_nonlinearity(op, nonlinearity)
    dt, (T, B, I, H), a = check_rnn_args(op, "rnn", input, {"h0": h0}, w_ih, w_hh, b_ih, b_hh,
                                         True)
    if T == 0:
        raise ValueError(f"{op}: Expected sequence length to be larger than 0 in RNN, got "
                         f"input of shape {a['input'].shape}")
    out = _C.rnn_forward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), _bias(a["b_ih"]), _bias(a["b_hh"]), nonlinearity)
    return out, out[-1].copy()


def rnn_sequence_backward(grad_output, grad_h_n, input, h0, w_ih, w_hh, output,
                          nonlinearity="tanh", *, input_grad=True, hidden_grad=True,
                          weight_grad=True, bias_grad=True):
    """Gradients of ``rnn_sequence_forward``: ``(d_input, d_h0, d_w_ih, d_w_hh, d_b_ih,
    d_b_hh)``; grad_output (T, B, H) and grad_h_n (B, H) may be None."""
    op = "rnn_sequence_backward"
    _check_nonlinearity(op, nonlinearity)
    dt, (T, B, I, H), a = check_rnn_args(op, "rnn", input, {"h0": h0}, w_ih, w_hh, None, None,
                                         True)
    out = _saved(op, "output", output, dt, (T, B, H))
    dx, dh, dwi, dwh, db = _C.rnn_backward(
        kernel_ready(a["input"], dt), _state(a["h0"], dt, (B, H)), kernel_ready(a["w_ih"], dt),
        kernel_ready(a["w_hh"], dt), out, _grad(op, "grad_output", grad_output, dt, (T, B, H)),
        _grad(op, "grad_h_n", grad_h_n, dt, (B, H)), nonlinearity,
        input_grad, hidden_grad, weight_grad, weight_grad, bias_grad)
    return dx, dh, dwi, dwh, db, None if db is None else db.copy()
