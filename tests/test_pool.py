"""Pooling: max, average, adaptive and max-unpooling, 1-D and 2-D (ember.ops, its NumPy twins in
ember.ops.reference, the autograd Functions and ember.nn.functional).

Every op is checked over a table of geometries (odd sizes, stride above and below the kernel,
padding up to half the kernel, dilation, ceil_mode both ways, count_include_pad both ways, batch
1, channel counts that are not multiples of 16, wide rows that cross the vector width) against
  * the NumPy twin (forward, indices and backward; both dtypes; 1 and 2 threads; every SIMD
    level this CPU has),
  * float64 gradcheck through the real C++ backward (inputs without ties for max),
  * PyTorch (forward, indices and every gradient, through ember.nn.functional's autograd),
plus ties and NaN against PyTorch, a hypothesis property (max pool >= average pool), unbatched
and non-contiguous input, and bad input (ValueError/RuntimeError naming the shapes, IndexError
for out-of-range indices, never a crash).
"""
from __future__ import annotations

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
# Sums of a few products: float32 results may differ from another summation order by a few ulp.
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def distinct(rng, shape, dtype=np.float64):
    """Values at least 0.5 apart (a shuffled ramp): no ties, so max pooling is differentiable
    and a finite-difference step cannot change which element is the maximum."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float64) * 0.5 - n / 4).reshape(shape).astype(dtype)


# (input shape, kernel_size, stride, padding, dilation, ceil_mode)
CASES_2D = [
    ((2, 3, 9, 11), 3, 2, 1, 1, False),                     # odd sizes, overlapping, padding
    ((2, 3, 9, 11), 3, 2, 1, 1, True),
    ((1, 5, 8, 8), 2, 2, 0, 1, False),                      # classic 2x2 s2, batch 1
    ((2, 17, 7, 13), 2, 2, 0, 1, True),                     # odd sizes: partial last window
    ((2, 19, 6, 37), 2, 2, 1, 1, False),                    # 2x2 with padding k/2
    ((1, 3, 5, 67), 2, 2, 0, 1, False),                     # wide odd rows
    ((2, 3, 10, 12), 2, 3, 1, 1, False),                    # stride > kernel
    ((2, 3, 10, 12), 2, 3, 1, 1, True),
    ((1, 2, 11, 10), 3, 1, 1, 1, False),                    # stride 1: every input in 9 windows
    ((1, 4, 33, 35), 3, 2, 1, 1, False),                    # 3x3 s2 p1 on wide rows
    ((1, 4, 34, 70), 3, 2, 1, 1, True),
    ((2, 3, 7, 9), 4, 3, 2, 1, True),                       # even kernel, padding k/2, ceil
    ((1, 3, 9, 40), 5, 2, 2, 1, True),
    ((2, 3, 12, 13), 3, 2, 1, 2, False),                    # dilation
    ((2, 3, 12, 13), (3, 2), (2, 1), (1, 0), (2, 1), True),  # different geometry per dimension
    ((1, 2, 6, 5), (1, 3), (1, 2), (0, 1), 1, False),
    ((1, 1, 1, 1), 1, 1, 0, 1, False),                      # a single pixel
    ((3, 1, 4, 4), 4, 1, 0, 1, False),                      # global window
]
AVG_CASES_2D = [c for c in CASES_2D if c[4] == 1]

# (input shape, kernel_size, stride, padding, dilation, ceil_mode); (C, L) is unbatched
CASES_1D = [
    ((2, 3, 17), 3, 2, 1, 1, False),
    ((2, 3, 17), 3, 2, 1, 1, True),
    ((1, 5, 20), 2, 2, 0, 1, False),
    ((2, 3, 13), 2, 3, 1, 1, True),                          # stride > kernel
    ((2, 3, 30), 3, 2, 1, 3, False),                         # dilation
    ((1, 19, 70), 4, 1, 2, 1, False),                        # stride 1, padding k/2
    ((3, 50), 3, 2, 1, 1, True),                             # unbatched
]
AVG_CASES_1D = [c for c in CASES_1D if c[4] == 1]


def case_id(case):
    shape, k, s, p, d, ceil = case
    return f"{'x'.join(map(str, shape))}-k{k}-s{s}-p{p}-d{d}-{'ceil' if ceil else 'floor'}"


# ---- max pooling: ember.ops against the NumPy twin ---------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_2D, ids=case_id)
def test_max_pool2d_matches_reference(rng, case, dtype, simd_level):
    shape, k, s, p, d, ceil = case
    x = randn(rng, shape, dtype)
    y, idx = ops.max_pool2d(x, k, s, p, d, ceil)
    ry, ridx = ref.max_pool2d(x, k, s, p, d, ceil)
    assert y.shape == ry.shape and y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, ry)              # a max is a copy: exact
    np.testing.assert_array_equal(idx, ridx)
    np.testing.assert_array_equal(ops.max_pool2d(x, k, s, p, d, ceil, return_indices=False), y)
    g = randn(rng, y.shape, dtype)
    np.testing.assert_allclose(ops.max_pool2d_backward(g, idx, x.shape),
                               ref.max_pool2d_backward(g, ridx, x.shape), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_1D, ids=case_id)
def test_max_pool1d_matches_reference(rng, case, dtype):
    shape, k, s, p, d, ceil = case
    x = randn(rng, shape, dtype)
    y, idx = ops.max_pool1d(x, k, s, p, d, ceil)
    ry, ridx = ref.max_pool1d(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = randn(rng, y.shape, dtype)
    np.testing.assert_allclose(ops.max_pool1d_backward(g, idx, x.shape),
                               ref.max_pool1d_backward(g, ridx, x.shape), **TOL[dtype])


def test_max_pool_backward_accumulates_overlapping_windows():
    # One dominant element inside all four 3x3 stride-1 windows receives all four gradients.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 5.0
    y, idx = ops.max_pool2d(x, 3, 1)
    assert np.all(idx == 6)
    g = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    gx = ops.max_pool2d_backward(g, idx, x.shape)
    assert gx[0, 0, 1, 2] == 10.0 and np.count_nonzero(gx) == 1


# ---- average pooling ----------------------------------------------------------------------------
@pytest.mark.parametrize("divisor_override", [None, 3, -2])
@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl_pad", "excl_pad"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", AVG_CASES_2D, ids=case_id)
def test_avg_pool2d_matches_reference(rng, case, dtype, count_include_pad, divisor_override):
    shape, k, s, p, _, ceil = case
    x = randn(rng, shape, dtype)
    args = (k, s, p, ceil, count_include_pad, divisor_override)
    y = ops.avg_pool2d(x, *args)
    ry = ref.avg_pool2d(x, *args)
    assert y.shape == ry.shape and y.dtype == dtype
    np.testing.assert_allclose(y, ry, **TOL[dtype])
    g = randn(rng, y.shape, dtype)
    np.testing.assert_allclose(ops.avg_pool2d_backward(g, x.shape, *args),
                               ref.avg_pool2d_backward(g, x.shape, *args), **TOL[dtype])


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl_pad", "excl_pad"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", AVG_CASES_1D, ids=case_id)
def test_avg_pool1d_matches_reference(rng, case, dtype, count_include_pad):
    shape, k, s, p, _, ceil = case
    x = randn(rng, shape, dtype)
    y = ops.avg_pool1d(x, k, s, p, ceil, count_include_pad)
    np.testing.assert_allclose(y, ref.avg_pool1d(x, k, s, p, ceil, count_include_pad),
                               **TOL[dtype])
    g = randn(rng, y.shape, dtype)
    np.testing.assert_allclose(
        ops.avg_pool1d_backward(g, x.shape, k, s, p, ceil, count_include_pad),
        ref.avg_pool1d_backward(g, x.shape, k, s, p, ceil, count_include_pad), **TOL[dtype])


def test_avg_pool_divisors_by_hand():
    x = np.ones((1, 1, 5, 5))
    # k3 s2 p1 on ones: corners see 2x2 input elements of a 3x3 window.
    incl = ops.avg_pool2d(x, 3, 2, 1, count_include_pad=True)
    excl = ops.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(incl[0, 0], [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9],
                                            [4 / 9, 6 / 9, 4 / 9]])
    np.testing.assert_allclose(excl, np.ones((1, 1, 3, 3)))
    np.testing.assert_allclose(ops.avg_pool2d(x, 2, divisor_override=3), np.full((1, 1, 2, 2), 4 / 3))


# ---- adaptive pooling ---------------------------------------------------------------------------
ADAPTIVE_SIZES = [1, (3, 4), (None, 5), (9, 11), (13, 17), (4, 1), (2, None)]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
def test_adaptive_pool2d_matches_reference(rng, size, dtype):
    x = randn(rng, (2, 3, 9, 11), dtype)
    y = ops.adaptive_avg_pool2d(x, size)
    np.testing.assert_allclose(y, ref.adaptive_avg_pool2d(x, size), **TOL[dtype])
    g = randn(rng, y.shape, dtype)
    np.testing.assert_allclose(ops.adaptive_avg_pool2d_backward(g, x.shape),
                               ref.adaptive_avg_pool2d_backward(g, x.shape), **TOL[dtype])
    m, idx = ops.adaptive_max_pool2d(x, size)
    rm, ridx = ref.adaptive_max_pool2d(x, size)
    np.testing.assert_array_equal(m, rm)
    np.testing.assert_array_equal(idx, ridx)
    np.testing.assert_allclose(ops.adaptive_max_pool2d_backward(g, idx, x.shape),
                               ref.adaptive_max_pool2d_backward(g, ridx, x.shape), **TOL[dtype])


@pytest.mark.parametrize("size", [1, 4, 7, 12, (None,)], ids=str)
def test_adaptive_pool1d_matches_reference(rng, size):
    x = randn(rng, (2, 3, 7), np.float64)
    y = ops.adaptive_avg_pool1d(x, size)
    np.testing.assert_allclose(y, ref.adaptive_avg_pool1d(x, size), **TOL[np.float64])
    g = randn(rng, y.shape, np.float64)
    np.testing.assert_allclose(ops.adaptive_avg_pool1d_backward(g, x.shape),
                               ref.adaptive_avg_pool1d_backward(g, x.shape), **TOL[np.float64])
    m, idx = ops.adaptive_max_pool1d(x, size)
    rm, ridx = ref.adaptive_max_pool1d(x, size)
    np.testing.assert_array_equal(m, rm)
    np.testing.assert_array_equal(idx, ridx)
    np.testing.assert_allclose(ops.adaptive_max_pool1d_backward(g, idx, x.shape),
                               ref.adaptive_max_pool1d_backward(g, ridx, x.shape))


def test_adaptive_global_pooling_is_the_plane_mean(rng):
    x = randn(rng, (3, 5, 7, 6), np.float64)
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, 1), x.mean(axis=(2, 3), keepdims=True),
                               rtol=1e-13)
    np.testing.assert_array_equal(ops.adaptive_max_pool2d(x, 1)[0],
                                  x.max(axis=(2, 3), keepdims=True))


def test_adaptive_zero_output_size(rng):
    x = randn(rng, (2, 3, 5, 4), np.float32)
    assert ops.adaptive_avg_pool2d(x, (0, 2)).shape == (2, 3, 0, 2)
    g = np.zeros((2, 3, 0, 2), np.float32)
    np.testing.assert_array_equal(ops.adaptive_avg_pool2d_backward(g, x.shape), np.zeros_like(x))


# ---- max unpooling ------------------------------------------------------------------------------
# (input shape, kernel, stride, padding, output_size for unpooling or None)
UNPOOL_CASES = [
    ((2, 3, 8, 8), 2, 2, 0, None),
    ((2, 3, 9, 11), 2, 2, 0, (9, 11)),
    ((1, 5, 9, 11), 3, 2, 1, (1, 5, 9, 11)),     # overlapping windows: duplicate indices
    ((2, 3, 10, 12), 2, 3, 1, (10, 12)),         # stride > kernel
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", UNPOOL_CASES, ids=str)
def test_max_unpool2d_matches_reference(rng, case, dtype):
    shape, k, s, p, out = case
    y, idx = ops.max_pool2d(randn(rng, shape, dtype), k, s, p)
    u = ops.max_unpool2d(y, idx, k, s, p, out)
    np.testing.assert_array_equal(u, ref.max_unpool2d(y, idx, k, s, p, out))
    g = randn(rng, u.shape, dtype)
    np.testing.assert_array_equal(ops.max_unpool2d_backward(g, idx),
                                  ref.max_unpool2d_backward(g, idx))


def test_max_unpool_inverts_max_pool_on_the_maxima(rng):
    x = distinct(rng, (2, 3, 8, 10))
    y, idx = ops.max_pool2d(x, 2)
    u = ops.max_unpool2d(y, idx, 2)
    kept = u != 0
    np.testing.assert_array_equal(u[kept], x[kept])
    assert kept.sum() == y.size


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_max_unpool1d_matches_reference(rng, dtype):
    y, idx = ops.max_pool1d(randn(rng, (2, 3, 17), dtype), 3, 2, 1)
    u = ops.max_unpool1d(y, idx, 3, 2, 1, output_size=(17,))
    np.testing.assert_array_equal(u, ref.max_unpool1d(y, idx, 3, 2, 1, output_size=(17,)))
    g = randn(rng, u.shape, dtype)
    np.testing.assert_array_equal(ops.max_unpool1d_backward(g, idx),
                                  ref.max_unpool1d_backward(g, idx))


# ---- threads, layouts, unbatched ----------------------------------------------------------------
def test_every_op_with_threads(rng, threads):
    """A problem big enough to be split over two threads gives the twin's answer."""
    x = randn(rng, (4, 21, 40, 38), np.float32)
    y, idx = ops.max_pool2d(x, 3, 2, 1)
    ry, ridx = ref.max_pool2d(x, 3, 2, 1)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = randn(rng, y.shape, np.float32)
    np.testing.assert_allclose(ops.max_pool2d_backward(g, idx, x.shape),
                               ref.max_pool2d_backward(g, ridx, x.shape), **TOL[np.float32])
    y2, idx2 = ops.max_pool2d(x, 2, 2)
    np.testing.assert_array_equal(y2, ref.max_pool2d(x, 2, 2)[0])
    g2 = randn(rng, y2.shape, np.float32)
    np.testing.assert_array_equal(ops.max_pool2d_backward(g2, idx2, x.shape),
                                  ref.max_pool2d_backward(g2, idx2, x.shape))
    for cip in (True, False):
        np.testing.assert_allclose(ops.avg_pool2d(x, 3, 2, 1, False, cip),
                                   ref.avg_pool2d(x, 3, 2, 1, False, cip), **TOL[np.float32])
        np.testing.assert_allclose(ops.avg_pool2d_backward(g, x.shape, 3, 2, 1, False, cip),
                                   ref.avg_pool2d_backward(g, x.shape, 3, 2, 1, False, cip),
                                   **TOL[np.float32])
    np.testing.assert_allclose(ops.adaptive_avg_pool2d(x, (5, 7)),
                               ref.adaptive_avg_pool2d(x, (5, 7)), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ops.adaptive_max_pool2d(x, (5, 7))[1],
                                  ref.adaptive_max_pool2d(x, (5, 7))[1])
    u = ops.max_unpool2d(y2, idx2, 2)
    np.testing.assert_array_equal(u, ref.max_unpool2d(y2, idx2, 2))


