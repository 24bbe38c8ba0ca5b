"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (whole sequences, stacked and bidirectional) and
the single-step ``RNNCell``, ``LSTMCell``, ``GRUCell`` (torch.nn's names, arguments, defaults,
parameter names and shapes).

Shapes (L = num_layers, D = 2 if bidirectional else 1, H = hidden_size):
  input (T, B, I) (``batch_first``: (B, T, I)), or unbatched (T, I);
  h_0 / c_0 (D*L, B, H), or (D*L, H) for unbatched input; None means zeros;
  output (T, B, D*H) (``batch_first``: (B, T, D*H)) holds the last layer's h_t of every step,
  both directions concatenated on the last axis; h_n / c_n (D*L, B, H), index layer*D + dir.

Every (layer, direction) pair is one call of the fused sequence functions of
``ember.nn.functional._rnn`` (the whole time loop runs in C++, with the input projection of all
steps hoisted into one GEMM). The reverse direction runs the same kernel on the time-flipped
input and flips its output back. Between layers (not after the last) dropout is applied in
training mode, as in torch.

Initialisation follows torch: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)).
"""
from __future__ import annotations

import math
import numbers
import warnings

from ember._creation import empty
from ember._functions.shape import cat, contiguous, flip, stack
from ember.nn import init
from ember.nn.functional._dropout import dropout as _dropout
from ember.nn.functional import _rnn as _F
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU``: parameters, checks, and the loop
    over layers and directions. ``mode`` is 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'.

    Parameters per layer k (suffix ``_reverse`` for the backward direction), gates G =
    4 (LSTM: i, f, g, o), 3 (GRU: r, z, n) or 1 (RNN):
      weight_ih_l{k} (G*H, I if k == 0 else D*H), weight_hh_l{k} (G*H, H),
      bias_ih_l{k} (G*H,), bias_hh_l{k} (G*H,) (absent with ``bias=False``).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: "
                            f"{type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size > 0:
            raise NotImplementedError("ember's LSTM does not support proj_size > 0 (LSTM with "
                                      "projections) yet")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size

        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [(gate_size, layer_input_size), (gate_size, hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    # -- parameters --------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """torch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters as a list per (layer, direction), like torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op: torch packs the weights for cuDNN; ember's kernels read them in place."""

    # -- checks (torch's messages) -----------------------------------------------------------
    def check_input(self, input, batch_sizes=None) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes=None) -> tuple:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    @staticmethod
    def check_hidden_size(hx, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def _batch_input(self, input, name: str):
        """Check the rank; unbatched (T, I) input gets a batch axis of 1 (its states are given
        theirs by the caller). Returns (batched, input)."""
        if input.dim() not in (2, 3):
            tail = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{tail} instead")
        batched = input.dim() == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        return batched, input

    # -- the loop over layers and directions -------------------------------------------------
    def _run_sequence(self, x, states, weights):
        """One layer, one direction over (T, B, I) x: returns (output, *final_states)."""
        if self.mode == "LSTM":
            return _F.lstm_sequence(x, states[0], states[1], *weights)
        if self.mode == "GRU":
            return _F.gru_sequence(x, states[0], *weights)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        return _F.rnn_sequence(x, states[0], *weights, nonlinearity=nonlinearity)

    def _stack_layers(self, input, hx):
        """input (T, B, I) or (B, T, I) with batch_first, already checked; hx a list of
        (D*L, B, H) states (one, or two for LSTM), entries possibly None.
        Returns (output, [final states (D*L, B, H)])."""
        num_directions = 2 if self.bidirectional else 1
        # The kernels read strided input in place, but a time-major contiguous copy is cheaper
        # than the strided (or, flipped, negative-stride) input GEMM it saves.
        x = contiguous(input.transpose(0, 1)) if self.batch_first else input
        finals = [[] for _ in hx]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                weights = [getattr(self, name) for name in self._all_weights[index]]
                if not self.bias:
                    weights += [None, None]
                states = [None if s is None else s[index] for s in hx]
                if direction == 0:
                    out, *last = self._run_sequence(x, states, weights)
                else:
                    out, *last = self._run_sequence(contiguous(flip(x, (0,))), states, weights)
                    out = flip(out, (0,))
                outputs.append(out)
                for acc, s in zip(finals, last):
                    acc.append(s)
            x = outputs[0] if num_directions == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, [stack(acc, 0) for acc in finals]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state h."""

    _name = "RNN"

    def forward(self, input, hx=None):
        """input (T, B, I) / (B, T, I) / (T, I); hx (D*L, B, H) / (D*L, H) or None.
        Returns (output, h_n)."""
        batched, input = self._batch_input(input, self._name)
        if hx is not None:
            if not batched and hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                   f"{hx.dim()}-D tensor")
            if batched and hx.dim() != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.dim()}-D tensor")
            if not batched:
                hx = hx.unsqueeze(1)
            self.check_forward_args(input, hx)
        else:
            self.check_input(input)
        output, (h_n,) = self._stack_layers(input, [hx])
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
        return output, h_n


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; see the module docstring for shapes.
    """

    _name = "RNN"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class GRU(_SingleStateRNN):
    """Gated recurrent unit, gates r, z, n:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``; see the module docstring for shapes.
    """

    _name = "GRU"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o:
    i, f, o = sigmoid(.), g = tanh(.) of x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = f * c + i * g, h' = o * tanh(c').

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)`` (proj_size > 0 raises NotImplementedError).
    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)); see the module docstring.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes=None) -> tuple:
        return self.get_expected_hidden_size(input, batch_sizes)

    def check_forward_args(self, input, hidden, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def forward(self, input, hx=None):
        batched, input = self._batch_input(input, "LSTM")
        if hx is not None:
            h0, c0 = hx
            want = 3 if batched else 2
            if h0.dim() != want or c0.dim() != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                   f"got ({h0.dim()}-D, {c0.dim()}-D) tensors")
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self.check_forward_args(input, (h0, c0))
            states = [h0, c0]
        else:
            self.check_input(input)
            states = [None, None]
        output, (h_n, c_n) = self._stack_layers(input, states)
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)


# -- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters of one recurrent step: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih and
    bias_hh (G*H,) (None with ``bias=False``), G = ``num_chunks``; all ~ U(-1/sqrt(H),
    1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device,
                                         dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device,
                                         dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_dims(self, name: str, input, states: dict) -> None:
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        for label, s in states.items():
            if s is not None and s.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {s.dim()}D "
                                 f"instead")


class RNNCell(RNNCellBase):
    """h' = act(input W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu.
    input (B, I) or (I,), hx (B, H) or (H,) or None -> h' (B, H) or (H,)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_dims("RNNCell", input, {"hidden": hx})
        if self.nonlinearity == "tanh":
            fn = _F.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            fn = _F.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return fn(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o). input (B, I) or (I,), hx = (h, c) each (B, H) or (H,),
    or None -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        states = {} if hx is None else {f"hx[{i}]": s for i, s in enumerate(hx)}
        self._check_dims("LSTMCell", input, states)
        return _F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                            self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n). input (B, I) or (I,), hx (B, H) or (H,) or None -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        self._check_dims("GRUCell", input, {"hidden": hx})
        return _F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)
