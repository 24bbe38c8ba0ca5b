"""ember.ops.matmul (the C++ GEMM) vs NumPy: shapes around every blocking boundary, strided and
broadcast views, both dtypes, thread counts, every SIMD level, determinism, IEEE specials, bad
input.

Tolerance: the float64 product of the same values is the oracle; the error allowed per element is
c * eps * sqrt(K) * (|A| @ |B|), a scaled form of the classic dot-product error bound. It grows
with K as rounding does, is measured against the magnitudes actually summed (so cancellation
cannot make it fail spuriously) and is still orders of magnitude below any wrong sum (a missing or
doubled K-block, a wrong edge tile, a stale packed panel all give errors of order |A| @ |B|).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops import matmul, reference

DTYPES = [np.float32, np.float64]


def assert_matmul_close(c, a, b):
    """``c`` is a @ b in the promoted dtype, its shape is np.matmul's, values within the bound."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    exact = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert isinstance(c, np.ndarray)
    assert c.shape == exact.shape, f"shape {c.shape}, expected {exact.shape}"
    assert c.dtype == dtype, f"dtype {c.dtype}, expected {dtype}"
    k = a.shape[-1]
    scale = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    bound = 4 * np.finfo(dtype).eps * np.sqrt(max(k, 1)) * scale + np.finfo(dtype).tiny
    err = np.abs(c.astype(np.float64) - exact)
    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else None
    assert np.all(err <= bound), (
        f"max error {err.max():.3g} at {worst} exceeds bound {bound[worst]:.3g} "
        f"(a{a.shape} {a.dtype} @ b{b.shape} {b.dtype})")


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------------------------
# 2-D shapes: degenerate, primes, tall/skinny, long K, and sizes that cross the register tile
# (MR x NR, e.g. 4x16 .. 14x32) and the cache blocks (KC ~ 256-384, MC ~ 256-512, NC ~ 2048-4096).
# ----------------------------------------------------------------------------------------------
SHAPES = [
    (1, 1, 1), (1, 7, 1), (7, 1, 13), (2, 3, 4), (7, 13, 97), (13, 97, 7), (97, 7, 13),
    (1, 5000, 3), (3, 5000, 1), (1000, 4, 3), (3, 4, 1000), (31, 257, 33), (17, 17, 17),
    (255, 255, 255), (256, 256, 256), (257, 257, 257), (16, 383, 48), (16, 384, 48),
    (16, 385, 48), (513, 129, 65), (65, 769, 129), (1031, 64, 47), (5, 17, 2049), (3, 9, 4097),
    (129, 1031, 31),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("m,k,n", SHAPES, ids=lambda s: str(s))
def test_2d_shapes(rng, m, k, n, dtype):
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    assert_matmul_close(matmul(a, b), a, b)


def test_large_cube_crosses_all_blocks(rng):
    a, b = randn(rng, (1031, 513), np.float32), randn(rng, (513, 1031), np.float32)
    assert_matmul_close(matmul(a, b), a, b)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("m,k,n", [(0, 5, 4), (3, 5, 0), (0, 0, 0), (0, 5, 0)])
def test_zero_size_output(m, k, n, dtype):
    c = matmul(np.ones((m, k), dtype), np.ones((k, n), dtype))
    assert c.shape == (m, n) and c.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape_a,shape_b", [((3, 0), (0, 4)), ((2, 5, 0), (0, 3)),
                                             ((0,), (0,)), ((0,), (0, 2))])
def test_k_zero_gives_zeros(shape_a, shape_b, dtype):
    c = matmul(np.empty(shape_a, dtype), np.empty(shape_b, dtype))
    expected = np.matmul(np.empty(shape_a, dtype), np.empty(shape_b, dtype))
    assert c.shape == expected.shape and c.dtype == dtype
    np.testing.assert_array_equal(c, np.zeros(expected.shape, dtype))


# ----------------------------------------------------------------------------------------------
# Strided, transposed, negative-stride and broadcast (stride 0) operands
# ----------------------------------------------------------------------------------------------