def test_results_do_not_depend_on_thread_count(rng, restore_threads):
    x = randn(rng, (4, 21, 40, 38), np.float32)
    results = []
    for n in (1, 2):
        ember.set_num_threads(n)
        y, idx = ops.max_pool2d(x, 3, 2, 1)
        results.append((y, idx, ops.max_pool2d_backward(y, idx, x.shape),
                        ops.avg_pool2d_backward(y, x.shape, 3, 2, 1)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "reversed", "fortran"])
def test_non_contiguous_input(rng, layout):
    base = randn(rng, (2, 3, 14, 16), np.float64)
    x = {"transposed": base.transpose(0, 1, 3, 2), "sliced": base[:, :, ::2, 1::2],
         "reversed": base[:, ::-1, :, ::-1], "fortran": np.asfortranarray(base)}[layout]
    xc = np.ascontiguousarray(x)
    for a, b in zip(ops.max_pool2d(x, 3, 2, 1), ops.max_pool2d(xc, 3, 2, 1)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ops.avg_pool2d(x, 2), ops.avg_pool2d(xc, 2))
    np.testing.assert_array_equal(ops.adaptive_avg_pool2d(x, 3), ops.adaptive_avg_pool2d(xc, 3))
    g = randn(rng, ops.avg_pool2d(xc, 2).shape, np.float64)
    np.testing.assert_array_equal(ops.avg_pool2d_backward(g.transpose(0, 1, 3, 2).copy()
                                                          .transpose(0, 1, 3, 2), x.shape, 2),
                                  ops.avg_pool2d_backward(g, x.shape, 2))


