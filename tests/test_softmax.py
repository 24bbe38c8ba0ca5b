"""softmax, log_softmax and softmin (ember.ops, the NumPy twins in ember.ops.reference, the
autograd Functions and ember.nn.functional); the losses are in test_softmax_loss.py.

Checked over a table of shapes and dims (rows of width 1, 3, 17, 1001, 64x10, 4096x1000, 3-D and
4-D inputs with dim in the middle, batch 1) against
  * the NumPy twin evaluated in float64 (forward and backward; both dtypes; 1 and 2 threads;
    every SIMD level this CPU has, which also runs the vectorised exp of each level),
  * float64 gradcheck through the real C++ backward along several dims,
  * PyTorch (forward and gradient through ember.nn.functional), contiguous and not,
plus the exp itself to 1 ulp, every memory layout (transposed, sliced, reversed, broadcast, 0-d,
zero-size), IEEE extremes (+-1e4, -inf, all -inf rows, nan), hypothesis properties (rows sum to
1, shift invariance, log_softmax = log(softmax)) and bad input.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember
import ember.nn.functional as F
from ember import ops
from ember.autograd import gradcheck
from ember.ops import reference as ref

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]
OPS = ["softmax", "log_softmax", "softmin"]
# Outputs of softmax are in [0, 1] (error relative to the value, plus a floor for tiny values);
# log_softmax outputs are sums of a logit and a log: absolute error relative to their size.
TOL = {np.float32: dict(rtol=2e-6, atol=2e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}

# (shape, dim): rows of odd widths (inner == 1), strided class axes (dim in the middle / first)
SHAPES = [
    ((64, 10), -1), ((1, 10), 1), ((5, 1), -1), ((7, 3), 1), ((9, 17), -1), ((3, 1001), 1),
    ((2, 33), -1), ((4, 16), 1), ((3, 31), -1), ((6,), 0), ((1,), 0),
    ((3, 17, 5), 1), ((2, 3, 4, 5), 1), ((2, 5, 3, 4), 2), ((4, 9, 3), 0), ((3, 1, 7), 1),
    ((2, 3, 37), 1), ((5, 4, 2, 19), -3),
]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def randn(rng, shape, dtype, scale=3.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def fwd(op, x, dim):
    return getattr(ops, op)(x, dim)


def bwd(op, y, g, dim):
    return getattr(ops, op + "_backward")(y, g, dim)


def assert_within(actual, expected, bound):
    """|actual - expected| <= bound elementwise; nan and inf must match exactly."""
    actual = np.asarray(actual, np.float64)
    expected = np.asarray(expected, np.float64)
    special = ~np.isfinite(expected)
    np.testing.assert_array_equal(actual[special], expected[special])
    err = np.where(special, 0, np.abs(actual - np.where(special, 0, expected)))
    bound = np.broadcast_to(bound, err.shape)
    if err.size and not np.all(err <= bound):
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(f"error {err[i]:.3g} at {i} exceeds {bound[i]:.3g}: got {actual[i]!r}, "
                             f"expected {expected[i]!r}")


def assert_close(actual, expected, dtype, log=False):
    """``actual`` (of ``dtype``) against a float64 oracle. softmax: relative to the value plus a
    floor; log_softmax: (x - m) - log(s) rounds relative to |x - m| + |log s| <= |y| + 2 |log s|,
    so the bound grows with |y| and the row's log-sum."""
    tol = TOL[dtype]
    expected = np.asarray(expected)
    assert actual.dtype == dtype and actual.shape == expected.shape
    finite = np.where(np.isfinite(expected), np.abs(expected), 0)
    scale = 2 * finite + 20 if log else finite
    assert_within(actual, expected, tol["atol"] + tol["rtol"] * scale)


