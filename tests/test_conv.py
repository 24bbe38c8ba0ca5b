"""Convolutions: ember.ops.conv (C++ kernels) against the NumPy twin, float64 gradcheck through the
C++ backward, PyTorch parity (forward and every gradient), linearity, errors.

The geometry table covers odd sizes, stride > kernel, padding up to half the kernel, dilation,
groups (depthwise included), batch 1, 1x1 kernels, channel counts that are and are not multiples
of 16, 'same'/'valid' padding (odd totals included) and asymmetric arguments; every case runs
with 1 and 2 threads and at every SIMD level this CPU has (each level has its own kernels).

Tolerance: the float64 twin on the same data is the exact value; an element may differ by
c * eps * sqrt(terms) * (the same convolution of the absolute values), a scaled dot-product error
bound: it follows rounding, ignores cancellation, and is far below any indexing mistake (which
is of the order of the scale itself).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
import ember.nn.functional as F
from ember import ops
from ember.ops import reference as ref

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]

# (N, C, H, W, K, (kH, kW), stride, padding, dilation, groups)
CASES = [
    (2, 3, 7, 9, 5, (3, 3), 1, 1, 1, 1),             # odd sizes
    (1, 4, 8, 8, 6, (1, 1), 1, 0, 1, 1),             # 1x1 kernel, batch 1
    (2, 5, 11, 13, 7, (3, 3), 4, 1, 1, 1),           # stride > kernel
    (2, 4, 9, 10, 6, (5, 5), 1, 2, 1, 1),            # padding = half the kernel
    (2, 3, 12, 11, 4, (3, 3), 1, 2, 2, 1),           # dilation
    (2, 6, 8, 9, 9, (3, 3), 1, 1, 1, 3),             # groups
    (2, 8, 9, 8, 8, (3, 3), 1, 1, 1, 8),             # depthwise
    (2, 4, 10, 9, 12, (3, 3), 2, 1, 1, 4),           # depthwise, multiplier 3, stride 2
    (1, 17, 9, 11, 19, (3, 3), 1, 1, 1, 1),          # channels not a multiple of 16
    (2, 3, 10, 12, 8, (2, 4), 1, "same", 1, 1),      # 'same' with odd totals (even kernel)
    (2, 3, 10, 12, 8, (3, 2), 1, "same", (2, 3), 1),  # 'same' with dilation
    (2, 3, 6, 7, 4, (3, 3), 1, "valid", 1, 1),
    (2, 5, 13, 10, 6, (3, 5), (2, 1), (1, 2), (1, 2), 1),  # asymmetric everything
    (3, 2, 5, 5, 3, (5, 5), 1, 0, 1, 1),             # kernel = input: 1x1 output
    (2, 33, 14, 15, 35, (3, 3), 1, 1, 1, 1),
    (2, 16, 12, 20, 32, (3, 3), 1, 1, 1, 1),         # multiples of 16
    (2, 32, 9, 23, 64, (3, 3), 1, 1, 1, 2),
    (1, 24, 18, 17, 48, (3, 3), 2, 1, 1, 1),
    (2, 1, 28, 28, 6, (5, 5), 1, 0, 1, 1),           # LeNet's first layer
    (4, 3, 16, 16, 20, (3, 3), 1, 1, 1, 1),          # RGB first layer
    (2, 16, 20, 37, 16, (1, 1), 2, 0, 1, 1),         # 1x1, stride 2
    (1, 8, 7, 40, 24, (1, 7), 1, (0, 3), 1, 1),      # wide kernel
    (2, 20, 6, 70, 40, (3, 3), 1, 1, 1, 1),          # wide rows (several pixel strips)
    (1, 18, 5, 9, 17, (3, 3), 1, 3, 1, 1),           # padding larger than the kernel reach
    # Edges of the direct AVX-512 kernels (blocks of 4 zmm of output channels, strips of up to
    # 6-24 pixels, input-channel blocks, phase-split columns for strides):
    (2, 12, 5, 3, 80, (3, 3), 1, 1, 1, 1),           # width < strip, 80 = 4 + 1 vectors
    (1, 10, 12, 13, 130, (2, 2), (2, 3), (1, 0), (2, 1), 1),  # stride and dilation, 9 vectors
    (1, 9, 14, 14, 16, (9, 9), 1, 4, 1, 1),          # 81 taps
    (2, 40, 9, 9, 24, (3, 3), 1, 1, 1, 2),           # groups of 12 output channels
    (1, 70, 6, 8, 64, (3, 3), 1, 1, 1, 1),           # several input-channel blocks
]

# (N, C, L, K, k, stride, padding, dilation, groups)
CASES_1D = [
    (2, 3, 20, 5, 3, 1, 1, 1, 1),
    (1, 4, 17, 6, 4, 1, "same", 1, 1),
    (2, 6, 30, 9, 5, 2, 2, 2, 3),
    (3, 4, 9, 4, 3, 1, "valid", 3, 4),
    (2, 16, 50, 32, 3, 1, "same", 1, 1),
]

# (N, C_in, H, W, C_out, (kH, kW), stride, padding, output_padding, groups, dilation)
CASES_T = [
    (2, 4, 5, 6, 3, (3, 3), 2, 1, 1, 1, 1),
    (1, 6, 4, 4, 6, (4, 4), 2, 1, 0, 3, 1),
    (2, 3, 5, 7, 5, (3, 2), (3, 1), (1, 0), (2, 0), 1, (1, 2)),
    (2, 4, 3, 3, 8, (3, 3), 1, 0, 0, 4, 2),
    (2, 5, 6, 5, 4, (2, 2), 2, 0, 1, 1, 3),
    (1, 4, 4, 4, 2, (3, 3), 2, 0, 2, 1, 3),   # output_padding >= stride (< dilation)
    (2, 32, 8, 9, 16, (3, 3), 1, 1, 0, 1, 1),
    (2, 16, 7, 7, 32, (3, 3), 2, 1, 1, 1, 1),
    (1, 17, 5, 6, 19, (1, 1), 1, 0, 0, 1, 1),
]


def case_id(case) -> str:
    return "x".join(str(v).replace(" ", "") for v in case)


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def conv_inputs(rng, case, dtype):
    n, c, h, w, k, ks, stride, padding, dilation, groups = case
    x = randn(rng, (n, c, h, w), dtype)
    wt = randn(rng, (k, c // groups) + ks, dtype)
    b = randn(rng, (k,), dtype)
    return x, wt, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def assert_close(actual, exact, scale, terms, dtype, what):
    """|actual - exact| <= 16 eps sqrt(terms) scale (+ tiny), elementwise, with shape and dtype."""
    assert actual.shape == exact.shape, f"{what}: shape {actual.shape}, expected {exact.shape}"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype}, expected {dtype}"
    bound = 16 * np.finfo(dtype).eps * np.sqrt(max(terms, 1)) * scale + np.finfo(dtype).tiny
    err = np.abs(actual.astype(np.float64) - exact)
    if err.size:
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        assert np.all(err <= bound), (f"{what}: error {err[worst]:.3g} at {worst} exceeds "
                                      f"{bound[worst]:.3g}")


def f64(*arrays):
    return [None if a is None else a.astype(np.float64) for a in arrays]


def check_conv2d(x, wt, b, kw, dtype):
    """ember.ops.conv2d and conv2d_backward against the float64 twin."""
    y = ops.conv2d(x, wt, b, **kw)
    x64, w64, b64 = f64(x, wt, b)
    exact = ref.conv2d(x64, w64, b64, **kw)
    scale = ref.conv2d(np.abs(x64), np.abs(w64), np.abs(b64), **kw)
    terms = wt[0].size + 1
    assert_close(y, exact, scale, terms, dtype, "forward")

    gy = np.random.default_rng(7).standard_normal(y.shape).astype(dtype)
    gx, gw, gb = ops.conv2d_backward(gy, x, wt, **kw)
    ex = ref.conv2d_backward(gy.astype(np.float64), x64, w64, **kw)
    sc = ref.conv2d_backward(np.abs(gy.astype(np.float64)), np.abs(x64), np.abs(w64), **kw)
    assert_close(gx, ex[0], sc[0], wt.shape[0] * wt[0, 0].size, dtype, "grad_input")
    assert_close(gw, ex[1], sc[1], gy[:, 0].size, dtype, "grad_weight")
    assert_close(gb, ex[2], sc[2], gy[:, 0].size, dtype, "grad_bias")


# ---------------------------------------------------------------------------------------------
# Against the NumPy twin: every case, both dtypes, 1 and 2 threads, every SIMD level
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conv2d_matches_reference(rng, case, dtype, threads, simd_level):
    x, wt, b, kw = conv_inputs(rng, case, dtype)
    check_conv2d(x, wt, b, kw, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_1D, ids=case_id)
def test_conv1d_matches_reference(rng, case, dtype, threads, simd_level):
    n, c, length, k, ks, stride, padding, dilation, groups = case
    x, wt, b = randn(rng, (n, c, length), dtype), randn(rng, (k, c // groups, ks), dtype), \
        randn(rng, (k,), dtype)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = ops.conv1d(x, wt, b, **kw)
    x64, w64, b64 = f64(x, wt, b)
    assert_close(y, ref.conv1d(x64, w64, b64, **kw),
                 ref.conv1d(np.abs(x64), np.abs(w64), np.abs(b64), **kw), wt[0].size + 1, dtype,
                 "forward")
    gy = randn(rng, y.shape, dtype)
    got = ops.conv1d_backward(gy, x, wt, **kw)
    ex = ref.conv1d_backward(gy.astype(np.float64), x64, w64, **kw)
    sc = ref.conv1d_backward(np.abs(gy.astype(np.float64)), np.abs(x64), np.abs(w64), **kw)
    for name, a, e, s in zip(("grad_input", "grad_weight", "grad_bias"), got, ex, sc):
        assert_close(a, e, s, gy.size, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_T, ids=case_id)
def test_conv_transpose2d_matches_reference(rng, case, dtype, threads, simd_level):
    n, cin, h, w, cout, ks, stride, padding, out_pad, groups, dilation = case
    x = randn(rng, (n, cin, h, w), dtype)
    wt = randn(rng, (cin, cout // groups) + ks, dtype)
    b = randn(rng, (cout,), dtype)
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups,
              dilation=dilation)
    y = ops.conv_transpose2d(x, wt, b, **kw)
    x64, w64, b64 = f64(x, wt, b)
    terms = cin * ks[0] * ks[1] + 1
    assert_close(y, ref.conv_transpose2d(x64, w64, b64, **kw),
                 ref.conv_transpose2d(np.abs(x64), np.abs(w64), np.abs(b64), **kw), terms, dtype,
                 "forward")
    gy = randn(rng, y.shape, dtype)
    got = ops.conv_transpose2d_backward(gy, x, wt, **kw)
    ex = ref.conv_transpose2d_backward(gy.astype(np.float64), x64, w64, **kw)
    sc = ref.conv_transpose2d_backward(np.abs(gy.astype(np.float64)), np.abs(x64), np.abs(w64),
                                       **kw)
    for name, a, e, s in zip(("grad_input", "grad_weight", "grad_bias"), got, ex, sc):
        assert_close(a, e, s, gy.size, dtype, name)


def test_output_mask_computes_only_what_is_asked(rng):
    x, wt, b, kw = conv_inputs(rng, CASES[0], np.float32)
    gy = randn(rng, ops.conv2d(x, wt, **kw).shape, np.float32)
    full = ops.conv2d_backward(gy, x, wt, **kw)
    for mask in [(True, False, False), (False, True, False), (False, False, True)]:
        part = ops.conv2d_backward(gy, x, wt, **kw, output_mask=mask)
        for want, p, f in zip(mask, part, full):
            if want:
                np.testing.assert_array_equal(p, f)
            else:
                assert p is None


def test_larger_images_cross_tile_boundaries(rng, threads):
    """Enough pixels and channels that the kernels split work into several tiles/tasks."""
    x, wt, b, kw = conv_inputs(rng, (3, 40, 33, 47, 72, (3, 3), 1, 1, 1, 1), np.float32)
    check_conv2d(x, wt, b, kw, np.float32)
    x, wt, b, kw = conv_inputs(rng, (1, 64, 40, 41, 80, (3, 3), 1, 1, 1, 1), np.float32)
    check_conv2d(x, wt, b, kw, np.float32)


# ---------------------------------------------------------------------------------------------
# Views, unbatched input, zero sizes, determinism
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_non_contiguous_inputs(rng, dtype, simd_level):
    n, c, h, w, k = 2, 6, 9, 11, 8
    base = randn(rng, (w, h, c, n), dtype)
    views = {
        "transposed": base.transpose(3, 2, 1, 0),
        "sliced": randn(rng, (n + 1, 2 * c, h + 3, 2 * w), dtype)[1:, ::2, 2:h + 2, ::2],
        "negative_strides": randn(rng, (n, c, h, w), dtype)[:, ::-1, ::-1],
        "channels_last": np.ascontiguousarray(randn(rng, (n, h, w, c), dtype)).transpose(0, 3, 1, 2),
    }
    wt_view = randn(rng, (3, 3, c, k), dtype).transpose(3, 2, 0, 1)   # (K, C, 3, 3) view
    b_view = randn(rng, (2 * k,), dtype)[::2]
    for name, x in views.items():
        assert not x.flags.c_contiguous, name
        kw = dict(stride=(1, 2), padding=1, dilation=1, groups=2)
        wt = wt_view[:, : c // 2]
        check_conv2d(x, wt, b_view, kw, dtype)
        # Same numbers as on contiguous copies, bit for bit: views change addressing only.
        np.testing.assert_array_equal(
            ops.conv2d(x, wt, b_view, **kw),
            ops.conv2d(np.ascontiguousarray(x), np.ascontiguousarray(wt), b_view.copy(), **kw))
        y = ops.conv2d(x, wt, **kw)
        gy = randn(rng, y.shape[::-1], dtype).T          # a transposed gradient view
        for got, want in zip(ops.conv2d_backward(gy, x, wt, **kw),
                             ops.conv2d_backward(np.ascontiguousarray(gy),
                                                 np.ascontiguousarray(x),
                                                 np.ascontiguousarray(wt), **kw)):
            np.testing.assert_array_equal(got, want)
    xt = randn(rng, (n, 4, 5, 6), dtype).transpose(0, 1, 3, 2)
    wt = randn(rng, (4, 3, 3, 3), dtype)
    np.testing.assert_array_equal(ops.conv_transpose2d(xt, wt, stride=2),
                                  ops.conv_transpose2d(np.ascontiguousarray(xt), wt, stride=2))


def test_unaligned_input_is_copied_not_misread(rng):
    x = randn(rng, (2, 3, 6, 7), np.float32)
    raw = np.zeros(x.nbytes + 1, np.uint8)[1:].view(np.float32).reshape(x.shape)
    raw[...] = x
    wt = randn(rng, (4, 3, 3, 3), np.float32)
    np.testing.assert_array_equal(ops.conv2d(raw, wt), ops.conv2d(x, wt))


def test_unbatched_inputs(rng):
    x, wt, b = randn(rng, (3, 8, 9), np.float64), randn(rng, (5, 3, 3, 3), np.float64), \
        randn(rng, (5,), np.float64)
    y = ops.conv2d(x, wt, b, padding=1)
    assert y.shape == (5, 8, 9)
    np.testing.assert_allclose(y, ops.conv2d(x[None], wt, b, padding=1)[0], rtol=0, atol=0)
    gx, gw, gb = ops.conv2d_backward(np.ones_like(y), x, wt, padding=1)
    assert gx.shape == x.shape and gw.shape == wt.shape and gb.shape == (5,)
    seq, w1 = x[0], randn(rng, (5, 8, 3), np.float64)
    np.testing.assert_array_equal(ops.conv1d(seq, w1, padding=1),
                                  ops.conv1d(seq[None], w1, padding=1)[0])
    assert ops.conv1d(seq, w1, padding=1).shape == (5, 9)
    xt = randn(rng, (4, 3, 3), np.float64)
    assert ops.conv_transpose2d(xt, randn(rng, (4, 2, 3, 3), np.float64), stride=2).shape == (2, 7, 7)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_zero_sizes(dtype):
    y = ops.conv2d(np.ones((0, 3, 5, 5), dtype), np.ones((4, 3, 3, 3), dtype))
    assert y.shape == (0, 4, 3, 3) and y.dtype == dtype
    gx, gw, gb = ops.conv2d_backward(np.ones((0, 4, 3, 3), dtype), np.ones((0, 3, 5, 5), dtype),
                                     np.ones((4, 3, 3, 3), dtype))
    assert gx.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(gw, np.zeros((4, 3, 3, 3), dtype))
    np.testing.assert_array_equal(gb, np.zeros(4, dtype))
    # No input channels: the output is the bias.
    b = np.arange(4, dtype=dtype)
    y = ops.conv2d(np.ones((2, 0, 5, 5), dtype), np.ones((4, 0, 3, 3), dtype), b)
    np.testing.assert_array_equal(y, np.broadcast_to(b.reshape(1, 4, 1, 1), (2, 4, 3, 3)))
    gx, gw, gb = ops.conv2d_backward(np.ones((2, 4, 3, 3), dtype), np.ones((2, 0, 5, 5), dtype),
                                     np.ones((4, 0, 3, 3), dtype))
    assert gx.shape == (2, 0, 5, 5) and gw.shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(gb, np.full(4, 18, dtype))
    # No output channels: refused, as torch does.
    with pytest.raises(ValueError, match="at least 1 at dimension 0"):
        ops.conv2d(np.ones((2, 3, 5, 5), dtype), np.ones((0, 3, 3, 3), dtype))


def test_deterministic_for_a_fixed_thread_count(rng, threads, simd_level):
    x, wt, b, kw = conv_inputs(rng, (4, 24, 21, 19, 40, (3, 3), 1, 1, 1, 1), np.float32)
    y1 = ops.conv2d(x, wt, b, **kw)
    gy = randn(rng, y1.shape, np.float32)
    g1 = ops.conv2d_backward(gy, x, wt, **kw)
    for _ in range(3):
        np.testing.assert_array_equal(ops.conv2d(x, wt, b, **kw), y1)
        for a, b_ in zip(ops.conv2d_backward(gy, x, wt, **kw), g1):
            np.testing.assert_array_equal(a, b_)


def test_mixed_dtypes_compute_in_float64(rng):
    x, wt = randn(rng, (1, 2, 5, 5), np.float32), randn(rng, (3, 2, 3, 3), np.float64)
    y = ops.conv2d(x, wt)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, ref.conv2d(x.astype(np.float64), wt), rtol=1e-12, atol=1e-12)


def test_nan_and_inf_propagate():
    x = np.ones((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 3, 3] = np.inf
    y = ops.conv2d(x, np.ones((1, 1, 2, 2), np.float32))
    assert np.isnan(y[0, 0, 0, 0]) and np.isinf(y[0, 0, 2, 2]) and y[0, 0, 0, 2] == 4


# ---------------------------------------------------------------------------------------------
# Autograd: float64 gradcheck through the C++ backward
# ---------------------------------------------------------------------------------------------

GRADCHECK_2D = [
    (2, 4, 5, 6, 4, (3, 3), 1, 1, 1, 2),
    (1, 3, 6, 5, 2, (2, 3), (2, 1), (1, 0), (2, 1), 1),
    (1, 2, 5, 6, 3, (2, 2), 1, "same", 1, 1),
    (2, 3, 4, 4, 3, (3, 3), 1, 1, 1, 3),
]


@pytest.mark.parametrize("case", GRADCHECK_2D, ids=case_id)
def test_gradcheck_conv2d(rng, case, simd_level):
    x, wt, b, kw = conv_inputs(rng, case, np.float64)
    args = [ember.tensor(a, requires_grad=True) for a in (x, wt, b)]
    assert ember.autograd.gradcheck(lambda x_, w_, b_: F.conv2d(x_, w_, b_, **kw), args)


def test_gradcheck_conv1d(rng):
    args = [ember.tensor(randn(rng, s, np.float64), requires_grad=True)
            for s in ((2, 4, 9), (6, 2, 3), (6,))]
    assert ember.autograd.gradcheck(
        lambda x_, w_, b_: F.conv1d(x_, w_, b_, stride=2, padding=2, dilation=2, groups=2), args)


@pytest.mark.parametrize("op_pad,stride,dilation", [(1, 2, 1), (0, 1, 2), (2, 2, 3)])
def test_gradcheck_conv_transpose2d(rng, op_pad, stride, dilation, simd_level):
    args = [ember.tensor(randn(rng, s, np.float64), requires_grad=True)
            for s in ((2, 4, 3, 4), (4, 3, 3, 2), (6,))]
    assert ember.autograd.gradcheck(
        lambda x_, w_, b_: F.conv_transpose2d(x_, w_, b_, stride=stride, padding=1,
                                              output_padding=op_pad, groups=2,
                                              dilation=dilation), args)


# ---------------------------------------------------------------------------------------------
# PyTorch parity (forward and every gradient) through ember.nn.functional
# ---------------------------------------------------------------------------------------------

def _parity(torch, ember_fn, torch_fn, arrays, dtype, grad_seed=3):
    """Run both frameworks on the same arrays; compare output and every input's gradient."""
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    et = [None if a is None else ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    ey, ty = ember_fn(*et), torch_fn(*tt)
    assert tuple(ey.shape) == tuple(ty.shape)
    assert ey.dtype == getattr(ember, np.dtype(dtype).name)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **tol)
    gy = np.random.default_rng(grad_seed).standard_normal(tuple(ty.shape)).astype(dtype)
    ey.backward(ember.tensor(gy))
    ty.backward(torch.tensor(gy))
    for i, (e, t) in enumerate(zip(et, tt)):
        if e is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), err_msg=f"input {i}", **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_torch_parity_conv2d(rng, case, dtype, threads):
    torch = pytest.importorskip("torch")
    x, wt, b, kw = conv_inputs(rng, case, dtype)
    _parity(torch, lambda *a: F.conv2d(*a, **kw),
            lambda *a: torch.nn.functional.conv2d(*a, **kw), [x, wt, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_1D, ids=case_id)
def test_torch_parity_conv1d(rng, case, dtype):
    torch = pytest.importorskip("torch")
    n, c, length, k, ks, stride, padding, dilation, groups = case
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    arrays = [randn(rng, (n, c, length), dtype), randn(rng, (k, c // groups, ks), dtype),
              randn(rng, (k,), dtype)]
    _parity(torch, lambda *a: F.conv1d(*a, **kw),
            lambda *a: torch.nn.functional.conv1d(*a, **kw), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", CASES_T, ids=case_id)
def test_torch_parity_conv_transpose2d(rng, case, dtype, threads):
    torch = pytest.importorskip("torch")
    n, cin, h, w, cout, ks, stride, padding, out_pad, groups, dilation = case
    kw = dict(stride=stride, padding=padding, output_padding=out_pad, groups=groups,
              dilation=dilation)
    arrays = [randn(rng, (n, cin, h, w), dtype), randn(rng, (cin, cout // groups) + ks, dtype),
              randn(rng, (cout,), dtype)]
    _parity(torch, lambda *a: F.conv_transpose2d(*a, **kw),
            lambda *a: torch.nn.functional.conv_transpose2d(*a, **kw), arrays, dtype)


def test_torch_parity_without_bias_unbatched_and_views(rng):
    torch = pytest.importorskip("torch")
    x = randn(rng, (5, 12, 11), np.float32)
    wt = randn(rng, (3, 3, 5, 4), np.float32).transpose(3, 2, 0, 1)
    ex, ew = ember.tensor(x, requires_grad=True), ember.tensor(wt, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(wt, requires_grad=True)
    ey = F.conv2d(ex.transpose(1, 2), ew, stride=(2, 1), padding=(1, 2))
    ty = torch.nn.functional.conv2d(tx.transpose(1, 2), tw, stride=(2, 1), padding=(1, 2))
    assert tuple(ey.shape) == tuple(ty.shape) == (4, 6, 14)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=2e-4, atol=2e-4)
    (ey * ey).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=2e-4, atol=2e-3)
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=2e-4, atol=2e-3)


def test_torch_parity_zero_sizes():
    # (torch 2.13 returns (2, 0, 3, 3) for zero input channels instead of the bias broadcast to
    # (2, 4, 3, 3); ember returns the latter, see test_zero_sizes.)
    torch = pytest.importorskip("torch")
    x, wt, b = np.ones((0, 3, 5, 5), np.float32), np.ones((4, 3, 3, 3), np.float32), \
        np.arange(4, dtype=np.float32)
    ey = F.conv2d(ember.tensor(x), ember.tensor(wt), ember.tensor(b))
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(wt), torch.tensor(b))
    assert tuple(ey.shape) == tuple(ty.shape) == (0, 4, 3, 3)
    x, wt = np.ones((2, 3, 5, 5), np.float32), np.ones((0, 3, 3, 3), np.float32)
    with pytest.raises(RuntimeError, match="at least 1 at dimension 0"):
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(wt))
    with pytest.raises(RuntimeError, match="at least 1 at dimension 0"):
        F.conv2d(ember.tensor(x), ember.tensor(wt))


def test_only_requested_gradients_flow(rng):
    x = ember.tensor(randn(rng, (1, 2, 5, 5), np.float32), requires_grad=True)
    w = ember.tensor(randn(rng, (3, 2, 3, 3), np.float32))
    b = ember.tensor(randn(rng, (3,), np.float32), requires_grad=True)
    F.conv2d(x, w, b).sum().backward()
    assert w.grad is None and x.grad is not None and b.grad is not None
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 9, np.float32))


