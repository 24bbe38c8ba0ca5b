"""Fuzzing ember.ops with hypothesis (issue 7): random shapes, strides, dtypes and geometry into
matmul, conv, pooling, softmax/cross-entropy and the recurrent cells. Each example must give the
NumPy twin's answer (``ember.ops.reference``) or, exactly where the twin refuses the arguments,
a clean ValueError/TypeError/RuntimeError/IndexError; never a crash or a different answer.

Bounded: a few examples per op in the normal run (derandomized, so CI is reproducible). For a
longer, randomized hunt set EMBER_FUZZ_EXAMPLES, e.g.
    EMBER_FUZZ_EXAMPLES=2000 python -m pytest -q tests/test_fuzz_ops.py
``.ci/sanitize`` runs these under AddressSanitizer/UBSan with EMBER_FUZZ_EXAMPLES=200.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import ember.ops as ops  # noqa: E402
import ember.ops.reference as ref  # noqa: E402

ERRORS = (ValueError, TypeError, RuntimeError, IndexError)
_LONG = "EMBER_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(max_examples=int(os.environ.get("EMBER_FUZZ_EXAMPLES", "12")), deadline=None,
                derandomize=not _LONG, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = st.sampled_from([np.float32, np.float64])
LAYOUTS = st.sampled_from(["c", "f", "reversed", "strided", "readonly"])


def _place(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values as ``a`` in another memory layout (never a different answer)."""
    if layout == "f":
        return np.asfortranarray(a)
    if layout == "reversed" and a.ndim:
        return _reverse_copy(a)
    if layout == "strided" and a.ndim:
        buf = np.zeros(tuple(2 * s + 1 for s in a.shape), a.dtype)
        view = buf[(slice(1, None, 2),) * a.ndim]
        view[...] = a
        return view
    if layout == "readonly":
        a = a.copy()
        a.flags.writeable = False
    return a


def _reverse_copy(a: np.ndarray) -> np.ndarray:
    """A negative-stride view holding a's values."""
    buf = np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])
    return buf[(slice(None, None, -1),) * a.ndim]


def _array(draw, shape, dtype, scale=1.0, extremes=False):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * scale).astype(dtype)
    if extremes and a.size and draw(st.booleans()):
        special = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e4, -1e4, 88.0, -88.0]))
        a.flat[draw(st.integers(0, a.size - 1))] = special
    return _place(a, draw(LAYOUTS))