# ----------------------------------------------------------------------------------------------
# against the NumPy twin (float64 oracle)
# ----------------------------------------------------------------------------------------------
def check_forward_backward(rng, op, shape, dim, dtype):
    x = randn(rng, shape, dtype)
    y = fwd(op, x, dim)
    y64 = getattr(ref, op)(x.astype(np.float64), dim)
    assert_close(y, y64, dtype, log=op == "log_softmax")
    g = randn(rng, shape, dtype, 1.0)
    dx = bwd(op, y, g, dim)
    # the oracle: the twin's backward in float64 on the same (rounded) y and g
    dx64 = getattr(ref, op + "_backward")(y.astype(np.float64), g.astype(np.float64), dim)
    assert dx.dtype == dtype and dx.shape == shape
    assert_grad_close(dx, dx64, dtype, shape[dim] if shape else 1)


def assert_grad_close(dx, dx64, dtype, classes):
    """Backward errors come from one row sum of C products (|g| ~ 1) and a subtraction."""
    tol = TOL[dtype]
    assert_within(dx, dx64, 4 * tol["rtol"] * (np.abs(dx64) + np.sqrt(classes) + 1))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape,dim", SHAPES, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_matches_numpy_twin(rng, op, shape, dim, dtype):
    check_forward_backward(rng, op, shape, dim, dtype)


@pytest.mark.parametrize("op,dtype", [("softmax", np.float32), ("log_softmax", np.float64)],
                         ids=["softmax-float32", "log_softmax-float64"])
def test_large_rows_4096x1000(rng, op, dtype):
    check_forward_backward(rng, op, (4096, 1000), -1, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape,dim", [((5, 1), 1), ((3, 15), 1), ((3, 16), 1), ((2, 17), 1),
                                       ((2, 47), -1), ((2, 1001), 1), ((2, 9, 15), 1),
                                       ((2, 9, 16), 1), ((2, 9, 33), 1), ((3, 40, 7), 0)],
                         ids=str)
@pytest.mark.parametrize("op", OPS)
def test_every_simd_level(rng, simd_level, op, shape, dim, dtype):
    """Row tails and strip tails around each vector width (8/16 floats, 4/8 doubles)."""
    check_forward_backward(rng, op, shape, dim, dtype)


@pytest.mark.parametrize("shape,dim", [((300, 257), 1), ((4, 37, 700), 1)], ids=["rows", "columns"])
@pytest.mark.parametrize("op", OPS)
def test_threads_agree_bitwise(rng, restore_threads, op, shape, dim):
    """Work is split in fixed blocks of positions: 1 and 2 threads give identical bits."""
    x = randn(rng, shape, np.float32)
    g = randn(rng, shape, np.float32, 1.0)
    out = {}
    for n in (1, 2):
        ember.set_num_threads(n)
        y = fwd(op, x, dim)
        out[n] = (y, bwd(op, y, g, dim))
    np.testing.assert_array_equal(out[1][0], out[2][0])
    np.testing.assert_array_equal(out[1][1], out[2][1])
    assert_close(out[2][0], getattr(ref, op)(x.astype(np.float64), dim), np.float32,
                 log=op == "log_softmax")


def test_threads_fixture_values(rng, threads):
    check_forward_backward(rng, "softmax", (300, 257), 1, np.float32)
    check_forward_backward(rng, "log_softmax", (4, 37, 700), 1, np.float64)


# ----------------------------------------------------------------------------------------------
# the vectorised exp of each SIMD level
# ----------------------------------------------------------------------------------------------
def ulp_distance(a, b, int_type):
    """|a - b| in units in the last place (signed-magnitude bit patterns mapped to a line)."""
    ai = a.view(int_type).astype(np.int64)
    bi = b.view(int_type).astype(np.int64)
    lo = np.iinfo(int_type).min
    ai = np.where(ai < 0, lo - ai, ai)
    bi = np.where(bi < 0, lo - bi, bi)
    return np.abs(ai - bi)