def test_unbatched_input(rng):
    x = randn(rng, (3, 9, 11), np.float32)
    y, idx = ops.max_pool2d(x, 3, 2, 1)
    by, bidx = ops.max_pool2d(x[None], 3, 2, 1)
    np.testing.assert_array_equal(y, by[0])
    np.testing.assert_array_equal(idx, bidx[0])
    assert ops.max_pool2d_backward(y, idx, x.shape).shape == x.shape
    np.testing.assert_array_equal(ops.avg_pool2d(x, 2), ops.avg_pool2d(x[None], 2)[0])
    np.testing.assert_array_equal(ops.adaptive_avg_pool2d(x, 2),
                                  ops.adaptive_avg_pool2d(x[None], 2)[0])
    np.testing.assert_array_equal(ops.max_unpool2d(y, idx, 3, 2, 1, (9, 11)),
                                  ops.max_unpool2d(by, bidx, 3, 2, 1, (9, 11))[0])
    x1 = randn(rng, (4, 15), np.float32)
    np.testing.assert_array_equal(ops.max_pool1d(x1, 3)[0], ops.max_pool1d(x1[None], 3)[0][0])
    np.testing.assert_array_equal(ops.avg_pool1d(x1, 3), ops.avg_pool1d(x1[None], 3)[0])


