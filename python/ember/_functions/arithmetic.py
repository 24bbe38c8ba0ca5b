"""Arithmetic (+ - * / ** % neg) and comparisons, with broadcasting and torch's promotion.

Operands are NumPy arrays (tensors) or Python scalars. Every backward returns the gradient in
the *broadcast* shape; the engine sums it back to each input's shape. For c = a (op) b:

    add  dc/da = 1            dc/db = 1
    sub  dc/da = 1            dc/db = -1
    mul  dc/da = b            dc/db = a
    div  dc/da = 1/b          dc/db = -a/b^2
    pow  dc/da = b a^(b-1)    dc/db = a^b log(a)      (0 where a == 0 and b >= 0)
    rem  dc/da = 1            dc/db = -floor(a/b)
"""
from __future__ import annotations

import numbers

import numpy as np

from ember import _dtype
from ember._dtype import binary_result_type
from ember._tensor import Tensor, _new_tensor
from ember.autograd.function import ArrayFunction
from ember._functions._util import broadcast_error, quiet


def _apply_ufunc(ufunc, a, b, dtype):
    """``ufunc(a, b)`` computed in ``dtype``, with torch's message for shapes that don't fit."""
    try:
        return ufunc(a, b, dtype=dtype)
    except ValueError:
        raise broadcast_error(np.shape(a), np.shape(b)) from None


def inplace_shape_error(out: np.ndarray, other, err: Exception) -> RuntimeError:
    """Why ``out op= other`` failed: other doesn't broadcast to out, or out is read-only."""
    try:
        shape = np.broadcast_shapes(out.shape, np.shape(other))
    except ValueError:
        return broadcast_error(out.shape, np.shape(other))
    if shape != out.shape:
        return RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast "
                            f"shape {list(shape)}")
    return RuntimeError(f"in-place operation failed: {err}. Expanded tensors share memory "
                        "between elements: clone() before writing to them.")