def test_exp_float32_within_one_ulp(simd_level):
    # every 1013th float32 from -110 to 90: results from 0 through subnormals to inf
    pos = np.arange(0, np.float32(90).view(np.uint32), 1013, dtype=np.uint32)
    neg = np.arange(0x80000000, np.float32(-110).view(np.uint32), 1013, dtype=np.uint32)
    x = np.concatenate([pos, neg]).view(np.float32)
    y = ember._C.softmax_exp(x)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.float64)).astype(np.float32)
    u = ulp_distance(y, exact, np.int32)
    worst = np.argmax(u)
    assert u.max() <= 1, f"exp({x[worst]!r}) = {y[worst]!r}, expected {exact[worst]!r}"


def test_exp_float64_within_one_ulp(simd_level, rng):
    x = np.concatenate([rng.uniform(-750, 712, 300_000), rng.uniform(-1, 1, 100_000)])
    y = ember._C.softmax_exp(x)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.longdouble)).astype(np.float64)
    u = ulp_distance(y, exact, np.int64)
    worst = np.argmax(u)
    assert u.max() <= 1, f"exp({x[worst]!r}) = {y[worst]!r}, expected {exact[worst]!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_exp_specials(simd_level, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e30, -1e30, 88.7, 89.0, -87.3,
                  -103.9, -104.5, -745.0, -746.0, 709.7, 710.0], dtype)
    y = ember._C.softmax_exp(x)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.longdouble)).astype(dtype)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(exact))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(exact))
    assert np.all(ulp_distance(y[~np.isnan(y)], exact[~np.isnan(exact)],
                               np.int32 if dtype == np.float32 else np.int64) <= 1)


# ----------------------------------------------------------------------------------------------
# memory layouts: views are read through their strides, results are C-ordered
# ----------------------------------------------------------------------------------------------
def layouts(rng, dtype):
    base = randn(rng, (6, 8, 10), dtype)
    two = randn(rng, (9, 20), dtype)
    return {
        "transposed": (two.T, 1),
        "transposed_dim0": (two.T, 0),
        "row_slice": (two[:, 3:17], 1),
        "step_rows": (two[::2], -1),
        "step_cols": (two[:, ::3], 1),
        "reversed": (two[:, ::-1], 1),
        "reversed_rows": (two[::-1], 1),
        "middle_strided": (base[:, 1:7, ::2], 1),
        "permuted": (base.transpose(2, 0, 1), 1),
        "fortran": (np.asfortranarray(base), 1),
        "broadcast_rows": (np.broadcast_to(two[:1], (9, 20)), 1),
        "broadcast_inner": (np.broadcast_to(base[:, :, :1], (6, 8, 10)), 1),
        "zero_stride_class": (np.broadcast_to(two[:, :1], (9, 20)), 1),
        "dim0_of_3d": (base[::-1], 0),
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(layouts(np.random.default_rng(0), np.float32)))
@pytest.mark.parametrize("op", OPS)
def test_non_contiguous_layouts(rng, op, name, dtype):
    x, dim = layouts(rng, dtype)[name]
    x_before = x.copy()
    y = fwd(op, x, dim)
    assert y.flags.c_contiguous
    assert_close(y, getattr(ref, op)(np.ascontiguousarray(x, np.float64), dim), dtype,
                 log=op == "log_softmax")
    np.testing.assert_array_equal(x, x_before)
    # backward with a non-contiguous gradient and a non-contiguous saved output
    g = randn(rng, x.shape[::-1], dtype, 1.0).T
    y_view = np.asfortranarray(y)
    dx = bwd(op, y_view, g, dim)
    dx64 = getattr(ref, op + "_backward")(y.astype(np.float64), g.astype(np.float64), dim)
    assert_grad_close(dx, dx64, dtype, x.shape[dim])