def test_empty_batch():
    x = np.zeros((0, 3, 8, 8), np.float32)
    y, idx = ops.max_pool2d(x, 2)
    assert y.shape == idx.shape == (0, 3, 4, 4)
    assert ops.max_pool2d_backward(y, idx, x.shape).shape == x.shape
    assert ops.avg_pool2d(x, 3, 2, 1).shape == (0, 3, 4, 4)
    assert ops.adaptive_max_pool2d(x, 2)[0].shape == (0, 3, 2, 2)


def test_window_entirely_in_padding():
    # kernel 2 with dilation 5 and padding 1 on length 4: taps at -1 and 4, both outside. The
    # max of nothing is -inf; ember reports index -1 (PyTorch reports 4, outside the window) and
    # the backward skips it.
    x = np.arange(4.0).reshape(1, 1, 4)
    y, idx = ops.max_pool1d(x, 2, 1, 1, 5)
    assert y.shape == (1, 1, 1) and y[0, 0, 0] == -np.inf and idx[0, 0, 0] == -1
    np.testing.assert_array_equal(ref.max_pool1d(x, 2, 1, 1, 5)[1], idx)
    np.testing.assert_array_equal(ops.max_pool1d_backward(np.ones((1, 1, 1)), idx, x.shape),
                                  np.zeros((1, 1, 4)))


# ---- ties, NaN and infinities -------------------------------------------------------------------
def ties_and_nan_inputs(rng):
    ints = rng.integers(0, 3, (2, 3, 9, 11)).astype(np.float32)       # many ties
    const = np.full((1, 2, 6, 7), 1.5, np.float32)
    nan = randn(rng, (2, 3, 9, 11), np.float32)
    nan[rng.random(nan.shape) < 0.15] = np.nan                         # some windows with 2+ NaNs
    ninf = np.full((1, 2, 5, 6), -np.inf, np.float32)
    mixed = randn(rng, (1, 3, 8, 9), np.float32)
    mixed[0, 0, ::2, ::3] = np.inf
    mixed[0, 1, 1::2, ::2] = -np.inf
    mixed[0, 2, 3, 4] = np.nan
    return {"ties": ints, "constant": const, "nan": nan, "all-ninf": ninf, "inf": mixed}