def _agree(name, args, kwargs, tol):
    """ember.ops.<name> and its twin agree: same values, or both refuse the call."""
    snapshot = [a.copy() for a in args if isinstance(a, np.ndarray)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            want = getattr(ref, name)(*args, **kwargs)
        except ERRORS as e:
            with pytest.raises(ERRORS):
                getattr(ops, name)(*args, **kwargs)
            return e
        got = getattr(ops, name)(*args, **kwargs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        if g.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)
    for a, s in zip([a for a in args if isinstance(a, np.ndarray)], snapshot):
        np.testing.assert_array_equal(a, s)      # inputs are never written
    return None


def _tol(dtype, k=1):
    return (2e-4 if dtype == np.float32 else 1e-10) * max(1.0, np.sqrt(k))


@st.composite
def matmul_cases(draw):
    dt = draw(DTYPES)
    m, k, n = (draw(st.integers(0, 9)) for _ in range(3))
    batch = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    a_shape = batch + (m, k)
    b_shape = (draw(st.sampled_from([batch, batch[1:], ()])) if batch else ()) + (k, n)
    if draw(st.integers(0, 9)) == 0:           # a mismatch now and then
        b_shape = b_shape[:-2] + (k + 1, n)
    a = _array(draw, a_shape, draw(DTYPES))
    b = _array(draw, b_shape, dt)
    if draw(st.booleans()) and a.ndim >= 2 and b.ndim >= 2 and len(a_shape) == 2:
        a = a[0] if a.shape[0] else a        # vector @ matrix
    return a, b


@FUZZ
@given(matmul_cases())
def test_fuzz_matmul(case):
    a, b = case
    _agree("matmul", [a, b], {}, _tol(np.result_type(a, b), a.shape[-1] if a.ndim else 1))


@st.composite
def conv_cases(draw):
    dt = draw(DTYPES)
    nd = draw(st.sampled_from([1, 2]))
    groups = draw(st.integers(1, 2))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    n = draw(st.integers(0, 2))
    size = tuple(draw(st.integers(1, 8)) for _ in range(nd))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    x = _array(draw, (n, cin) + size, dt, extremes=True)
    w = _array(draw, (cout, cin // groups) + kernel, dt)
    b = _array(draw, (cout,), dt) if draw(st.booleans()) else None
    kw = dict(stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, 2)),
              dilation=draw(st.integers(1, 2)), groups=groups)
    if draw(st.integers(0, 7)) == 0:
        kw[draw(st.sampled_from(["stride", "padding", "dilation", "groups"]))] = draw(
            st.sampled_from([0, -1, 2 ** 40]))
    return f"conv{nd}d", x, w, b, kw


@FUZZ
@given(conv_cases())
def test_fuzz_conv(case):
    name, x, w, b, kw = case
    _agree(name, [x, w, b], kw, _tol(x.dtype, w[0].size))


@st.composite
def conv_transpose_cases(draw):
    dt = draw(DTYPES)
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    x = _array(draw, (draw(st.integers(0, 2)), cin, draw(st.integers(1, 6)), draw(st.integers(1, 6))), dt)
    w = _array(draw, (cin, cout // groups, draw(st.integers(1, 3)), draw(st.integers(1, 3))), dt)
    stride = draw(st.integers(1, 3))
    kw = dict(stride=stride, padding=draw(st.integers(0, 2)), groups=groups,
              output_padding=draw(st.integers(0, stride)), dilation=draw(st.integers(1, 2)))
    return x, w, kw


@FUZZ
@given(conv_transpose_cases())
def test_fuzz_conv_transpose(case):
    x, w, kw = case
    _agree("conv_transpose2d", [x, w, None], kw, _tol(x.dtype, w[0].size))


@st.composite
def pool_cases(draw):
    dt = draw(DTYPES)
    nd = draw(st.sampled_from([1, 2]))
    kind = draw(st.sampled_from(["max", "avg", "adaptive_avg", "adaptive_max"]))
    # a batch of 0 only for the window pools: the adaptive twins cannot reshape an empty batch
    # (ember.ops can; test_bad_input checks it)
    n = draw(st.integers(0 if kind in ("max", "avg") else 1, 2))
    shape = (n, draw(st.integers(1, 3))) + tuple(draw(st.integers(1, 9)) for _ in range(nd))
    if draw(st.booleans()):
        shape = shape[1:]                     # unbatched
    # the twin of adaptive average pooling is a matrix product that smears NaN/inf over the row
    # (the kernel is right; test_bad_input checks it against torch), so no specials there
    x = _array(draw, shape, dt, extremes=kind != "adaptive_avg")
    if kind.startswith("adaptive"):
        return f"{kind}_pool{nd}d", [x, draw(st.integers(1, 6))], {}
    k = draw(st.integers(1, 4))
    kw = dict(stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, 2)),
              ceil_mode=draw(st.booleans()))
    if kind == "max":
        kw["dilation"] = draw(st.integers(1, 2))
    else:
        kw["count_include_pad"] = draw(st.booleans())
    if draw(st.integers(0, 7)) == 0:
        k = draw(st.sampled_from([0, -1, 2 ** 31]))
    return f"{kind}_pool{nd}d", [x, k], kw


@FUZZ
@given(pool_cases())
def test_fuzz_pool(case):
    name, args, kw = case
    _agree(name, args, kw, _tol(args[0].dtype, 16))


@st.composite
def softmax_cases(draw):
    dt = draw(DTYPES)
    # 1-D and up: the twin cannot take 0-d input (ember.ops can; see test_bad_input)
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
    x = _array(draw, shape, dt, scale=draw(st.sampled_from([1.0, 30.0, 1e4])), extremes=True)
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    return draw(st.sampled_from(["softmax", "log_softmax", "softmin"])), x, dim


@FUZZ
@given(softmax_cases())
def test_fuzz_softmax(case):
    name, x, dim = case
    _agree(name, [x], {"dim": dim}, _tol(x.dtype, 4))


@st.composite
def cross_entropy_cases(draw):
    dt = draw(DTYPES)
    n, c = draw(st.integers(0, 6)), draw(st.integers(1, 6))
    x = _array(draw, (n, c), dt, scale=draw(st.sampled_from([1.0, 1e4])), extremes=False)
    t = np.asarray(draw(st.lists(st.integers(-1, c), min_size=n, max_size=n)), np.int64)
    kw = dict(reduction=draw(st.sampled_from(["none", "mean", "sum"])),
              ignore_index=draw(st.sampled_from([-100, -1, 0])))
    if draw(st.booleans()):
        kw["weight"] = np.abs(_array(draw, (c,), dt)) + 0.1
    name = draw(st.sampled_from(["cross_entropy", "nll_loss"]))
    if name == "cross_entropy":
        kw["label_smoothing"] = draw(st.sampled_from([0.0, 0.2]))
    return name, x, t, kw


@FUZZ
@given(cross_entropy_cases())
def test_fuzz_cross_entropy(case):
    name, x, t, kw = case
    _agree(name, [x, t], kw, _tol(x.dtype, 8) * (1e4 if np.abs(x).max(initial=0) > 1e3 else 1))


@st.composite
def cell_cases(draw):
    dt = draw(DTYPES)
    kind = draw(st.sampled_from(["lstm", "gru", "rnn"]))
    g = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    # H >= 2: with H = 1 the twin's in-place np.negative(a, out=a) on a (B, 1) column view hits a
    # NumPy 2.4 bug (wrong values for some strides); ember's kernel is right there (torch agrees)
    b, i, h = draw(st.integers(0, 4)), draw(st.integers(0, 6)), draw(st.integers(2, 6))
    args = [_array(draw, (b, i), dt, extremes=True), _array(draw, (b, h), dt)]
    if kind == "lstm":
        args.append(_array(draw, (b, h), dt))
    args += [_array(draw, (g * h, i), dt, 0.5), _array(draw, (g * h, h), dt, 0.5)]
    if draw(st.booleans()):
        args += [_array(draw, (g * h,), dt), _array(draw, (g * h,), dt)]
    if draw(st.integers(0, 7)) == 0:            # a mismatched hidden state now and then
        args[1] = args[1][:, :-1]
    return f"{kind}_cell_forward", args


@FUZZ
@given(cell_cases())
def test_fuzz_rnn_cells(case):
    name, args = case
    _agree(name, args, {}, _tol(args[0].dtype, 16))
