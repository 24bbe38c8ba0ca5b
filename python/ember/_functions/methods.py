"""The Tensor methods and operators that are ember functions (``x.exp()`` is ``ember.exp(x)``).

``bind(Tensor)`` runs once when ember is imported. Reflected operators (``2 - x``) swap the
operands before calling the same Function, so type promotion and errors are identical.
"""
from __future__ import annotations

import numpy as np

from ember._functions import arithmetic as A
from ember._functions import elementwise as E
from ember._functions import indexing as I
from ember._functions import linalg as L
from ember._functions import reduction as R
from ember._functions import shape as S


def _forward(fn_cls):
    # a plain function (not the bound classmethod) so that it binds ``self`` as a method
    return lambda self, other: fn_cls.apply(self, other)


def _reflected(fn_cls):
    return lambda self, other: fn_cls.apply(other, self)


def _eq(self, other):
    return False if other is None else A.eq(self, other)


def _ne(self, other):
    return True if other is None else A.ne(self, other)




def _where(self, condition, other):
    return E.where(condition, self, other)


def _new(maker):
    """``x.new_zeros(size)``-style constructors: x's dtype unless ``dtype=`` is given."""
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from ember._dtype import to_np
        from ember._tensor import _new_tensor, _parse_size
        t = _new_tensor(maker(_parse_size(size),
                              self._data.dtype if dtype is None else to_np(dtype)))
        return t.requires_grad_(True) if requires_grad else t
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from ember._dtype import to_np
    from ember._tensor import _new_tensor, _parse_size
    t = _new_tensor(np.full(_parse_size(size), fill_value,
                            self._data.dtype if dtype is None else to_np(dtype)))
    return t.requires_grad_(True) if requires_grad else t


def _new_tensor_method(self, data, *, dtype=None, device=None, requires_grad=False):
    from ember._creation import tensor
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _type_as(self, other):
    return self.to(other.dtype)


def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace_unary(fn, *args, **kwargs)
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


METHODS = {
    # arithmetic
    "add": A.add, "sub": A.sub, "subtract": A.sub, "mul": A.mul, "multiply": A.mul,
    "div": A.div, "divide": A.div, "true_divide": A.div, "floor_divide": A.floor_divide,
    "remainder": A.remainder, "pow": A.pow, "neg": A.neg, "negative": A.neg,
    "float_power": A.float_power,
    "eq": A.eq, "ne": A.ne, "lt": A.lt, "le": A.le, "gt": A.gt, "ge": A.ge,
    "less": A.lt, "greater": A.gt, "not_equal": A.ne, "equal": A.equal,
    "allclose": A.allclose, "isclose": A.isclose,
    "logical_and": A.logical_and, "logical_or": A.logical_or, "logical_xor": A.logical_xor,
    "logical_not": A.logical_not,
    # elementwise
    "exp": E.exp, "log": E.log, "log1p": E.log1p, "expm1": E.expm1, "sqrt": E.sqrt,
    "rsqrt": E.rsqrt, "reciprocal": E.reciprocal, "square": E.square, "abs": E.abs,
    "absolute": E.abs, "sin": E.sin, "cos": E.cos, "tanh": E.tanh, "sigmoid": E.sigmoid,
    "relu": E.relu, "sign": E.sign, "floor": E.floor, "ceil": E.ceil, "round": E.round,
    "trunc": E.trunc, "clamp": E.clamp, "clip": E.clamp, "clamp_min": E.clamp_min,
    "clamp_max": E.clamp_max, "maximum": E.maximum, "minimum": E.minimum, "where": _where,
    "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite, "nonzero": E.nonzero,
    # reductions
    "sum": R.sum, "mean": R.mean, "max": R.max, "min": R.min, "amax": R.amax, "amin": R.amin,
    "argmax": R.argmax, "argmin": R.argmin, "var": R.var, "std": R.std, "prod": R.prod,
    "logsumexp": R.logsumexp, "cumsum": R.cumsum, "all": R.all, "any": R.any, "norm": R.norm,
    "count_nonzero": R.count_nonzero,
    # shape
    "reshape": S.reshape, "view": S.view, "view_as": S.view_as, "reshape_as": S.reshape_as,
    "flatten": S.flatten, "unflatten": S.unflatten, "unsqueeze": S.unsqueeze,
    "squeeze": S.squeeze, "permute": S.permute, "transpose": S.transpose,
    "swapaxes": S.transpose, "swapdims": S.transpose, "t": S.t, "expand": S.expand,
    "expand_as": S.expand_as, "broadcast_to": S.broadcast_to, "repeat": S.repeat,
    "split": S.split, "chunk": S.chunk, "unbind": S.unbind, "flip": S.flip,
    "narrow": S.narrow, "select": S.select, "clone": S.clone, "contiguous": S.contiguous,
    "movedim": S.movedim, "moveaxis": S.movedim,
    # indexing
    "masked_fill": I.masked_fill, "masked_fill_": I.masked_fill_, "gather": I.gather,
    "index_select": I.index_select, "masked_select": I.masked_select, "tril": I.tril,
    "triu": I.triu, "take": I.take,
    # linalg
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot, "inner": L.dot,
    "outer": L.outer,
    # constructors and conversions
    "new_zeros": _new(np.zeros), "new_ones": _new(np.ones), "new_empty": _new(np.empty),
    "new_full": _new_full, "new_tensor": _new_tensor_method, "type_as": _type_as,
}