def _views(rng, dtype):
    """(name, a, b) pairs whose operands are views, not C-contiguous arrays."""
    big = randn(rng, (40, 60), dtype)
    m, k, n = 19, 23, 29
    a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
    yield "a_transposed", randn(rng, (k, m), dtype).T, b
    yield "b_transposed", a, randn(rng, (n, k), dtype).T
    yield "both_transposed", randn(rng, (k, m), dtype).T, randn(rng, (n, k), dtype).T
    yield "step_slices", big[::2, 1:47:2], big[3:26, ::2]
    yield "negative_strides", a[::-1, ::-1], b[::-1]
    yield "negative_column_step", a, big[:k, ::-2]
    yield "offset_submatrix", big[5:5 + m, 7:7 + k], big[11:11 + k, 2:2 + n]
    yield "broadcast_row_stride0", np.broadcast_to(randn(rng, (1, k), dtype), (m, k)), b
    yield "broadcast_col_stride0", a, np.broadcast_to(randn(rng, (k, 1), dtype), (k, n))
    yield "fortran_order", np.asfortranarray(a), np.asfortranarray(b)
    # Byte strides that are not a multiple of the item size must be copied, not misread.
    raw = np.zeros(m * k * a.itemsize + 1, np.uint8)[1:].view(dtype).reshape(m, k)
    raw[...] = a
    yield "unaligned", raw, b
    yield "batched_transposed", randn(rng, (3, k, m), dtype).transpose(0, 2, 1), b
    yield "batched_broadcast_stride0", np.broadcast_to(a, (4, m, k)), randn(rng, (4, k, n), dtype)
    yield "batched_step", randn(rng, (6, m, k), dtype)[::2], randn(rng, (3, k, n), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_strided_views(rng, dtype):
    for name, a, b in _views(rng, dtype):
        plain = [x.flags.c_contiguous and x.flags.aligned for x in (a, b)]
        assert not all(plain), f"{name}: not a view case"
        a_before, b_before = a.copy(), b.copy()
        c = matmul(a, b)
        assert_matmul_close(c, a, b)
        np.testing.assert_array_equal(a, a_before, err_msg=f"{name}: a was modified")
        np.testing.assert_array_equal(b, b_before, err_msg=f"{name}: b was modified")


# ----------------------------------------------------------------------------------------------
# 1-D and N-D broadcasting, exactly as np.matmul
# ----------------------------------------------------------------------------------------------
BROADCAST_SHAPES = [
    ((5,), (5,)), ((5,), (5, 3)), ((4, 5), (5,)), ((5,), (2, 5, 3)), ((2, 4, 5), (5,)),
    ((2, 4, 5), (2, 5, 3)), ((2, 4, 5), (5, 3)), ((4, 5), (3, 5, 2)), ((2, 1, 4, 5), (3, 5, 2)),
    ((1, 3, 4, 5), (2, 1, 5, 6)), ((2, 3, 1, 4, 5), (3, 1, 5, 2)), ((1, 4, 5), (7, 5, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape_a,shape_b", BROADCAST_SHAPES, ids=str)
def test_broadcasting_shapes(rng, shape_a, shape_b, dtype):
    a, b = randn(rng, shape_a, dtype), randn(rng, shape_b, dtype)
    c = matmul(a, b)
    assert c.shape == np.matmul(a, b).shape
    assert_matmul_close(c, a, b)


@pytest.mark.parametrize("da,db", [(np.float32, np.float64), (np.float64, np.float32)])
def test_mixed_dtypes_compute_in_float64(rng, da, db):
    a, b = randn(rng, (17, 33), da), randn(rng, (33, 9), db)
    c = matmul(a, b)
    assert c.dtype == np.float64
    # Computed in float64: the float64 bound, not the float32 one, must hold.
    assert_matmul_close(c, a.astype(np.float64), b.astype(np.float64))


def test_python_lists_are_accepted():
    c = matmul([[1.0, 2.0]], [[3.0], [4.0]])
    assert c.dtype == np.float64
    np.testing.assert_array_equal(c, [[11.0]])


def test_out_argument(rng):
    a, b = randn(rng, (2, 7, 5), np.float32), randn(rng, (5, 3), np.float32)
    out = np.full((2, 7, 3), np.nan, np.float32)
    c = matmul(a, b, out=out)
    assert c is out
    assert_matmul_close(out, a, b)
    with pytest.raises(ValueError, match=r"\(2, 7, 3\)"):
        matmul(a, b, out=np.empty((2, 7, 4), np.float32))
    with pytest.raises(ValueError):
        matmul(a, b, out=np.empty((2, 7, 3), np.float64))
    sq = randn(rng, (6, 6), np.float64)
    with pytest.raises(ValueError, match="overlap"):  # the kernel would read what it overwrites
        matmul(sq, np.eye(6), out=sq)


def test_reference_matches_kernel(rng):
    a, b = randn(rng, (3, 8, 6), np.float64), randn(rng, (6, 4), np.float64)
    np.testing.assert_allclose(matmul(a, b), reference.matmul(a, b), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Threads, SIMD levels, determinism
# ----------------------------------------------------------------------------------------------
# Big enough that two threads really split the work (several MFLOP per thread), with ragged
# edges in every dimension; plus a batch of small products (spread one per thread).
THREADED = [((301, 263), (263, 287)), ((64, 33, 17), (64, 17, 29)), ((9, 700), (700, 1100))]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape_a,shape_b", THREADED, ids=str)
def test_thread_counts(rng, threads, shape_a, shape_b, dtype):
    assert ember.get_num_threads() == threads
    a, b = randn(rng, shape_a, dtype), randn(rng, shape_b, dtype)
    assert_matmul_close(matmul(a, b), a, b)


SIMD_SHAPES = [(1, 1, 1), (5, 3, 7), (13, 97, 29), (37, 385, 45), (64, 64, 64), (3, 2, 4097)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_every_simd_level(rng, simd_level, dtype):
    assert ember.backend_info()["simd"] == simd_level
    for m, k, n in SIMD_SHAPES:
        a, b = randn(rng, (m, k), dtype), randn(rng, (k, n), dtype)
        assert_matmul_close(matmul(a, b), a, b)
        at, bt = randn(rng, (k, m), dtype).T, randn(rng, (n, k), dtype)[:, ::-1].T
        assert_matmul_close(matmul(at, bt), at, bt)
    a, b = randn(rng, (3, 1, 9, 20), dtype), randn(rng, (4, 20, 11), dtype)
    assert_matmul_close(matmul(a, b), a, b)


def test_simd_levels_agree_closely(rng):
    # The micro-kernels need not round identically, but each must be within the oracle's bound
    # and all must agree with the portable kernel to within float64 rounding.
    from conftest import supported_simd_levels

    saved = ember.backend_info()["simd"]
    a, b = randn(rng, (67, 300), np.float64), randn(rng, (300, 71), np.float64)
    results = {}
    try:
        for level in supported_simd_levels():
            ember._C.set_simd_level(level)
            results[level] = matmul(a, b)
    finally:
        ember._C.set_simd_level(saved)
    for level, c in results.items():
        assert_matmul_close(c, a, b)
    base = results["generic"]
    for level, c in results.items():
        np.testing.assert_allclose(c, base, rtol=1e-11, atol=1e-11, err_msg=level)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_deterministic_for_fixed_thread_count(rng, threads, dtype):
    a, b = randn(rng, (257, 513), dtype), randn(rng, (513, 263), dtype)
    first = matmul(a, b)
    for _ in range(3):
        again = matmul(a, b)
        assert again.tobytes() == first.tobytes(), "results differ between identical calls"
    batched_a = randn(rng, (16, 40, 33), dtype)
    x = matmul(batched_a, b[:33, :50])
    assert matmul(batched_a, b[:33, :50]).tobytes() == x.tobytes()


def test_set_num_threads_validates(restore_threads):
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    assert ember.backend_info()["num_threads"] == 1
    with pytest.raises(ValueError):
        ember.set_num_threads(0)
    with pytest.raises(TypeError):
        ember.set_num_threads(2.0)
    assert ember.get_num_threads() == 1


def test_backend_info_keys():
    info = ember.backend_info()
    assert set(info) >= {"simd", "simd_detected", "openmp", "num_threads", "compiler", "build"}
    assert info["simd"] in ("generic", "avx2", "avx512")
    assert info["simd_detected"] in ("generic", "avx2", "avx512")
    assert isinstance(info["openmp"], bool)
    assert info["num_threads"] == ember.get_num_threads() >= 1


def test_set_simd_level_rejects_unknown_and_unsupported():
    from conftest import SIMD_ORDER, supported_simd_levels

    saved = ember.backend_info()["simd"]
    with pytest.raises(ValueError, match="sse"):
        ember._C.set_simd_level("sse")
    for level in SIMD_ORDER[len(supported_simd_levels()):]:  # none on an AVX-512 machine
        with pytest.raises(ValueError, match=level):
            ember._C.set_simd_level(level)
    assert ember.backend_info()["simd"] == saved


# ----------------------------------------------------------------------------------------------
# NaN and inf propagate as IEEE says, and only where they should
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("m,k,n", [(5, 7, 9), (37, 300, 41), (130, 390, 70)])
def test_nan_and_inf_propagate(rng, m, k, n, dtype):
    a = rng.uniform(0.5, 1.5, (m, k)).astype(dtype)
    b = rng.uniform(0.5, 1.5, (k, n)).astype(dtype)
    i, p, j, q = m - 1, k // 2, n - 1, k - 1
    a[i, p] = np.nan                            # row i of C is NaN
    b[q, 0] = np.inf                            # column 0 of C is +inf (all a > 0) ...
    a[0, q] = -1.0                              # ... except C[0, 0] = -inf
    c = matmul(a, b)
    expected_nan = np.zeros((m, n), bool)
    expected_nan[i, :] = True
    np.testing.assert_array_equal(np.isnan(c), expected_nan)
    assert c[0, 0] == -np.inf
    assert np.all(c[1:i, 0] == np.inf)
    finite = ~expected_nan
    finite[:, 0] = False
    assert np.all(np.isfinite(c[finite]))
    clean_a, clean_b = a.copy(), b.copy()
    clean_a[i, p], clean_b[q, 0] = 1.0, 1.0
    assert_matmul_close(c[:i, 1:], clean_a[:i], clean_b[:, 1:])


def test_inf_times_zero_is_nan():
    a = np.array([[np.inf, 1.0]], np.float32)
    b = np.array([[0.0], [2.0]], np.float32)
    assert np.isnan(matmul(a, b)[0, 0])


# ----------------------------------------------------------------------------------------------
# Bad input: a clear exception naming the shapes or dtype, never a crash or a wrong result
# ----------------------------------------------------------------------------------------------

def test_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        matmul(np.ones(4), np.ones(3))


def test_batch_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(3, 4, 5\)"):
        matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


@pytest.mark.parametrize("a,b", [(np.float64(2.0), np.ones(3)), (np.ones(3), np.array(2.0))],
                         ids=["a_0d", "b_0d"])
def test_zero_dim_refused(a, b):
    with pytest.raises(ValueError, match=r"\(\)"):
        matmul(a, b)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.complex128, np.float16,
                                   object], ids=lambda d: np.dtype(d).name)
def test_non_float_dtypes_refused(dtype):
    bad = np.ones((2, 2), dtype=dtype)
    good = np.ones((2, 2))
    name = np.dtype(dtype).name
    with pytest.raises(TypeError, match=name):
        matmul(bad, good)
    with pytest.raises(TypeError, match=name):
        matmul(good, bad)