@pytest.mark.parametrize("kind", ["ties", "constant", "nan", "all-ninf", "inf"])
@pytest.mark.parametrize("geometry", [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (2, 1, 0, 1)],
                         ids=str)
def test_ties_and_nan_match_torch(torch, rng, kind, geometry, simd_level):
    x = ties_and_nan_inputs(rng)[kind]
    k, s, p, d = geometry
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), k, s, p, d,
                                              return_indices=True)
    y, idx = ops.max_pool2d(x, k, s, p, d)
    np.testing.assert_array_equal(y, ty.numpy())      # NaN == NaN for assert_array_equal
    np.testing.assert_array_equal(idx, tidx.numpy())
    np.testing.assert_array_equal(ref.max_pool2d(x, k, s, p, d)[1], tidx.numpy())
    np.testing.assert_array_equal(ops.max_pool2d(x, k, s, p, d, return_indices=False), y)
    ta, tai = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(x), (3, 4),
                                                      return_indices=True)
    a, ai = ops.adaptive_max_pool2d(x, (3, 4))
    np.testing.assert_array_equal(a, ta.numpy())
    np.testing.assert_array_equal(ai, tai.numpy())
    np.testing.assert_array_equal(ops.avg_pool2d(x, k, s, p),
                                  torch.nn.functional.avg_pool2d(torch.from_numpy(x), k, s, p)
                                  .numpy())


def test_ties_take_the_first_maximum_and_nan_the_last():
    x = np.array([[[1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan, 1.0]]])
    y, idx = ops.max_pool1d(x, 4)
    assert y[0, 0, 0] == 3.0 and idx[0, 0, 0] == 1
    assert np.isnan(y[0, 0, 1]) and idx[0, 0, 1] == 6


# ---- gradcheck through the C++ backward (float64) -----------------------------------------------
def leaf(a):
    return ember.tensor(a, requires_grad=True)


@pytest.mark.parametrize("case", [((1, 2, 5, 6), 3, 2, 1, 1, False),
                                  ((1, 2, 5, 6), 2, 1, 1, 2, True),
                                  ((2, 1, 5, 5), 2, 3, 1, 1, True),
                                  ((1, 2, 6, 6), 2, 2, 0, 1, False)], ids=case_id)
def test_gradcheck_max_and_avg_pool2d(rng, case):
    shape, k, s, p, d, ceil = case
    x = leaf(distinct(rng, shape))
    assert gradcheck(lambda t: F.max_pool2d(t, k, s, p, d, ceil), (x,))
    if d == 1:
        for cip in (True, False):
            assert gradcheck(lambda t: F.avg_pool2d(t, k, s, p, ceil, cip), (x,))
        assert gradcheck(lambda t: F.avg_pool2d(t, k, s, p, ceil, True, 5), (x,))


def test_gradcheck_1d_adaptive_and_unpool(rng):
    x1 = leaf(distinct(rng, (2, 2, 9)))
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, 1, True), (x1,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, True, False), (x1,))
    assert gradcheck(lambda t: F.adaptive_avg_pool1d(t, 4), (x1,))
    assert gradcheck(lambda t: F.adaptive_max_pool1d(t, 4), (x1,))
    x2 = leaf(distinct(rng, (1, 2, 5, 7)))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x2,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), (x2,))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (6, None)), (x2,))
    # Non-overlapping windows: every index distinct, so unpooling is differentiable exactly.
    pooled, idx = ops.max_pool2d(distinct(rng, (1, 2, 6, 7)), 2, 2)
    assert gradcheck(lambda t: F.max_unpool2d(t, ember.tensor(idx), 2, 2, 0, (6, 7)),
                     (leaf(pooled),))
    p1, i1 = ops.max_pool1d(distinct(rng, (2, 2, 9)), 2)
    assert gradcheck(lambda t: F.max_unpool1d(t, ember.tensor(i1), 2), (leaf(p1),))


