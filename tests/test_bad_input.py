"""Bad input, everywhere (issue 7): a table-driven sweep over ember's public surface.

Tables (each test below runs every row):
  OPS      every public callable of ``ember.ops``: a valid call built from random data, checked
           against its NumPy twin in ``ember.ops.reference``; then the same call with its float
           arrays as negative-stride non-contiguous views (same values: same answer), read-only
           (works, nothing written), int64/bool/complex/object (TypeError naming the argument and
           dtype), two extra leading axes and one axis fewer (a clean error naming the shape, or
           the twin's answer where the rank is legal), NaN/inf (propagated exactly as the twin
           does), plus per-row edge cases: zero-size dimensions, zero/negative strides and kernel
           sizes, mismatched shapes, and sizes whose element or byte count overflows 64 bits
           (must raise, never allocate or crash).
  FUNCS    every public callable of ``ember.nn.functional``, written once for ember and PyTorch:
           valid values vs torch, non-contiguous/negative-stride/read-only inputs, NaN/inf vs torch,
           int64/bool inputs (same answer as torch or a clean error where torch errors), wrong rank
           and zero-size batches (torch's answer or a clean error where torch errors), and a
           NumPy array where a Tensor is expected (TypeError or the right answer, never
           AttributeError).
  MODULES  every layer and loss class in ``ember.nn``: forward vs torch with the same weights,
           wrong-rank input, NaN input, bad constructor arguments (negative, zero, and sizes
           whose byte count overflows).
  OPTIMS   every optimiser in ``ember.optim``: torch's hyper-parameter errors, bad ``params``,
           NaN gradients propagate as in torch.
  DATA     ``DataLoader`` and the datasets in ``ember.utils.data``: torch's argument errors,
           mismatched tensor sizes, out-of-range indices, non-contiguous/read-only sources.
Each table has a completeness test: a new public op/function/layer/optimiser must get a row.

Numerical robustness at extreme logits (+-1e4, +-88, +-inf) for softmax, log_softmax,
cross_entropy, BCE-with-logits, sigmoid and logsumexp, and batch norm with a batch of one, are at
the end. Accepted error types: ValueError, TypeError, RuntimeError (incl. NotImplementedError),
IndexError.
"""
from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.ops as ops
import ember.ops.reference as ref
import ember.optim as optim
import ember.utils.data as udata

ERRORS = (ValueError, TypeError, RuntimeError, IndexError)
BIG = 2 ** 62          # a size whose product with almost anything overflows int64
HUGE = 2 ** 40         # fits int64, but a plane of HUGE x HUGE elements does not fit any memory


def _seed(name: str) -> int:
    return sum(map(ord, name)) * 7919 % 2 ** 31