# ---------------------------------------------------------------------------------------------
# Linearity in the input (hypothesis)
# ---------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_conv2d_is_linear_in_its_input(data):
    groups = data.draw(st.integers(1, 3), label="groups")
    cg, kg = data.draw(st.integers(1, 4), label="cg"), data.draw(st.integers(1, 5), label="kg")
    kh, kw = data.draw(st.integers(1, 4), label="kh"), data.draw(st.integers(1, 4), label="kw")
    stride = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3)), label="stride")
    dilation = data.draw(st.tuples(st.integers(1, 2), st.integers(1, 2)), label="dilation")
    padding = data.draw(st.tuples(st.integers(0, kh // 2 + 1), st.integers(0, kw // 2 + 1)),
                        label="padding")
    h = data.draw(st.integers(dilation[0] * (kh - 1) + 1, 12), label="h")
    w = data.draw(st.integers(dilation[1] * (kw - 1) + 1, 12), label="w")
    n = data.draw(st.integers(1, 3), label="n")
    a, b = data.draw(st.floats(-3, 3), label="a"), data.draw(st.floats(-3, 3), label="b")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, n, cg * groups, h, w))
    wt = rng.standard_normal((kg * groups, cg, kh, kw))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    lhs = ops.conv2d(a * x + b * y, wt, **kwargs)
    rhs = a * ops.conv2d(x, wt, **kwargs) + b * ops.conv2d(y, wt, **kwargs)
    scale = ops.conv2d(np.abs(x) + np.abs(y), np.abs(wt), **kwargs) * (abs(a) + abs(b))
    assert lhs.shape == ref.conv2d(x, wt, **kwargs).shape
    assert np.all(np.abs(lhs - rhs) <= 1e-13 * (scale + 1)), "conv2d is not linear in x"


