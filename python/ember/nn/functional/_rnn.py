"""ember.nn.functional: recurrent cells (LSTM, GRU, Elman RNN) and whole sequences.

Cells mirror ``torch.lstm_cell``, ``torch.gru_cell``, ``torch.rnn_tanh_cell`` and
``torch.rnn_relu_cell`` (what ``nn.LSTMCell`` and friends call), with two conveniences of the
torch modules: unbatched input (I,) with states (H,), and ``hx=None`` for zero states.

The sequence functions are ember's own: one layer, one direction, input (T, B, I) (or
unbatched (T, I)), returning the output of every step and the final state(s). ``nn.LSTM``,
``nn.GRU`` and ``nn.RNN`` are built on them (stacking layers and directions, batch_first).
Weights use PyTorch's layout and gate order (LSTM i, f, g, o; GRU r, z, n).

Everything runs through the fused C++ kernels of ``ember.ops.rnn``; shape and dtype errors are
RuntimeErrors naming the shapes, as in torch.
"""
from __future__ import annotations

import numpy as np

from ember._functions import rnn as _fn
from ember._tensor import Tensor

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "lstm_sequence",
           "gru_sequence", "rnn_sequence"]


def _apply(fn, *args):
    """Run a Function; the ops layer's ValueErrors become torch's RuntimeErrors."""
    try:
        return fn.apply(*args)
    except ValueError as e:
        raise RuntimeError(str(e)) from None


def _dim(t) -> int:
    return t._data.ndim if isinstance(t, Tensor) else np.ndim(t)


def _zeros(batch_shape, w_hh, input):
    """A zero state: a plain array (it needs no gradient) of the input's dtype."""
    dtype = input._data.dtype if isinstance(input, Tensor) else np.asarray(input).dtype
    hidden = w_hh.shape[1] if _dim(w_hh) == 2 else 0
    return np.zeros(tuple(batch_shape) + (hidden,), dtype)


def _unsqueeze(t):
    return None if t is None else (t.unsqueeze(0) if isinstance(t, Tensor) else t[np.newaxis])


def _cell_states(name, input, states):
    """Check the ranks like torch's cell modules; returns (batched, input, states) with
    unbatched (1-D) arguments given a batch dimension of 1."""
    if _dim(input) not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {_dim(input)}D instead")
    for i, s in enumerate(states):
        if s is not None and _dim(s) not in (1, 2):
            label = f"hx[{i}]" if len(states) > 1 else "hx"
            raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {_dim(s)}D instead")
    batched = _dim(input) == 2
    if batched:
        return True, input, states
    return False, _unsqueeze(input), [_unsqueeze(s) for s in states]