@pytest.mark.parametrize("op", OPS)
def test_broadcast_gradient(rng, op):
    """A gradient that is a broadcast view (as from y.sum().backward()) is read correctly."""
    x = randn(rng, (5, 7), np.float64)
    y = fwd(op, x, 1)
    g = np.broadcast_to(np.float64(1.0), (5, 7))
    np.testing.assert_allclose(bwd(op, y, g, 1), getattr(ref, op + "_backward")(y, np.ones((5, 7)), 1),
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("op", OPS)
def test_zero_dim_and_zero_size(op, dtype):
    y = fwd(op, np.array(2.5, dtype), 0)
    assert y.shape == () and y.dtype == dtype
    assert y == (0.0 if op == "log_softmax" else 1.0)
    assert fwd(op, np.array(-7.0, dtype), -1).shape == ()
    for shape, dim in [((0, 5), 1), ((5, 0), 1), ((2, 0, 3), 1), ((2, 0, 3), 2), ((0,), 0)]:
        x = np.empty(shape, dtype)
        y = fwd(op, x, dim)
        assert y.shape == shape and y.dtype == dtype
        assert bwd(op, y, np.empty(shape, dtype), dim).shape == shape


def test_list_input_and_default_dim():
    np.testing.assert_allclose(ops.softmax([[1.0, 2.0, 3.0]]),
                               ref.softmax(np.array([[1.0, 2.0, 3.0]])), rtol=1e-15)


# ----------------------------------------------------------------------------------------------
# IEEE extremes
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_huge_logits_are_exact(simd_level, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1, 0.0]], dtype)
    y = ops.softmax(x, 1)
    assert np.all(np.isfinite(y))
    np.testing.assert_array_equal(y[0], [1, 0, 0])
    np.testing.assert_allclose(y[1], [1 / 3] * 3, rtol=1e-6)
    e = np.exp(-1.0)
    np.testing.assert_allclose(y[2], [1 / (1 + e), e / (1 + e), 0], rtol=1e-6)
    z = ops.log_softmax(x, 1)
    np.testing.assert_array_equal(z[0], [0, -2e4, -1e4])     # no cancellation in x - m - log s
    np.testing.assert_allclose(z[1], [-np.log(3)] * 3, rtol=1e-6)
    np.testing.assert_allclose(ops.softmin(x, 1)[0], [0, 1, 0])
    # same along a strided class axis
    np.testing.assert_array_equal(ops.log_softmax(np.ascontiguousarray(x.T), 0)[:, 0],
                                  [0, -2e4, -1e4])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("dim", [1, 0])
def test_infinities_and_nan(simd_level, dtype, dim):
    inf, nan = np.inf, np.nan
    rows = np.array([[-inf, 0.0, 1.0, -inf],        # -inf entries give 0 / -inf
                     [-inf, -inf, -inf, -inf],      # all -inf: nan (as PyTorch)
                     [inf, 0.0, 1.0, 2.0],          # +inf: nan everywhere
                     [nan, 0.0, 1.0, 2.0],          # nan propagates to the row
                     [-1e30, 0.0, 1e30, 3.0]], dtype)
    x = rows if dim == 1 else np.ascontiguousarray(rows.T)
    y = ops.softmax(x, dim)
    z = ops.log_softmax(x, dim)
    if dim == 0:
        y, z = y.T, z.T
    e = np.exp(1.0)
    np.testing.assert_allclose(y[0], [0, 1 / (1 + e), e / (1 + e), 0], rtol=1e-6)
    np.testing.assert_allclose(z[0], [-inf, -np.log1p(e), 1 - np.log1p(e), -inf], rtol=1e-6)
    for r in (1, 2, 3):
        assert np.all(np.isnan(y[r])) and np.all(np.isnan(z[r])), r
    np.testing.assert_array_equal(y[4], [0, 0, 1, 0])
    np.testing.assert_array_equal(z[4], np.array([-2e30, -1e30, 0, 3 - 1e30], dtype))


def test_extremes_match_torch(torch):
    x = np.array([[-np.inf, 0.0, 1.0], [-np.inf] * 3, [np.inf, 0.0, 1.0], [1e4, -1e4, 0.0],
                  [np.nan, 1.0, 2.0]], np.float32)
    for op in OPS:
        got = fwd(op, x, 1)
        want = getattr(torch.nn.functional, op)(torch.from_numpy(x), 1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


def test_underflowing_row_sums_to_one(simd_level):
    x = np.linspace(0, -200, 1001, dtype=np.float32)[None]   # most terms underflow to 0
    y = ops.softmax(x, 1)
    assert y[0, -1] == 0 and abs(y.sum(dtype=np.float64) - 1) < 1e-6


# ----------------------------------------------------------------------------------------------
# hypothesis properties
# ----------------------------------------------------------------------------------------------
row_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1,
                                                     max_side=40),
                        elements=st.floats(-300, 300, allow_nan=False))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=row_arrays, data=st.data())
