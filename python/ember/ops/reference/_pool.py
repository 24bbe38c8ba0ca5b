"""Plain-NumPy twins of the ``ember.ops`` pooling functions, with the same signatures.

Sliding-window pools are a loop over the kernel's taps, each a strided slice of the padded input
combined into the whole output at once (``np.maximum``-style selection with argmax tracking for
max, ``+=`` for average): the fastest NumPy form measured (``sliding_window_view(...).max`` and
``np.add.at`` are several times slower). Argument checking and the output-size rule are shared
with ``ember.ops.pool`` so both raise the same errors.
"""
from __future__ import annotations

import numpy as np

from ember.ops.pool import (_adaptive_size, _batched, _check_indices, _divisor, _grad_setup,
                            _index_dtype, _nonempty, _unpool_size, _window_geometry)

__all__ = [
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    "adaptive_max_pool2d", "adaptive_max_pool2d_backward",
    "max_unpool2d", "max_unpool2d_backward",
    "max_pool1d", "max_pool1d_backward", "avg_pool1d", "avg_pool1d_backward",
    "adaptive_avg_pool1d", "adaptive_avg_pool1d_backward",
    "adaptive_max_pool1d", "adaptive_max_pool1d_backward",
    "max_unpool1d", "max_unpool1d_backward",
]


def _to4(x: np.ndarray, spatial: int) -> np.ndarray:
    return x[:, :, np.newaxis, :] if spatial == 1 else x


def _from4(y: np.ndarray, spatial: int, batched: bool) -> np.ndarray:
    y = y[:, :, 0, :] if spatial == 1 else y
    return y if batched else y[0]


def _g2(t: tuple, fill: int) -> tuple:
    return t if len(t) == 2 else (fill,) + t


def _padded(x: np.ndarray, pad: tuple, out: tuple, kernel: tuple, stride: tuple,
            dilation: tuple, fill) -> np.ndarray:
    """x padded by ``pad`` on the left/top and enough on the right/bottom for every window."""
    widths = [(0, 0), (0, 0)]
    for i, p, o, k, s, d in zip(x.shape[2:], pad, out, kernel, stride, dilation):
        need = (o - 1) * s + (k - 1) * d + 1            # padded length the windows span
        widths.append((p, max(need - i - p, 0)))
    return np.pad(x, widths, constant_values=fill)


def _tap(xp: np.ndarray, kh: int, kw: int, out: tuple, stride: tuple, dilation: tuple):
    """The strided slice of padded ``xp`` read by tap (kh, kw) of every window."""
    h0, w0 = kh * dilation[0], kw * dilation[1]
    return xp[:, :, h0:h0 + (out[0] - 1) * stride[0] + 1:stride[0],
              w0:w0 + (out[1] - 1) * stride[1] + 1:stride[1]]


# ---- max pooling ----------------------------------------------------------------------------------
def _first_inside(o: int, k: int, s: int, p: int, d: int, size: int) -> np.ndarray:
    """Per output position: the first tap position inside [0, size), or -1 if there is none."""
    start = np.arange(o) * s - p
    taps = start[:, None] + np.arange(k)[None, :] * d
    inside = (taps >= 0) & (taps < size)
    return np.where(inside.any(axis=1), taps[np.arange(o), inside.argmax(axis=1)], -1)


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, index_dtype,
              spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    idt = _index_dtype(index_dtype, int(np.prod(x4.shape[2:])), op)
    k, s, p, d, out = (_g2(t, f) for t, f in zip(
        _window_geometry(op, x4.shape[2:], kernel_size, stride, padding, dilation, ceil_mode),
        (1, 1, 0, 1, 1)))
    x4 = _to4(x4, spatial)
    H, W = x4.shape[2:]
    xp = _padded(x4, p, out, k, s, d, -np.inf)
    best = np.full(x4.shape[:2] + out, -np.inf, x4.dtype)
    best_at = np.full(best.shape, -1, np.int64)
    rows = (np.arange(out[0]) * s[0] - p[0])[:, None]
    cols = (np.arange(out[1]) * s[1] - p[1])[None, :]
    for kh in range(k[0]):
        for kw in range(k[1]):
            v = _tap(xp, kh, kw, out, s, d)
            take = (v > best) | np.isnan(v)            # ties keep the first, NaN always wins
            np.copyto(best, v, where=take)
            pos = (rows + kh * d[0]) * W + cols + kw * d[1]
            np.copyto(best_at, np.broadcast_to(pos, best_at.shape), where=take)
    if return_indices:
        # Windows whose in-plane values are all -inf never took a value: PyTorch reports their
        # first in-plane tap (or -1 if the window lies entirely in the padding).
        ih = _first_inside(out[0], k[0], s[0], p[0], d[0], H)[:, None]
        iw = _first_inside(out[1], k[1], s[1], p[1], d[1], W)[None, :]
        first = np.where((ih >= 0) & (iw >= 0), ih * W + iw, -1)
        best_at = np.where(best_at < 0, first, best_at).astype(idt)
        return _from4(best, spatial, batched), _from4(best_at, spatial, batched)
    return _from4(best, spatial, batched)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=True, index_dtype=np.int64):
    """NumPy twin of ``ember.ops.max_pool2d``."""
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     index_dtype, 2, "max_pool2d")


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=True, index_dtype=np.int64):
    """NumPy twin of ``ember.ops.max_pool1d``."""
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     index_dtype, 1, "max_pool1d")