# ---- PyTorch parity through ember.nn.functional --------------------------------------------------
def parity(torch, rng, x, ember_fn, torch_fn, dtype, exact=False):
    """Forward (every output) and the input gradient under a random upstream gradient."""
    ex = leaf(x.copy())
    tx = torch.from_numpy(x.copy()).requires_grad_()
    e_out, t_out = ember_fn(ex), torch_fn(tx)
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert tuple(e.shape) == tuple(t.shape)
        assert e.detach().numpy().dtype == t.detach().numpy().dtype
        if exact:
            np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
        else:
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(t_outs[0].shape)).astype(dtype)
    e_outs[0].backward(ember.tensor(g))
    t_outs[0].backward(torch.from_numpy(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_2D, ids=case_id)
def test_max_pool2d_torch_parity(torch, rng, case, dtype):
    shape, k, s, p, d, ceil = case
    x = randn(rng, shape, dtype)
    parity(torch, rng, x, lambda t: F.max_pool2d(t, k, s, p, d, ceil, return_indices=True),
           lambda t: torch.nn.functional.max_pool2d(t, k, s, p, d, ceil, return_indices=True),
           dtype, exact=True)
    parity(torch, rng, x, lambda t: F.max_pool2d(t, k, s, p, d, ceil),
           lambda t: torch.nn.functional.max_pool2d(t, k, s, p, d, ceil), dtype, exact=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_1D, ids=case_id)
def test_max_pool1d_torch_parity(torch, rng, case, dtype):
    shape, k, s, p, d, ceil = case
    x = randn(rng, shape, dtype)
    parity(torch, rng, x, lambda t: F.max_pool1d(t, k, s, p, d, ceil, return_indices=True),
           lambda t: torch.nn.functional.max_pool1d(t, k, s, p, d, ceil, return_indices=True),
           dtype, exact=True)


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl_pad", "excl_pad"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", AVG_CASES_2D, ids=case_id)
def test_avg_pool2d_torch_parity(torch, rng, case, dtype, count_include_pad):
    shape, k, s, p, _, ceil = case
    x = randn(rng, shape, dtype)
    parity(torch, rng, x, lambda t: F.avg_pool2d(t, k, s, p, ceil, count_include_pad),
           lambda t: torch.nn.functional.avg_pool2d(t, k, s, p, ceil, count_include_pad), dtype)
    parity(torch, rng, x, lambda t: F.avg_pool2d(t, k, s, p, ceil, count_include_pad, 7),
           lambda t: torch.nn.functional.avg_pool2d(t, k, s, p, ceil, count_include_pad, 7),
           dtype)