INPLACE = {
    "neg_": A.neg, "exp_": E.exp, "log_": E.log, "sqrt_": E.sqrt, "abs_": E.abs,
    "sigmoid_": E.sigmoid, "tanh_": E.tanh, "relu_": E.relu, "clamp_": E.clamp,
    "clip_": E.clamp, "clamp_min_": E.clamp_min, "clamp_max_": E.clamp_max,
    "reciprocal_": E.reciprocal, "square_": E.square, "sign_": E.sign, "floor_": E.floor,
    "ceil_": E.ceil, "round_": E.round, "trunc_": E.trunc, "sin_": E.sin, "cos_": E.cos,
    "remainder_": A.remainder, "floor_divide_": A.floor_divide, "tril_": I.tril,
    "triu_": I.triu, "log1p_": E.log1p, "expm1_": E.expm1,
}

OPERATORS = {
    "__add__": _forward(A.Add), "__radd__": _reflected(A.Add),
    "__sub__": _forward(A.Sub), "__rsub__": _reflected(A.Sub),
    "__mul__": _forward(A.Mul), "__rmul__": _reflected(A.Mul),
    "__truediv__": _forward(A.Div), "__rtruediv__": _reflected(A.Div),
    "__floordiv__": A.floor_divide, "__rfloordiv__": lambda s, o: A.floor_divide(o, s),
    "__mod__": _forward(A.Remainder), "__rmod__": _reflected(A.Remainder),
    "__pow__": _forward(A.Pow), "__rpow__": _reflected(A.Pow),
    "__matmul__": _forward(L.Matmul), "__rmatmul__": _reflected(L.Matmul),
    "__neg__": A.neg, "__pos__": lambda s: s, "__abs__": E.abs,
    "__eq__": _eq, "__ne__": _ne, "__lt__": A.lt, "__le__": A.le, "__gt__": A.gt,
    "__ge__": A.ge,
    "__and__": A.bitwise_and, "__rand__": A.bitwise_and,
    "__or__": A.bitwise_or, "__ror__": A.bitwise_or,
    "__xor__": A.bitwise_xor, "__rxor__": A.bitwise_xor,
    "__invert__": A.bitwise_not,
}


def bind(cls) -> None:
    """Attach the functions above to ``cls`` (ember.Tensor)."""
    for name, fn in {**METHODS, **OPERATORS}.items():
        setattr(cls, name, fn)
    for name, fn in INPLACE.items():
        setattr(cls, name, _inplace(fn))
    cls.T = property(S.T, doc="All dims reversed.")
    cls.mT = property(S.mT, doc="The last two dims swapped.")