def _index_backward(grad_output, indices, input_shape, spatial, op):
    g, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    ind = _check_indices(indices, np.shape(grad_output), op, allow_int32=True)
    ind = ind if batched else ind[np.newaxis]
    plane = int(np.prod(in_sizes))
    planes = g.shape[0] * g.shape[1]
    flat_ind = ind.reshape(planes, -1)
    keep = flat_ind != -1                                # -1 marks an empty window
    if np.any((flat_ind[keep] < 0) | (flat_ind[keep] >= plane)):
        bad = flat_ind[keep][(flat_ind[keep] < 0) | (flat_ind[keep] >= plane)][0]
        raise IndexError(f"{op}: index {bad} is outside the plane of size {in_sizes}")
    # bincount sums the gradients landing on each input position, in output order.
    target = (np.arange(planes)[:, None] * plane + flat_ind)[keep]
    sums = np.bincount(target, weights=g.reshape(planes, -1)[keep], minlength=planes * plane)
    gx = sums.astype(g.dtype).reshape(g.shape[:2] + tuple(in_sizes))
    return gx if batched else gx[0]


def max_pool2d_backward(grad_output, indices, input_shape):
    """NumPy twin of ``ember.ops.max_pool2d_backward``."""
    return _index_backward(grad_output, indices, input_shape, 2, "max_pool2d_backward")


def max_pool1d_backward(grad_output, indices, input_shape):
    """NumPy twin of ``ember.ops.max_pool1d_backward``."""
    return _index_backward(grad_output, indices, input_shape, 1, "max_pool1d_backward")


# ---- average pooling ------------------------------------------------------------------------------
def _divisors(in_sizes, out, k, s, p, count_include_pad, divisor_override) -> np.ndarray:
    """(OH, OW) divisors: separable, the product of each dimension's window length."""
    if divisor_override:
        return np.full(out, float(divisor_override))
    lens = []
    for i, o, kk, ss, pp in zip(in_sizes, out, k, s, p):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, i + pp)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, i)
        lens.append((end - start).astype(np.float64))
    return lens[0][:, None] * lens[1][None, :]


def _avg_geometry(op, in_sizes, kernel_size, stride, padding, ceil_mode):
    k, s, p, _, out = _window_geometry(op, in_sizes, kernel_size, stride, padding, 1, ceil_mode)
    return _g2(k, 1), _g2(s, 1), _g2(p, 0), _g2(out, 1)


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    k, s, p, out = _avg_geometry(op, x4.shape[2:], kernel_size, stride, padding, ceil_mode)
    x4 = _to4(x4, spatial)
    xp = _padded(x4, p, out, k, s, (1, 1), 0)
    total = np.zeros(x4.shape[:2] + out, x4.dtype)
    for kh in range(k[0]):
        for kw in range(k[1]):
            total += _tap(xp, kh, kw, out, s, (1, 1))
    div = _divisors(x4.shape[2:], out, k, s, p, count_include_pad,
                    _divisor(divisor_override, op))
    return _from4((total / div.astype(x4.dtype)), spatial, batched)