# ---------------------------------------------------------------------------------------------
# Bad input: exceptions naming the shapes, never a crash
# ---------------------------------------------------------------------------------------------

BAD_CONV2D = [
    # (input shape, weight shape, kwargs, message fragment)
    ((1, 4, 2, 2), (6, 4, 3, 3), {}, "Kernel size can't be greater than actual input size"),
    ((1, 4, 4, 4), (6, 4, 3, 3), dict(dilation=2), "Kernel size can't be greater"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(stride=0), "non-positive stride"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(stride=(1, -1)), "non-positive stride"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(dilation=0), "non-positive dilation"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(padding=-1), "negative padding"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(groups=0), "non-positive groups"),
    ((1, 5, 8, 8), (4, 3, 3, 3), dict(groups=2), "to have 6 channels, but got 5"),
    ((1, 4, 8, 8), (5, 2, 3, 3), dict(groups=2), "divisible by 2 at dimension 0"),
    ((2, 4, 5, 5), (6, 3, 3, 3), {}, "(6, 3, 3, 3)"),
    ((2, 4, 5, 5), (6, 4, 3), {}, "4-D weight"),
    ((4, 5), (6, 4, 3, 3), {}, "input of shape (4, 5)"),
    ((1, 1, 4, 5, 5), (6, 4, 3, 3), {}, "(1, 1, 4, 5, 5)"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(padding="same", stride=2), "strided"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(padding="foo"), "Invalid padding string"),
    ((2, 4, 5, 5), (6, 4, 3, 3), dict(stride=(1, 1, 1)), "list of 2 values"),
    ((2, 4, 5, 5), (6, 4, 0, 3), {}, "empty kernel"),
]