class Add(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        return _apply_ufunc(np.add, a, b, binary_result_type(a, b))

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (grad if na else None), (grad if nb else None)


class Sub(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        dtype = binary_result_type(a, b)
        if dtype == np.bool_:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        return _apply_ufunc(np.subtract, a, b, dtype)

    @staticmethod
    def backward(ctx, grad):
        na, nb = ctx.needs_input_grad
        return (grad if na else None), (-grad if nb else None)


class Mul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _apply_ufunc(np.multiply, a, b, binary_result_type(a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (grad * b if na else None), (grad * a if nb else None)


class Div(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        dtype = binary_result_type(a, b)
        if dtype.kind != "f":                    # int / int is a float division, like torch
            dtype = _dtype.get_default_dtype().np
        with quiet():
            return _apply_ufunc(np.true_divide, a, b, dtype)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with quiet():
            ga = grad / b if na else None
            gb = -grad * a / (b * b) if nb else None
        return ga, gb


class Neg(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        if a.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        dtype = binary_result_type(a, b)
        with quiet():
            if dtype.kind in "iu" and np.any(np.asarray(b) < 0):
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            out = _apply_ufunc(np.power, a, b, dtype)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        with quiet():
            if na:
                if isinstance(b, numbers.Number):
                    ga = np.zeros_like(grad) if b == 0 else grad * (b * np.power(a, b - 1))
                else:
                    ga = grad * np.where(b == 0, 0.0, b * np.power(a, b - 1))
            if nb:
                gb = grad * np.where((a == 0) & (np.asarray(b) >= 0), 0.0, out * np.log(a))
        return ga, gb


class Remainder(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with quiet():
            return _apply_ufunc(np.remainder, a, b, binary_result_type(a, b))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with quiet():
            gb = -grad * np.floor_divide(a, b) if nb else None
        return (grad if na else None), gb


# ------------------------------------------------------------------------- public functions
def _check_operand(x, op: str):
    if not isinstance(x, (Tensor, numbers.Number, np.ndarray)):
        raise TypeError(f"unsupported operand type(s) for {op}: 'Tensor' and "
                        f"'{type(x).__name__}'")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return Add.apply(input, other)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return Sub.apply(input, other)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return sub(other, input, alpha=alpha) if isinstance(other, Tensor) else \
        Sub.apply(other, input if alpha == 1 else mul(input, alpha))


def mul(input, other, *, out=None):
    return Mul.apply(input, other)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (float result); ``rounding_mode='floor'|'trunc'`` rounds it."""
    if rounding_mode is None:
        return Div.apply(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a = input._data if isinstance(input, Tensor) else input
        b = other._data if isinstance(other, Tensor) else other
        dtype = _dtype.result_type(a, b)
        with quiet():
            q = np.trunc(np.true_divide(a, b)).astype(dtype)
        return _new_tensor(q)
    raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found '{rounding_mode}'")


divide = true_divide = div


def floor_divide(input, other):
    """Floor of the quotient; not differentiable (like torch), so the result has no graph."""
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    if isinstance(b, np.ndarray) and b.dtype.kind in "iub" and np.any(b == 0) and \
            _dtype.result_type(a, b).kind in "iub":
        raise ZeroDivisionError("ZeroDivisionError")
    with quiet():
        return _new_tensor(np.asarray(_apply_ufunc(np.floor_divide, a, b,
                                                   _dtype.result_type(a, b))))


def remainder(input, other):
    return Remainder.apply(input, other)



def neg(input):
    return Neg.apply(input)


negative = neg


def pow(input, exponent):
    """input ** exponent; either may be a tensor or a number."""
    return Pow.apply(input, exponent)


def float_power(input, exponent):
    return pow(input.double() if isinstance(input, Tensor) else input,
               exponent.double() if isinstance(exponent, Tensor) else exponent)


# ------------------------------------------------------------------------- comparisons
def _compare(ufunc, input, other) -> Tensor:
    """Elementwise comparison in the promoted dtype; a bool tensor outside the graph."""
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    _dtype.result_type(a, b)            # type-checks the operands
    try:
        return _new_tensor(np.asarray(ufunc(a, b)))
    except ValueError:
        raise broadcast_error(np.shape(a), np.shape(b)) from None


def eq(input, other):
    return _compare(np.equal, input, other)


def ne(input, other):
    return _compare(np.not_equal, input, other)


def lt(input, other):
    return _compare(np.less, input, other)


def le(input, other):
    return _compare(np.less_equal, input, other)


def gt(input, other):
    return _compare(np.greater, input, other)


def ge(input, other):
    return _compare(np.greater_equal, input, other)


less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def equal(input, other) -> bool:
    """True if both tensors have the same shape and values."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data,
                                                                          other._data))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    b = other._data if isinstance(other, Tensor) else other
    return _new_tensor(np.isclose(input._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _logical(ufunc, input, other):
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    try:
        return _new_tensor(np.asarray(ufunc(a, b)))
    except ValueError:
        raise broadcast_error(np.shape(a), np.shape(b)) from None


def logical_and(input, other):
    return _logical(np.logical_and, input, other)


def logical_or(input, other):
    return _logical(np.logical_or, input, other)


def logical_xor(input, other):
    return _logical(np.logical_xor, input, other)


def logical_not(input):
    return _new_tensor(np.logical_not(input._data))


def bitwise_and(input, other):
    """``&``: logical for bool tensors, bitwise for integers."""
    if input._data.dtype.kind == "f":
        raise RuntimeError('"bitwise_and_cpu" not implemented for \'Float\'')
    return _logical(np.bitwise_and, input, other)


def bitwise_or(input, other):
    if input._data.dtype.kind == "f":
        raise RuntimeError('"bitwise_or_cpu" not implemented for \'Float\'')
    return _logical(np.bitwise_or, input, other)


def bitwise_xor(input, other):
    if input._data.dtype.kind == "f":
        raise RuntimeError('"bitwise_xor_cpu" not implemented for \'Float\'')
    return _logical(np.bitwise_xor, input, other)


def bitwise_not(input):
    if input._data.dtype.kind == "f":
        raise RuntimeError('"bitwise_not_cpu" not implemented for \'Float\'')
    return _new_tensor(np.invert(input._data))