def _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                  count_include_pad, divisor_override, spatial, op):
    g, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    k, s, p, out = _avg_geometry(op, in_sizes, kernel_size, stride, padding, ceil_mode)
    in2 = _g2(tuple(in_sizes), 1)
    g = _to4(g, spatial)
    if g.shape[2:] != out:
        raise ValueError(f"{op}: grad_output of shape {np.shape(grad_output)} does not match the "
                         f"pooled size of input_shape {tuple(input_shape)}")
    div = _divisors(in2, out, k, s, p, count_include_pad, _divisor(divisor_override, op))
    share = g / div.astype(g.dtype)
    gp = _padded(np.zeros(g.shape[:2] + in2, g.dtype), p, out, k, s, (1, 1), 0)
    for kh in range(k[0]):
        for kw in range(k[1]):
            _tap(gp, kh, kw, out, s, (1, 1))[...] += share
    gx = gp[:, :, p[0]:p[0] + in2[0], p[1]:p[1] + in2[1]]
    return _from4(np.ascontiguousarray(gx), spatial, batched)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """NumPy twin of ``ember.ops.avg_pool2d``."""
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """NumPy twin of ``ember.ops.avg_pool2d_backward``."""
    return _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override, 2, "avg_pool2d_backward")


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """NumPy twin of ``ember.ops.avg_pool1d``."""
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


def avg_pool1d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True):
    """NumPy twin of ``ember.ops.avg_pool1d_backward``."""
    return _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, None, 1, "avg_pool1d_backward")


