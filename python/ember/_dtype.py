"""ember's dtypes (``ember.float32`` ...) and PyTorch's type-promotion rules.

A tensor stores its data in a NumPy array, so every ember dtype wraps one NumPy dtype. The
promotion rules are PyTorch's, which differ from NumPy's in two places that matter:

- categories first: bool < integer < floating. An int64 tensor plus a float32 tensor is float32
  (NumPy says float64): the floating operand's dtype wins whatever the integer's width.
- three tiers of operands: dimensioned tensors, zero-dim tensors, then Python scalars. A lower
  tier only changes the result when it is of a *higher category*: float32 tensor + 0-dim float64
  tensor is float32, int64 tensor + 2.5 is float32 (the default float dtype).
"""
from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """An element type. Prints like ``ember.float32``; ``.np`` is the NumPy dtype that stores it."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_legacy")

    def __init__(self, name: str, np_dtype, legacy: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        self._legacy = legacy  # torch's C++ name, used in error messages ("Float", "Long")

    def __repr__(self) -> str:
        return "ember." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = dtype("float16", np.float16, "Half")
float32 = dtype("float32", np.float32, "Float")
float64 = dtype("float64", np.float64, "Double")
uint8 = dtype("uint8", np.uint8, "Byte")
int8 = dtype("int8", np.int8, "Char")
int16 = dtype("int16", np.int16, "Short")
int32 = dtype("int32", np.int32, "Int")
int64 = dtype("int64", np.int64, "Long")
bool_ = dtype("bool", np.bool_, "Bool")

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool_)
_BY_NAME = {d.name: d for d in ALL}
_FROM_NP = {d.np: d for d in ALL}

_default_float = float32


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """The dtype of Python floats and of ``rand``/``zeros``/... without ``dtype=`` (float32)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Make ``d`` (``ember.float32`` or ``ember.float64``) the default floating dtype."""
    global _default_float
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_np(np_dtype) -> dtype:
    """The ember dtype stored as ``np_dtype``; TypeError for NumPy types ember does not have."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        supported = ", ".join(d.np.name for d in ALL)
        raise TypeError(f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. "
                        f"The only supported types are: {supported}.") from None


def to_dtype(d) -> dtype:
    """Accept an ember dtype, a NumPy dtype/type, or Python ``float``/``int``/``bool`` like torch."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return float64          # torch: dtype=float means float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        return from_np(np.dtype(d))
    except TypeError:
        raise
    except Exception:
        raise TypeError(f"dtype must be an ember dtype such as ember.float32, got {d!r}") from None


def to_np(d) -> np.dtype:
    """The NumPy dtype for ``d`` (``None`` stays ``None``)."""
    return None if d is None else to_dtype(d).np


# ---------------------------------------------------------------------------------- promotion
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_BOOL, _INT64 = np.dtype(np.bool_), np.dtype(np.int64)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types on NumPy dtypes: the higher category wins, else the wider type."""
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def scalar_dtype(x) -> np.dtype:
    """The dtype a Python (or NumPy) scalar takes in an expression: bool, int64 or default float."""
    if isinstance(x, (builtins.bool, np.bool_)):
        return _BOOL
    if isinstance(x, (builtins.int, np.integer)):
        return _INT64
    if isinstance(x, (builtins.float, np.floating)):
        return _default_float.np
    raise TypeError(f"unsupported operand type {type(x).__name__!r} for a tensor operation")


def _combine(higher, lower):
    """Fold a lower tier into a higher one (torch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype torch gives an op on ``operands`` (NumPy arrays stand for tensors, others are
    Python scalars)."""
    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, np.ndarray):
            if x.ndim:
                dim = x.dtype if dim is None else promote_types(dim, x.dtype)
            else:
                zero = x.dtype if zero is None else promote_types(zero, x.dtype)
        elif x is not None:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine(dim, _combine(zero, wrapped))


def binary_result_type(a, b) -> np.dtype:
    """``result_type(a, b)`` with the common cases (same dtype, float tensor with a scalar) first."""
    if type(a) is np.ndarray:
        if type(b) is np.ndarray:
            if a.dtype == b.dtype:
                return a.dtype
        elif a.dtype.kind == "f" and type(b) in (builtins.float, builtins.int):
            return a.dtype
    return result_type(a, b)


def legacy_name(np_dtype: np.dtype) -> str:
    """torch's short C++ type name ("Float", "Long") for error messages."""
    return from_np(np_dtype)._legacy
