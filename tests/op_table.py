"""The op table: one row per Tensor operation, the spec that three test files run.

Each row (an ``Op``) names an operation and gives
  - ``fn(lib, *xs)``: the call, written once for both ember and PyTorch. ember copies PyTorch's
    names, signatures and semantics, so the same lambda runs with ``lib=ember`` (the ember
    callable, ``op.ember``) and ``lib=torch`` (the torch callable, ``op.torch``); ``torch_fn``
    overrides it in the rare row where the spellings must differ;
  - ``np_fn(*arrays)``: the same math in NumPy, the forward oracle. It also fixes the expected
    result dtype: it is evaluated on the inputs as the test casts them (float32 for the forward
    test), so e.g. ``arange`` rows spell out ``dtype=np.int64`` and ``linspace`` ``np.float32``;
  - ``args``: how to make each input (``Arg``: shape plus a value ``kind``), chosen so finite
    differences are valid: positive inputs for log/sqrt, inputs away from the kinks of
    abs/relu/sign/clamp, distinct values for max/min/argmax, operands of maximum/minimum that
    never tie;
  - ``differentiable``: whether float64 gradcheck and gradient parity apply.

Driven by:
  tests/test_tensor_ops.py         forward value, shape and dtype vs NumPy (float32)
  tests/test_autograd_gradcheck.py ember.autograd.gradcheck in float64 on every differentiable row
  tests/test_torch_parity.py       forward and every input's gradient vs PyTorch, float32/float64

An op may return a tensor or a tuple/list of tensors (``max(dim)``, ``split``, ``chunk``); the
harness flattens the outputs with ``flatten_outputs``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

import ember

# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------

FLOAT_KINDS = ("normal", "positive", "away", "distinct", "lattice", "lattice_half", "ties")


@dataclass(frozen=True)
class Arg:
    """One input: its shape and what its values look like.

    kind:
      normal        N(0, 1)
      positive      U(0.5, 2): log, sqrt, pow bases, divisors
      away          |x| in U(0.3, 2) with random sign: away from 0 (abs, relu, sign, prod, divisors)
      distinct      all values distinct, >= 0.1 apart: max/min/argmax have one clear winner
      lattice       near multiples of 0.4; lattice_half: near odd multiples of 0.2. A lattice and a
                    lattice_half operand differ by >= 0.1 everywhere, so maximum/minimum never tie
      ties          small integers as floats: comparisons see equal values too
      mask          bool
      index         int64 in [0, high)
      int           int64 in [-5, 5]
    avoid: extra kink points to keep float values >= 0.1 away from (clamp bounds).
    dtype: fixed dtype (e.g. "float64") instead of the one under test.
    """

    shape: tuple
    kind: str = "normal"
    high: int = 0
    avoid: tuple = ()
    dtype: str | None = None

    @property
    def is_float(self) -> bool:
        return self.kind in FLOAT_KINDS

    def make(self, rng: np.random.Generator, float_dtype) -> np.ndarray:
        shape = self.shape
        if self.kind == "mask":
            return rng.random(shape) < 0.5
        if self.kind == "index":
            return rng.integers(0, self.high, size=shape, dtype=np.int64)
        if self.kind == "int":
            return rng.integers(-5, 6, size=shape, dtype=np.int64)
        if self.kind == "normal":
            x = rng.standard_normal(shape)
        elif self.kind == "positive":
            x = rng.uniform(0.5, 2.0, shape)
        elif self.kind == "away":
            x = rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], size=shape)
        elif self.kind == "distinct":
            n = int(np.prod(shape))
            x = (rng.permutation(n) - n / 2) * 0.15 + rng.uniform(-0.02, 0.02, n)
            x = x.reshape(shape)
        elif self.kind in ("lattice", "lattice_half"):
            shift = 0.2 if self.kind == "lattice_half" else 0.0
            base = rng.integers(-5, 6, size=shape) * 0.4 + shift
            x = base + rng.uniform(-0.05, 0.05, shape)
        elif self.kind == "ties":
            x = rng.integers(-2, 3, size=shape).astype(np.float64)
        else:
            raise ValueError(f"unknown Arg kind {self.kind!r}")
        for k in self.avoid:  # move values within 0.1 of a kink to 0.15 from it, same side
            x = np.where(np.abs(x - k) < 0.1, np.where(x >= k, k + 0.15, k - 0.15), x)
        return np.asarray(x, dtype=self.dtype or float_dtype)


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable                    # fn(lib, *inputs), lib is ember or torch
    np_fn: Callable                 # np_fn(*numpy_arrays)
    args: tuple = ()
    differentiable: bool = True
    torch_fn: Callable | None = None
    # False only where finite differences are not the analytic gradient by design (detach).
    gradcheck: bool = True

    def ember(self, *xs):
        return self.fn(ember, *xs)

    def torch(self, *xs):
        import torch

        return (self.torch_fn or self.fn)(torch, *xs)

    def numpy(self, *xs):
        return self.np_fn(*xs)

    def inputs(self, float_dtype=np.float64) -> list[np.ndarray]:
        """The row's inputs, the same on every call (seeded by the row's name)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [a.make(rng, float_dtype) for a in self.args]