# ---- adaptive pooling -----------------------------------------------------------------------------
def _windows(i: int, o: int) -> list:
    """Adaptive windows [floor(j*i/o), ceil((j+1)*i/o)) for j < o."""
    return [((j * i) // o, -((-(j + 1) * i) // o)) for j in range(o)]


def _averaging_matrix(i: int, o: int, dtype) -> np.ndarray:
    """(o, i) matrix whose row j averages window j: adaptive average pooling is A_h x A_w^T."""
    a = np.zeros((o, i), dtype)
    for j, (lo, hi) in enumerate(_windows(i, o)):
        a[j, lo:hi] = 1.0 / (hi - lo)
    return a


def _adaptive_avg(x, output_size, spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    out = _g2(_adaptive_size(op, output_size, x4.shape[2:]), 1)
    x4 = _to4(x4, spatial)
    y = np.empty(x4.shape[:2] + out, x4.dtype)
    # window by window (not a matrix product): a NaN stays inside the windows that contain it
    for oh, (h0, h1) in enumerate(_windows(x4.shape[2], out[0])):
        for ow, (w0, w1) in enumerate(_windows(x4.shape[3], out[1])):
            y[:, :, oh, ow] = x4[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return _from4(y, spatial, batched)


def _adaptive_avg_backward(grad_output, input_shape, spatial, op):
    g, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    g = _to4(g, spatial)
    in2 = _g2(tuple(in_sizes), 1)
    ah = _averaging_matrix(in2[0], g.shape[2], g.dtype)
    aw = _averaging_matrix(in2[1], g.shape[3], g.dtype)
    return _from4(ah.T @ g @ aw, spatial, batched)


def _adaptive_max(x, output_size, spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    out = _g2(_adaptive_size(op, output_size, x4.shape[2:]), 1)
    x4 = _to4(x4, spatial)
    H, W = x4.shape[2:]
    best = np.empty(x4.shape[:2] + out, x4.dtype)
    best_at = np.empty(best.shape, np.int64)
    for oh, (h0, h1) in enumerate(_windows(H, out[0])):
        for ow, (w0, w1) in enumerate(_windows(W, out[1])):
            win = x4[:, :, h0:h1, w0:w1].reshape(x4.shape[:2] + ((h1 - h0) * (w1 - w0),))
            nan = np.isnan(win)
            # PyTorch's rule: the last NaN if there is one, else the first maximum.
            last_nan = nan.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
            at = np.where(nan.any(axis=-1), last_nan, np.argmax(win, axis=-1))
            best[:, :, oh, ow] = np.take_along_axis(win, at[..., None], axis=-1)[..., 0]
            best_at[:, :, oh, ow] = (h0 + at // (w1 - w0)) * W + w0 + at % (w1 - w0)
    return _from4(best, spatial, batched), _from4(best_at, spatial, batched)


def adaptive_avg_pool2d(x, output_size):
    """NumPy twin of ``ember.ops.adaptive_avg_pool2d`` (the mean of each adaptive window)."""
    return _adaptive_avg(x, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool2d_backward(grad_output, input_shape):
    """NumPy twin of ``ember.ops.adaptive_avg_pool2d_backward``."""
    return _adaptive_avg_backward(grad_output, input_shape, 2, "adaptive_avg_pool2d_backward")


def adaptive_max_pool2d(x, output_size):
    """NumPy twin of ``ember.ops.adaptive_max_pool2d``."""
    return _adaptive_max(x, output_size, 2, "adaptive_max_pool2d")


def adaptive_max_pool2d_backward(grad_output, indices, input_shape):
    """NumPy twin of ``ember.ops.adaptive_max_pool2d_backward``."""
    return _index_backward(grad_output, indices, input_shape, 2, "adaptive_max_pool2d_backward")


def adaptive_avg_pool1d(x, output_size):
    """NumPy twin of ``ember.ops.adaptive_avg_pool1d``."""
    return _adaptive_avg(x, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool1d_backward(grad_output, input_shape):
    """NumPy twin of ``ember.ops.adaptive_avg_pool1d_backward``."""
    return _adaptive_avg_backward(grad_output, input_shape, 1, "adaptive_avg_pool1d_backward")


def adaptive_max_pool1d(x, output_size):
    """NumPy twin of ``ember.ops.adaptive_max_pool1d``."""
    return _adaptive_max(x, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool1d_backward(grad_output, indices, input_shape):
    """NumPy twin of ``ember.ops.adaptive_max_pool1d_backward``."""
    return _index_backward(grad_output, indices, input_shape, 1, "adaptive_max_pool1d_backward")


# ---- max unpooling --------------------------------------------------------------------------------
def _max_unpool(x, indices, kernel_size, stride, padding, output_size, spatial, op):
    x4, batched = _batched(x, op, spatial)
    ind = _check_indices(indices, np.shape(x), op)
    ind = ind if batched else ind[np.newaxis]
    out = _unpool_size(op, x4.shape[2:], kernel_size, stride, padding, output_size)
    planes, plane = x4.shape[0] * x4.shape[1], int(np.prod(out))
    y = np.zeros((planes, plane), x4.dtype)
    if y.size:
        flat = ind.reshape(planes, -1)
        if np.any((flat < 0) | (flat >= plane)):
            bad = flat[(flat < 0) | (flat >= plane)][0]
            raise IndexError(f"{op}: index {bad} is outside the plane of size {out}")
        y[np.arange(planes)[:, None], flat] = x4.reshape(planes, -1)
    return y.reshape(x4.shape[:2] + out) if batched else y.reshape(x4.shape[1:2] + out)


def _max_unpool_backward(grad_output, indices, spatial, op):
    g, batched = _batched(grad_output, op, spatial, "grad_output")
    ind = _check_indices(indices, np.shape(indices), op)
    ind = ind if batched else ind[np.newaxis]
    planes = g.shape[0] * g.shape[1]
    flat_g, flat = g.reshape(planes, -1), ind.reshape(planes, -1)
    if flat_g.shape[1] == 0:
        return np.zeros(np.shape(indices), g.dtype)
    if np.any((flat < 0) | (flat >= flat_g.shape[1])):
        bad = flat[(flat < 0) | (flat >= flat_g.shape[1])][0]
        raise IndexError(f"{op}: index {bad} is outside the plane of size {g.shape[2:]}")
    return np.take_along_axis(flat_g, flat, axis=1).reshape(np.shape(indices))


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """NumPy twin of ``ember.ops.max_unpool2d``."""
    return _max_unpool(x, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool2d_backward(grad_output, indices):
    """NumPy twin of ``ember.ops.max_unpool2d_backward``."""
    return _max_unpool_backward(grad_output, indices, 2, "max_unpool2d_backward")


def max_unpool1d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """NumPy twin of ``ember.ops.max_unpool1d``."""
    return _max_unpool(x, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool1d_backward(grad_output, indices):
    """NumPy twin of ``ember.ops.max_unpool1d_backward``."""
    return _max_unpool_backward(grad_output, indices, 1, "max_unpool1d_backward")