@pytest.mark.parametrize("count_include_pad", [True, False], ids=["incl_pad", "excl_pad"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", AVG_CASES_1D, ids=case_id)
def test_avg_pool1d_torch_parity(torch, rng, case, dtype, count_include_pad):
    shape, k, s, p, _, ceil = case
    x = randn(rng, shape, dtype)
    parity(torch, rng, x, lambda t: F.avg_pool1d(t, k, s, p, ceil, count_include_pad),
           lambda t: torch.nn.functional.avg_pool1d(t, k, s, p, ceil, count_include_pad), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("size", ADAPTIVE_SIZES, ids=str)
def test_adaptive_pool2d_torch_parity(torch, rng, size, dtype):
    x = randn(rng, (2, 3, 9, 11), dtype)
    parity(torch, rng, x, lambda t: F.adaptive_avg_pool2d(t, size),
           lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), dtype)
    parity(torch, rng, x, lambda t: F.adaptive_max_pool2d(t, size, return_indices=True),
           lambda t: torch.nn.functional.adaptive_max_pool2d(t, size, return_indices=True),
           dtype, exact=True)
    parity(torch, rng, x[0], lambda t: F.adaptive_avg_pool2d(t, size),       # unbatched
           lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), dtype)


@pytest.mark.parametrize("size", [1, 3, 7, 10], ids=str)
def test_adaptive_pool1d_torch_parity(torch, rng, size):
    x = randn(rng, (2, 3, 7), np.float32)
    parity(torch, rng, x, lambda t: F.adaptive_avg_pool1d(t, size),
           lambda t: torch.nn.functional.adaptive_avg_pool1d(t, size), np.float32)
    parity(torch, rng, x, lambda t: F.adaptive_max_pool1d(t, size, return_indices=True),
           lambda t: torch.nn.functional.adaptive_max_pool1d(t, size, return_indices=True),
           np.float32, exact=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", UNPOOL_CASES, ids=str)
def test_max_unpool2d_torch_parity(torch, rng, case, dtype):
    shape, k, s, p, out = case
    y, idx = ops.max_pool2d(randn(rng, shape, dtype), k, s, p)
    tidx = torch.from_numpy(idx)
    parity(torch, rng, y, lambda t: F.max_unpool2d(t, ember.tensor(idx), k, s, p, out),
           lambda t: torch.nn.functional.max_unpool2d(t, tidx, k, s, p, out), dtype, exact=True)
    parity(torch, rng, y[0], lambda t: F.max_unpool2d(t, ember.tensor(idx[0]), k, s, p, out),
           lambda t: torch.nn.functional.max_unpool2d(t, tidx[0], k, s, p, out), dtype,
           exact=True)


def test_max_unpool1d_torch_parity(torch, rng):
    y, idx = ops.max_pool1d(randn(rng, (2, 3, 17), np.float32), 3, 2, 1)
    tidx = torch.from_numpy(idx)
    for out in (None, (17,), (1, 1, 18)):
        parity(torch, rng, y, lambda t: F.max_unpool1d(t, ember.tensor(idx), 3, 2, 1, out),
               lambda t: torch.nn.functional.max_unpool1d(t, tidx, 3, 2, 1, out), np.float32,
               exact=True)


def test_functional_non_contiguous_and_unbatched_torch_parity(torch, rng):
    base = randn(rng, (2, 3, 12, 14), np.float32)
    e = leaf(base).transpose(2, 3)
    t = torch.from_numpy(base).requires_grad_().transpose(2, 3)
    ey, ei = F.max_pool2d(e, 3, 2, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool2d(t, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ey.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    parity(torch, rng, base[0], lambda t: F.max_pool2d(t, 3, 2, 1),
           lambda t: torch.nn.functional.max_pool2d(t, 3, 2, 1), np.float32, exact=True)
    parity(torch, rng, base[0], lambda t: F.avg_pool2d(t, 3, 2, 1),
           lambda t: torch.nn.functional.avg_pool2d(t, 3, 2, 1), np.float32)
    parity(torch, rng, base[0, 0], lambda t: F.max_pool1d(t, 3, 2, 1),
           lambda t: torch.nn.functional.max_pool1d(t, 3, 2, 1), np.float32, exact=True)


def test_functional_indices_are_not_differentiable_and_no_grad_skips_them(rng):
    x = leaf(randn(rng, (1, 2, 6, 6), np.float32))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.requires_grad and not idx.requires_grad and idx.dtype == ember.int64
    with ember.no_grad():
        z = F.max_pool2d(x, 2)
    assert not z.requires_grad
    np.testing.assert_array_equal(z.numpy(), y.detach().numpy())
    y2, i2 = F.max_pool2d_with_indices(x, 2)
    np.testing.assert_array_equal(i2.numpy(), idx.numpy())


# ---- a property: max pooling dominates average pooling ------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 10),
       w=st.integers(1, 10), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 4),
       sw=st.integers(1, 4), ceil=st.booleans())
def test_max_pool_is_at_least_avg_pool(data, n, c, h, w, kh, kw, sh, sw, ceil):
    kh, kw = min(kh, h), min(kw, w)
    x = data.draw(hnp.arrays(np.float64, (n, c, h, w),
                             elements=st.floats(-1e6, 1e6, allow_nan=False)))
    mx = ops.max_pool2d(x, (kh, kw), (sh, sw), 0, 1, ceil, return_indices=False)
    av = ops.avg_pool2d(x, (kh, kw), (sh, sw), 0, ceil)
    assert mx.shape == av.shape
    assert np.all(av <= mx + 1e-9 * (1 + np.abs(mx)))


# ---- bad input ------------------------------------------------------------------------------------
BAD_GEOMETRY = [
    (dict(kernel_size=0), "kernel_size"),
    (dict(kernel_size=-2), "kernel_size"),
    (dict(kernel_size=2, stride=0), "stride"),
    (dict(kernel_size=2, stride=-1), "stride"),
    (dict(kernel_size=3, padding=2), "padding"),
    (dict(kernel_size=2, padding=-1), "padding"),
    (dict(kernel_size=7), r"\(5, 6\).*too small"),         # kernel larger than the input
    (dict(kernel_size=(8, 2), padding=(1, 0)), r"\(5, 6\).*too small"),  # > padded input
]


@pytest.mark.parametrize("kwargs,match", BAD_GEOMETRY, ids=str)
def test_bad_geometry_raises(kwargs, match):
    x = np.zeros((1, 2, 5, 6), np.float32)
    with pytest.raises(ValueError, match=match):
        ops.max_pool2d(x, **kwargs)
    with pytest.raises(ValueError, match=match):
        ops.avg_pool2d(x, **kwargs)
    with pytest.raises(ValueError, match=match):
        ref.max_pool2d(x, **kwargs)
    with pytest.raises(RuntimeError, match=match):
        F.max_pool2d(ember.tensor(x), **kwargs)
    with pytest.raises(RuntimeError, match=match):
        F.avg_pool2d(ember.tensor(x), **kwargs)


def test_bad_dilation_and_divisor():
    x = np.zeros((1, 2, 5, 6), np.float32)
    with pytest.raises(ValueError, match="dilation"):
        ops.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match="divisor_override"):
        ops.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="kernel_size"):
        ops.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match="kernel_size"):
        ops.max_pool2d(x, 2.5)


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 4, 4), (5,)], ids=str)
def test_wrong_rank_raises_naming_the_shape(shape):
    x = np.zeros(shape, np.float32)
    text = str(shape).replace("(", r"\(").replace(")", r"\)")
    for fn in (lambda: ops.max_pool2d(x, 2), lambda: ops.avg_pool2d(x, 2),
               lambda: ops.adaptive_avg_pool2d(x, 2), lambda: ops.adaptive_max_pool2d(x, 2)):
        with pytest.raises(ValueError, match=text):
            fn()
    with pytest.raises(RuntimeError, match=text):
        F.max_pool2d(ember.tensor(x), 2)
    if len(shape) not in (2, 3):
        with pytest.raises(ValueError, match=text):
            ops.max_pool1d(x, 2)


def test_empty_channel_or_plane_raises():
    for shape in [(1, 0, 4, 4), (1, 2, 0, 4), (2, 4, 0)]:
        x = np.zeros(shape, np.float32)
        with pytest.raises(ValueError, match="non-empty"):
            ops.max_pool2d(x, 1) if len(shape) == 4 else ops.max_pool1d(x, 1)
    with pytest.raises(ValueError, match="non-empty"):
        ops.adaptive_avg_pool2d(np.zeros((1, 2, 0, 4)), 2)