def flatten_outputs(out) -> list:
    """A tensor/array, or a (named)tuple/list of them, as a flat list."""
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in flatten_outputs(item)]
    return [out]


# ----------------------------------------------------------------------------------------------
# Small helpers used by the rows
# ----------------------------------------------------------------------------------------------

def A(*shape, **kw) -> Arg:
    return Arg(tuple(shape), **kw)


def fresh(x):
    """A copy we may modify in place (in-place ops on a leaf that requires grad are an error)."""
    return x.copy() if isinstance(x, np.ndarray) else x.clone()


def _inplace(op):
    def run(a, b):
        c = fresh(a)
        if op == "+":
            c += b
        elif op == "-":
            c -= b
        elif op == "*":
            c *= b
        elif op == "/":
            c /= b
        elif op == "**":
            c **= b
        return c
    return run


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def np_max_dim(x, dim, keepdim=False, fn=np.max, arg=np.argmax):
    return fn(x, axis=dim, keepdims=keepdim), arg(x, axis=dim, keepdims=keepdim)


def np_split(x, size_or_sizes, dim=0):
    n = x.shape[dim]
    sizes = ([size_or_sizes] * -(-n // size_or_sizes) if isinstance(size_or_sizes, int)
             else list(size_or_sizes))
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.split(x, cuts, axis=dim))