def _odd_view(a: np.ndarray) -> np.ndarray:
    """Same values as ``a``, as a non-contiguous view with every stride negative."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.copy()
    buf = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
    view = buf[(slice(None, None, -2),) * a.ndim]
    view[...] = a
    assert view.shape == a.shape and (a.size <= 1 or not view.flags.c_contiguous)
    return view


def _misaligned(a: np.ndarray) -> np.ndarray:
    """Same values as ``a``, C-contiguous but one byte off its element alignment."""
    a = np.asarray(a)
    raw = np.zeros(a.size * a.itemsize + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    raw[...] = a
    assert not raw.flags.aligned or a.itemsize == 1
    return raw


def _flat(result) -> list[np.ndarray]:
    if isinstance(result, (tuple, list)):
        return [r for item in result for r in _flat(item)]
    if isinstance(result, ember.Tensor):
        return [result.detach().numpy()]
    return [np.asarray(result)]


def _assert_same(got, want, rtol=1e-10, atol=1e-12):
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        if g.dtype.kind in "iub":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def _names_problem(msg: str, *tokens) -> bool:
    """Whether an error message names at least one of the offending argument/shape/value tokens."""
    for t in tokens:
        if t is None:
            continue
        if isinstance(t, (tuple, list)):
            cands = [str(tuple(t)), str(list(t)), " x ".join(map(str, t)), ", ".join(map(str, t)),
                     f"{len(t)}-D", f"{len(t)}D", f"{len(t)} dim"]
        else:
            cands = [str(t)]
        if any(c in msg for c in cands):
            return True
    return False


# ==============================================================================================
# OPS table
# ==============================================================================================
@dataclass
class OpRow:
    make: Callable          # (rng, dtype) -> (args: list, kwargs: dict), a valid call
    cases: list = field(default_factory=list)   # (label, mutate(args, kwargs) -> (args, kwargs), expect)
    tol: float = 1e-10      # float64 agreement with the twin
    nan_oracle: Callable | None = None   # (args, kwargs) -> expected, where the twin is not exact


def _r(rng, *shape):
    return rng.standard_normal(shape)


def _set(i, value):
    """Mutation: positional argument i (int) or keyword (str) replaced by ``value``."""
    def f(args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        if isinstance(i, int):
            args[i] = value(args[i]) if callable(value) else value
        else:
            kwargs[i] = value(kwargs.get(i)) if callable(value) else value
        return args, kwargs
    return f


def _bcast(shape):
    """A zero-stride view of any (even astronomically large) shape: no memory behind it."""
    return lambda a: np.broadcast_to(np.ones((1,) * len(shape), a.dtype), shape)


REF = "ref"        # expectation: agrees with the NumPy twin (also for empty results)
MEMORY = (ValueError, TypeError, RuntimeError, IndexError, MemoryError)   # a real-but-huge request


def _raises(*tokens, exc=ERRORS):
    return ("raises", exc, tokens)


# ---- rows ------------------------------------------------------------------------------------
OPS: dict[str, OpRow] = {}


def _conv_make(nd, transpose=False):
    def make(rng, dt):
        sp = (7,) if nd == 1 else (6, 5)
        k = (3,) if nd == 1 else (3, 2)
        x = _r(rng, 2, 4, *sp).astype(dt)
        w = (_r(rng, 4, 3, *k) if transpose else _r(rng, 4, 2, *k)).astype(dt)
        b = _r(rng, w.shape[1] if transpose else 4).astype(dt)
        kw = {"stride": 2, "padding": 1, "groups": 1 if transpose else 2}
        return [x, w, b], kw
    return make


def _conv_bwd_make(nd, transpose=False):
    fwd = _conv_make(nd, transpose)
    name = ("conv_transpose2d" if transpose else f"conv{nd}d")

    def make(rng, dt):
        (x, w, _), kw = fwd(rng, dt)
        y = getattr(ref, name)(x, w, None, **kw)
        return [_r(rng, *y.shape).astype(dt), x, w], kw
    return make


def _conv_cases(nd, transpose=False):
    d = nd
    cases = [
        ("input rank+1", _set(0, lambda a: a[None]), _raises("input", "weight")),
        ("weight rank-1", _set(1, lambda a: a[0]), _raises("weight")),
        ("channel mismatch", _set(1, lambda a: np.concatenate([a, a], axis=1)), _raises("weight", "groups")),
        ("bias shape", _set(2, lambda a: np.ones(7, a.dtype)), _raises("bias")),
        ("stride 0", _set("stride", 0), _raises("stride")),
        ("stride -1", _set("stride", -1), _raises("stride")),
        ("padding -1", _set("padding", -1), _raises("padding")),
        ("dilation 0", _set("dilation", 0), _raises("dilation")),
        ("groups 0", _set("groups", 0), _raises("groups")),
        ("empty kernel", _set(1, lambda a: a[..., :0]), _raises("weight", "kernel")),
        ("zero batch", _set(0, lambda a: a[:0]), REF),
        ("zero channels", _set(0, lambda a: a[:, :0]), _raises("input", "weight", "channels")),
        ("padding 2**40 (huge output)", _set("padding", HUGE), _raises("padding", "output", HUGE)),
        ("padding 2**62 (overflows)", _set("padding", BIG), _raises("padding", "output", BIG)),
        ("stride 2**64", _set("stride", 2 ** 64), _raises("stride", 2 ** 64)),
        ("dilation 2**62", _set("dilation", BIG), _raises("dilation", "kernel", "Kernel")),
        ("kernel bigger than input", _set(1, lambda a: np.ones(a.shape[:2] + (40,) * d, a.dtype)),
         _raises("kernel", "Kernel", "input")),
    ]
    if transpose:
        cases = [c for c in cases if c[0] not in ("channel mismatch", "kernel bigger than input",
                                                  "padding 2**40 (huge output)")]
        cases += [("stride 2**40 (huge output)", _set("stride", HUGE), _raises("stride", "output", "size", HUGE)),
                  ("stride 2**62 (overflows)", _set("stride", BIG), _raises("stride", "output", "size", BIG)),
                  ("output_padding 2**61", lambda a, k: (a, dict(k, stride=BIG, output_padding=2 ** 61)),
                   _raises("output", "padding", "size", "stride")),
                  ("output_padding >= stride", _set("output_padding", 2), _raises("output padding", "output_padding")),
                  ("channel mismatch", _set(1, lambda a: np.concatenate([a, a], axis=0)),
                   _raises("weight", "input"))]
    return cases


def _conv_bwd_cases():
    return [
        ("grad_output shape", _set(0, lambda a: a[..., :-1]), _raises("grad_output")),
        ("grad_output rank", _set(0, lambda a: a[0]), _raises("grad_output")),
        ("weight rank", _set(2, lambda a: a[0]), _raises("weight")),
        ("zero batch", lambda a, k: ([a[0][:0], a[1][:0], a[2]], k), REF),
    ]


for _nd, _nm in ((1, "conv1d"), (2, "conv2d")):
    OPS[_nm] = OpRow(_conv_make(_nd), _conv_cases(_nd))
    OPS[_nm + "_backward"] = OpRow(_conv_bwd_make(_nd), _conv_bwd_cases())
OPS["conv_transpose2d"] = OpRow(_conv_make(2, True), _conv_cases(2, True))
OPS["conv_transpose2d_backward"] = OpRow(_conv_bwd_make(2, True), _conv_bwd_cases())


# ---- matmul ---------------------------------------------------------------------------------
OPS["matmul"] = OpRow(
    lambda rng, dt: ([_r(rng, 3, 5, 4).astype(dt), _r(rng, 4, 6).astype(dt)], {}),
    [
        ("inner mismatch", _set(1, lambda a: a[:-1]), _raises((3, 5, 4), (3, 6), "b")),
        ("0-d operand", _set(0, lambda a: a[0, 0, 0]), _raises("a", "0-d", "scalar", "dimension")),
        ("vector @ matrix", _set(0, lambda a: a[0, 0]), REF),
        ("matrix @ vector", _set(1, lambda a: a[:, 0]), REF),
        ("batch broadcast mismatch", _set(1, lambda a: np.ones((2, 4, 6), a.dtype)), _raises("broadcast", (3,), (2,))),
        ("zero rows", _set(0, lambda a: a[:, :0]), REF),
        ("zero inner (sums to 0)", lambda a, k: ([a[0][..., :0], a[1][:0]], k), REF),
        ("zero batch", _set(0, lambda a: a[:0]), REF),
        ("out wrong shape", _set("out", lambda _: np.empty((3, 5, 5))), _raises("out")),
        ("out wrong dtype", _set("out", lambda _: np.empty((3, 5, 6), np.int64)), _raises("out")),
        ("out read-only", _set("out", lambda _: np.broadcast_to(np.zeros(1), (3, 5, 6))), _raises("out")),
        ("rows*cols overflow", lambda a, k: ([np.broadcast_to(np.ones((1, 1), a[0].dtype), (2 ** 32, 1)),
                                             np.broadcast_to(np.ones((1, 1), a[1].dtype), (1, 2 ** 32))], k),
         _raises("big", "large", "size", "memory")),
        ("batch*rows*cols overflow", lambda a, k: ([np.broadcast_to(np.ones((1, 1, 1), a[0].dtype), (2 ** 29, 2 ** 30, 1)),
                                                   np.ones((1, 256), a[1].dtype)], k),
         _raises("big", "large", "size", "memory")),
    ])


# ---- pooling --------------------------------------------------------------------------------
# The NumPy twin of adaptive average pooling is a matrix product, which spreads a NaN/inf over
# whole rows; the kernel (like torch) only mixes values inside each window. torch is the oracle.
def _torch_adaptive_avg(nd, x, out):
    torch = pytest.importorskip("torch")
    f = getattr(torch.nn.functional, f"adaptive_avg_pool{nd}d")
    return f(torch.from_numpy(np.ascontiguousarray(x)), out).numpy()


def _torch_adaptive_avg_backward(nd, g, shape):
    torch = pytest.importorskip("torch")
    f = getattr(torch.nn.functional, f"adaptive_avg_pool{nd}d")
    x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    gt = torch.from_numpy(np.ascontiguousarray(g))
    return torch.autograd.grad(f(x, gt.shape[2:]), x, gt)[0].numpy()


def _x(rng, dt, nd, shape=None):
    return _r(rng, *(shape or ((2, 3, 9) if nd == 1 else (2, 3, 8, 7)))).astype(dt)


def _pool_cases(nd, fn, has_dilation=False, has_divisor=False):
    c = [
        ("input rank+1", _set(0, lambda a: a[None]), _raises("input", "x")),
        ("unbatched", _set(0, lambda a: a[0]), REF),
        ("zero batch", _set(0, lambda a: a[:0]), REF),
        ("zero channels", _set(0, lambda a: a[:, :0]), _raises("input", "empty")),
        ("zero width", _set(0, lambda a: a[..., :0]), _raises("input", "empty")),
        ("kernel 0", _set(1, 0), _raises("kernel_size")),
        ("kernel -2", _set(1, -2), _raises("kernel_size")),
        ("kernel 2**62", _set(1, BIG), _raises("kernel_size", BIG)),
        ("kernel wrong length", _set(1, (2,) * (nd + 1)), _raises("kernel_size")),
        ("kernel float", _set(1, 2.5), _raises("kernel_size", exc=(TypeError,))),
        ("stride 0", _set("stride", 0), _raises("stride")),
        ("stride -1", _set("stride", -1), _raises("stride")),
        ("stride 2**63", _set("stride", 2 ** 63), _raises("stride", 2 ** 63)),
        ("padding -1", _set("padding", -1), _raises("padding")),
        ("padding > half kernel", _set("padding", 5), _raises("padding", "pad")),
        ("kernel larger than input", _set(1, 30), _raises("kernel_size", "output size", "input")),
        ("ceil_mode", _set("ceil_mode", True), REF),
    ]
    if has_dilation:
        c += [("dilation 0", _set("dilation", 0), _raises("dilation")),
              ("dilation 2**62", _set("dilation", BIG), _raises("dilation", "output size"))]
    if has_divisor:
        c += [("divisor 0", _set("divisor_override", 0), _raises("divisor_override")),
              ("divisor 3", _set("divisor_override", 3), REF)]
    return c


def _adaptive_cases():
    return [
        ("input rank+1", _set(0, lambda a: a[None]), _raises("input", "x")),
        ("unbatched", _set(0, lambda a: a[0]), REF),
        ("zero batch", _set(0, lambda a: a[:0]), REF),
        ("zero width", _set(0, lambda a: a[..., :0]), _raises("input", "empty")),
        ("output_size -1", _set(1, -1), _raises("output_size")),
        ("output_size 2**40", _set(1, HUGE), _raises("output_size", HUGE)),
        ("output_size 2**64", _set(1, 2 ** 64), _raises("output_size", 2 ** 64)),
        ("output larger than input", _set(1, 20), REF),
    ]


for _nd in (1, 2):
    s = f"{_nd}d"
    OPS[f"max_pool{s}"] = OpRow(
        (lambda nd: lambda rng, dt: ([_x(rng, dt, nd), 3], {"stride": 2, "padding": 1}))(_nd),
        _pool_cases(_nd, "max", has_dilation=True))
    OPS[f"avg_pool{s}"] = OpRow(
        (lambda nd: lambda rng, dt: ([_x(rng, dt, nd), 3], {"stride": 2, "padding": 1}))(_nd),
        _pool_cases(_nd, "avg", has_divisor=_nd == 2))
    OPS[f"adaptive_avg_pool{s}"] = OpRow(
        (lambda nd: lambda rng, dt: ([_x(rng, dt, nd), 4], {}))(_nd), _adaptive_cases(),
        nan_oracle=(lambda nd: lambda a, k: _torch_adaptive_avg(nd, a[0], a[1]))(_nd))
    OPS[f"adaptive_max_pool{s}"] = OpRow(
        (lambda nd: lambda rng, dt: ([_x(rng, dt, nd), 4], {}))(_nd),
        [c if c[0] != "zero batch" else
         ("zero batch", _set(0, lambda a: a[:0]), ("value", lambda a, k: (np.zeros(a[0].shape[:2] + (4,) * (a[0].ndim - 2)),
                                                                           np.zeros(a[0].shape[:2] + (4,) * (a[0].ndim - 2), np.int64))))
         for c in _adaptive_cases()])

    def _maxbwd(nd, adaptive):
        def make(rng, dt):
            x = _x(rng, dt, nd)
            if adaptive:
                y, idx = getattr(ref, f"adaptive_max_pool{nd}d")(x, 4)
            else:
                y, idx = getattr(ref, f"max_pool{nd}d")(x, 3, 2, 1)
            return [_r(rng, *y.shape).astype(dt), idx, x.shape], {}
        return make

    _idx_cases = [
        ("index out of plane", _set(1, lambda i: i + 10 ** 6), _raises("index", exc=(IndexError,))),
        ("negative index", _set(1, lambda i: i - 10 ** 6), _raises("index", exc=(IndexError,))),
        ("index shape", _set(1, lambda i: i[..., :-1]), _raises("indices", "grad_output", "shape")),
        ("float indices", _set(1, lambda i: i.astype(np.float64)), _raises("indices", "float64", exc=(TypeError,))),
        ("input_shape huge", _set(2, lambda s: s[:2] + (HUGE,) * (len(s) - 2)),
         _raises("input_size", "input_shape", HUGE)),
        ("input_shape negative", _set(2, lambda s: s[:-1] + (-8,)), _raises("input_shape", "input_size", -8)),
        ("grad_output rank", _set(0, lambda a: a[None]), _raises("grad_output", "indices")),
    ]
    OPS[f"max_pool{s}_backward"] = OpRow(_maxbwd(_nd, False), _idx_cases)
    OPS[f"adaptive_max_pool{s}_backward"] = OpRow(_maxbwd(_nd, True), _idx_cases)

    def _avgbwd(nd):
        def make(rng, dt):
            x = _x(rng, dt, nd)
            y = getattr(ref, f"avg_pool{nd}d")(x, 3, 2, 1)
            return [_r(rng, *y.shape).astype(dt), x.shape, 3], {"stride": 2, "padding": 1}
        return make
    OPS[f"avg_pool{s}_backward"] = OpRow(_avgbwd(_nd), [
        ("grad_output shape", _set(0, lambda a: a[..., :-1]), _raises("grad_output")),
        ("input_shape huge", _set(1, lambda s: s[:2] + (HUGE,) * (len(s) - 2)), _raises("input_shape", "grad_output", HUGE)),
        ("input_shape overflow", _set(1, lambda s: (BIG, BIG) + s[2:]), _raises("input_shape", "grad_output", BIG)),
        ("input_shape negative", _set(1, lambda s: s[:-1] + (-7,)), _raises("input_shape", -7)),
        ("kernel 0", _set(2, 0), _raises("kernel_size")),
        ("stride 0", _set("stride", 0), _raises("stride")),
    ])

    def _adavgbwd(nd):
        def make(rng, dt):
            x = _x(rng, dt, nd)
            return [_r(rng, *x.shape[:2], *(4,) * nd).astype(dt), x.shape], {}
        return make
    OPS[f"adaptive_avg_pool{s}_backward"] = OpRow(_adavgbwd(_nd), nan_oracle=(
        lambda nd: lambda a, k: _torch_adaptive_avg_backward(nd, a[0], a[1]))(_nd), cases=[
        ("grad_output rank", _set(0, lambda a: a[None]), _raises("grad_output")),
        ("input_shape huge", _set(1, lambda s: s[:2] + (HUGE,) * (len(s) - 2)), _raises("input_size", "input_shape", HUGE)),
        ("input_shape overflow", _set(1, lambda s: (BIG, BIG) + s[2:]), _raises("input_shape", "grad_output", BIG)),
        ("input_shape zero", _set(1, lambda s: s[:-1] + (0,)), _raises("input_size", "input_shape", "empty")),
    ])

    def _unpool(nd):
        def make(rng, dt):
            x = _x(rng, dt, nd)
            y, idx = getattr(ref, f"max_pool{nd}d")(x, 2)
            return [y, idx, 2], {"output_size": x.shape[2:]}
        return make
    OPS[f"max_unpool{s}"] = OpRow(_unpool(_nd), [
        ("index out of range", _set(1, lambda i: i + 10 ** 6), _raises("index", exc=(IndexError,))),
        ("negative index", _set(1, lambda i: i - 10 ** 6), _raises("index", exc=(IndexError,))),
        ("index shape", _set(1, lambda i: i[..., :-1]), _raises("indices", "shape")),
        ("float indices", _set(1, lambda i: i.astype(np.float32)), _raises("indices", "float32", exc=(TypeError,))),
        ("output_size huge", _set("output_size", (HUGE,) * _nd), _raises("output_size", HUGE)),
        ("output_size overflow", _set("output_size", (BIG,) * _nd), _raises("output_size", BIG)),
        ("kernel 2**40", _set(2, HUGE), _raises("output_size", "kernel_size")),
        ("kernel 0", _set(2, 0), _raises("kernel_size")),
        ("stride 0", _set("stride", 0), _raises("stride")),
        ("zero batch", lambda a, k: ([a[0][:0], a[1][:0], a[2]], k), REF),
        # 8x7 input pooled by 2 unpools to 8x6 by default: indices in the last column fall outside
        ("default output size", lambda a, k: (a, {}),
         _raises("index", "outside", exc=(IndexError,)) if _nd == 2 else REF),
    ])

    def _unpoolbwd(nd):
        def make(rng, dt):
            x = _x(rng, dt, nd)
            y, idx = getattr(ref, f"max_pool{nd}d")(x, 2)
            return [_r(rng, *x.shape).astype(dt), idx], {}
        return make
    OPS[f"max_unpool{s}_backward"] = OpRow(_unpoolbwd(_nd), [
        ("index out of range", _set(1, lambda i: i + 10 ** 6), _raises("index", exc=(IndexError,))),
        ("float indices", _set(1, lambda i: i.astype(np.float64)), _raises("indices", "float64", exc=(TypeError,))),
        ("grad_output rank", _set(0, lambda a: a[None]), _raises("grad_output", "indices")),
    ])


# ---- softmax family -------------------------------------------------------------------------
def _sm_cases():
    return [
        ("dim 3 of 3-D", _set("dim", 3), _raises("dim", "Dimension", exc=(IndexError,))),
        ("dim -4", _set("dim", -4), _raises("dim", "Dimension", exc=(IndexError,))),
        ("dim 2**63", _set("dim", 2 ** 63), _raises("dim", "Dimension", 2 ** 63, exc=(IndexError, TypeError))),
        ("dim 0", _set("dim", 0), REF),
        ("zero-size", _set(0, lambda a: a[:0]), REF),
        ("zero-size softmax dim", _set(0, lambda a: a[..., :0]), REF),
        ("0-d", _set(0, lambda a: a[0, 0, 0]), ("value", lambda a, k: _SM0D[_current_op[0]](a[0]))),
    ]


_SM0D = {"softmax": lambda x: np.ones_like(x), "softmin": lambda x: np.ones_like(x),
         "log_softmax": lambda x: np.zeros_like(x)}
_current_op = [None]


for _nm in ("softmax", "log_softmax", "softmin"):
    OPS[_nm] = OpRow(lambda rng, dt: ([_r(rng, 2, 3, 5).astype(dt)], {"dim": -1}), _sm_cases())

    def _smbwd(nm):
        def make(rng, dt):
            y = getattr(ref, nm)(_r(rng, 2, 3, 5).astype(dt), dim=1)
            return [y, _r(rng, 2, 3, 5).astype(dt)], {"dim": 1}
        return make
    OPS[_nm + "_backward"] = OpRow(_smbwd(_nm), [
        ("grad shape", _set(1, lambda a: a[..., :-1]), _raises("grad", (2, 3, 4), (2, 3, 5))),
        ("dim out of range", _set("dim", 5), _raises("dim", "Dimension", exc=(IndexError,))),
        ("zero-size", lambda a, k: ([a[0][:0], a[1][:0]], k), REF),
    ])


def _ce_make(kind):
    def make(rng, dt):
        x = _r(rng, 6, 5).astype(dt)
        t = rng.integers(0, 5, 6)
        if kind == "ce":
            return [x, t], {"weight": rng.uniform(0.5, 2, 5).astype(dt), "label_smoothing": 0.1}
        return [ref.log_softmax(x, 1), t], {"weight": rng.uniform(0.5, 2, 5).astype(dt)}
    return make


def _ce_cases():
    return [
        ("target out of range", _set(1, lambda t: np.where(t == t[0], 5, t)), _raises("Target", "5", exc=(IndexError,))),
        ("target negative", _set(1, lambda t: np.where(t == t[0], -3, t)), _raises("Target", "-3", exc=(IndexError,))),
        ("target 2**62", _set(1, lambda t: np.where(t == t[0], BIG, t)), _raises("Target", BIG, exc=(IndexError,))),
        ("target batch mismatch", _set(1, lambda t: t[:-1]), _raises("target", "batch", (6,), (5,), 6, 5)),
        ("target float wrong shape", _set(1, lambda t: np.ones((6, 4))), _raises("target", "input", (6, 5), (6, 4), "shape")),
        ("target complex", _set(1, lambda t: t.astype(np.complex128)), _raises("target", "complex", exc=(TypeError, RuntimeError))),
        ("weight wrong size", _set("weight", lambda w: w[:-1]), _raises("weight", 4, 5)),
        ("reduction bogus", _set("reduction", "avg"), _raises("reduction", "avg")),
        ("ignore_index used", _set("ignore_index", 2), REF),
        ("reduction none", _set("reduction", "none"), REF),
        ("zero batch (mean is nan)", lambda a, k: ([a[0][:0], a[1][:0]], k), REF),
        ("1-D input, 0-d target", lambda a, k: ([a[0][0], a[1][0]], k), REF),
        ("input rank 0", _set(0, lambda a: a[0, 0]), _raises("input", "dim", "0")),
    ]


OPS["cross_entropy"] = OpRow(_ce_make("ce"), _ce_cases())
OPS["nll_loss"] = OpRow(_ce_make("nll"), _ce_cases())


def _ce_bwd(kind):
    def make(rng, dt):
        (x, t), kw = _ce_make(kind)(rng, dt)
        return [x, t], dict(kw, grad=0.7)
    return make


def _ce_bwd_cases():
    cases = [c for c in _ce_cases() if c[0] not in ("input rank 0", "reduction none")]
    return cases + [
        ("reduction none", lambda a, k: (a, dict(k, reduction="none", grad=np.linspace(-1, 1, 6))), REF),
        ("reduction none, scalar grad", _set("reduction", "none"), _raises("grad", 6)),
        ("grad wrong size", lambda a, k: (a, dict(k, reduction="none", grad=np.ones(5))), _raises("grad", 5, 6)),
    ]


OPS["cross_entropy_backward"] = OpRow(_ce_bwd("ce"), _ce_bwd_cases())
OPS["nll_loss_backward"] = OpRow(_ce_bwd("nll"), _ce_bwd_cases())


# ---- recurrent ------------------------------------------------------------------------------
_G = {"lstm": 4, "gru": 3, "rnn": 1}


def _cell_make(kind):
    def make(rng, dt):
        B, I, H = 3, 5, 4
        a = [_r(rng, B, I), _r(rng, B, H)] + ([_r(rng, B, H)] if kind == "lstm" else [])
        a += [_r(rng, _G[kind] * H, I) * .4, _r(rng, _G[kind] * H, H) * .4, _r(rng, _G[kind] * H), _r(rng, _G[kind] * H)]
        return [v.astype(dt) for v in a], {}
    return make


def _seq_make(kind):
    def make(rng, dt):
        T, B, I, H = 4, 3, 5, 4
        a = [_r(rng, T, B, I), _r(rng, B, H)] + ([_r(rng, B, H)] if kind == "lstm" else [])
        a += [_r(rng, _G[kind] * H, I) * .4, _r(rng, _G[kind] * H, H) * .4, _r(rng, _G[kind] * H), _r(rng, _G[kind] * H)]
        return [v.astype(dt) for v in a], {}
    return make


def _huge_batch(seq, w):
    """Inputs and states as zero-stride views with a batch of 2**40: outputs cannot exist."""
    def f(args, kwargs):
        out = []
        for i, v in enumerate(args):
            if i < w:
                shape = list(v.shape)
                shape[1 if (seq and i == 0) else 0] = HUGE
                v = np.broadcast_to(v.flat[:1].reshape((1,) * v.ndim), shape)
            out.append(v)
        return out, kwargs
    return f


def _rnn_cases(kind, seq):
    h = 1
    w = 3 if kind == "lstm" else 2
    return [
        ("input rank+1", _set(0, lambda a: a[None]), _raises("input")),
        ("hidden size mismatch", _set(h, lambda a: a[:, :-1]), _raises("h", "hx", "h0", "hidden")),
        ("batch mismatch", _set(h, lambda a: a[:-1]), _raises("h", "hx", "h0", "batch")),
        ("w_ih rows not gates*H", _set(w, lambda a: a[:-1]), _raises("w_ih")),
        ("w_ih cols != input size", _set(w, lambda a: a[:, :-1]), _raises("w_ih", "input")),
        ("w_hh wrong", _set(w + 1, lambda a: a[:, :-1]), _raises("w_hh")),
        ("bias wrong", _set(w + 2, lambda a: a[:-1]), _raises("b_ih", "bias")),
        ("zero batch", lambda a, k: ([v[:, :0] if (seq and i == 0) else (v[:0] if i < w else v)
                                      for i, v in enumerate(a)], k), REF),
        ("zero input features", lambda a, k: ([v[..., :0] if i in (0, w) else v for i, v in enumerate(a)], k), REF),
        # 2**40 x H outputs: 32 TiB, a request (not an overflow) that must fail cleanly
        ("huge broadcast batch", _huge_batch(seq, w), _raises("big", "large", "memory", "size", "allocate", exc=MEMORY)),
    ] + ([("zero-length sequence", _set(0, lambda a: a[:0]), _raises("input", "seq", "length", "empty", 0))] if seq else []) \
      + ([("nonlinearity bogus", _set("nonlinearity", "sigmoid"), _raises("nonlinearity", "sigmoid"))] if kind == "rnn" else [])


for _k in ("lstm", "gru", "rnn"):
    OPS[f"{_k}_cell_forward"] = OpRow(_cell_make(_k), _rnn_cases(_k, False), tol=1e-9)
    OPS[f"{_k}_sequence_forward"] = OpRow(_seq_make(_k), _rnn_cases(_k, True), tol=1e-9)


def _cell_bwd(kind):
    def make(rng, dt):
        a, _ = _cell_make(kind)(rng, dt)
        out = getattr(ref, f"{kind}_cell_forward")(*a)
        B, H = a[1].shape
        if kind == "lstm":
            h, c, gates = out
            return [_r(rng, B, H).astype(dt), _r(rng, B, H).astype(dt), a[0], a[1], a[2], a[3], a[4], c, gates], {}
        if kind == "gru":
            h, ws = out
            return [_r(rng, B, H).astype(dt), a[0], a[1], a[2], a[3], ws], {}
        return [_r(rng, B, H).astype(dt), a[0], a[1], a[2], a[3], out], {}
    return make


def _seq_bwd(kind):
    def make(rng, dt):
        a, _ = _seq_make(kind)(rng, dt)
        out = getattr(ref, f"{kind}_sequence_forward")(*a)
        T, B, _I = a[0].shape
        H = a[1].shape[1]
        go, gh = _r(rng, T, B, H).astype(dt), _r(rng, B, H).astype(dt)
        if kind == "lstm":
            y, cs, gates = out[0], out[-2], out[-1]
            return [go, gh, _r(rng, B, H).astype(dt), a[0], a[1], a[2], a[3], a[4], y, cs, gates], {}
        if kind == "gru":
            return [go, gh, a[0], a[1], a[2], a[3], out[0], out[-1]], {}
        return [go, gh, a[0], a[1], a[2], a[3], out[0] if isinstance(out, tuple) else out], {}
    return make


def _rnn_bwd_cases():
    return [
        ("grad rank+1", _set(0, lambda a: a[None]), _raises("grad")),
        ("grad shape", _set(0, lambda a: a[..., :-1]), _raises("grad", "shape")),
    ]


for _k in ("lstm", "gru", "rnn"):
    OPS[f"{_k}_cell_backward"] = OpRow(_cell_bwd(_k), _rnn_bwd_cases(), tol=1e-9)
    OPS[f"{_k}_sequence_backward"] = OpRow(_seq_bwd(_k), _rnn_bwd_cases(), tol=1e-9)


# ---- generic OPS tests ----------------------------------------------------------------------
def _public_ops():
    return sorted(n for n in dir(ops) if not n.startswith("_") and callable(getattr(ops, n))
                  and not inspect.ismodule(getattr(ops, n)))


def test_ops_table_covers_every_public_op():
    missing = set(_public_ops()) - set(OPS)
    extra = set(OPS) - set(_public_ops())
    assert not missing, f"ember.ops functions without a bad-input row: {sorted(missing)}"
    assert not extra, f"rows for functions that are not public in ember.ops: {sorted(extra)}"


def _call_op(name, args, kwargs):
    return getattr(ops, name)(*args, **kwargs)


def _call_ref(name, args, kwargs):
    return getattr(ref, name)(*args, **kwargs)


def _made(name, dt=np.float64):
    rng = np.random.default_rng(_seed(name))
    return OPS[name].make(rng, np.dtype(dt))


def _arrays(args, kwargs):
    """(key, array) for every ndarray argument."""
    out = [(i, a) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    return out + [(k, v) for k, v in kwargs.items() if isinstance(v, np.ndarray)]


def _replace(args, kwargs, key, value):
    args, kwargs = list(args), dict(kwargs)
    if isinstance(key, int):
        args[key] = value
    else:
        kwargs[key] = value
    return args, kwargs


def _param_name(name, key):
    if isinstance(key, str):
        return key
    return list(inspect.signature(getattr(ops, name)).parameters)[key]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_valid_call_matches_twin(name, dtype):
    args, kwargs = _made(name, dtype)
    got = _call_op(name, args, kwargs)
    want = _call_ref(name, args, kwargs)
    tol = OPS[name].tol if dtype == np.float64 else 2e-4
    _assert_same(got, want, rtol=tol, atol=tol)
    for g in _flat(got):
        if g.dtype.kind == "f":
            assert g.dtype == np.dtype(dtype), f"{name}: result dtype {g.dtype} for {np.dtype(dtype)} input"


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_negative_stride_views_and_read_only(name):
    """Non-contiguous negative-stride inputs give the contiguous answer; read-only inputs work
    and no input is ever written."""
    args, kwargs = _made(name)
    want = _call_op(name, args, kwargs)
    viewed = (list(args), dict(kwargs))
    for key, a in _arrays(args, kwargs):
        v = _odd_view(a)
        v.flags.writeable = False
        viewed = _replace(*viewed, key, v)
    snapshot = [a.copy() for _, a in _arrays(*viewed)]
    got = _call_op(name, *viewed)
    _assert_same(got, want, rtol=1e-12, atol=1e-13)
    for (_, a), s in zip(_arrays(*viewed), snapshot):
        np.testing.assert_array_equal(a, s)
    ro = (list(args), dict(kwargs))
    for key, a in _arrays(args, kwargs):
        c = a.copy()
        c.flags.writeable = False
        ro = _replace(*ro, key, c)
    _assert_same(_call_op(name, *ro), want, rtol=0, atol=0)
    # misaligned data (a view into a byte buffer): copied or read safely, never misread
    mis = (list(args), dict(kwargs))
    for key, a in _arrays(args, kwargs):
        mis = _replace(*mis, key, _misaligned(a))
    _assert_same(_call_op(name, *mis), want, rtol=1e-12, atol=1e-13)


_TORCH_TYPE = {"int64": "Long", "bool": "Bool", "complex128": "ComplexDouble", "object": "object"}


@pytest.mark.parametrize("bad", ["int64", "bool", "complex128", "object"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_non_float_arrays_raise_type_error(name, bad):
    args, kwargs = _made(name)
    floats = [(k, a) for k, a in _arrays(args, kwargs) if a.dtype.kind == "f"]
    assert floats
    for key, a in floats:
        call = _replace(args, kwargs, key, a.astype(bad))
        with pytest.raises((TypeError, RuntimeError)) as e:
            _call_op(name, *call)
        msg = str(e.value)
        # ember.ops names numpy's dtype; the softmax-family losses use torch's scalar type names
        assert bad in msg or _TORCH_TYPE[bad] in msg, (_param_name(name, key), msg)


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_wrong_rank_is_a_clean_error_or_the_twins_answer(name):
    args, kwargs = _made(name)
    for key, a in _arrays(args, kwargs):
        if a.dtype.kind != "f":
            continue
        for bad in (a[None, None], a[0] if a.ndim else a):
            call = _replace(args, kwargs, key, bad)
            try:
                got = _call_op(name, *call)
            except ERRORS as e:
                assert _names_problem(str(e), bad.shape, _param_name(name, key), "shape", "dim"), str(e)
                continue
            _assert_same(got, _call_ref(name, *call), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_nan_and_inf_propagate_like_the_twin(name):
    args, kwargs = _made(name)
    floats = [(k, a) for k, a in _arrays(args, kwargs) if a.dtype.kind == "f" and a.size >= 3]
    key, a = floats[0]
    a = a.copy()
    a.flat[0], a.flat[a.size // 2], a.flat[-1] = np.nan, np.inf, -np.inf
    call = _replace(args, kwargs, key, a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        oracle = OPS[name].nan_oracle
        want = oracle(*call) if oracle else _call_ref(name, *call)
    got = _call_op(name, *call)
    for g, w in zip(_flat(got), _flat(want)):
        if g.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{name}: NaN positions")
            np.testing.assert_array_equal(np.isposinf(g), np.isposinf(w))
            np.testing.assert_array_equal(np.isneginf(g), np.isneginf(w))
            fin = np.isfinite(g)
            np.testing.assert_allclose(g[fin], w[fin], rtol=1e-9, atol=1e-10)


def _op_case_ids():
    return [(n, i) for n in sorted(OPS) for i in range(len(OPS[n].cases))]


@pytest.mark.parametrize("name,i", _op_case_ids(),
                         ids=[f"{n}-{OPS[n].cases[i][0]}" for n, i in _op_case_ids()])
def test_ops_edge_cases(name, i):
    label, mutate, expect = OPS[name].cases[i]
    _current_op[0] = name
    args, kwargs = mutate(*_made(name))
    if isinstance(expect, tuple) and expect[0] == "value":
        _assert_same(_call_op(name, args, kwargs), expect[1](args, kwargs), rtol=1e-12, atol=0)
        return
    if expect == REF:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = _call_ref(name, args, kwargs)
            got = _call_op(name, args, kwargs)
        _assert_same(got, want, rtol=1e-9, atol=1e-10)
        return
    _, exc, tokens = expect
    with pytest.raises(exc) as e:
        _call_op(name, args, kwargs)
    assert _names_problem(str(e.value), *tokens), f"{label}: message {str(e.value)!r} names none of {tokens}"
    assert "incompatible function arguments" not in str(e.value), f"{label}: raw pybind11 error"


# ==============================================================================================
# FUNCS table: ember.nn.functional, each row written once for ember and torch
# ==============================================================================================
def _torch():
    return pytest.importorskip("torch")


class _TorchLib:
    """torch.nn.functional, falling back to the torch namespace (torch.lstm_cell, ...)."""

    def __getattr__(self, name):
        torch = _torch()
        return getattr(torch.nn.functional, name, None) or getattr(torch, name)


@dataclass
class FRow:
    fn: Callable            # fn(lib, *tensors): lib is ember.nn.functional or torch's
    args: list              # (shape, kind) per tensor input; kind: n normal, p positive,
    #                         u in (0.05, 0.95), s +-1, iK int64 in [0, K)
    oracle: Callable | None = None   # numpy oracle when torch has no such function
    random: bool = False    # output depends on the generator: only shapes are compared to torch
    writes: tuple = ()      # inputs written on purpose (in-place ops, running statistics)
    batch_axis: int = 0     # the axis of input 0 that may be empty


def _make(shape, kind, rng):
    if kind.startswith("i"):
        return rng.integers(0, int(kind[1:]), shape)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "u":
        return rng.uniform(0.05, 0.95, shape)
    if kind == "s":
        return rng.choice([-1.0, 1.0], shape)
    return rng.standard_normal(shape)


def A(*shape, kind="n"):
    return (shape, kind)


X4 = A(2, 3, 7, 6)
X3 = A(2, 3, 7)
X2 = A(4, 5)

FUNCS: dict[str, FRow] = {
    "adaptive_avg_pool1d": FRow(lambda L, x: L.adaptive_avg_pool1d(x, 3), [X3]),
    "adaptive_avg_pool2d": FRow(lambda L, x: L.adaptive_avg_pool2d(x, (3, 4)), [X4]),
    "adaptive_max_pool1d": FRow(lambda L, x: L.adaptive_max_pool1d(x, 3), [X3]),
    "adaptive_max_pool1d_with_indices": FRow(lambda L, x: L.adaptive_max_pool1d_with_indices(x, 3), [X3]),
    "adaptive_max_pool2d": FRow(lambda L, x: L.adaptive_max_pool2d(x, 3), [X4]),
    "adaptive_max_pool2d_with_indices": FRow(lambda L, x: L.adaptive_max_pool2d_with_indices(x, 3), [X4]),
    "avg_pool1d": FRow(lambda L, x: L.avg_pool1d(x, 3, 2, 1), [X3]),
    "avg_pool2d": FRow(lambda L, x: L.avg_pool2d(x, 3, 2, 1, ceil_mode=True), [X4]),
    "max_pool1d": FRow(lambda L, x: L.max_pool1d(x, 3, 2, 1), [X3]),
    "max_pool1d_with_indices": FRow(lambda L, x: L.max_pool1d_with_indices(x, 3, 2, 1), [X3]),
    "max_pool2d": FRow(lambda L, x: L.max_pool2d(x, 3, 2, 1, dilation=1), [X4]),
    "max_pool2d_with_indices": FRow(lambda L, x: L.max_pool2d_with_indices(x, 2), [X4]),
    "max_unpool1d": FRow(lambda L, x: L.max_unpool1d(*L.max_pool1d(x, 2, return_indices=True), 2), [X3]),
    "max_unpool2d": FRow(lambda L, x: L.max_unpool2d(*L.max_pool2d(x, 2, return_indices=True), 2,
                                                     output_size=x.shape[-2:]), [X4]),
    "conv1d": FRow(lambda L, x, w, b: L.conv1d(x, w, b, stride=2, padding=1), [X3, A(4, 3, 3), A(4)]),
    "conv2d": FRow(lambda L, x, w, b: L.conv2d(x, w, b, padding=(1, 0), dilation=(1, 2)),
                   [X4, A(4, 3, 3, 2), A(4)]),
    "conv_transpose2d": FRow(lambda L, x, w, b: L.conv_transpose2d(x, w, b, stride=2, output_padding=1),
                             [X4, A(3, 2, 3, 3), A(2)]),
    "softmax": FRow(lambda L, x: L.softmax(x, dim=1), [X3]),
    "log_softmax": FRow(lambda L, x: L.log_softmax(x, dim=-1), [X3]),
    "softmin": FRow(lambda L, x: L.softmin(x, dim=0), [X3]),
    "cross_entropy": FRow(lambda L, x, t, w: L.cross_entropy(x, t, w, label_smoothing=0.1),
                          [A(6, 5), A(6, kind="i5"), A(5, kind="p")]),
    "nll_loss": FRow(lambda L, x, t: L.nll_loss(x, t, reduction="sum"), [A(6, 5), A(6, kind="i5")]),
    "binary_cross_entropy": FRow(lambda L, x, t: L.binary_cross_entropy(x, t), [A(4, 5, kind="u"), A(4, 5, kind="u")]),
    "binary_cross_entropy_with_logits": FRow(
        lambda L, x, t, pw: L.binary_cross_entropy_with_logits(x, t, pos_weight=pw),
        [X2, A(4, 5, kind="u"), A(5, kind="p")]),
    "cosine_embedding_loss": FRow(lambda L, a, b, t: L.cosine_embedding_loss(a, b, t, margin=0.1),
                                  [X2, X2, A(4, kind="s")]),
    "gaussian_nll_loss": FRow(lambda L, x, t, v: L.gaussian_nll_loss(x, t, v), [X2, X2, A(4, 5, kind="p")]),
    "hinge_embedding_loss": FRow(lambda L, x, t: L.hinge_embedding_loss(x, t), [X2, A(4, 5, kind="s")]),
    "huber_loss": FRow(lambda L, x, t: L.huber_loss(x, t, delta=0.5), [X2, X2]),
    "kl_div": FRow(lambda L, x, t: L.kl_div(x, t, reduction="batchmean"), [X2, A(4, 5, kind="u")]),
    "l1_loss": FRow(lambda L, x, t: L.l1_loss(x, t), [X2, X2]),
    "margin_ranking_loss": FRow(lambda L, a, b, t: L.margin_ranking_loss(a, b, t), [A(6), A(6), A(6, kind="s")]),
    "mse_loss": FRow(lambda L, x, t: L.mse_loss(x, t, reduction="sum"), [X2, X2]),
    "poisson_nll_loss": FRow(lambda L, x, t: L.poisson_nll_loss(x, t), [X2, A(4, 5, kind="p")]),
    "smooth_l1_loss": FRow(lambda L, x, t: L.smooth_l1_loss(x, t, beta=0.5), [X2, X2]),
    "soft_margin_loss": FRow(lambda L, x, t: L.soft_margin_loss(x, t), [X2, A(4, 5, kind="s")]),
    "alpha_dropout": FRow(lambda L, x: L.alpha_dropout(x, 0.3, training=True), [X3], random=True),
    "feature_alpha_dropout": FRow(lambda L, x: L.feature_alpha_dropout(x, 0.3, training=True), [X4], random=True),
    "dropout": FRow(lambda L, x: L.dropout(x, 0.3), [X3], random=True),
    "dropout1d": FRow(lambda L, x: L.dropout1d(x, 0.3), [X3], random=True),
    "dropout2d": FRow(lambda L, x: L.dropout2d(x, 0.3), [X4], random=True),
    "dropout3d": FRow(lambda L, x: L.dropout3d(x, 0.3), [A(2, 3, 4, 3, 2)], random=True),
    "batch_norm": FRow(lambda L, x, m, v, w, b: L.batch_norm(x, m, v, w, b, training=True, momentum=0.2),
                       [X4, A(3), A(3, kind="p"), A(3), A(3)], writes=(1, 2)),
    "group_norm": FRow(lambda L, x, w, b: L.group_norm(x, 3, w, b), [A(2, 6, 5), A(6), A(6)]),
    "layer_norm": FRow(lambda L, x, w, b: L.layer_norm(x, (7,), w, b), [X3, A(7), A(7)]),
    "rms_norm": FRow(lambda L, x, w: L.rms_norm(x, (7,), w, eps=1e-6), [X3, A(7)]),
    "normalize": FRow(lambda L, x: L.normalize(x, p=3.0, dim=1), [X3]),
    "embedding": FRow(lambda L, i, w: L.embedding(i, w, padding_idx=2), [A(3, 4, kind="i9"), A(9, 5)]),
    "one_hot": FRow(lambda L, i: L.one_hot(i, 6), [A(3, 4, kind="i6")]),
    "linear": FRow(lambda L, x, w, b: L.linear(x, w, b), [X3, A(4, 7), A(4)]),
    "bilinear": FRow(lambda L, a, b, w, c: L.bilinear(a, b, w, c), [A(4, 3), A(4, 5), A(2, 3, 5), A(2)]),
    "pad": FRow(lambda L, x: L.pad(x, (1, 2, 0, 1), mode="reflect"), [X4]),
    "interpolate": FRow(lambda L, x: L.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), [X4]),
    "upsample": FRow(lambda L, x: L.upsample(x, size=(9, 8), mode="nearest"), [X4]),
    "upsample_bilinear": FRow(lambda L, x: L.upsample_bilinear(x, scale_factor=2), [X4]),
    "upsample_nearest": FRow(lambda L, x: L.upsample_nearest(x, scale_factor=2), [X4]),
    "glu": FRow(lambda L, x: L.glu(x, dim=-1), [A(3, 8)]),
    "prelu": FRow(lambda L, x, w: L.prelu(x, w), [X3, A(3)]),
    "gelu": FRow(lambda L, x: L.gelu(x, approximate="tanh"), [X3]),
    "hardtanh": FRow(lambda L, x: L.hardtanh(x, -0.5, 0.7), [X3]),
    "leaky_relu": FRow(lambda L, x: L.leaky_relu(x, 0.2), [X3]),
    "threshold": FRow(lambda L, x: L.threshold(x, 0.1, -2.0), [X3]),
    "softplus": FRow(lambda L, x: L.softplus(x, beta=2.0, threshold=5.0), [X3]),
    "elu": FRow(lambda L, x: L.elu(x, 0.7), [X3]),
    "celu": FRow(lambda L, x: L.celu(x, 0.7), [X3]),
    "hardshrink": FRow(lambda L, x: L.hardshrink(x, 0.3), [X3]),
    "softshrink": FRow(lambda L, x: L.softshrink(x, 0.3), [X3]),
    "lstm_cell": FRow(lambda L, x, h, c, wi, wh, bi, bh: L.lstm_cell(x, (h, c), wi, wh, bi, bh),
                      [A(3, 5), A(3, 4), A(3, 4), A(16, 5), A(16, 4), A(16), A(16)]),
    "gru_cell": FRow(lambda L, x, h, wi, wh, bi, bh: L.gru_cell(x, h, wi, wh, bi, bh),
                     [A(3, 5), A(3, 4), A(12, 5), A(12, 4), A(12), A(12)]),
    "rnn_tanh_cell": FRow(lambda L, x, h, wi, wh, bi, bh: L.rnn_tanh_cell(x, h, wi, wh, bi, bh),
                          [A(3, 5), A(3, 4), A(4, 5), A(4, 4), A(4), A(4)]),
    "rnn_relu_cell": FRow(lambda L, x, h, wi, wh, bi, bh: L.rnn_relu_cell(x, h, wi, wh, bi, bh),
                          [A(3, 5), A(3, 4), A(4, 5), A(4, 4), A(4), A(4)]),
    "lstm_sequence": FRow(lambda L, x, h, c, wi, wh, bi, bh: L.lstm_sequence(x, h, c, wi, wh, bi, bh),
                          [A(4, 3, 5), A(3, 4), A(3, 4), A(16, 5), A(16, 4), A(16), A(16)], batch_axis=1,
                          oracle=lambda *a: ref.lstm_sequence_forward(*a)[:3]),
    "gru_sequence": FRow(lambda L, x, h, wi, wh, bi, bh: L.gru_sequence(x, h, wi, wh, bi, bh),
                         [A(4, 3, 5), A(3, 4), A(12, 5), A(12, 4), A(12), A(12)], batch_axis=1,
                         oracle=lambda *a: ref.gru_sequence_forward(*a)[:2]),
    "rnn_sequence": FRow(lambda L, x, h, wi, wh, bi, bh: L.rnn_sequence(x, h, wi, wh, bi, bh, nonlinearity="relu"),
                         [A(4, 3, 5), A(3, 4), A(4, 5), A(4, 4), A(4), A(4)], batch_axis=1,
                         oracle=lambda *a: ref.rnn_sequence_forward(*a, nonlinearity="relu")[:2]),
}
# One-argument activations, plain and in-place (the in-place ones write their input on purpose).
for _nm in ("relu", "relu6", "selu", "silu", "mish", "sigmoid", "tanh", "logsigmoid", "hardsigmoid",
            "hardswish", "softsign", "tanhshrink"):
    FUNCS[_nm] = FRow((lambda n: lambda L, x: getattr(L, n)(x))(_nm), [X3])
for _nm in ("relu_", "selu_", "elu_", "celu_", "leaky_relu_", "hardtanh_"):
    FUNCS[_nm] = FRow((lambda n: lambda L, x: getattr(L, n)(x))(_nm), [X3], writes=(0,))
FUNCS["threshold_"] = FRow(lambda L, x: L.threshold_(x, 0.2, 5.0), [X3], writes=(0,))
# torch's fused CPU kernel gives 0 for a query row with a +inf score; ember gives nan like torch's
# math path and F.softmax (a row containing +inf). The oracle is that math, in NumPy.
def _sdpa_np(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) * 0.3
    e = np.exp(s - s.max(-1, keepdims=True))
    return [e / e.sum(-1, keepdims=True) @ v]


FUNCS["scaled_dot_product_attention"] = FRow(
    lambda L, q, k, v: L.scaled_dot_product_attention(q, k, v, scale=0.3),
    [A(2, 3, 5, 4), A(2, 3, 5, 4), A(2, 3, 5, 6)], oracle=_sdpa_np)
FUNCS["multi_head_attention_forward"] = FRow(
    lambda L, q, k, v, wi, bi, wo, bo: L.multi_head_attention_forward(
        q, k, v, 6, 2, wi, bi, None, None, False, 0.0, wo, bo, training=False)[0],
    [A(4, 2, 6), A(5, 2, 6), A(5, 2, 6), A(18, 6), A(18), A(6, 6), A(6)], batch_axis=1)


def _public_functional():
    return sorted(n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))
                  and not inspect.ismodule(getattr(F, n)) and not isinstance(getattr(F, n), type))


def test_functional_table_covers_every_public_function():
    missing = set(_public_functional()) - set(FUNCS)
    assert not missing, f"ember.nn.functional functions without a bad-input row: {sorted(missing)}"
    assert not set(FUNCS) - set(_public_functional())


def _inputs(name):
    rng = np.random.default_rng(_seed(name))
    return [_make(shape, kind, rng) for shape, kind in FUNCS[name].args]


def _run_ember(name, arrays, seed=0):
    ember.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FUNCS[name].fn(F, *[ember.from_numpy(a) for a in arrays])


def _run_torch(name, arrays, seed=0):
    torch = _torch()
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FUNCS[name].fn(_TorchLib(), *[torch.from_numpy(np.array(a)) for a in arrays])


def _np(result):
    out = []
    for r in (result if isinstance(result, (tuple, list)) else [result]):
        if isinstance(r, (tuple, list)):
            out += _np(r)
        else:
            out.append(r.detach().numpy() if hasattr(r, "detach") else np.asarray(r))
    return out


def _expected(name, arrays):
    """torch's answer (or the NumPy oracle's), or the exception type it raises."""
    row = FUNCS[name]
    try:
        if row.oracle is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _np(row.oracle(*arrays))
        return _np(_run_torch(name, [a.copy() for a in arrays]))
    except Exception as e:      # noqa: BLE001 - the oracle's verdict
        return e


def _compare(name, got, want, tol=1e-10):
    got = _np(got)
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert g.shape == w.shape, (name, g.shape, w.shape)
        if FUNCS[name].random:
            continue
        if w.dtype.kind in "iub":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_functional_views_read_only_and_value(name):
    """Valid call == torch; negative-stride read-only views give the same answer and are not
    written (in-place functions write the view, in the same places as the contiguous input)."""
    row = FUNCS[name]
    arrays = _inputs(name)
    contiguous = [a.copy() for a in arrays]
    want = _run_ember(name, contiguous)
    expected = _expected(name, arrays)
    assert not isinstance(expected, Exception), expected
    _compare(name, want, expected)
    views = []
    for i, a in enumerate(arrays):
        v = _odd_view(a)
        if i not in row.writes:
            v.flags.writeable = False
        views.append(v)
    got = _run_ember(name, views)
    want_np = _np(want)
    for g, w in zip(_np(got), want_np):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)
    for i, (v, a, c) in enumerate(zip(views, arrays, contiguous)):
        np.testing.assert_array_equal(v, c if i in row.writes else a)
    # misaligned data: the same answer (ember copies it before any kernel reads it)
    for g, w in zip(_np(_run_ember(name, [_misaligned(a) for a in arrays])), want_np):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", [n for n in sorted(FUNCS) if n != "one_hot"])
def test_functional_nan_and_inf_propagate_like_torch(name):
    row = FUNCS[name]
    arrays = _inputs(name)
    x = next(a for a in arrays if a.dtype.kind == "f" and a.size >= 3)
    x.flat[0], x.flat[x.size // 2], x.flat[-1] = np.nan, np.inf, -np.inf
    if row.random:
        # dropout multiplies by a mask: NaN stays NaN, and only NaN/inf (times 0) can become NaN
        out = _np(_run_ember(name, arrays))[0]
        assert np.all(np.isnan(out)[np.isnan(x)])
        assert np.all(~np.isfinite(x)[np.isnan(out)])
        return
    want = _expected(name, arrays)
    if isinstance(want, Exception):
        with pytest.raises(ERRORS):
            _run_ember(name, arrays)
        return
    _compare(name, _run_ember(name, arrays), want, tol=1e-9)


def _torch_rows():
    return sorted(n for n, r in FUNCS.items() if r.oracle is None)


def _clean_error_or_same(name, arrays):
    """ember raises a clean error exactly where the oracle raises (returned, with the oracle's
    message), else gives the oracle's answer."""
    want = _expected(name, arrays)
    if isinstance(want, Exception):
        # torch's multi-head attention checks shapes with assert: ember copies the type
        with pytest.raises(ERRORS + (type(want),)) as e:
            _run_ember(name, arrays)
        return e.value, str(want)
    _compare(name, _run_ember(name, arrays), want, tol=1e-9)
    return None, None


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("name", [n for n in _torch_rows() if n != "one_hot"])
def test_functional_int_and_bool_inputs_are_clean_or_right(name, dtype):
    """A clean error naming the dtype, or the right answer: torch's where torch has one, else
    the same function on the values as float64 (cast to ember's result dtype)."""
    arrays = _inputs(name)
    i = next(i for i, a in enumerate(arrays) if a.dtype.kind == "f")
    as_float = list(arrays)
    arrays[i] = (arrays[i] * 3).astype(dtype)
    as_float[i] = arrays[i].astype(np.float64)
    want = _expected(name, arrays)
    try:
        got = _np(_run_ember(name, arrays))
    except ERRORS as e:
        msg = str(e)
        assert (isinstance(want, Exception) and msg == str(want)) or _names_problem(
            msg, dtype, _TORCH_TYPE[dtype], "dtype", "floating", "Float", "Double", "type", "input"), msg
        return
    if isinstance(want, Exception):
        want = [w.astype(g.dtype) if g.dtype.kind in "iub" else w
                for g, w in zip(got, _np(_run_ember(name, as_float)))]
    _compare(name, got, want, tol=1e-6)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_functional_wrong_rank_is_clean(name):
    arrays = _inputs(name)
    for bad in (arrays[0][None, None], arrays[0].reshape(-1)[0]):
        err, torch_msg = _clean_error_or_same(name, [np.array(bad)] + arrays[1:])
        if err is not None:
            assert str(err) == torch_msg or _names_problem(str(err), np.shape(bad), "input", "dim",
                                                           "shape", "size"), str(err)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_functional_zero_size_batch_like_torch(name):
    arrays = _inputs(name)
    ax = FUNCS[name].batch_axis
    arrays[0] = np.take(arrays[0], [], axis=ax) if arrays[0].ndim > ax else arrays[0]
    # targets with a batch follow the input's
    for i in range(1, len(arrays)):
        if FUNCS[name].args[i][0][:1] == FUNCS[name].args[0][0][:1] and ax == 0 and arrays[i].ndim:
            arrays[i] = arrays[i][:0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _clean_error_or_same(name, arrays)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_functional_numpy_array_for_a_tensor_is_a_type_error_or_right(name):
    """torch refuses a NumPy array with TypeError; ember may accept it, but must then be right,
    and must never fail with AttributeError deep inside."""
    arrays = _inputs(name)
    want = _np(_run_ember(name, [a.copy() for a in arrays]))
    ember.manual_seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = FUNCS[name].fn(F, arrays[0], *[ember.from_numpy(a) for a in arrays[1:]])
    except TypeError as e:
        assert "Tensor" in str(e) or "ndarray" in str(e), str(e)
        return
    _compare(name, got, want)


# ==============================================================================================
# MODULES table: every layer and loss in ember.nn, vs torch with the same weights
# ==============================================================================================
@dataclass
class MRow:
    make: Callable          # make(nn_namespace) -> module, the same for ember.nn and torch.nn
    args: list              # forward inputs, (shape, kind) as in FUNCS
    bad: tuple = ()         # constructor calls (lambda nn: ...) that must raise a clean error


_OVER = 2 ** 40             # two such sizes: a weight of 2**80 elements, its bytes overflow


def _acts():
    one = {"ReLU": (), "ReLU6": (), "SELU": (), "SiLU": (), "Mish": (), "Sigmoid": (), "Tanh": (),
           "LogSigmoid": (), "Hardsigmoid": (), "Hardswish": (), "Softsign": (), "Tanhshrink": (),
           "GELU": ("tanh",), "CELU": (0.5,), "ELU": (0.5,), "Hardshrink": (0.3,),
           "Softshrink": (0.3,), "Hardtanh": (-0.5, 0.5), "LeakyReLU": (0.1,),
           "Threshold": (0.1, -1.0), "Softplus": (2.0, 5.0), "Softmax": (1,), "LogSoftmax": (1,),
           "Softmin": (1,), "GLU": (1,), "Identity": (), "Flatten": (), "PReLU": (3,)}
    rows = {n: MRow((lambda n, a: lambda N: getattr(N, n)(*a))(n, a), [A(2, 4, 7)]) for n, a in one.items()}
    rows["PReLU"] = MRow(lambda N: N.PReLU(4), [A(2, 4, 7)])
    rows["Unflatten"] = MRow(lambda N: N.Unflatten(2, (7, 1)), [A(2, 4, 7)])
    return rows


def _losses():
    two = {"L1Loss": "n", "MSELoss": "n", "HuberLoss": "n", "SmoothL1Loss": "n", "BCELoss": "u",
           "BCEWithLogitsLoss": "u", "KLDivLoss": "u", "SoftMarginLoss": "s", "HingeEmbeddingLoss": "s",
           "PoissonNLLLoss": "p"}
    rows = {n: MRow((lambda n: lambda N: getattr(N, n)())(n), [A(4, 5, kind="u" if n == "BCELoss" else "n"),
                                                              A(4, 5, kind=k)]) for n, k in two.items()}
    rows["CrossEntropyLoss"] = MRow(lambda N: N.CrossEntropyLoss(label_smoothing=0.1), [A(6, 5), A(6, kind="i5")])
    rows["NLLLoss"] = MRow(lambda N: N.NLLLoss(), [A(6, 5), A(6, kind="i5")])
    rows["GaussianNLLLoss"] = MRow(lambda N: N.GaussianNLLLoss(), [A(4, 5), A(4, 5), A(4, 5, kind="p")])
    rows["CosineEmbeddingLoss"] = MRow(lambda N: N.CosineEmbeddingLoss(), [A(4, 5), A(4, 5), A(4, kind="s")])
    rows["MarginRankingLoss"] = MRow(lambda N: N.MarginRankingLoss(0.1), [A(6), A(6), A(6, kind="s")])
    return rows


MODULES: dict[str, MRow] = {**_acts(), **_losses()}
for _d in (1, 2, 3):
    _xs = A(2, 3, *(6,) * _d)
    for _p in ("Zero", "Constant", "Reflection", "Replication", "Circular"):
        _args = (2, 0.5) if _p == "Constant" else (2,)
        MODULES[f"{_p}Pad{_d}d"] = MRow((lambda n, a: lambda N: getattr(N, n)(*a))(f"{_p}Pad{_d}d", _args), [_xs])
    MODULES[f"BatchNorm{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"BatchNorm{d}d")(3, momentum=0.3))(_d),
                                      [_xs], bad=((lambda d: lambda N: getattr(N, f"BatchNorm{d}d")(-1))(_d),))
    MODULES[f"Dropout{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"Dropout{_d}d")(0.3).eval())(_d), [_xs])
for _d in (1, 2):
    _xs = A(2, 3, *(7,) * _d)
    MODULES[f"MaxPool{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"MaxPool{d}d")(3, 2, 1))(_d), [_xs])
    MODULES[f"AvgPool{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"AvgPool{d}d")(3, 2, 1))(_d), [_xs])
    MODULES[f"AdaptiveAvgPool{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"AdaptiveAvgPool{d}d")(3))(_d), [_xs])
    MODULES[f"AdaptiveMaxPool{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"AdaptiveMaxPool{d}d")(3))(_d), [_xs])
    MODULES[f"LPPool{_d}d"] = MRow((lambda d: lambda N: getattr(N, f"LPPool{d}d")(2.0, 3, 2))(_d), [_xs])
    MODULES[f"Conv{_d}d"] = MRow(
        (lambda d: lambda N: getattr(N, f"Conv{d}d")(3, 4, 3, stride=2, padding=1))(_d), [_xs],
        # torch accepts a zero kernel or stride at construction and refuses them in forward
        bad=((lambda d: lambda N: getattr(N, f"Conv{d}d")(3, 4, 0)(ember.ones(1, 3, *(8,) * d)))(_d),
             (lambda d: lambda N: getattr(N, f"Conv{d}d")(3, 4, 3, stride=0)(ember.ones(1, 3, *(8,) * d)))(_d),
             (lambda d: lambda N: getattr(N, f"Conv{d}d")(3, 4, 3, groups=2))(_d),
             (lambda d: lambda N: getattr(N, f"Conv{d}d")(-3, 4, 3))(_d),
             (lambda d: lambda N: getattr(N, f"Conv{d}d")(_OVER, _OVER, 3))(_d)))
    MODULES[f"ConvTranspose{_d}d"] = MRow(
        (lambda d: lambda N: getattr(N, f"ConvTranspose{d}d")(3, 4, 3, stride=2, output_padding=1))(_d), [_xs],
        bad=((lambda d: lambda N: getattr(N, f"ConvTranspose{d}d")(3, 4, 3, stride=0)(ember.ones(1, 3, *(8,) * d)))(_d),
             (lambda d: lambda N: getattr(N, f"ConvTranspose{d}d")(_OVER, _OVER, 3))(_d)))
MODULES.update({
    "MaxUnpool1d": MRow(lambda N: _Unpool(N, 1), [A(2, 3, 8)]),
    "MaxUnpool2d": MRow(lambda N: _Unpool(N, 2), [A(2, 3, 8, 6)]),
    "Upsample": MRow(lambda N: N.Upsample(scale_factor=2, mode="nearest"), [A(2, 3, 4, 5)]),
    "UpsamplingBilinear2d": MRow(lambda N: N.UpsamplingBilinear2d(scale_factor=2), [A(2, 3, 4, 5)]),
    "UpsamplingNearest2d": MRow(lambda N: N.UpsamplingNearest2d(size=(7, 9)), [A(2, 3, 4, 5)]),
    "AlphaDropout": MRow(lambda N: N.AlphaDropout(0.3).eval(), [A(2, 3, 5)]),
    "FeatureAlphaDropout": MRow(lambda N: N.FeatureAlphaDropout(0.3).eval(), [A(2, 3, 5)]),
    "Dropout": MRow(lambda N: N.Dropout(0.3).eval(), [A(2, 3, 5)], bad=(lambda N: N.Dropout(1.5),)),
    "GroupNorm": MRow(lambda N: N.GroupNorm(2, 4), [A(2, 4, 5)], bad=(lambda N: N.GroupNorm(3, 4),)),
    "LayerNorm": MRow(lambda N: N.LayerNorm(5), [A(2, 4, 5)], bad=(lambda N: N.LayerNorm((_OVER, _OVER)),)),
    "RMSNorm": MRow(lambda N: N.RMSNorm(5, eps=1e-6), [A(2, 4, 5)]),
    "Linear": MRow(lambda N: N.Linear(5, 3), [A(2, 4, 5)],
                   bad=(lambda N: N.Linear(-1, 3), lambda N: N.Linear(_OVER, _OVER))),
    "Bilinear": MRow(lambda N: N.Bilinear(3, 4, 2), [A(5, 3), A(5, 4)],
                     bad=(lambda N: N.Bilinear(_OVER, _OVER, 2),)),
    "Embedding": MRow(lambda N: N.Embedding(9, 4, padding_idx=0), [A(3, 5, kind="i9")],
                      bad=(lambda N: N.Embedding(-2, 4), lambda N: N.Embedding(_OVER, _OVER),
                           lambda N: N.Embedding(9, 4, padding_idx=9))),
    "LSTM": MRow(lambda N: N.LSTM(5, 4, num_layers=2, bidirectional=True), [A(6, 3, 5)],
                 bad=(lambda N: N.LSTM(5, 0), lambda N: N.LSTM(5, 4, num_layers=0),
                      lambda N: N.LSTM(_OVER, _OVER), lambda N: N.LSTM(5, 4, dropout=2.0))),
    "GRU": MRow(lambda N: N.GRU(5, 4, batch_first=True), [A(3, 6, 5)], bad=(lambda N: N.GRU(-5, 4),)),
    "RNN": MRow(lambda N: N.RNN(5, 4, nonlinearity="relu"), [A(6, 3, 5)],
                bad=(lambda N: N.RNN(5, 4, nonlinearity="sigmoid"),)),
    "LSTMCell": MRow(lambda N: N.LSTMCell(5, 4), [A(3, 5)], bad=(lambda N: N.LSTMCell(_OVER, _OVER),)),
    "GRUCell": MRow(lambda N: N.GRUCell(5, 4), [A(3, 5)]),
    "RNNCell": MRow(lambda N: N.RNNCell(5, 4, nonlinearity="tanh"), [A(3, 5)]),
    "MultiheadAttention": MRow(lambda N: _Attn(N.MultiheadAttention(6, 2)), [A(4, 2, 6), A(5, 2, 6), A(5, 2, 6)],
                               bad=(lambda N: N.MultiheadAttention(6, 4),)),
    "TransformerEncoderLayer": MRow(lambda N: N.TransformerEncoderLayer(6, 2, 8, dropout=0.0), [A(4, 2, 6)],
                                    bad=(lambda N: N.TransformerEncoderLayer(6, 4),)),
    "TransformerDecoderLayer": MRow(lambda N: N.TransformerDecoderLayer(6, 2, 8, dropout=0.0), [A(4, 2, 6), A(5, 2, 6)]),
    "TransformerEncoder": MRow(lambda N: N.TransformerEncoder(N.TransformerEncoderLayer(6, 2, 8, dropout=0.0), 2,
                                                              enable_nested_tensor=False), [A(4, 2, 6)]),
    "TransformerDecoder": MRow(lambda N: N.TransformerDecoder(N.TransformerDecoderLayer(6, 2, 8, dropout=0.0), 2),
                               [A(4, 2, 6), A(5, 2, 6)]),
    "Transformer": MRow(lambda N: N.Transformer(6, 2, 1, 1, 8, dropout=0.0), [A(5, 2, 6), A(4, 2, 6)]),
})
# Keras-named noise layers: identity outside training (no torch twin: compared with the input)
MODULES["GaussianNoise"] = MRow(lambda N: N.GaussianNoise(0.5).eval(), [A(2, 3, 5)], bad=(lambda N: N.GaussianNoise(-1.0),))
MODULES["GaussianDropout"] = MRow(lambda N: N.GaussianDropout(0.3).eval(), [A(2, 3, 5)], bad=(lambda N: N.GaussianDropout(1.5),))
_NO_TORCH = {"GaussianNoise", "GaussianDropout"}
# bases and containers: no forward of their own
_NOT_LAYERS = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
               "RNNBase", "RNNCellBase"}


class _Unpool:
    """MaxUnpool needs the pooling indices: pool by 2, then unpool (one module for the table)."""

    def __init__(self, N, d):
        self.pool = getattr(N, f"MaxPool{d}d")(2, return_indices=True)
        self.unpool = getattr(N, f"MaxUnpool{d}d")(2)

    def __call__(self, x):
        return self.unpool(*self.pool(x), output_size=x.shape[2:])

    def state_dict(self):
        return {}

    def double(self):
        return self


class _Attn:
    """MultiheadAttention returns (output, weights): both compared."""

    def __init__(self, m):
        self.m = m

    def __call__(self, q, k, v):
        return self.m(q, k, v)

    def state_dict(self):
        return self.m.state_dict()

    def load_state_dict(self, sd):
        return self.m.load_state_dict(sd)

    def double(self):
        self.m.double()
        return self


def _layer_names():
    return sorted(n for n in dir(nn) if isinstance(getattr(nn, n), type)
                  and issubclass(getattr(nn, n), nn.Module) and n not in _NOT_LAYERS)


def test_modules_table_covers_every_layer_and_loss():
    missing = set(_layer_names()) - set(MODULES)
    assert not missing, f"ember.nn layers without a bad-input row: {sorted(missing)}"
    assert not set(MODULES) - set(_layer_names())


def _module_pair(name):
    ember.manual_seed(0)
    em = MODULES[name].make(nn).double()
    if name in _NO_TORCH:
        return em, None
    torch = _torch()
    tm = MODULES[name].make(torch.nn).double()
    sd = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in em.state_dict().items()}
    if sd:
        tm.load_state_dict(sd)
    return em, tm


def _module_run(m, arrays, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if lib == "torch":
            torch = _torch()
            return _np(m(*[torch.from_numpy(np.array(a)) for a in arrays]))
        return _np(m(*[ember.from_numpy(a) for a in arrays]))


def _module_inputs(name):
    rng = np.random.default_rng(_seed(name))
    return [_make(shape, kind, rng) for shape, kind in MODULES[name].args]


def _module_expect(name, tm, arrays):
    if tm is None:
        return [np.array(arrays[0])]
    try:
        return _module_run(tm, arrays, "torch")
    except Exception as e:      # noqa: BLE001 - torch's verdict
        return e


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_forward_views_nan_and_rank_like_torch(name):
    em, tm = _module_pair(name)
    arrays = _module_inputs(name)
    want = _module_expect(name, tm, arrays)
    assert not isinstance(want, Exception), want
    got = _module_run(em, [a.copy() for a in arrays], "ember")
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10)
    # negative-stride, read-only views: same answer, nothing written
    views = []
    for a in arrays:
        v = _odd_view(a)
        v.flags.writeable = False
        views.append(v)
    for g, w in zip(_module_run(em, views, "ember"), got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)
    # NaN/inf in the first float input: propagated as torch does
    floats = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    if floats:
        bad = [a.copy() for a in arrays]
        bad[floats[0]].flat[0], bad[floats[0]].flat[-1] = np.nan, np.inf
        want = _module_expect(name, tm, bad)
        if isinstance(want, Exception):
            with pytest.raises(ERRORS + (type(want),)):
                _module_run(em, bad, "ember")
        else:
            for g, w in zip(_module_run(em, bad, "ember"), want):
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10, equal_nan=True)
    # wrong rank for the first input: a clean error exactly where torch errors
    for wrong in (arrays[0][None, None], np.array(arrays[0].reshape(-1)[0])):
        call = [wrong] + [a.copy() for a in arrays[1:]]
        want = _module_expect(name, tm, call)
        if isinstance(want, Exception):
            with pytest.raises(ERRORS + (type(want),)):
                _module_run(em, call, "ember")
        else:
            for g, w in zip(_module_run(em, call, "ember"), want):
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10, equal_nan=True)


def _bad_ctor_ids():
    return [(n, i) for n in sorted(MODULES) for i in range(len(MODULES[n].bad))]


@pytest.mark.parametrize("name,i", _bad_ctor_ids())
def test_module_bad_constructor_arguments_raise(name, i):
    """Negative/zero sizes, inconsistent arguments, and sizes whose byte count overflows raise a
    clean error at construction (never a huge allocation or a crash)."""
    with pytest.raises(ERRORS + (AssertionError,)) as e:    # torch's MHA uses assert too
        MODULES[name].bad[i](nn)
    assert str(e.value)


# ==============================================================================================
# OPTIMS table: hyper-parameter errors (torch's), bad params, NaN gradients
# ==============================================================================================
OPTIMS = {
    "SGD": (dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
            [dict(lr=-1.0), dict(momentum=-0.5), dict(weight_decay=-1.0), dict(nesterov=True, momentum=0.0),
             dict(dampening=0.5, nesterov=True, momentum=0.9)]),
    "Adam": (dict(lr=0.01, amsgrad=True, weight_decay=0.01),
             [dict(lr=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(eps=-1e-8), dict(weight_decay=-1.0)]),
    "AdamW": (dict(lr=0.01, weight_decay=0.1),
              [dict(lr=-1.0), dict(betas=(0.9, 1.5)), dict(eps=-1.0), dict(weight_decay=-0.1)]),
    "RMSprop": (dict(lr=0.01, momentum=0.5, centered=True),
                [dict(lr=-1.0), dict(alpha=-0.1), dict(eps=-1.0), dict(momentum=-1.0), dict(weight_decay=-1.0)]),
    "Adagrad": (dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
                [dict(lr=-1.0), dict(lr_decay=-1.0), dict(initial_accumulator_value=-1.0), dict(eps=-1.0),
                 dict(weight_decay=-1.0)]),
}


def test_optims_table_covers_every_optimizer():
    names = {n for n in dir(optim) if isinstance(getattr(optim, n), type)
             and issubclass(getattr(optim, n), optim.Optimizer) and n != "Optimizer"}
    assert names == set(OPTIMS)


def _opt_ids():
    return [(n, i) for n in sorted(OPTIMS) for i in range(len(OPTIMS[n][1]))]


@pytest.mark.parametrize("name,i", _opt_ids())
def test_optimizer_bad_hyperparameters_raise_like_torch(name, i):
    torch = _torch()
    kw = OPTIMS[name][1][i]
    with pytest.raises(ValueError) as e:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as mine:
        getattr(optim, name)([nn.Parameter(ember.zeros(2))], **kw)
    assert str(mine.value) == str(e.value)


@pytest.mark.parametrize("name", sorted(OPTIMS))
def test_optimizer_bad_params_raise(name):
    cls = getattr(optim, name)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        cls(nn.Parameter(ember.zeros(2)), lr=0.1)
    with pytest.raises(TypeError):
        cls([np.zeros(2)], lr=0.1)
    p = nn.Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="more than one parameter group|appear in more than one"):
        cls([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("name", sorted(OPTIMS))
def test_optimizer_nan_inf_gradients_propagate_like_torch(name):
    torch = _torch()
    kw = OPTIMS[name][0]
    w0 = np.array([0.5, -1.0, 2.0, 0.25])
    g = np.array([np.nan, np.inf, -np.inf, 1.0])
    p = nn.Parameter(ember.tensor(w0.copy()))
    tp = torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = getattr(optim, name)([p], **kw), getattr(torch.optim, name)([tp], **kw)
    for _ in range(2):
        p.grad = ember.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12, atol=0, equal_nan=True)


# ==============================================================================================
# DATA: DataLoader and datasets
# ==============================================================================================
def _ds(n=10):
    return udata.TensorDataset(ember.arange(n * 2, dtype=ember.float64).reshape(n, 2), ember.arange(n))


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=-2), ValueError, "batch_size"),
    (dict(batch_size=2.5), (TypeError, ValueError), "batch_size"),
    (dict(num_workers=-1), ValueError, "num_workers"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler"),
    (dict(batch_sampler=[[0, 1]], batch_size=3), ValueError, "batch_sampler"),
    (dict(batch_sampler=[[0, 1]], drop_last=True), ValueError, "batch_sampler"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor"),
    (dict(timeout=-1), ValueError, "timeout"),
])
def test_dataloader_bad_arguments_raise_like_torch(kwargs, exc, match):
    torch = _torch()
    tds = torch.utils.data.TensorDataset(torch.arange(4.0).reshape(2, 2))
    with pytest.raises(exc):
        torch.utils.data.DataLoader(tds, **kwargs)
    with pytest.raises(exc, match=match):
        udata.DataLoader(_ds(), **kwargs)


def test_datasets_bad_input():
    with pytest.raises(ERRORS + (AssertionError,), match="[Ss]ize mismatch"):
        udata.TensorDataset(ember.zeros(3, 2), ember.zeros(4))
    ds = _ds(5)
    with pytest.raises(IndexError):
        ds[5]
    with pytest.raises(IndexError):
        udata.Subset(ds, [0, 7])[1]
    with pytest.raises(ValueError, match="[Ss]um of input lengths"):
        udata.random_split(ds, [2, 2])
    with pytest.raises(ValueError):
        udata.random_split(ds, [-1, 6])
    with pytest.raises((ValueError, RuntimeError), match="negative"):
        list(udata.WeightedRandomSampler([0.5, -1.0], 2))
    with pytest.raises((ValueError, TypeError)):
        udata.WeightedRandomSampler([0.5, 0.5], -1)
    with pytest.raises((ValueError, TypeError)):
        udata.RandomSampler(ds, num_samples=0)
    with pytest.raises((ValueError, AssertionError), match="empty"):   # torch asserts here
        udata.ConcatDataset([])
    with pytest.raises(ValueError, match="shuffle"):
        udata.DataLoader(udata.ChainDataset([]), shuffle=True)


def test_dataloader_over_views_read_only_and_nan_is_exact():
    """A dataset over a negative-stride, read-only view with NaN/inf: batches hold exactly the
    source values, the source is never written."""
    src = np.arange(24, dtype=np.float64).reshape(12, 2)
    src[3, 1], src[7, 0] = np.nan, -np.inf
    view = _odd_view(src)
    view.flags.writeable = False
    ds = udata.TensorDataset(ember.from_numpy(view), ember.arange(12))
    got = np.concatenate([x.numpy() for x, _ in udata.DataLoader(ds, batch_size=5)])
    np.testing.assert_array_equal(got, src)
    np.testing.assert_array_equal(view, src)
    assert [len(b[1]) for b in udata.DataLoader(ds, batch_size=5, drop_last=True)] == [5, 5]
    assert list(udata.DataLoader(udata.TensorDataset(ember.zeros(0, 2)), batch_size=3)) == []


# ==============================================================================================
# Numerical robustness at extreme logits, and batch norm with a batch of one
# ==============================================================================================
EXTREME = np.array([-1e4, -88.0, -87.5, -20.0, -1.0, 0.0, 1.0, 20.0, 87.5, 88.0, 88.8, 1e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_and_exact(dtype):
    """softmax, log_softmax, cross_entropy, BCE-with-logits, sigmoid, logsigmoid and logsumexp at
    logits up to +-1e4 (exp overflows float32 past 88.7): finite, and equal to the float64 math
    done the stable way (mpmath-grade references written out in closed form)."""
    x = EXTREME.astype(dtype)
    x64 = EXTREME
    t = ember.from_numpy(x)
    tol = dict(rtol=2e-6 if dtype == np.float32 else 1e-14, atol=0)

    lse = x64.max() + np.log(np.sum(np.exp(x64 - x64.max())))     # = 1e4 exactly in float64
    got = ember.logsumexp(t, 0).numpy()
    assert np.isfinite(got) and got == pytest.approx(lse, rel=tol["rtol"])
    ls = F.log_softmax(t, dim=0).numpy()
    np.testing.assert_allclose(ls, x64 - lse, **tol)
    assert np.isfinite(ls).all()
    sm = F.softmax(t, dim=0).numpy()
    np.testing.assert_allclose(sm, np.exp(x64 - lse), rtol=tol["rtol"], atol=1e-300)
    assert sm[-1] == 1.0 and sm[0] == 0.0

    # cross-entropy of each class as the target: lse - x_t, finite even at -1e4 (2e4)
    logits = ember.from_numpy(np.tile(x, (len(x), 1)))
    ce = F.cross_entropy(logits, ember.arange(len(x)), reduction="none").numpy()
    np.testing.assert_allclose(ce, lse - x64, **tol)

    # elementwise: sigmoid, logsigmoid = -softplus(-x), BCE-with-logits for targets 0 and 1
    with np.errstate(over="ignore"):             # exp(1e4) = inf: sigmoid(-1e4) = 0 exactly
        sig = 1 / (1 + np.exp(-x64))
    np.testing.assert_allclose(F.sigmoid(t).numpy(), sig, rtol=tol["rtol"], atol=1e-300)
    softplus = np.maximum(x64, 0) + np.log1p(np.exp(-np.abs(x64)))   # log(1 + e^x), stable
    neg_softplus = -(np.maximum(-x64, 0) + np.log1p(np.exp(-np.abs(x64))))  # log sigmoid(x)
    # float32 subnormals (~1e-39) carry fewer significant bits: an absolute floor there
    np.testing.assert_allclose(F.logsigmoid(t).numpy(), neg_softplus, rtol=tol["rtol"],
                               atol=1e-44 if dtype == np.float32 else 0)
    for target, want in ((0.0, softplus), (1.0, softplus - x64)):
        got = F.binary_cross_entropy_with_logits(t, ember.from_numpy(np.full_like(x, target)),
                                                 reduction="none").numpy()
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (1, 3)), ("BatchNorm2d", (1, 3, 1, 1)),
                                       ("BatchNorm3d", (1, 3, 1, 1, 1))])
def test_batch_norm_batch_of_one_in_training_raises_like_torch(cls, shape):
    m = getattr(nn, cls)(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        m(ember.ones(*shape))
    m.eval()                                   # eval mode uses running stats: fine
    np.testing.assert_allclose(m(ember.ones(*shape)).detach().numpy(), np.ones(shape) / np.sqrt(1 + 1e-5),
                               rtol=1e-6)