def test_wrong_dtype_raises():
    with pytest.raises(TypeError, match="int64"):
        ops.max_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2)
    y, idx = ops.max_pool2d(np.zeros((1, 1, 4, 4), np.float32), 2)
    with pytest.raises(TypeError, match="int64"):
        ops.max_unpool2d(y, idx.astype(np.int32), 2)
    with pytest.raises(TypeError, match="int64 or int32"):
        ops.max_pool2d_backward(y, idx.astype(np.int16), (1, 1, 4, 4))
    with pytest.raises(TypeError, match="index_dtype"):
        ops.max_pool2d(np.zeros((1, 1, 4, 4), np.float32), 2, index_dtype=np.int16)


def test_int32_indices_match_int64(rng):
    """Compact int32 indices name the same positions and give the same backward."""
    x = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    y64, i64 = ops.max_pool2d(x, 3, 2, 1)
    y32, i32 = ops.max_pool2d(x, 3, 2, 1, index_dtype=np.int32)
    assert i32.dtype == np.int32
    np.testing.assert_array_equal(y32, y64)
    np.testing.assert_array_equal(i32, i64)
    g = rng.standard_normal(y64.shape).astype(np.float32)
    np.testing.assert_array_equal(ops.max_pool2d_backward(g, i32, x.shape),
                                  ops.max_pool2d_backward(g, i64, x.shape))


def test_unpool_output_size_mismatch_raises():
    y, idx = ops.max_pool2d(np.zeros((1, 2, 5, 5), np.float32), 2)
    with pytest.raises(ValueError, match=r"\(6, 6\).*between 2 and 6"):
        ops.max_unpool2d(y, idx, 2, output_size=(6, 6))
    with pytest.raises(ValueError, match="2 or 4 elements"):
        ops.max_unpool2d(y, idx, 2, output_size=(5,))
    with pytest.raises(ValueError, match=r"\(6, 6\)"):
        F.max_unpool2d(ember.tensor(y), ember.tensor(idx), 2, output_size=(6, 6))
    with pytest.raises(ValueError, match="indices of shape"):
        ops.max_unpool2d(y, idx[..., :1], 2)


def test_out_of_range_indices_raise_not_crash():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, idx = ops.max_pool2d(x, 2)
    for bad in (idx + 100, -idx - 2, np.full_like(idx, 2**62)):
        with pytest.raises(IndexError, match="outside the plane"):
            ops.max_unpool2d(y, bad, 2)
        with pytest.raises(IndexError, match="outside the plane"):
            ops.max_pool2d_backward(y, bad, x.shape)
        with pytest.raises(IndexError, match="outside the plane"):
            ops.max_unpool2d_backward(x, bad)
        with pytest.raises(IndexError, match="outside the plane"):
            ref.max_unpool2d(y, bad, 2)
        with pytest.raises(RuntimeError, match="outside the plane"):
            F.max_unpool2d(ember.tensor(y), ember.tensor(bad), 2)
    # Index 16 is just past a 4x4 plane; the error names the plane size.
    edge = idx.copy()
    edge[0, 0, 1, 1] = 16
    with pytest.raises(IndexError, match="16 .* 4x4"):
        ops.max_unpool2d(y, edge, 2)


def test_backward_shape_mismatch_raises():
    x = np.zeros((1, 2, 6, 6))
    y, idx = ops.max_pool2d(x, 2)
    with pytest.raises(ValueError, match="input_shape"):
        ops.max_pool2d_backward(y, idx, (1, 3, 6, 6))
    with pytest.raises(ValueError, match="indices"):
        ops.max_pool2d_backward(y, idx[:, :, :2], x.shape)
    with pytest.raises(ValueError, match=r"\(1, 2, 3, 3\)"):
        ops.avg_pool2d_backward(y, x.shape, 3)


def test_kernel_binding_refuses_bad_layout():
    """ember._C is reachable directly: it must refuse what ember.ops would have fixed."""
    x = np.zeros((1, 2, 6, 6), np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        ember._C.max_pool2d(x.transpose(0, 1, 3, 2), (2, 2), (2, 2), (0, 0), (1, 1), False, True)
    with pytest.raises(ValueError, match="4-D"):
        ember._C.max_pool2d(x[0], (2, 2), (2, 2), (0, 0), (1, 1), False, True)
    with pytest.raises(ValueError, match="padding"):
        ember._C.avg_pool2d(x, (2, 2), (2, 2), (2, 0), False, True, 0)
    with pytest.raises(ValueError, match="kernel_size"):
        ember._C.max_pool2d(x, (0, 2), (2, 2), (0, 0), (1, 1), False, True)
    g = np.zeros((1, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match="grad_output"):
        ember._C.avg_pool2d_backward(g, (6, 6), (3, 3), (3, 3), (0, 0), False, True, 0)
    with pytest.raises(ValueError, match="indices shape"):
        ember._C.max_pool2d_backward(g, np.zeros((1, 2, 3, 2), np.int64), (6, 6))