@pytest.mark.parametrize("xs,ws,kwargs,msg", BAD_CONV2D, ids=[str(i) for i in range(len(BAD_CONV2D))])
def test_bad_geometry_raises(xs, ws, kwargs, msg):
    x, w = np.ones(xs, np.float32), np.ones(ws, np.float32)
    with pytest.raises(ValueError, match=None) as err:
        ops.conv2d(x, w, **kwargs)
    assert msg in str(err.value)
    with pytest.raises(ValueError) as err:
        ref.conv2d(x, w, **kwargs)
    assert msg in str(err.value)
    with pytest.raises(RuntimeError) as err:
        F.conv2d(ember.tensor(x), ember.tensor(w), **kwargs)
    assert msg in str(err.value)


def test_bad_transposed_and_1d_arguments():
    x, w = np.ones((2, 4, 5, 5), np.float32), np.ones((4, 6, 3, 3), np.float32)
    cases = [
        (dict(stride=2, output_padding=2), "output padding must be smaller than either stride"),
        (dict(output_padding=-1), "negative output_padding"),
        (dict(padding=-1), "negative padding"),
        (dict(groups=3), "divisible by 3"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError, match=msg):
            ops.conv_transpose2d(x, w, **kwargs)
        with pytest.raises(RuntimeError, match=msg):
            F.conv_transpose2d(ember.tensor(x), ember.tensor(w), **kwargs)
    with pytest.raises(ValueError, match="to have 5 channels, but got 4"):
        ops.conv_transpose2d(x, np.ones((5, 6, 3, 3), np.float32))
    with pytest.raises(ValueError, match="Output size is too small"):
        ops.conv_transpose2d(np.ones((1, 4, 1, 1)), np.ones((4, 3, 1, 1)), padding=1)
    with pytest.raises(TypeError):
        ops.conv_transpose2d(x, w, padding="same")
    with pytest.raises(ValueError, match="Kernel size can't be greater"):
        ops.conv1d(np.ones((2, 4, 2)), np.ones((6, 4, 3)))
    with pytest.raises(ValueError, match="3-D weight"):
        ops.conv1d(np.ones((2, 4, 9)), np.ones((6, 4, 3, 3)))
    with pytest.raises(RuntimeError, match=r"input of shape \(1, 2, 4, 9\)"):
        F.conv1d(ember.ones(1, 2, 4, 9), ember.ones(6, 4, 3))


def test_bad_bias_and_grad_output_shapes():
    x, w = np.ones((2, 4, 5, 5)), np.ones((6, 4, 3, 3))
    with pytest.raises(ValueError, match=r"6 elements, but got bias of shape \(5,\)"):
        ops.conv2d(x, w, np.ones(5))
    with pytest.raises(ValueError, match=r"grad_output has shape \(2, 6, 4, 3\)"):
        ops.conv2d_backward(np.ones((2, 6, 4, 3)), x, w)
    with pytest.raises(ValueError, match="grad_output has shape"):
        ops.conv_transpose2d_backward(np.ones((2, 5, 7, 7)), np.ones((2, 4, 5, 5)),
                                      np.ones((4, 6, 3, 3)))


def test_dtype_errors():
    x32, w64 = ember.ones(1, 2, 5, 5), ember.ones(3, 2, 3, 3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match=r"Input type \(Float\) and weight type \(Double\)"):
        F.conv2d(x32, w64)
    with pytest.raises(RuntimeError, match=r"Input type \(float\) and bias type \(double\)"):
        F.conv2d(x32, ember.ones(3, 2, 3, 3), ember.ones(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="floating-point"):
        F.conv2d(ember.ones(1, 2, 5, 5, dtype=ember.int64), ember.ones(3, 2, 3, 3, dtype=ember.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        ops.conv2d(np.ones((1, 2, 5, 5), np.int32), np.ones((3, 2, 3, 3), np.float32))
    with pytest.raises(TypeError, match="must be Tensor"):
        F.conv2d(np.ones((1, 2, 5, 5)), ember.ones(3, 2, 3, 3))


def test_compiled_entry_points_refuse_bad_arguments():
    """The bindings check what memory safety needs even when called directly."""
    C = ember._C
    x, w = np.ones((1, 4, 5, 5), np.float32), np.ones((6, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"expects 4 channels|channels in x"):
        C.conv2d_forward(x, np.ones((6, 3, 3, 3), np.float32), None, (3, 3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="stride"):
        C.conv2d_forward(x, w, None, (3, 3), (0, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="output size"):
        C.conv2d_forward(x, w, None, (-1, 3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        C.conv2d_forward(x, np.ones((3, 3, 4, 6), np.float32).T, None, (3, 3), (1, 1), (0, 0),
                         (1, 1), 1)
    with pytest.raises(TypeError, match="same dtype"):
        C.conv2d_forward(x, w.astype(np.float64), None, (3, 3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="bias"):
        C.conv2d_forward(x, w, np.ones(5, np.float32), (3, 3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="too large|2\\^31"):
        C.conv2d_forward(x, w, None, (2**40, 2**40), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="grad_output"):
        C.conv2d_backward_input(np.ones((1, 5, 3, 3), np.float32), w, (5, 5), (1, 1), (0, 0),
                                (1, 1), 1)
    with pytest.raises(ValueError, match="same batch size"):
        C.conv2d_backward_weight(x, np.ones((2, 6, 3, 3), np.float32), (3, 3), (1, 1), (0, 0),
                                 (1, 1), 1)
    # An output larger than the padded input reaches is legal and reads zeros (memory-safe).
    y = C.conv2d_forward(x, w, None, (9, 9), (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_array_equal(y[:, :, :3, :3], np.full((1, 6, 3, 3), 36, np.float32))
    np.testing.assert_array_equal(y[:, :, 5:, :], 0)