def test_rows_sum_to_one_and_shift_invariant(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    y = ops.softmax(x, dim)
    assert np.all(y >= 0) and np.all(y <= 1)
    np.testing.assert_allclose(y.sum(axis=dim), 1.0, rtol=1e-12)
    shift = np.expand_dims(np.asarray(data.draw(st.floats(-50, 50)) + np.arange(
        np.prod(np.delete(x.shape, dim % x.ndim)), dtype=np.float64).reshape(
        np.delete(x.shape, dim % x.ndim))), dim)       # a different shift per slice
    np.testing.assert_allclose(ops.softmax(x + shift, dim), y, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(ops.softmin(x, dim), ops.softmax(-x, dim), rtol=1e-15, atol=0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1,
                                                 max_side=40),
                    elements=st.floats(-80, 80, width=32)), data=st.data())
def test_log_softmax_is_log_of_softmax(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    y = ops.softmax(x, dim)
    z = ops.log_softmax(x, dim)
    with np.errstate(divide="ignore"):
        logy = np.log(y.astype(np.float64))
    finite = y > np.finfo(np.float32).tiny              # log of a normal float32
    np.testing.assert_allclose(z[finite], logy[finite], rtol=1e-5, atol=1e-5)
    assert np.all(z <= 1e-6)


# ----------------------------------------------------------------------------------------------
# autograd: float64 gradcheck through the C++ backward, and the nn.functional API
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim", [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), 1), ((2, 3, 4), 2),
                                       ((2, 3, 4), 0), ((2, 3, 2, 2), -3), ((6,), 0), ((3, 1), 1)],
                         ids=str)
@pytest.mark.parametrize("op", OPS)
def test_gradcheck(rng, op, shape, dim):
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    fn = getattr(F, op)
    assert gradcheck(lambda t: fn(t, dim), (x,))
    # a composite: gradients flow through a following op (non-trivial upstream gradient)
    w = ember.tensor(rng.standard_normal(shape))
    assert gradcheck(lambda t: (fn(t * 2.0, dim) * w).sum(), (x,))


def test_implicit_dim_rule_and_warning(rng):
    for ndim, expected in [(0, 0), (1, 0), (2, 1), (3, 0), (4, 1)]:
        x = ember.tensor(rng.standard_normal((3,) * ndim))
        for op in OPS:
            with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op}"):
                y = getattr(F, op)(x)
            np.testing.assert_array_equal(y.numpy(), getattr(F, op)(x, expected).numpy())


def test_dtype_argument_and_half(rng):
    x = ember.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = F.softmax(x, 1, dtype=ember.float64)
    assert y.dtype == ember.float64
    np.testing.assert_allclose(y.detach().numpy(), ref.softmax(x.detach().numpy().astype(np.float64), 1),
                               rtol=1e-13)
    y.sum().backward()
    assert x.grad.dtype == ember.float32
    h = ember.tensor(rng.standard_normal((3, 4)).astype(np.float16), requires_grad=True)
    yh = F.log_softmax(h, 1)
    assert yh.dtype == ember.float16
    (yh * 2).sum().backward()
    assert h.grad.dtype == ember.float16
    np.testing.assert_allclose(yh.detach().numpy().astype(np.float64),
                               ref.log_softmax(h.detach().numpy().astype(np.float64), 1),
                               atol=4e-3)


def test_output_is_saved_and_inplace_edit_is_detected(rng):
    x = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = F.softmax(x, 1)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ----------------------------------------------------------------------------------------------
