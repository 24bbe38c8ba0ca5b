"""Elementwise math: y = f(x) applied to every element, dy/dx = f'(x).

Integer/bool inputs are computed in the default float dtype (``ember.tensor([1, 2]).exp()`` is
float32), like torch. Derivatives reuse the forward output where it is cheaper:

    exp      y' = y              log      y' = 1/x           sqrt   y' = 1/(2y)
    sigmoid  y' = y(1-y)         tanh     y' = 1-y^2         relu   y' = [y > 0]
    sin      y' = cos x          cos      y' = -sin x        abs    y' = sign x
    log1p    y' = 1/(1+x)        expm1    y' = y+1           reciprocal y' = -y^2
"""
from __future__ import annotations

import numpy as np

from ember._dtype import result_type
from ember._tensor import Tensor, _new_tensor
from ember.autograd.function import ArrayFunction
from ember._functions._util import broadcast_error, quiet, to_float


class Exp(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = np.exp(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * y


class Log(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        with quiet():
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        with quiet():
            return grad / x


class Log1p(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        with quiet():
            return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        with quiet():
            return grad / (1 + x)


class Expm1(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = np.expm1(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y + 1)


class Sqrt(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = np.sqrt(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        with quiet():
            return grad / (2 * y)


class Rsqrt(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = 1 / np.sqrt(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (-0.5 * y * y * y)


class Reciprocal(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = np.reciprocal(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return -grad * y * y


class Square(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x if x.dtype != np.bool_ else x.astype(np.int64))

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * (2 * x)


class Abs(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * np.sign(x)


class Sin(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * np.cos(x)


class Cos(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * -np.sin(x)


class Tanh(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (1 - y * y)


class Sigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        # sigmoid(x) = (1 + tanh(x/2)) / 2: one transcendental, no overflow for large |x|.
        y = np.tanh(to_float(x) * 0.5)
        y *= 0.5
        y += 0.5
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y * (1 - y))


class Relu(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad * (y > 0)


class ZeroGrad(ArrayFunction):
    """Piecewise-constant functions (sign, floor, ceil, round, trunc): gradient 0 everywhere."""

    @staticmethod
    def forward(ctx, x, ufunc):
        return ufunc(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Clamp(ArrayFunction):
    """y = min(max(x, lo), hi); the gradient goes to whichever of x, lo, hi was selected."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        dtype = result_type(x, lo, hi)
        ctx.save_for_backward(x, lo, hi)
        try:
            y = x if lo is None else np.maximum(x, lo, dtype=dtype)
            return y if hi is None else np.minimum(y, hi, dtype=dtype)
        except ValueError:
            other = lo if lo is not None else hi
            raise broadcast_error(x.shape, np.shape(other)) from None

    @staticmethod
    def backward(ctx, grad):
        # torch's clamp_backward / clamp_backward_min_max. When lo > hi every output is hi.
        x, lo, hi = ctx.saved_tensors
        nx, nlo, nhi = ctx.needs_input_grad
        gx = glo = ghi = None
        if nx:
            keep = (x >= lo) if lo is not None else True
            if hi is not None:
                keep = keep & (x <= hi)
            gx = np.where(keep, grad, 0)
        if nlo:
            lo_wins = (x < lo) & (lo < hi) if hi is not None else (x < lo)
            glo = np.where(lo_wins, grad, 0)
        if nhi:
            hi_wins = (x > hi) | (hi < lo) if lo is not None else (x > hi)
            ghi = np.where(hi_wins, grad, 0)
        return gx, glo, ghi


class Where(ArrayFunction):
    """y = a where cond else b; gradients are masked by cond and ~cond."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, cond, a, b):
        if cond.dtype != np.bool_:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {cond.dtype}")
        ctx.save_for_backward(cond)
        dtype = result_type(a, b)
        try:
            return np.where(cond, a, b).astype(dtype, copy=False)
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, grad):
        cond, = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        return None, (np.where(cond, grad, 0) if na else None), \
            (np.where(cond, 0, grad) if nb else None)


class Maximum(ArrayFunction):
    """max(a, b) elementwise; on ties each input gets half the gradient (as torch does)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.maximum(a, b, dtype=result_type(a, b))
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_ties(grad, a, b, np.greater, ctx.needs_input_grad)


class Minimum(ArrayFunction):
    """min(a, b) elementwise; on ties each input gets half the gradient."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.minimum(a, b, dtype=result_type(a, b))
        except ValueError:
            raise broadcast_error(np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_ties(grad, a, b, np.less, ctx.needs_input_grad)


def _split_ties(grad, a, b, wins, needs):
    share = np.where(a == b, grad * 0.5, grad)
    ga = np.where(wins(b, a), 0, share) if needs[0] else None
    gb = np.where(wins(a, b), 0, share) if needs[1] else None
    return ga, gb


# ------------------------------------------------------------------------- public functions
def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def log1p(input):
    return Log1p.apply(input)


def expm1(input):
    return Expm1.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def rsqrt(input):
    return Rsqrt.apply(input)


def reciprocal(input):
    return Reciprocal.apply(input)


def square(input):
    return Square.apply(input)


def abs(input):
    return Abs.apply(input)


absolute = abs


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tanh(input):
    return Tanh.apply(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def relu(input):
    return Relu.apply(input)


def sign(input):
    return ZeroGrad.apply(input, np.sign)


def floor(input):
    return ZeroGrad.apply(input, np.floor) if input._data.dtype.kind == "f" else input.clone()


def ceil(input):
    return ZeroGrad.apply(input, np.ceil) if input._data.dtype.kind == "f" else input.clone()


def round(input, *, decimals: int = 0):
    if input._data.dtype.kind != "f":
        return input.clone()
    return ZeroGrad.apply(input, lambda x: np.round(x, decimals))


def trunc(input):
    return ZeroGrad.apply(input, np.trunc) if input._data.dtype.kind == "f" else input.clone()


def clamp(input, min=None, max=None):
    """Limit values to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` is True, else ``other`` (tensors or numbers, broadcast).
    With only ``condition``: the indices of its nonzero elements, one tensor per dimension."""
    if input is None and other is None:
        cond = condition._data
        return tuple(_new_tensor(i.astype(np.int64)) for i in np.nonzero(cond))
    if not isinstance(condition, Tensor):
        condition = _new_tensor(np.asarray(condition))
    return Where.apply(condition, input, other)


def maximum(input, other):
    return Maximum.apply(input, other)


def minimum(input, other):
    return Minimum.apply(input, other)


def isnan(input):
    return _new_tensor(np.isnan(input._data))


def isinf(input):
    return _new_tensor(np.isinf(input._data))


def isfinite(input):
    return _new_tensor(np.isfinite(input._data))


def nonzero(input, *, as_tuple: bool = False):
    idx = np.nonzero(input._data)
    if as_tuple:
        return tuple(_new_tensor(i.astype(np.int64)) for i in idx)
    return _new_tensor(np.stack(idx, axis=1).astype(np.int64) if idx else
                       np.zeros((int(bool(input._data)), 0), np.int64))
