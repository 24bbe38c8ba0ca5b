"""F.pad and F.interpolate (and the deprecated upsample aliases): values against plain-NumPy
references (np.pad, explicit resampling loops), PyTorch parity of the output and the input
gradient (float32 and float64) over every padding mode, negative pads, every interpolation
mode with size and scale_factor, align_corners and recompute_scale_factor, float64 gradcheck
through the real backward, and torch's error types for bad arguments."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck

TOL = {np.float32: dict(rtol=1e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


def _torch():
    return pytest.importorskip("torch")


def parity(e_fn, t_fn, x, dtype, rng):
    """Output and input gradient of e_fn (ember) and t_fn (torch) on x agree."""
    torch = _torch()
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    ty, ey = t_fn(tx), e_fn(ex)
    assert tuple(ey.shape) == tuple(ty.shape)
    assert ey.dtype == getattr(ember, np.dtype(dtype).name)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), **TOL[dtype])
    if ty.numel() == 0:
        return ey
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **TOL[dtype])
    return ey


# ------------------------------------------------------------------------------ pad
PAD_CASES = [
    # (input shape, pad, mode, value)
    ((2, 3, 5), (1, 2), "constant", None),
    ((2, 3, 5), (2, 0), "constant", 1.5),
    ((2, 3, 4, 5), (1, 2, 0, 3), "constant", -2.0),
    ((3, 4, 5), (1, 1, 1, 1, 1, 1), "constant", None),        # pads every dim
    ((2, 3, 4, 5), (-1, 2, 1, -2), "constant", 0.5),            # negative pads crop
    ((2, 3, 5), (2, 4), "reflect", None),
    ((3, 5), (4, 1), "reflect", None),
    ((2, 3, 4, 5), (1, 4, 3, 2), "reflect", None),
    ((3, 4, 5), (3, 1, 0, 2), "reflect", None),
    ((1, 2, 3, 4, 5), (1, 2, 2, 0, 1, 2), "reflect", None),
    ((2, 3, 4, 5), (-1, 2, 3, -2), "reflect", None),
    ((2, 3, 5), (3, 6), "replicate", None),
    ((2, 3, 4, 5), (0, 2, 5, 1), "replicate", None),
    ((2, 4, 3, 5), (1, 1, 2, 2, 3, 0), "replicate", None),
    ((2, 3, 4, 5), (-2, 1, 2, -1), "replicate", None),
    ((2, 3, 5), (2, 5), "circular", None),
    ((2, 3, 4, 5), (1, 3, 4, 2), "circular", None),
    ((3, 4, 5), (2, 2, 1, 0), "circular", None),
    ((1, 2, 3, 4, 5), (1, 0, 2, 2, 3, 1), "circular", None),
    ((2, 3, 4, 6), (-2, 3, 1, -1), "circular", None),          # crop, then wrap
    ((0, 3, 5), (1, 2), "reflect", None),                      # empty batch
]


@DTYPES
@pytest.mark.parametrize("case", PAD_CASES, ids=str)
def test_pad_matches_torch(case, dtype, rng):
    torch = _torch()
    shape, pad, mode, value = case
    kw = {} if value is None else dict(value=value)
    x = rng.standard_normal(shape).astype(dtype)
    parity(lambda t: F.pad(t, pad, mode=mode, **kw),
           lambda t: torch.nn.functional.pad(t, pad, mode=mode, **kw), x, dtype, rng)


@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("reflect", "reflect"),
                                          ("replicate", "edge"), ("circular", "wrap")])
def test_pad_reference_values(mode, np_mode, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    pad = (1, 3, 2, 0)
    ref = np.pad(x, ((0, 0), (0, 0), (2, 0), (1, 3)), mode=np_mode)
    np.testing.assert_array_equal(F.pad(ember.tensor(x), pad, mode=mode).numpy(), ref)
    # the backward of a pad sums the gradient of every copy of an element
    ex = ember.tensor(x, requires_grad=True)
    F.pad(ex, pad, mode=mode).sum().backward()
    counts = np.zeros(x.shape)
    idx = np.pad(np.arange(x.size).reshape(x.shape), ((0, 0), (0, 0), (2, 0), (1, 3)),
                 mode=np_mode)
    if mode == "constant":
        idx = idx[:, :, 2:, 1:6]
    np.add.at(counts.reshape(-1), idx.reshape(-1), 1)
    np.testing.assert_array_equal(ex.grad.numpy(), counts)


def test_pad_constant_value_and_integer_input():
    x = np.arange(6).reshape(2, 3)
    out = F.pad(ember.tensor(x), (1, 1), value=9)
    assert out.dtype == ember.int64
    np.testing.assert_array_equal(out.numpy(), np.pad(x, ((0, 0), (1, 1)), constant_values=9))


@pytest.mark.parametrize("mode,pad,shape", [
    ("constant", (1, -2, 2, 1), (2, 3, 4)), ("reflect", (2, 1, 1, 3), (1, 2, 4, 5)),
    ("replicate", (2, 3), (2, 3, 3)), ("circular", (2, 1, -1, 2), (1, 2, 3, 4)),
    ("reflect", (1, 2, 0, 1, 1, 1), (1, 1, 2, 3, 4)),
])
def test_pad_gradcheck(mode, pad, shape, rng):
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, pad, mode=mode), (x,))


@pytest.mark.parametrize("shape,pad,kw", [
    ((2, 3), (1, 2, 3), {}),                                   # odd length
    ((2, 3), (1, 1, 1, 1, 1, 1), {}),                          # more pads than dims
    ((2, 3, 4), (1, 1), dict(mode="mirror")),                  # unknown mode
    ((2, 3, 4), (4, 1), dict(mode="reflect")),                 # pad >= dim
    ((2, 3, 4), (1, 1), dict(mode="reflect", value=2.0)),      # value with non-constant mode
    ((3, 4), (1, 1, 1, 1, 1, 1), dict(mode="replicate")),     # too many pads for the rank
    ((2, 3, 4), (5, 0), dict(mode="circular")),                # wraps more than once
    ((2, 3, 4), (-3, -2), dict(mode="constant")),              # crops more than the dim
    ((2, 3, 4), (-2, -2), dict(mode="replicate")),             # empty output
    ((2, 0, 4), (1, 1), dict(mode="reflect")),                 # empty non-batch dim
], ids=str)
def test_pad_errors_match_torch(shape, pad, kw, rng):
    torch = _torch()
    x = rng.standard_normal(shape).astype(np.float32)
    with pytest.raises(Exception) as t_err:
        torch.nn.functional.pad(torch.tensor(x), pad, **kw)
    with pytest.raises(t_err.type):
        F.pad(ember.tensor(x), pad, **kw)


def test_pad_bad_argument_types():
    x = ember.zeros(2, 3)
    with pytest.raises(TypeError, match="pad"):
        F.pad(x, (1.5, 1))
    with pytest.raises(TypeError, match="input"):
        F.pad(np.zeros((2, 3)), (1, 1))


def test_pad_circular_overlap_is_refused_not_garbage(rng):
    # torch reads uninitialised memory here (the wrap is longer than the cropped data)
    x = ember.tensor(rng.standard_normal((2, 3, 4)))
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (4, -1), mode="circular")


# ------------------------------------------------------------------------------ interpolate
INTERP_CASES = [
    # (input shape, kwargs)
    ((2, 3, 5), dict(size=9)),
    ((2, 3, 5), dict(scale_factor=2.5)),
    ((2, 3, 7), dict(scale_factor=0.6, mode="nearest-exact")),
    ((2, 3, 5), dict(size=8, mode="linear")),
    ((2, 3, 9), dict(size=4, mode="linear", align_corners=True)),
    ((2, 3, 5), dict(scale_factor=1.7, mode="linear", recompute_scale_factor=True)),
    ((2, 3, 9), dict(size=4, mode="area")),
    ((2, 3, 4, 5), dict(size=(7, 3))),
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 4, 5), dict(scale_factor=(1.5, 0.5))),
    ((2, 3, 6, 5), dict(scale_factor=1 / 3, mode="nearest-exact")),
    ((2, 3, 4, 5), dict(size=(9, 7), mode="bilinear")),
    ((2, 3, 4, 5), dict(size=(9, 7), mode="bilinear", align_corners=True)),
    ((2, 3, 8, 9), dict(scale_factor=0.45, mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=(2.3, 1.4), mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 4, 1), dict(size=(1, 3), mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(size=(9, 7), mode="bicubic")),
    ((2, 3, 4, 5), dict(scale_factor=2.5, mode="bicubic", align_corners=True)),
    ((2, 3, 9, 8), dict(size=(4, 5), mode="bicubic")),
    ((2, 3, 3, 5), dict(scale_factor=(1.5, 0.7), mode="bicubic")),
    ((2, 3, 9, 8), dict(size=(4, 3), mode="area")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="area")),
    ((1, 2, 3, 4, 5), dict(size=(5, 3, 7))),
    ((1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 0.5), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(5, 3, 7), mode="trilinear", align_corners=True)),
    ((1, 2, 6, 4, 5), dict(size=(4, 3, 2), mode="area")),
    ((1, 2, 3, 4, 5), dict(scale_factor=1.6, mode="nearest-exact")),
]


@DTYPES
@pytest.mark.parametrize("case", INTERP_CASES, ids=str)
def test_interpolate_matches_torch(case, dtype, rng):
    torch = _torch()
    shape, kw = case
    x = rng.standard_normal(shape).astype(dtype)
    parity(lambda t: F.interpolate(t, **kw), lambda t: torch.nn.functional.interpolate(t, **kw),
           x, dtype, rng)


def test_interpolate_random_geometries_match_torch(rng):
    """Many random sizes and factors per mode (float32: the index maps must pick torch's
    neighbours at the boundaries in single precision too)."""
    torch = _torch()
    for trial in range(60):
        mode = ["nearest", "nearest-exact", "bilinear", "bicubic", "area"][trial % 5]
        shape = (1, 2) + tuple(int(s) for s in rng.integers(1, 12, 2))
        if trial % 2:
            kw = dict(size=tuple(int(s) for s in rng.integers(1, 20, 2)))
        else:
            kw = dict(scale_factor=tuple(float(s) for s in rng.uniform(0.3, 3.5, 2)))
            if any(math.floor(n * s) < 1 for n, s in zip(shape[2:], kw["scale_factor"])):
                continue
        if mode in ("bilinear", "bicubic"):
            kw["align_corners"] = bool(trial % 3 == 0)
        x = rng.standard_normal(shape).astype(np.float32)
        parity(lambda t: F.interpolate(t, mode=mode, **kw),
               lambda t: torch.nn.functional.interpolate(t, mode=mode, **kw),
               x, np.float32, rng)


def _linear_ref(x, m, align_corners, axis):
    """Plain per-position linear resampling of one axis."""
    n = x.shape[axis]
    out = []
    for j in range(m):
        if align_corners:
            src = j * (n - 1) / (m - 1) if m > 1 else 0.0
        else:
            src = max((j + 0.5) * n / m - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n - 1)
        i1 = min(i0 + 1, n - 1)
        lam = src - i0
        out.append((1 - lam) * np.take(x, i0, axis) + lam * np.take(x, i1, axis))
    return np.stack(out, axis)


def _cubic_ref(x, m, align_corners, axis):
    n = x.shape[axis]

    def k(d, a=-0.75):
        d = abs(d)
        if d <= 1:
            return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
        return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a if d < 2 else 0.0

    out = []
    for j in range(m):
        src = j * (n - 1) / (m - 1) if align_corners else (j + 0.5) * n / m - 0.5
        i = math.floor(src)
        out.append(sum(k(src - (i + t)) * np.take(x, min(max(i + t, 0), n - 1), axis)
                       for t in (-1, 0, 1, 2)))
    return np.stack(out, axis)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_reference_values(align_corners, rng):
    x = rng.standard_normal((2, 3, 4, 6))
    ref = _linear_ref(_linear_ref(x, 7, align_corners, 3), 5, align_corners, 2)
    out = F.interpolate(ember.tensor(x), size=(5, 7), mode="bilinear",
                        align_corners=align_corners)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    ref = _cubic_ref(_cubic_ref(x, 9, align_corners, 3), 3, align_corners, 2)
    out = F.interpolate(ember.tensor(x), size=(3, 9), mode="bicubic",
                        align_corners=align_corners)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    # nearest: integer upscaling repeats, area: integer downscaling averages blocks
    np.testing.assert_array_equal(F.interpolate(ember.tensor(x), scale_factor=3).numpy(),
                                  x.repeat(3, axis=2).repeat(3, axis=3))
    np.testing.assert_allclose(F.interpolate(ember.tensor(x), size=(2, 3), mode="area").numpy(),
                               x.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5)), rtol=1e-12)
    x5 = rng.standard_normal((1, 2, 4, 6, 2))
    np.testing.assert_allclose(
        F.interpolate(ember.tensor(x5), size=(2, 3, 1), mode="area").numpy(),
        x5.reshape(1, 2, 2, 2, 3, 2, 1, 2).mean(axis=(3, 5, 7)), rtol=1e-12)


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 5), dict(size=8, mode="linear")),
    ((1, 2, 4), dict(scale_factor=1.5)),
    ((1, 2, 3, 4), dict(size=(5, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 3, 4), dict(size=(5, 6), mode="bicubic")),
    ((1, 2, 5, 4), dict(scale_factor=(0.6, 1.7), mode="bicubic", align_corners=True)),
    ((1, 2, 5, 6), dict(size=(3, 4), mode="area")),
    ((1, 1, 3, 4, 2), dict(size=(2, 3, 3), mode="trilinear")),
    ((1, 1, 3, 4, 5), dict(size=(2, 3, 2), mode="area")),
    ((1, 2, 4, 3), dict(scale_factor=1.5, mode="nearest-exact")),
], ids=str)
def test_interpolate_gradcheck(shape, kw, rng):
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, **kw), (x,))


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 4, 4), dict()),                                                 # neither
    ((1, 2, 4, 4), dict(size=3, scale_factor=2)),                           # both
    ((1, 2, 4, 4), dict(scale_factor=2, align_corners=True)),               # nearest
    ((1, 2, 4, 4), dict(size=3, mode="area", align_corners=False)),
    ((1, 2, 4, 4), dict(size=(3, 3, 3))),                                   # wrong length
    ((1, 2, 4, 4), dict(scale_factor=(2, 2, 2))),
    ((1, 2, 4, 4), dict(size=3, mode="linear")),                            # wrong rank
    ((1, 2, 4), dict(size=3, mode="bilinear")),
    ((1, 2, 4), dict(size=3, mode="bicubic")),
    ((1, 2, 4, 4, 4), dict(size=3, mode="bicubic")),
    ((2, 4), dict(size=3)),                                                 # 2-D input
    ((1, 2, 4, 4), dict(size=3, mode="cubic")),                             # unknown mode
    ((1, 2, 4, 4), dict(size=(3, 0))),                                      # empty output
    ((1, 2, 4, 4), dict(size=3, recompute_scale_factor=True)),
    ((1, 2, 4), dict(size=3, mode="linear", antialias=True)),
    ((1, 2, 4, 4), dict(size=3, mode="area", antialias=True)),
], ids=str)
def test_interpolate_errors_match_torch(shape, kw, rng):
    torch = _torch()
    x = rng.standard_normal(shape).astype(np.float32)
    with pytest.raises(Exception) as t_err:
        torch.nn.functional.interpolate(torch.tensor(x), **kw)
    with pytest.raises(t_err.type):
        F.interpolate(ember.tensor(x), **kw)


def test_interpolate_messages_name_the_argument():
    x = ember.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(TypeError, match="size"):
        F.interpolate(x, size=(2.5, 3))
    with pytest.raises(TypeError, match="input"):
        F.interpolate(np.zeros((1, 2, 4, 4)), size=3)
    with pytest.raises(NotImplementedError, match="lanczos"):
        F.interpolate(x, size=3, mode="lanczos")
    with pytest.raises(ValueError, match="Anti-alias"):
        F.interpolate(x, size=3, mode="nearest", antialias=True)


AA_CASES = [
    ((2, 3, 12, 10), dict(size=(5, 4))),
    ((2, 3, 9, 16), dict(size=(4, 7), align_corners=True)),
    ((2, 3, 12, 10), dict(scale_factor=(0.3, 0.45))),
    ((2, 3, 7, 9), dict(size=(11, 4))),                  # up in one axis, down in the other
    ((1, 2, 20, 13), dict(scale_factor=0.5, recompute_scale_factor=True)),
]


@DTYPES
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("case", AA_CASES, ids=str)
def test_interpolate_antialias_matches_torch(case, mode, dtype, rng):
    torch = _torch()
    shape, kw = case
    x = rng.standard_normal(shape).astype(dtype)
    parity(lambda t: F.interpolate(t, mode=mode, antialias=True, **kw),
           lambda t: torch.nn.functional.interpolate(t, mode=mode, antialias=True, **kw),
           x, dtype, rng)


def _antialias_ref(x, m, mode, axis):
    """PIL-style resampling of one axis, one output at a time (no align_corners)."""
    n = x.shape[axis]
    s = n / m
    half = 1.0 if mode == "bilinear" else 2.0

    def kernel(d):
        d = abs(d)
        if mode == "bilinear":
            return max(0.0, 1 - d)
        a = -0.5
        if d < 1:
            return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
        return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a if d < 2 else 0.0

    support, stretch = (half * s, s) if s >= 1 else (half, 1.0)
    out = []
    for j in range(m):
        center = s * (j + 0.5)
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n)
        w = np.array([kernel((i - center + 0.5) / stretch) for i in range(lo, hi)])
        w /= w.sum()
        out.append(sum(wi * np.take(x, i, axis) for wi, i in zip(w, range(lo, hi))))
    return np.stack(out, axis)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_reference_values(mode, rng):
    x = rng.standard_normal((2, 3, 13, 16))
    ref = _antialias_ref(_antialias_ref(x, 5, mode, 3), 4, mode, 2)
    out = F.interpolate(ember.tensor(x), size=(4, 5), mode=mode, antialias=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    # halving with the triangle filter: weights 1 3 3 1 / 8 away from the edges
    row = rng.standard_normal((1, 1, 1, 12))
    out = F.interpolate(ember.tensor(row), size=(1, 6), mode="bilinear", antialias=True)
    np.testing.assert_allclose(out.numpy()[0, 0, 0, 2], row[0, 0, 0, 3:7] @ [1, 3, 3, 1] / 8,
                               rtol=1e-12)
    # upsampling: antialiasing changes nothing away from the borders
    up = F.interpolate(ember.tensor(x), size=(26, 32), mode=mode, antialias=True).numpy()
    plain = F.interpolate(ember.tensor(x), size=(26, 32), mode=mode).numpy()
    if mode == "bilinear":
        np.testing.assert_allclose(up[..., 2:-2, 2:-2], plain[..., 2:-2, 2:-2], rtol=1e-12)


def test_interpolate_antialias_gradcheck(rng):
    x = ember.tensor(rng.standard_normal((1, 2, 9, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(4, 3), mode="bilinear", antialias=True),
                     (x,))
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=(0.5, 1.6), mode="bicubic",
                                             antialias=True), (x,))


def test_interpolate_antialias_backward_matches_torch_where_its_forward_skips_an_axis(rng):
    """torch's antialiased forward leaves an axis alone when its size does not change, even
    with scale_factor != 1, while its backward resamples it; ember does the latter in both
    directions (so forward and backward agree), which is torch's backward exactly."""
    torch = _torch()
    x = rng.standard_normal((1, 2, 2, 17))
    kw = dict(scale_factor=(1.49, 1.82), mode="bicubic", antialias=True)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    ty, ey = torch.nn.functional.interpolate(tx, **kw), F.interpolate(ex, **kw)
    assert tuple(ey.shape) == tuple(ty.shape) == (1, 2, 2, 30)
    g = rng.standard_normal((1, 2, 2, 30))
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-13)
    assert gradcheck(lambda t: F.interpolate(t, **kw), (ember.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_non_finite_values_stay_local_like_torch(mode, rng):
    torch = _torch()
    x = rng.standard_normal((1, 2, 5, 6))
    x[0, 0, 1, 2], x[0, 1, 4, 5] = np.inf, np.nan
    g = rng.standard_normal((1, 2, 9, 4))
    g[0, 0, 0, 0], g[0, 1, 8, 3] = np.inf, -np.inf
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, size=(9, 4), mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no NumPy floating-point warnings
        ey = F.interpolate(ex, size=(9, 4), mode=mode)
        ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_deprecated_upsample_aliases(rng):
    x = ember.tensor(rng.standard_normal((1, 2, 3, 4)))
    with pytest.warns(UserWarning, match="deprecated"):
        a = F.upsample(x, scale_factor=2, mode="bilinear")
    np.testing.assert_array_equal(
        a.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear").numpy())
    with pytest.warns(UserWarning, match="deprecated"):
        b = F.upsample_nearest(x, size=(5, 6))
    np.testing.assert_array_equal(b.numpy(), F.interpolate(x, size=(5, 6)).numpy())
    with pytest.warns(UserWarning, match="deprecated"):
        c = F.upsample_bilinear(x, scale_factor=2)
    np.testing.assert_array_equal(
        c.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.interpolate(x, scale_factor=2)          # the real one does not warn