# PyTorch parity: forward and gradient through ember.nn.functional
# ----------------------------------------------------------------------------------------------
PARITY = [((64, 10), -1), ((5, 1), 1), ((7, 3), 1), ((9, 17), -1), ((3, 1001), 1), ((1, 10), 1),
          ((2, 5, 3, 4), 1), ((3, 6, 5), 1), ((4, 3, 2, 5), 2), ((6, 4), 0)]
PARITY_CASES = [(shape, dim, dtype, contiguous) for shape, dim in PARITY for dtype in DTYPES
                for contiguous in (True, False)] + [((4096, 1000), -1, np.float32, True)]


def parity_id(case):
    shape, dim, dtype, contiguous = case
    return f"{shape}-{dim}-{np.dtype(dtype).name}-{'contiguous' if contiguous else 'transposed'}"


@pytest.mark.parametrize("case", PARITY_CASES, ids=[parity_id(c) for c in PARITY_CASES])
@pytest.mark.parametrize("op", OPS)
def test_torch_parity(torch, rng, threads, op, case):
    shape, dim, dtype, contiguous = case
    data = randn(rng, shape, dtype)
    g = randn(rng, shape, dtype, 1.0)
    rev = tuple(range(len(shape)))[::-1]
    if contiguous:
        x = ember.tensor(data, requires_grad=True)
        xin = x
    else:                                    # the same values, stored transposed
        x = ember.tensor(np.ascontiguousarray(data.transpose(rev)), requires_grad=True)
        xin = x.permute(*rev)
    y = getattr(F, op)(xin, dim)
    (y * ember.tensor(g)).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ty = getattr(torch.nn.functional, op)(tx, dim)
    ty.backward(torch.from_numpy(g))
    assert_close(y.detach().numpy(), ty.detach().numpy().astype(np.float64), dtype,
                 log=op == "log_softmax")
    grad = x.grad.numpy() if contiguous else x.grad.numpy().transpose(rev)
    assert_grad_close(grad, tx.grad.numpy().astype(np.float64), dtype, shape[dim])


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", OPS)
def test_dim_out_of_range_is_torch_index_error(torch, op):
    for shape, dim in [((2, 3), 2), ((2, 3), -3), ((), 1), ((4,), 1)]:
        x = np.zeros(shape, np.float32)
        with pytest.raises(IndexError) as theirs:
            getattr(torch.nn.functional, op)(torch.from_numpy(x), dim)
        with pytest.raises(IndexError) as ours:
            fwd(op, x, dim)
        assert str(ours.value) == str(theirs.value)
        with pytest.raises(IndexError) as ours_f:
            getattr(F, op)(ember.tensor(x), dim)
        assert str(ours_f.value) == str(theirs.value)
        with pytest.raises(IndexError, match="Dimension out of range"):
            getattr(ref, op)(x, dim)


@pytest.mark.parametrize("op", OPS)
def test_integer_input_refused(op, torch):
    with pytest.raises(TypeError, match="float32 or float64"):
        fwd(op, np.arange(6).reshape(2, 3), 1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(F, op)(ember.tensor([[1, 2, 3]]), 1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(torch.nn.functional, op)(torch.tensor([[1, 2, 3]]), 1)
    # with dtype= the input is cast first, as PyTorch does
    y = getattr(F, op)(ember.tensor([[1, 2, 3]]), 1, dtype=ember.float32)
    assert y.dtype == ember.float32


def test_backward_bad_arguments():
    y = ops.softmax(np.zeros((2, 3), np.float32), 1)
    with pytest.raises(ValueError, match=r"y\(2, 3\) and grad\(3, 2\)"):
        ops.softmax_backward(y, np.zeros((3, 2), np.float32), 1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ops.log_softmax_backward(y, np.zeros((2, 3), np.float32), 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.softmax_backward(np.zeros((2, 3), np.int64), np.zeros((2, 3)), 1)
    with pytest.raises(TypeError):
        ember._C.softmax_backward(y, np.zeros((2, 3), np.float64), 1)