def _squeeze(t, batched):
    return t if batched else t.squeeze(0)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, like ``torch.lstm_cell``: returns ``(h', c')``.

    input (B, I) or (I,); hx = (h, c) with h, c (B, H) or (H,), or None for zeros;
    w_ih (4H, I), w_hh (4H, H), b_ih and b_hh (4H,) or None. With gates i, f, g, o:
    i, f, o = sigmoid(.), g = tanh(.) of input @ w_ih^T + b_ih + h @ w_hh^T + b_hh;
    c' = f * c + i * g;  h' = o * tanh(c').
    """
    states = [None, None] if hx is None else list(hx)
    if len(states) != 2:
        raise RuntimeError(f"lstm_cell: hx must be a pair (h, c), got {len(states)} tensors")
    batched, input, (h, c) = _cell_states("LSTMCell", input, states)
    if h is None:
        h = _zeros(input.shape[:1], w_hh, input)
    if c is None:
        c = _zeros(input.shape[:1], w_hh, input)
    h_new, c_new = _apply(_fn.LSTMCell, input, h, c, w_ih, w_hh, b_ih, b_hh)
    return _squeeze(h_new, batched), _squeeze(c_new, batched)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, like ``torch.gru_cell``: returns h'.

    input (B, I) or (I,); hx (B, H) or (H,) or None; w_ih (3H, I), w_hh (3H, H), biases (3H,).
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h.
    """
    batched, input, (h,) = _cell_states("GRUCell", input, [hx])
    if h is None:
        h = _zeros(input.shape[:1], w_hh, input)
    return _squeeze(_apply(_fn.GRUCell, input, h, w_ih, w_hh, b_ih, b_hh), batched)


def _rnn_cell(name, nonlinearity, input, hx, w_ih, w_hh, b_ih, b_hh):
    batched, input, (h,) = _cell_states(name, input, [hx])
    if h is None:
        h = _zeros(input.shape[:1], w_hh, input)
    return _squeeze(_apply(_fn.RNNCell, input, h, w_ih, w_hh, b_ih, b_hh, nonlinearity),
                    batched)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step, like ``torch.rnn_tanh_cell``:
    h' = tanh(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh). input (B, I) or (I,); hx (B, H),
    (H,) or None; w_ih (H, I), w_hh (H, H), biases (H,) or None."""
    return _rnn_cell("RNNCell", "tanh", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with relu, like ``torch.rnn_relu_cell``:
    h' = relu(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)."""
    return _rnn_cell("RNNCell", "relu", input, hx, w_ih, w_hh, b_ih, b_hh)


def _sequence_args(name, input, states):
    """(T, B, I) input with (B, H) states, or unbatched (T, I) with (H,) states (given a batch
    dimension of 1 here). Returns (batched, input, states)."""
    if _dim(input) not in (2, 3):
        raise ValueError(f"{name}: Expected input to be 2D (unbatched) or 3D "
                         f"(seq_len, batch, input_size), got {_dim(input)}D instead")
    batched = _dim(input) == 3
    want = 2 if batched else 1
    for label, s in states.items():
        if s is not None and _dim(s) != want:
            raise RuntimeError(f"{name}: For {'batched' if batched else 'unbatched'} "
                               f"{_dim(input)}-D input, {label} should also be {want}-D but got "
                               f"{_dim(s)}-D tensor")
    if batched:
        return True, input, list(states.values())
    input = input.unsqueeze(1) if isinstance(input, Tensor) else input[:, np.newaxis]
    return False, input, [_unsqueeze(s) for s in states.values()]


def _sequence_out(out, states, batched):
    if batched:
        return (out,) + tuple(states)
    return (out.squeeze(1),) + tuple(s.squeeze(0) for s in states)


def lstm_sequence(input, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM layer, one direction, over a whole sequence: ``(output, h_n, c_n)``.

    input (T, B, I) (or unbatched (T, I)); h0, c0 (B, H) (or (H,)) or None for zeros;
    weights as in ``lstm_cell``. output (T, B, H) holds h_1 .. h_T; h_n, c_n are the final
    states. Equal to T calls of ``lstm_cell``, but faster: all T input projections are one
    GEMM, the gate activations of every step are kept for the backward, and the weight
    gradients are GEMMs over all steps at once. ``nn.LSTM`` is built on this function.
    """
    batched, input, (h0, c0) = _sequence_args("lstm_sequence", input, {"h0": h0, "c0": c0})
    out, h_n, c_n = _apply(_fn.LSTMSequence, input, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return _sequence_out(out, (h_n, c_n), batched)


def gru_sequence(input, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU layer, one direction, over a whole sequence: ``(output, h_n)``.

    input (T, B, I) (or (T, I)); h0 (B, H) (or (H,)) or None; weights as in ``gru_cell``.
    Equal to T calls of ``gru_cell``; ``nn.GRU`` is built on this function.
    """
    batched, input, (h0,) = _sequence_args("gru_sequence", input, {"h0": h0})
    out, h_n = _apply(_fn.GRUSequence, input, h0, w_ih, w_hh, b_ih, b_hh)
    return _sequence_out(out, (h_n,), batched)


def rnn_sequence(input, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN layer (``nonlinearity`` 'tanh' or 'relu'), one direction, over a whole
    sequence: ``(output, h_n)``. input (T, B, I) (or (T, I)); h0 (B, H) (or (H,)) or None.
    Equal to T calls of ``rnn_tanh_cell`` / ``rnn_relu_cell``; ``nn.RNN`` is built on it.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    batched, input, (h0,) = _sequence_args("rnn_sequence", input, {"h0": h0})
    out, h_n = _apply(_fn.RNNSequence, input, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    return _sequence_out(out, (h_n,), batched)
