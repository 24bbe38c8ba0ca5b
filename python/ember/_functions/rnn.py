"""Recurrent cells and sequences as autograd Functions over ``ember.ops.rnn`` (C++ kernels).

Each forward keeps what the kernel's backward reuses (gate activations, cell states) and each
backward asks the kernel only for the gradients some input needs (``ctx.needs_input_grad``), so
unneeded GEMMs are skipped. Outputs that receive no gradient arrive as None
(``set_materialize_grads(False)``) and count as zero, without allocating zeros.

Inputs, in order: input, the initial state(s), w_ih, w_hh, b_ih, b_hh. States and biases may
be None (zeros / no bias); the sequence Functions take one layer and one direction, so
``nn.LSTM`` and friends compose them (layers, directions, batch_first) in Python.
"""
from __future__ import annotations

from ember import ops
from ember.autograd.function import ArrayFunction


def _flags(needs, n_states):
    """Keyword switches for an ops backward from needs_input_grad (input, states..., w_ih,
    w_hh, b_ih, b_hh)."""
    return dict(input_grad=needs[0], hidden_grad=any(needs[1:1 + n_states]),
                weight_grad=needs[1 + n_states] or needs[2 + n_states],
                bias_grad=needs[3 + n_states] or needs[4 + n_states])


def _only_needed(grads, needs):
    return tuple(g if need else None for g, need in zip(grads, needs))


class LSTMCell(ArrayFunction):
    """(h', c') = one LSTM step; see ``ember.ops.lstm_cell_forward``."""

    @staticmethod
    def forward(ctx, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
        h, c, gates = ops.lstm_cell_forward(input, hx, cx, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(input, hx, cx, w_ih, w_hh, c, gates)
        ctx.set_materialize_grads(False)
        return h, c

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        input, hx, cx, w_ih, w_hh, c, gates = ctx.saved_tensors
        grads = ops.lstm_cell_backward(grad_h, grad_c, input, hx, cx, w_ih, w_hh, c, gates,
                                       **_flags(ctx.needs_input_grad, 2))
        return _only_needed(grads, ctx.needs_input_grad)


class GRUCell(ArrayFunction):
    """h' = one GRU step; see ``ember.ops.gru_cell_forward``."""

    @staticmethod
    def forward(ctx, input, hx, w_ih, w_hh, b_ih, b_hh):
        h, ws = ops.gru_cell_forward(input, hx, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(input, hx, w_ih, w_hh, ws)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        input, hx, w_ih, w_hh, ws = ctx.saved_tensors
        grads = ops.gru_cell_backward(grad_h, input, hx, w_ih, w_hh, ws,
                                      **_flags(ctx.needs_input_grad, 1))
        return _only_needed(grads, ctx.needs_input_grad)


class RNNCell(ArrayFunction):
    """h' = act(input w_ih^T + b_ih + hx w_hh^T + b_hh); see ``ember.ops.rnn_cell_forward``."""

    @staticmethod
    def forward(ctx, input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity):
        h = ops.rnn_cell_forward(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        ctx.save_for_backward(input, hx, w_ih, w_hh, h)
        ctx.nonlinearity = nonlinearity
        return h

    @staticmethod
    def backward(ctx, grad_h):
        input, hx, w_ih, w_hh, h = ctx.saved_tensors
        needs = ctx.needs_input_grad[:6]
        grads = ops.rnn_cell_backward(grad_h, input, hx, w_ih, w_hh, h, ctx.nonlinearity,
                                      **_flags(needs, 1))
        return _only_needed(grads, needs) + (None,)


class LSTMSequence(ArrayFunction):
    """(output, h_n, c_n) of one LSTM layer over (T, B, I); see
    ``ember.ops.lstm_sequence_forward``."""

    @staticmethod
    def forward(ctx, input, h0, c0, w_ih, w_hh, b_ih, b_hh):
        out, h_n, c_n, cs, gates = ops.lstm_sequence_forward(input, h0, c0, w_ih, w_hh, b_ih,
                                                             b_hh)
        ctx.save_for_backward(input, h0, c0, w_ih, w_hh, out, cs, gates)
        ctx.set_materialize_grads(False)
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, grad_out, grad_h_n, grad_c_n):
        input, h0, c0, w_ih, w_hh, out, cs, gates = ctx.saved_tensors
        grads = ops.lstm_sequence_backward(grad_out, grad_h_n, grad_c_n, input, h0, c0, w_ih,
                                           w_hh, out, cs, gates,
                                           **_flags(ctx.needs_input_grad, 2))
        return _only_needed(grads, ctx.needs_input_grad)


class GRUSequence(ArrayFunction):
    """(output, h_n) of one GRU layer over (T, B, I); see ``ember.ops.gru_sequence_forward``."""

    @staticmethod
    def forward(ctx, input, h0, w_ih, w_hh, b_ih, b_hh):
        out, h_n, ws = ops.gru_sequence_forward(input, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(input, h0, w_ih, w_hh, out, ws)
        ctx.set_materialize_grads(False)
        return out, h_n

    @staticmethod
    def backward(ctx, grad_out, grad_h_n):
        input, h0, w_ih, w_hh, out, ws = ctx.saved_tensors
        grads = ops.gru_sequence_backward(grad_out, grad_h_n, input, h0, w_ih, w_hh, out, ws,
                                          **_flags(ctx.needs_input_grad, 1))
        return _only_needed(grads, ctx.needs_input_grad)


class RNNSequence(ArrayFunction):
    """(output, h_n) of one Elman RNN layer over (T, B, I); see
    ``ember.ops.rnn_sequence_forward``."""

    @staticmethod
    def forward(ctx, input, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity):
        out, h_n = ops.rnn_sequence_forward(input, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        ctx.save_for_backward(input, h0, w_ih, w_hh, out)
        ctx.nonlinearity = nonlinearity
        ctx.set_materialize_grads(False)
        return out, h_n

    @staticmethod
    def backward(ctx, grad_out, grad_h_n):
        input, h0, w_ih, w_hh, out = ctx.saved_tensors
        needs = ctx.needs_input_grad[:6]
        grads = ops.rnn_sequence_backward(grad_out, grad_h_n, input, h0, w_ih, w_hh, out,
                                          ctx.nonlinearity, **_flags(needs, 1))
        return _only_needed(grads, needs) + (None,)