def np_chunk(x, chunks, dim=0):
    # torch.chunk: every chunk has ceil(n / chunks) elements except maybe the last, so it can
    # return fewer than `chunks` pieces (unlike np.array_split).
    return np_split(x, -(-x.shape[dim] // chunks), dim)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def f32(x):
    return np.asarray(x, dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------

OPS: list[Op] = []


def op(name, fn, np_fn, *args, differentiable=True, torch_fn=None, gradcheck=True):
    """A row: ``fn(lib, *xs)`` for ember and torch, ``np_fn(*arrays)`` for NumPy."""
    OPS.append(Op(name, fn, np_fn, tuple(args), differentiable, torch_fn, gradcheck))


def same(name, f, *args, differentiable=True):
    """A row whose call is the same Python expression in NumPy, ember and torch (operators,
    indexing, in-place updates)."""
    op(name, lambda lib, *xs: f(*xs), f, *args, differentiable=differentiable)


def unary(name, np_f, arg=A(3, 4), differentiable=True):
    """An elementwise op both as ``ember.name(t)`` and as the method ``t.name()``."""
    op(name, lambda lib, x: getattr(lib, name)(x), np_f, arg, differentiable=differentiable)
    op(name + "_method", lambda lib, x: getattr(x, name)(), np_f, arg,
       differentiable=differentiable)


# --- creation (no tensor inputs: forward value/dtype and torch parity only) -------------------
op("tensor_floats", lambda lib: lib.tensor([[1.5, -2.0], [0.25, 3.0]]),
   lambda: f32([[1.5, -2.0], [0.25, 3.0]]), differentiable=False)
op("tensor_ints_int64", lambda lib: lib.tensor([[1, -2, 3]]),
   lambda: np.array([[1, -2, 3]], dtype=np.int64), differentiable=False)
op("tensor_bools", lambda lib: lib.tensor([True, False, True]),
   lambda: np.array([True, False, True]), differentiable=False)
op("tensor_dtype_float64", lambda lib: lib.tensor([1, 2, 3], dtype=lib.float64),
   lambda: np.array([1, 2, 3], dtype=np.float64), differentiable=False)
op("tensor_scalar_0d", lambda lib: lib.tensor(2.5),
   lambda: f32(2.5), differentiable=False)
op("zeros_tuple", lambda lib: lib.zeros((2, 3)), lambda: np.zeros((2, 3), np.float32),
   differentiable=False)
op("zeros_varargs", lambda lib: lib.zeros(2, 3), lambda: np.zeros((2, 3), np.float32),
   differentiable=False)
op("ones_float64", lambda lib: lib.ones(2, 3, dtype=lib.float64), lambda: np.ones((2, 3)),
   differentiable=False)
op("ones_int64", lambda lib: lib.ones(4, dtype=lib.int64), lambda: np.ones(4, np.int64),
   differentiable=False)
op("full_float", lambda lib: lib.full((2, 3), 1.5), lambda: np.full((2, 3), 1.5, np.float32),
   differentiable=False)
op("full_int_fill_is_int64", lambda lib: lib.full((3,), 7), lambda: np.full(3, 7, np.int64),
   differentiable=False)
op("full_bool", lambda lib: lib.full((2,), True), lambda: np.full(2, True),
   differentiable=False)
op("arange_stop", lambda lib: lib.arange(5), lambda: np.arange(5, dtype=np.int64),
   differentiable=False)
op("arange_start_stop", lambda lib: lib.arange(2, 7), lambda: np.arange(2, 7, dtype=np.int64),
   differentiable=False)
op("arange_negative_step", lambda lib: lib.arange(5, -3, -2),
   lambda: np.arange(5, -3, -2, dtype=np.int64), differentiable=False)
op("arange_float_step", lambda lib: lib.arange(0, 1, 0.25), lambda: f32(np.arange(0, 1, 0.25)),
   differentiable=False)
op("arange_dtype_float64", lambda lib: lib.arange(4, dtype=lib.float64),
   lambda: np.arange(4, dtype=np.float64), differentiable=False)
op("linspace", lambda lib: lib.linspace(-1, 2, 7), lambda: f32(np.linspace(-1, 2, 7)),
   differentiable=False)
op("linspace_one_step", lambda lib: lib.linspace(3, 3, 1), lambda: f32([3.0]),
   differentiable=False)
op("eye_square", lambda lib: lib.eye(3), lambda: np.eye(3, dtype=np.float32),
   differentiable=False)
op("eye_rect", lambda lib: lib.eye(2, 4), lambda: np.eye(2, 4, dtype=np.float32),
   differentiable=False)
op("zeros_like", lambda lib, x: lib.zeros_like(x), np.zeros_like, A(2, 3), differentiable=False)
op("ones_like", lambda lib, x: lib.ones_like(x), np.ones_like, A(2, 3), differentiable=False)
op("zeros_like_int", lambda lib, x: lib.zeros_like(x), np.zeros_like, A(2, 3, kind="int"),
   differentiable=False)

# --- arithmetic operators, broadcasting, scalars, reflected and in-place forms -----------------
same("add", lambda a, b: a + b, A(3, 4), A(3, 4))
same("add_broadcast_row", lambda a, b: a + b, A(3, 4), A(4))
same("add_broadcast_both", lambda a, b: a + b, A(3, 1), A(1, 4))
same("add_broadcast_3d", lambda a, b: a + b, A(2, 1, 4), A(3, 1))
same("add_0d_tensor", lambda a, b: a + b, A(3, 4), A())
same("add_scalar", lambda a: a + 2.5, A(3, 4))
same("radd_scalar", lambda a: 2.5 + a, A(3, 4))
same("add_int_scalar", lambda a: a + 2, A(3, 4))
same("sub", lambda a, b: a - b, A(3, 4), A(3, 4))
same("sub_broadcast", lambda a, b: a - b, A(4), A(3, 1))
same("sub_scalar", lambda a: a - 1.5, A(3, 4))
same("rsub_scalar", lambda a: 1.5 - a, A(3, 4))
same("mul", lambda a, b: a * b, A(3, 4), A(3, 4))
same("mul_broadcast", lambda a, b: a * b, A(2, 3, 4), A(3, 1))
same("mul_scalar", lambda a: a * -3.0, A(3, 4))
same("rmul_scalar", lambda a: 3 * a, A(3, 4))
same("mul_same_tensor", lambda a: a * a, A(3, 4))
same("div", lambda a, b: a / b, A(3, 4), A(3, 4, kind="away"))
same("div_broadcast", lambda a, b: a / b, A(3, 4), A(4, kind="away"))
same("div_scalar", lambda a: a / 4.0, A(3, 4))
same("rdiv_scalar", lambda a: 2.0 / a, A(3, 4, kind="away"))
same("neg", lambda a: -a, A(3, 4))
same("pos", lambda a: +a, A(3, 4))
same("abs_builtin", lambda a: abs(a), A(3, 4, kind="away"))
same("pow_operator_int", lambda a: a ** 2, A(3, 4))
same("pow_operator_float", lambda a: a ** 0.5, A(3, 4, kind="positive"))
same("pow_operator_negative", lambda a: a ** -1, A(3, 4, kind="away"))
same("pow_operator_tensor", lambda a, b: a ** b, A(3, 4, kind="positive"), A(3, 4))
same("pow_operator_broadcast", lambda a, b: a ** b, A(3, 4, kind="positive"), A(4))
same("rpow_scalar", lambda a: 2.0 ** a, A(3, 4))
same("floordiv", lambda a, b: a // b, A(3, 4), A(3, 4, kind="away"), differentiable=False)
same("mod", lambda a, b: a % b, A(3, 4), A(3, 4, kind="positive"), differentiable=False)
same("iadd", _inplace("+"), A(3, 4), A(3, 4))
same("iadd_broadcast", _inplace("+"), A(3, 4), A(4))
same("iadd_scalar", lambda a: _inplace("+")(a, 1.5), A(3, 4))
same("isub", _inplace("-"), A(3, 4), A(3, 1))
same("imul", _inplace("*"), A(3, 4), A(3, 4))
same("imul_scalar", lambda a: _inplace("*")(a, -2.0), A(3, 4))
same("idiv", _inplace("/"), A(3, 4), A(4, kind="away"))
same("ipow_scalar", lambda a: _inplace("**")(a, 3), A(3, 4, kind="positive"))
same("inplace_chain", lambda a, b: _inplace("*")(_inplace("+")(a, b), b), A(3, 4), A(3, 4))
same("int_floordiv_negative", lambda a: a // 2, A(3, 4, kind="int"), differentiable=False)
same("int_mod_negative", lambda a: a % 3, A(3, 4, kind="int"), differentiable=False)

# Type promotion (PyTorch's rules: an int tensor with a float scalar is float32, true division
# of ints is float, float32 with float64 is float64).
same("int_tensor_add", lambda a, b: a + b, A(3, 4, kind="int"), A(3, 4, kind="int"),
     differentiable=False)
same("int_tensor_mul_int_scalar", lambda a: a * 3, A(3, 4, kind="int"), differentiable=False)
op("int_tensor_plus_float_scalar", lambda lib, a: a + 1.5, lambda a: f32(a + 1.5),
   A(3, 4, kind="int"), differentiable=False)
op("int_tensor_true_div", lambda lib, a: a / 2, lambda a: f32(a / 2), A(3, 4, kind="int"),
   differentiable=False)
same("promote_float32_float64", lambda a, b: a * b, A(3, 4, dtype="float32"),
     A(4, dtype="float64"), differentiable=False)

# --- comparison operators (bool results, broadcasting, scalars, reflected) ---------------------
for _name, _f in [("lt", lambda a, b: a < b), ("le", lambda a, b: a <= b),
                  ("gt", lambda a, b: a > b), ("ge", lambda a, b: a >= b),
                  ("eq", lambda a, b: a == b), ("ne", lambda a, b: a != b)]:
    same(_name, _f, A(3, 4, kind="ties"), A(3, 4, kind="ties"), differentiable=False)
    same(_name + "_broadcast", _f, A(3, 4, kind="ties"), A(4, kind="ties"), differentiable=False)
same("lt_scalar", lambda a: a < 0, A(3, 4, kind="ties"), differentiable=False)
same("eq_scalar", lambda a: a == 1.0, A(3, 4, kind="ties"), differentiable=False)
same("reflected_lt_scalar", lambda a: 0.5 < a, A(3, 4, kind="ties"), differentiable=False)
same("reflected_ge_scalar", lambda a: 1 >= a, A(3, 4, kind="ties"), differentiable=False)
same("compare_int_tensor", lambda a, b: a <= b, A(3, 4, kind="int"), A(3, 4, kind="int"),
     differentiable=False)

# --- matmul ----------------------------------------------------------------------------------
for _name, _sa, _sb in [("1d_1d", (4,), (4,)), ("1d_2d", (4,), (4, 3)), ("2d_1d", (3, 4), (4,)),
                        ("2d_2d", (3, 4), (4, 5)), ("3d_3d", (2, 3, 4), (2, 4, 5)),
                        ("3d_2d", (2, 3, 4), (4, 5)), ("2d_3d", (3, 4), (2, 4, 5)),
                        ("1d_3d", (4,), (2, 4, 3)), ("3d_1d", (2, 3, 4), (4,)),
                        ("batch_broadcast", (2, 1, 3, 4), (5, 4, 2))]:
    same("matmul_op_" + _name, lambda a, b: a @ b, A(*_sa), A(*_sb))
op("matmul_function", lambda lib, a, b: lib.matmul(a, b), np.matmul, A(3, 4), A(4, 2))
op("matmul_function_batched", lambda lib, a, b: lib.matmul(a, b), np.matmul, A(3, 2, 4), A(4, 2))
op("matmul_method", lambda lib, a, b: a.matmul(b), np.matmul, A(2, 3, 4), A(1, 4, 5))
same("matmul_transposed_operand", lambda a, b: a.T @ b, A(4, 3), A(4, 2))

# --- reductions ------------------------------------------------------------------------------
op("sum", lambda lib, x: x.sum(), np.sum, A(3, 4))
op("sum_function", lambda lib, x: lib.sum(x), np.sum, A(2, 3, 4))
op("sum_dim0", lambda lib, x: x.sum(dim=0), lambda x: x.sum(axis=0), A(3, 4))
op("sum_dim_negative", lambda lib, x: lib.sum(x, dim=-1), lambda x: x.sum(axis=-1), A(2, 3, 4))
op("sum_dim_positional", lambda lib, x: x.sum(1), lambda x: x.sum(axis=1), A(2, 3, 4))
op("sum_keepdim", lambda lib, x: x.sum(dim=1, keepdim=True),
   lambda x: x.sum(axis=1, keepdims=True), A(2, 3, 4))
op("sum_dim_tuple", lambda lib, x: x.sum(dim=(0, 2)), lambda x: x.sum(axis=(0, 2)), A(2, 3, 4))
op("sum_dim_tuple_keepdim", lambda lib, x: lib.sum(x, dim=(0, -1), keepdim=True),
   lambda x: x.sum(axis=(0, -1), keepdims=True), A(2, 3, 4))
op("sum_int_is_int64", lambda lib, x: x.sum(), lambda x: x.sum(dtype=np.int64),
   A(3, 4, kind="int"), differentiable=False)
op("mean", lambda lib, x: x.mean(), np.mean, A(3, 4))
op("mean_function_dim", lambda lib, x: lib.mean(x, dim=0), lambda x: x.mean(axis=0), A(3, 4))
op("mean_keepdim", lambda lib, x: x.mean(dim=-1, keepdim=True),
   lambda x: x.mean(axis=-1, keepdims=True), A(2, 3, 4))
op("mean_dim_tuple", lambda lib, x: x.mean(dim=(1, 2)), lambda x: x.mean(axis=(1, 2)),
   A(2, 3, 4))
op("max_all", lambda lib, x: x.max(), np.max, A(3, 4, kind="distinct"))
op("max_all_function", lambda lib, x: lib.max(x), np.max, A(2, 3, 4, kind="distinct"))
op("max_dim", lambda lib, x: x.max(dim=1), lambda x: np_max_dim(x, 1), A(3, 4, kind="distinct"))
op("max_dim_keepdim", lambda lib, x: lib.max(x, dim=-1, keepdim=True),
   lambda x: np_max_dim(x, -1, True), A(2, 3, 4, kind="distinct"))
op("max_dim_values", lambda lib, x: x.max(dim=0).values, lambda x: x.max(axis=0),
   A(3, 4, kind="distinct"))
op("max_dim_indices", lambda lib, x: x.max(0).indices, lambda x: x.argmax(axis=0),
   A(3, 4, kind="distinct"), differentiable=False)
op("max_binary", lambda lib, a, b: lib.max(a, b), np.maximum, A(3, 4, kind="lattice"),
   A(3, 4, kind="lattice_half"))
op("min_all", lambda lib, x: x.min(), np.min, A(3, 4, kind="distinct"))
op("min_all_function", lambda lib, x: lib.min(x), np.min, A(3, 4, kind="distinct"))
op("min_dim", lambda lib, x: x.min(dim=0), lambda x: np_max_dim(x, 0, False, np.min, np.argmin),
   A(3, 4, kind="distinct"))
op("min_dim_keepdim", lambda lib, x: lib.min(x, 1, keepdim=True),
   lambda x: np_max_dim(x, 1, True, np.min, np.argmin), A(2, 3, 4, kind="distinct"))
op("min_dim_values", lambda lib, x: x.min(dim=-1)[0], lambda x: x.min(axis=-1),
   A(3, 4, kind="distinct"))
op("argmax_all", lambda lib, x: x.argmax(), np.argmax, A(3, 4, kind="distinct"),
   differentiable=False)
op("argmax_function_dim", lambda lib, x: lib.argmax(x, dim=1), lambda x: x.argmax(axis=1),
   A(3, 4, kind="distinct"), differentiable=False)
op("argmax_keepdim", lambda lib, x: x.argmax(dim=0, keepdim=True),
   lambda x: x.argmax(axis=0, keepdims=True), A(3, 4, kind="distinct"), differentiable=False)
op("argmin_all", lambda lib, x: lib.argmin(x), np.argmin, A(2, 3, 4, kind="distinct"),
   differentiable=False)
op("argmin_dim", lambda lib, x: x.argmin(dim=-1), lambda x: x.argmin(axis=-1),
   A(3, 4, kind="distinct"), differentiable=False)
op("argmin_keepdim", lambda lib, x: x.argmin(1, keepdim=True),
   lambda x: x.argmin(axis=1, keepdims=True), A(3, 4, kind="distinct"), differentiable=False)
# var/std: PyTorch's default is the unbiased estimate (correction=1), unlike NumPy's ddof=0.
# Ties: PyTorch and NumPy both return the first maximal/minimal index.
op("argmax_ties_first", lambda lib, x: x.argmax(dim=1), lambda x: x.argmax(axis=1),
   A(4, 6, kind="ties"), differentiable=False)
op("argmin_ties_first_all", lambda lib, x: x.argmin(), np.argmin, A(4, 6, kind="ties"),
   differentiable=False)
# Zero-size tensors: an empty sum is 0, shapes follow the usual rules.
op("sum_over_empty_dim", lambda lib, x: x.sum(dim=0), lambda x: x.sum(axis=0), A(0, 3),
   differentiable=False)
op("mul_empty", lambda lib, a, b: a * b, lambda a, b: a * b, A(0, 3), A(3),
   differentiable=False)
op("var", lambda lib, x: x.var(), lambda x: np.var(x, ddof=1), A(3, 4))
op("var_function_dim", lambda lib, x: lib.var(x, dim=0), lambda x: np.var(x, axis=0, ddof=1),
   A(3, 4))
op("var_keepdim", lambda lib, x: x.var(dim=1, keepdim=True),
   lambda x: np.var(x, axis=1, ddof=1, keepdims=True), A(2, 3, 4))
op("var_unbiased_false", lambda lib, x: x.var(dim=-1, unbiased=False),
   lambda x: np.var(x, axis=-1), A(3, 4))
op("var_dim_tuple", lambda lib, x: x.var(dim=(0, 2)), lambda x: np.var(x, axis=(0, 2), ddof=1),
   A(2, 3, 4))
op("std", lambda lib, x: x.std(), lambda x: np.std(x, ddof=1), A(3, 4))
op("std_function_dim", lambda lib, x: lib.std(x, dim=1), lambda x: np.std(x, axis=1, ddof=1),
   A(3, 4))
op("std_keepdim", lambda lib, x: x.std(dim=0, keepdim=True),
   lambda x: np.std(x, axis=0, ddof=1, keepdims=True), A(3, 4))
op("std_correction0", lambda lib, x: x.std(dim=-1, correction=0), lambda x: np.std(x, axis=-1),
   A(2, 3, 4))
op("prod", lambda lib, x: x.prod(), np.prod, A(3, 4, kind="away"))
op("prod_function_dim", lambda lib, x: lib.prod(x, dim=1), lambda x: np.prod(x, axis=1),
   A(3, 4, kind="away"))
op("prod_keepdim", lambda lib, x: x.prod(dim=-1, keepdim=True),
   lambda x: np.prod(x, axis=-1, keepdims=True), A(2, 3, 4, kind="away"))
op("logsumexp", lambda lib, x: lib.logsumexp(x, dim=1), lambda x: np_logsumexp(x, 1), A(3, 4))
op("logsumexp_method_keepdim", lambda lib, x: x.logsumexp(dim=0, keepdim=True),
   lambda x: np_logsumexp(x, 0, True), A(3, 4))
op("logsumexp_dim_tuple", lambda lib, x: lib.logsumexp(x, dim=(0, 2)),
   lambda x: np_logsumexp(x, (0, 2)), A(2, 3, 4))
op("logsumexp_large_values", lambda lib, x: lib.logsumexp(x * 100.0 + 500.0, dim=-1),
   lambda x: np_logsumexp(x * 100.0 + 500.0, -1), A(3, 4))

# --- elementwise math, as functions and as methods --------------------------------------------
unary("exp", np.exp)
unary("log", np.log, A(3, 4, kind="positive"))
unary("sqrt", np.sqrt, A(3, 4, kind="positive"))
unary("abs", np.abs, A(3, 4, kind="away"))
unary("sign", np.sign, A(3, 4, kind="away"))
unary("sin", np.sin)
unary("cos", np.cos)
unary("tanh", np.tanh)
unary("sigmoid", sigmoid)
unary("relu", lambda x: np.maximum(x, 0), A(3, 4, kind="away"))
op("pow_function_scalar", lambda lib, x: lib.pow(x, 3), lambda x: x ** 3, A(3, 4))
op("pow_function_tensor", lambda lib, a, b: lib.pow(a, b), np.power, A(3, 4, kind="positive"),
   A(3, 4))
op("pow_method_float", lambda lib, x: x.pow(1.5), lambda x: x ** 1.5, A(3, 4, kind="positive"))
op("pow_method_broadcast", lambda lib, a, b: a.pow(b), np.power, A(2, 3, kind="positive"),
   A(3))
op("clamp", lambda lib, x: lib.clamp(x, min=-0.5, max=0.5), lambda x: np.clip(x, -0.5, 0.5),
   A(3, 4, avoid=(-0.5, 0.5)))
op("clamp_method_min", lambda lib, x: x.clamp(min=0.2), lambda x: np.maximum(x, 0.2),
   A(3, 4, avoid=(0.2,)))
op("clamp_method_max", lambda lib, x: x.clamp(max=-0.1), lambda x: np.minimum(x, -0.1),
   A(3, 4, avoid=(-0.1,)))
op("clamp_positional", lambda lib, x: x.clamp(-1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0),
   A(3, 4, avoid=(-1.0, 1.0)))
op("where", lambda lib, c, a, b: lib.where(c, a, b), np.where, A(3, 4, kind="mask"), A(3, 4),
   A(3, 4))
op("where_broadcast", lambda lib, c, a, b: lib.where(c, a, b), np.where, A(3, 1, kind="mask"),
   A(4), A(3, 4))
op("where_from_comparison", lambda lib, a, b: lib.where(a > b, a, b),
   lambda a, b: np.where(a > b, a, b), A(3, 4, kind="lattice"), A(3, 4, kind="lattice_half"))
op("where_scalar_other", lambda lib, a: lib.where(a > 0, a, 0.0),
   lambda a: np.where(a > 0, a, np.float32(0.0)).astype(a.dtype), A(3, 4, kind="away"))
op("maximum", lambda lib, a, b: lib.maximum(a, b), np.maximum, A(3, 4, kind="lattice"),
   A(3, 4, kind="lattice_half"))
op("maximum_broadcast", lambda lib, a, b: a.maximum(b), np.maximum, A(3, 4, kind="lattice_half"),
   A(4, kind="lattice"))
op("minimum", lambda lib, a, b: lib.minimum(a, b), np.minimum, A(3, 4, kind="lattice"),
   A(3, 4, kind="lattice_half"))
op("minimum_method_broadcast", lambda lib, a, b: a.minimum(b), np.minimum,
   A(3, 1, kind="lattice"), A(1, 4, kind="lattice_half"))
op("composite_softplus_chain", lambda lib, x: lib.log(1.0 + lib.exp(x)).sum(dim=1).tanh(),
   lambda x: np.tanh(np.log(1.0 + np.exp(x)).sum(axis=1)), A(3, 4))

# --- shape ops -------------------------------------------------------------------------------
op("reshape", lambda lib, x: x.reshape(4, 3), lambda x: x.reshape(4, 3), A(3, 4))
op("reshape_tuple_infer", lambda lib, x: x.reshape((2, -1)), lambda x: x.reshape(2, -1),
   A(2, 3, 4))
op("reshape_function", lambda lib, x: lib.reshape(x, (-1,)), lambda x: x.reshape(-1), A(3, 4))
op("reshape_of_transpose", lambda lib, x: x.T.reshape(12), lambda x: x.T.reshape(12), A(3, 4))
op("view", lambda lib, x: x.view(6, 2), lambda x: x.reshape(6, 2), A(3, 4))
op("view_infer", lambda lib, x: x.view(-1, 4), lambda x: x.reshape(-1, 4), A(2, 3, 4))
op("flatten", lambda lib, x: x.flatten(), lambda x: x.reshape(-1), A(2, 3, 4))
op("flatten_start_dim", lambda lib, x: lib.flatten(x, 1), lambda x: x.reshape(2, 12), A(2, 3, 4))
op("flatten_start_end", lambda lib, x: x.flatten(0, 1), lambda x: x.reshape(6, 4), A(2, 3, 4))
op("permute", lambda lib, x: x.permute(2, 0, 1), lambda x: np.transpose(x, (2, 0, 1)),
   A(2, 3, 4))
op("permute_function_tuple", lambda lib, x: lib.permute(x, (1, 2, 0)),
   lambda x: np.transpose(x, (1, 2, 0)), A(2, 3, 4))
op("permute_negative", lambda lib, x: x.permute(-1, -2, 0), lambda x: np.transpose(x, (2, 1, 0)),
   A(2, 3, 4))
op("transpose", lambda lib, x: x.transpose(0, 1), lambda x: x.T, A(3, 4))
op("transpose_function_3d", lambda lib, x: lib.transpose(x, 0, 2),
   lambda x: np.swapaxes(x, 0, 2), A(2, 3, 4))
op("transpose_negative", lambda lib, x: x.transpose(-1, -2), lambda x: np.swapaxes(x, -1, -2),
   A(2, 3, 4))
op("T", lambda lib, x: x.T, lambda x: x.T, A(3, 4))
op("T_then_op", lambda lib, x, y: x.T * y, lambda x, y: x.T * y, A(3, 4), A(4, 3))
op("unsqueeze", lambda lib, x: x.unsqueeze(0), lambda x: x[None], A(3, 4))
op("unsqueeze_middle_function", lambda lib, x: lib.unsqueeze(x, 1),
   lambda x: np.expand_dims(x, 1), A(3, 4))
op("unsqueeze_negative", lambda lib, x: x.unsqueeze(-1), lambda x: x[..., None], A(3, 4))
op("squeeze_all", lambda lib, x: x.squeeze(), np.squeeze, A(1, 3, 1, 4))
op("squeeze_dim", lambda lib, x: x.squeeze(2), lambda x: np.squeeze(x, 2), A(1, 3, 1, 4))
op("squeeze_function_negative", lambda lib, x: lib.squeeze(x, -2), lambda x: np.squeeze(x, -2),
   A(3, 1, 4))
# PyTorch: squeezing a dimension whose size is not 1 leaves the tensor unchanged (NumPy raises).
op("squeeze_non_unit_dim_is_noop", lambda lib, x: x.squeeze(0), lambda x: x, A(3, 4))
op("expand", lambda lib, x: x.expand(3, 4), lambda x: np.broadcast_to(x, (3, 4)), A(3, 1))
op("expand_new_leading_dims", lambda lib, x: x.expand(2, -1, -1),
   lambda x: np.broadcast_to(x, (2, 3, 4)), A(3, 4))
op("expand_tuple_then_op", lambda lib, x: x.expand((2, 3)) * 2.0,
   lambda x: np.broadcast_to(x, (2, 3)) * 2.0, A(3))
op("repeat", lambda lib, x: x.repeat(2, 3), lambda x: np.tile(x, (2, 3)), A(2, 3))
op("repeat_new_dim", lambda lib, x: x.repeat(2, 1, 1), lambda x: np.tile(x, (2, 1, 1)), A(3, 4))
op("cat_dim0", lambda lib, a, b: lib.cat([a, b]), lambda a, b: np.concatenate([a, b]), A(2, 4),
   A(3, 4))
op("cat_dim1_three", lambda lib, a, b, c: lib.cat((a, b, c), dim=1),
   lambda a, b, c: np.concatenate([a, b, c], axis=1), A(3, 1), A(3, 2), A(3, 4))
op("cat_dim_negative", lambda lib, a, b: lib.cat([a, b], dim=-1),
   lambda a, b: np.concatenate([a, b], axis=-1), A(2, 3, 2), A(2, 3, 1))
# (Gradient parity only: an empty input has nothing for finite differences to perturb.)
op("cat_with_empty", lambda lib, a, b: lib.cat([a, b]), lambda a, b: np.concatenate([a, b]),
   A(0, 4), A(2, 4), gradcheck=False)
op("stack", lambda lib, a, b: lib.stack([a, b]), lambda a, b: np.stack([a, b]), A(3, 4),
   A(3, 4))
op("stack_dim1_three", lambda lib, a, b, c: lib.stack((a, b, c), dim=1),
   lambda a, b, c: np.stack([a, b, c], axis=1), A(3, 4), A(3, 4), A(3, 4))
op("stack_dim_negative", lambda lib, a, b: lib.stack([a, b], dim=-1),
   lambda a, b: np.stack([a, b], axis=-1), A(2, 3), A(2, 3))
op("split_size", lambda lib, x: x.split(2), lambda x: np_split(x, 2), A(5, 3))
op("split_sizes_dim1", lambda lib, x: lib.split(x, [1, 3], dim=1),
   lambda x: np_split(x, [1, 3], 1), A(2, 4))
op("split_size_dim_negative", lambda lib, x: x.split(3, dim=-1),
   lambda x: np_split(x, 3, -1), A(2, 7))
op("chunk", lambda lib, x: x.chunk(3), lambda x: np_chunk(x, 3), A(6, 2))
op("chunk_uneven_dim1", lambda lib, x: lib.chunk(x, 2, dim=1), lambda x: np_chunk(x, 2, 1),
   A(3, 5))
op("chunk_fewer_than_asked", lambda lib, x: x.chunk(4), lambda x: np_chunk(x, 4), A(6, 2))

# --- indexing: basic, advanced, masks, repeated indices (scatter-add gradient) ----------------
_IDX = [
    ("int", lambda x: x[1]),
    ("negative_int", lambda x: x[-1]),
    ("two_ints_0d", lambda x: x[1, 2]),
    ("slice", lambda x: x[1:3]),
    ("slice_step", lambda x: x[::2, 1::2]),
    ("slice_open_negative", lambda x: x[-2:, :-1]),
    ("int_and_slice", lambda x: x[:, 1]),
    ("none", lambda x: x[None, :, None]),
    ("ellipsis", lambda x: x[..., 1]),
    ("ellipsis_none", lambda x: x[None, ..., 0:2]),
    ("list", lambda x: x[[0, 2]]),
    ("list_repeated", lambda x: x[[0, 2, 0, 0]]),
    ("list_negative", lambda x: x[[-1, 0]]),
    ("two_lists_pairs", lambda x: x[[0, 1, 1], [3, 0, 3]]),
    ("slice_then_list", lambda x: x[:, [3, 0, 3]]),
    ("bool_mask_from_comparison", lambda x: x[x > 0]),
]
for _name, _f in _IDX:
    same("index_" + _name, _f, A(3, 4))
same("index_3d_mixed", lambda x: x[1, :, 1:4:2], A(2, 3, 4))
same("index_int_tensor_repeated", lambda x, i: x[i], A(3, 4), A(7, kind="index", high=3))
same("index_int_tensor_2d", lambda x, i: x[i], A(5, 2), A(2, 3, kind="index", high=5))
same("index_bool_mask_tensor", lambda x, m: x[m], A(3, 4), A(3, 4, kind="mask"))
# NumPy arrays as indices, as PyTorch accepts them.
same("index_numpy_int_array_repeated", lambda x: x[np.array([2, 0, 2])], A(3, 4))
same("index_numpy_bool_array", lambda x: x[:, np.array([True, False, True, True])], A(3, 4))
same("index_bool_mask_rows", lambda x, m: x[m], A(3, 4), A(3, kind="mask"))


def _setitem_row(a, b):
    c = fresh(a)
    c[1] = b
    return c


def _setitem_mask(a):
    c = fresh(a)
    c[c < 0] = 0.0
    return c


same("setitem_row", _setitem_row, A(3, 4), A(4))
same("setitem_mask_scalar", _setitem_mask, A(3, 4, kind="away"))


def _inplace_on_slice(a):
    c = fresh(a)
    c[:, 1] *= 3.0          # in place through a view: __getitem__, __imul__, __setitem__
    return c


same("inplace_on_slice", _inplace_on_slice, A(3, 4))

# --- detach / clone in a graph ---------------------------------------------------------------
op("clone", lambda lib, x: x.clone() * 2.0, lambda x: x * 2.0, A(3, 4))
# b.detach() cuts b out of the graph: b.grad stays None (parity checks it); finite differences
# would of course see b, so this row is not gradchecked.
op("detach_blocks_gradient", lambda lib, a, b: a * b.detach(), lambda a, b: a * b, A(3, 4),
   A(3, 4), gradcheck=False)

OPS_BY_NAME = {o.name: o for o in OPS}
assert len(OPS_BY_NAME) == len(OPS), "duplicate op names in the table"
DIFFERENTIABLE = [o for o in OPS if o.differentiable]
GRADCHECKED = [o for o in DIFFERENTIABLE if o.gradcheck]


# ----------------------------------------------------------------------------------------------
# Harness helpers shared by the three table-driven test files
# ----------------------------------------------------------------------------------------------

def to_lib(lib, arrays, requires_grad: bool):
    """NumPy inputs as ember/torch tensors; only float inputs get ``requires_grad``."""
    return [lib.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def to_numpy(t) -> np.ndarray:
    """A tensor's values as a NumPy array (NumPy scalars from reductions become 0-d arrays)."""
    if isinstance(t, np.ndarray) or np.isscalar(t):
        return np.asarray(t)
    return np.asarray(t.detach().numpy())
