"""ember.nn.functional resampling and padding: ``interpolate`` (``upsample``,
``upsample_nearest``, ``upsample_bilinear``) and ``pad``, with torch's names, arguments,
defaults, output shapes and index rules.

Both are built from one-axis index maps, so a single formula covers 1-, 2- and 3-D data:

* interpolate resamples each spatial axis in turn (width first, then height, then depth, the
  order torch's kernels combine their weights in). Along an axis of input size ``n`` and output
  size ``m`` output position ``j`` reads

      nearest         i = min(floor(j * s), n - 1)                  s = 1/scale_factor or n/m
      nearest-exact   i = min(floor((j + 0.5) * s), n - 1)
      linear          x = s * j (align_corners) or max(s * (j + 0.5) - 0.5, 0),
                      i0 = min(floor(x), n - 1),  i1 = min(i0 + 1, n - 1),  l = x - i0,
                      out = (1 - l) * in[i0] + l * in[i1]
                      with s = (n - 1)/(m - 1) (align_corners, 0 when m = 1) else as above.
      bicubic         x as linear but not clamped at 0 (s * (j + 0.5) - 0.5), i = floor(x),
                      t = x - i, out = sum over k = -1..2 of W_k(t) * in[clamp(i + k)] with
                      Keys' cubic kernel (A = -0.75): W(d) = (A+2)|d|^3 - (A+3)|d|^2 + 1 for
                      |d| <= 1, A|d|^3 - 5A|d|^2 + 8A|d| - 4A for 1 < |d| < 2
      area            out = mean of in[floor(j n/m) : ceil((j+1) n/m)] (3-D and 4-D input go
                      to the adaptive average pooling kernels; 5-D uses these per-axis means,
                      whose product is the box mean)

      antialias       (bilinear/bicubic) PIL's filters: the triangle or Keys A = -0.5
                      kernel, stretched by s = n/m when downsampling (s > 1), centred at
                      s * (j + 0.5), cut to the input and normalised to sum 1. torch's own
                      antialiased forward skips an axis whose size does not change (even
                      with scale_factor != 1) and mishandles width-1 input; its backward,
                      and ember in both directions, apply the filter as written.

  Each axis is a short list of taps (indices and weights) summed left to right.

  The backward sends each output gradient back to the input rows it read, with the same
  weights: for each input position it gathers the outputs that read it through the
  transposed tap list (nearest modes: segment sums over the sorted index map), in a fixed
  order, so the result is deterministic.
* pad maps each output position of a padded axis to an input position (reflect, replicate,
  circular) or to the fill value (constant). A non-constant map is a few runs of consecutive
  input positions (mirrored runs descend), so both directions are a few slice copies: the
  forward copies each run, the backward adds each run's gradient back onto its input slice.

The index maps are computed in the input's floating-point type (float32 for float32 input),
like torch's CPU kernels, so the chosen neighbours agree with torch's at the boundaries.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]


# ----------------------------------------------------------------------------------------------
# helpers: gather along one axis and its adjoint
# ----------------------------------------------------------------------------------------------
def _segment_sum(grad: np.ndarray, idx: np.ndarray, size: int, axis: int) -> np.ndarray:
    """The adjoint of ``np.take(x, idx, axis)`` for x of length ``size`` along ``axis`` and a
    non-decreasing ``idx`` (the nearest-neighbour maps): out[i] = sum of grad[j] over the j
    with idx[j] == i, each run of equal indices summed by reduceat (sequentially)."""
    shape = list(grad.shape)
    shape[axis] = size
    if not len(idx):
        return np.zeros(shape, grad.dtype)
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    sums = np.add.reduceat(grad, starts, axis=axis)
    keys = idx[starts]
    if len(keys) == size:                       # every input read (upsampling)
        return sums
    out = np.zeros(shape, grad.dtype)
    where = [slice(None)] * grad.ndim
    where[axis] = keys
    out[tuple(where)] = sums
    return out


def _runs(idx: np.ndarray) -> list:
    """A padding map (reflect [2 1 | 0 1 2 3 | 2 1], replicate, circular) as its few runs of
    consecutive indices: (output slice, input slice) pairs, the input slice descending for a
    mirrored run; a lone index (replicate's repeated edge) is a run of one."""
    ids = idx.tolist()
    runs = []
    i, m = 0, len(ids)
    while i < m:
        j = i + 1
        step = ids[j] - ids[i] if j < m else 0
        if step in (1, -1):
            while j < m and ids[j] - ids[j - 1] == step:
                j += 1
        first, last = ids[i], ids[j - 1]
        if step == -1:
            src = slice(first, last - 1 if last > 0 else None, -1)
        else:
            src = slice(first, last + 1)
        runs.append((slice(i, j), src))
        i = j
    return runs


def _take_runs(x: np.ndarray, runs: list, length: int, axis: int) -> np.ndarray:
    """np.take(x, idx, axis) for the map ``runs`` describes (one slice copy per run)."""
    shape = list(x.shape)
    shape[axis] = length
    out = np.empty(shape, x.dtype)
    dst = [slice(None)] * x.ndim
    src = [slice(None)] * x.ndim
    for out_slice, in_slice in runs:
        dst[axis], src[axis] = out_slice, in_slice
        out[tuple(dst)] = x[tuple(src)]
    return out


def _take_runs_adjoint(grad: np.ndarray, runs: list, size: int, axis: int) -> np.ndarray:
    """The adjoint of ``_take_runs``: each run's gradient slice is added back to the input
    slice it was read from (in run order, so deterministic)."""
    shape = list(grad.shape)
    shape[axis] = size
    out = np.zeros(shape, grad.dtype)
    dst = [slice(None)] * grad.ndim
    src = [slice(None)] * grad.ndim
    for out_slice, in_slice in runs:
        src[axis], dst[axis] = out_slice, in_slice
        out[tuple(dst)] += grad[tuple(src)]
    return out


def _weights_shape(ndim: int, axis: int, length: int) -> tuple:
    shape = [1] * ndim
    shape[axis] = length
    return tuple(shape)


# ----------------------------------------------------------------------------------------------
# pad
# ----------------------------------------------------------------------------------------------
def _index_map(mode: str, n: int, left: int, right: int) -> np.ndarray:
    """Input position read by each output position of one padded axis (non-constant modes);
    negative pads crop."""
    if mode == "circular":
        # torch crops first, then wraps the cropped data around.
        lo, hi = max(-left, 0), n - max(-right, 0)
        if hi <= lo:                    # nothing left (pad checks it is an empty output)
            return np.zeros(0, np.int64)
        p = np.arange(-max(left, 0), hi - lo + max(right, 0))
        return lo + np.mod(p, hi - lo)
    p = np.arange(-left, n + right)
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    # reflect (about the edge samples, which are not repeated)
    p = np.abs(p)
    return np.where(p > n - 1, 2 * (n - 1) - p, p)


class _Pad(ArrayFunction):
    """Pad (or crop, for negative pads) the trailing dims of x; see ``pad``."""

    @staticmethod
    def forward(ctx, x, *, pads, mode, value):
        ctx.shape, ctx.pads, ctx.mode = x.shape, pads, mode
        nd = x.ndim
        if mode == "constant":
            crop = [slice(None)] * nd
            width = [(0, 0)] * nd
            for axis, (l, r) in pads.items():
                crop[axis] = slice(max(-l, 0), x.shape[axis] - max(-r, 0))
                width[axis] = (max(l, 0), max(r, 0))
            return np.pad(x[tuple(crop)], width, mode="constant", constant_values=value)
        ctx.runs = {}
        out = x
        for axis, (l, r) in pads.items():
            idx = _index_map(mode, x.shape[axis], l, r)
            ctx.runs[axis] = _runs(idx)
            out = _take_runs(out, ctx.runs[axis], len(idx), axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.mode == "constant":
            gx = np.zeros(ctx.shape, grad.dtype)
            src = [slice(None)] * grad.ndim
            dst = [slice(None)] * grad.ndim
            for axis, (l, r) in ctx.pads.items():
                n = ctx.shape[axis]
                dst[axis] = slice(max(-l, 0), n - max(-r, 0))
                src[axis] = slice(max(l, 0), max(l, 0) + (n - max(-l, 0) - max(-r, 0)))
            gx[tuple(dst)] = grad[tuple(src)]
            return gx
        for axis in reversed(list(ctx.runs)):
            grad = _take_runs_adjoint(grad, ctx.runs[axis], ctx.shape[axis], axis)
        return grad


_NON_CONSTANT_HELP = ("Supported combinations for non-constant padding:\n"
                      "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                      "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                      "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims of ``input``.

    ``pad = (left_last, right_last, left_2nd_last, right_2nd_last, ...)`` (torch's order: the
    last dim first). Modes: ``'constant'`` (fill with ``value``, default 0; negative pads crop),
    ``'reflect'`` (mirror without repeating the edge: [a b c] padded by 2 on the left gives
    [c b a b c]; pads must be smaller than the dim), ``'replicate'`` (repeat the edge) and
    ``'circular'`` (wrap around). The non-constant modes take 2-D/3-D input with 2 pads, 3-D/4-D
    with 4 and 4-D/5-D with 6, as in torch. Differentiable in ``input``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    pad = tuple(pad)
    for i, p in enumerate(pad):
        if isinstance(p, bool) or not hasattr(p, "__index__"):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim = input.dim()
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    shape = tuple(input.shape)
    pads = {ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    if mode == "constant":
        for axis, (l, r) in pads.items():
            # torch crops (narrows) by the negative pads before it pads
            if shape[axis] + min(l, 0) + min(r, 0) < 0:
                raise RuntimeError(f"narrow(): length must be non-negative. (padding ({l}, "
                                   f"{r}) at dimension {axis} of input {list(shape)})")
        value = 0.0 if value is None else value
    else:
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        k = len(pad) // 2
        if ndim not in (k + 1, k + 2):
            raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D "
                                      f"input tensor.\n{_NON_CONSTANT_HELP}")
        if any(s == 0 for s in shape[1:]) or (ndim == k + 1 and shape[0] == 0):
            raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with "
                               f"possibly 0 batch size and other non-zero dimensions for "
                               f"input, but got: {list(shape)}")
        for axis, (l, r) in pads.items():
            n = shape[axis]
            if mode == "reflect" and (l >= n or r >= n):
                raise RuntimeError(f"Argument #4: Padding size should be less than the "
                                   f"corresponding input dimension, but got: padding ({l}, {r}) "
                                   f"at dimension {axis} of input {list(shape)}")
            if n + l + r < 0:
                raise RuntimeError(f"narrow(): length must be non-negative. (padding ({l}, "
                                   f"{r}) at dimension {axis} of input {list(shape)})")
            if mode == "circular" and (l > n or r > n):
                raise RuntimeError(f"Padding value causes wrapping around more than once: "
                                   f"padding ({l}, {r}) at dimension {axis} of input "
                                   f"{list(shape)}")
            if mode == "circular" and n + l + r > 0:
                # torch wraps the cropped data, and a pad longer than that data makes its
                # copies overlap (an error or uninitialised values in torch): refused here.
                kept = n + min(l, 0) + min(r, 0)
                if l > kept or r > kept:
                    raise RuntimeError(f"Padding value causes wrapping around more than once: "
                                       f"padding ({l}, {r}) at dimension {axis} of input "
                                       f"{list(shape)} leaves {max(kept, 0)} elements to wrap")
        out_sp = [shape[a] + pads[a][0] + pads[a][1] for a in range(ndim - k, ndim)]
        if mode != "circular" and all(o < 1 for o in out_sp):
            # torch refuses only when every padded dim would be empty
            names = "DHW"[3 - k:]
            ins = ", ".join(f"{c}: {shape[ndim - k + i]}" for i, c in enumerate(names))
            outs = " ".join(f"{c}: {o}" for c, o in zip(names, out_sp))
            raise RuntimeError(f"input ({ins}) is too small. Calculated output {outs}")
    return _Pad.apply(input, pads=pads, mode=mode, value=value)


# ----------------------------------------------------------------------------------------------
# interpolate
# ----------------------------------------------------------------------------------------------
def _source_scale(n: int, m: int, scale, align_corners: bool, ft):
    """torch's area_pixel_compute_scale, in the float type ``ft``."""
    if align_corners:
        return ft(n - 1) / ft(m - 1) if m > 1 else ft(0)
    return ft(1.0 / scale) if scale is not None and scale > 0 else ft(n) / ft(m)


def _keys(d: np.ndarray, a) -> np.ndarray:
    """Keys' cubic convolution kernel at distances d >= 0: (a+2)d^3 - (a+3)d^2 + 1 up to 1,
    a d^3 - 5a d^2 + 8a d - 4a up to 2, then 0 (torch's Horner forms, in d's float type)."""
    a = d.dtype.type(a)
    return np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                    np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0)).astype(d.dtype)


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """Weights (A = -0.75, torch's) of the taps at offsets -1, 0, 1, 2 from floor(x) for
    fractional parts ``t``: shape (4, len(t))."""
    one = t.dtype.type(1)
    return np.stack([_keys(t + one, -0.75), _keys(t, -0.75), _keys(one - t, -0.75),
                     _keys((one - t) + one, -0.75)])


def _antialias_plan(mode, n, m, scale, align_corners, dtype, ft, j):
    """torch's antialiased (PIL-style) taps: the triangle (bilinear) or Keys A = -0.5 (bicubic)
    filter stretched by the downscaling factor s = n/m when s > 1, centred at s * (j + 0.5),
    truncated to the input and normalised to sum 1."""
    s = _source_scale(n, m, scale, align_corners, ft)
    half = ft(1 if mode == "bilinear" else 2)
    support = half * s if s >= 1 else half
    invscale = ft(1) / s if s >= 1 else ft(1)
    taps = int(math.ceil(support)) * 2 + 1
    center = s * (j.astype(ft) + ft(0.5))
    xmin = np.maximum(np.trunc(center - support + ft(0.5)).astype(np.int64), 0)
    xsize = np.clip(np.minimum(np.trunc(center + support + ft(0.5)).astype(np.int64), n) - xmin,
                    0, taps)
    t = np.arange(taps)[:, None]
    d = np.abs(((xmin + t).astype(ft) - center + ft(0.5)) * invscale)
    w = np.maximum(ft(1) - d, ft(0)) if mode == "bilinear" else _keys(d, -0.5)
    used = t < xsize
    w = np.where(used, w, ft(0)).astype(ft)
    total = w.sum(axis=0)
    w = np.where(total != 0, w / np.where(total != 0, total, ft(1)), w)
    return np.where(used, xmin + t, n), w.astype(dtype)


def _axis_plan(mode: str, n: int, m: int, scale, align_corners: bool, dtype,
               antialias: bool = False):
    """(idx, w) for one axis: out[j] = sum over taps t of w[t, j] * in[idx[t, j]], idx and w
    of shape (taps, m); w is None for the nearest modes (one tap, weight 1). Index n stands
    for a zero appended to the input (taps a short window does not use)."""
    ft = np.float64 if dtype == np.float64 else np.float32
    j = np.arange(m)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and m == n:        # torch's shortcuts (nearest only)
            return j[None], None
        if mode == "nearest" and m == 2 * n:
            return (j >> 1)[None], None
        # torch computes these in single precision whatever the dtype
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
            np.float32(n) / np.float32(m)
        if mode == "nearest":
            src = np.floor(j.astype(np.float32) * s)
        else:
            src = np.floor(((j + 0.5) * np.float64(s)).astype(np.float32))
        return np.minimum(src.astype(np.int64), n - 1)[None], None
    if mode == "area":
        # adaptive average pooling: output j averages input [floor(j n/m), ceil((j+1) n/m))
        if m == 0:                              # empty output, as torch allows here
            return np.zeros((1, 0), np.int64), np.zeros((1, 0), dtype)
        lo = (j * n) // m
        hi = -((-(j + 1) * n) // m)
        taps = int((hi - lo).max())
        t = np.arange(taps)[:, None]
        used = lo + t < hi
        idx = np.where(used, lo + t, n)         # unused taps read the appended zero (index n)
        w = np.where(used, 1 / (hi - lo).astype(np.float64), 0).astype(dtype)
        return idx, w
    if antialias:
        return _antialias_plan(mode, n, m, scale, align_corners, dtype, ft, j)
    s = _source_scale(n, m, scale, align_corners, ft)
    if mode == "bicubic":
        # source position (not clamped at 0, torch's cubic rule), taps floor(x) - 1 .. + 2
        # clamped to the edge
        x = s * j.astype(ft) if align_corners else s * (j.astype(ft) + ft(0.5)) - ft(0.5)
        i0 = np.minimum(np.floor(x).astype(np.int64), n - 1)
        lam = np.clip(x - i0.astype(ft), 0, 1).astype(ft)
        idx = np.clip(i0[None] + np.arange(-1, 3)[:, None], 0, n - 1)
        return idx, _cubic_weights(lam).astype(dtype)
    if align_corners:
        x = s * j.astype(ft)
    else:
        x = np.maximum(s * (j.astype(ft) + ft(0.5)) - ft(0.5), ft(0))
    i0 = np.minimum(np.floor(x).astype(np.int64), n - 1)
    lam = np.clip(x - i0.astype(ft), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n - 1)
    return np.stack([i0, i1]), np.stack([(1 - lam).astype(dtype), lam])


def _adjoint_taps(idx: np.ndarray, w: np.ndarray, n: int):
    """The transpose of a tap list: (jdx, wt) of shape (R, n) with
    in_grad[k] = sum over r of wt[r, k] * out_grad[jdx[r, k]], R the most outputs any input
    feeds. Unused slots point at index m (a zero appended to the gradient) with weight 0, so
    a non-finite gradient value cannot leak into unrelated inputs."""
    taps, m = idx.shape
    k = idx.ravel()
    j = np.tile(np.arange(m), taps)
    wk = w.ravel()
    real = k < n                                # drop the taps that read the appended zero
    k, j, wk = k[real], j[real], wk[real]
    order = np.lexsort((j, k))                  # by input, then by output position
    k, j, wk = k[order], j[order], wk[order]
    counts = np.bincount(k, minlength=n)
    rank = np.arange(len(k)) - (np.cumsum(counts) - counts)[k]
    jdx = np.full((int(counts.max()), n), m, np.int64)
    wt = np.zeros((int(counts.max()), n), w.dtype)
    jdx[rank, k] = j
    wt[rank, k] = wk
    return jdx, wt


def _append_zero(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` with one zero slice appended along ``axis`` (the target of unused taps)."""
    shape = list(a.shape)
    shape[axis] = 1
    return np.concatenate([a, np.zeros(shape, a.dtype)], axis=axis)


class _Resample(ArrayFunction):
    """Separable resampling of the trailing spatial axes; see ``interpolate``."""

    @staticmethod
    def forward(ctx, x, *, plans):
        ctx.shape, ctx.plans = x.shape, plans
        # inf * 0 (a non-finite value next to a zero weight) is NaN, silently, as in torch
        with np.errstate(invalid="ignore", over="ignore"):
            return _Resample._apply(x, plans)

    @staticmethod
    def _apply(x, plans):
        out = x
        for axis, (idx, w) in plans:
            if w is None:
                out = np.take(out, idx[0], axis=axis)
                continue
            if idx.size and idx.max() == out.shape[axis]:
                out = _append_zero(out, axis)
            shape = _weights_shape(out.ndim, axis, idx.shape[1])
            acc = np.take(out, idx[0], axis=axis) * w[0].reshape(shape)
            for t in range(1, len(idx)):        # taps summed left to right, as torch does
                acc += np.take(out, idx[t], axis=axis) * w[t].reshape(shape)
            out = acc
        return out

    @staticmethod
    def backward(ctx, grad):
        with np.errstate(invalid="ignore", over="ignore"):
            return _Resample._adjoint(grad, ctx.shape, ctx.plans)

    @staticmethod
    def _adjoint(grad, in_shape, plans):
        for axis, (idx, w) in reversed(plans):
            n = in_shape[axis]
            if w is None:
                grad = _segment_sum(grad, idx[0], n, axis)
                continue
            # gather through the transposed taps (faster than scattering the weighted
            # gradient with segment sums; deterministic either way)
            jdx, wt = _adjoint_taps(idx, w, n)
            pad = list(grad.shape)
            if not len(jdx):                    # an empty output feeds nothing
                pad[axis] = n
                grad = np.zeros(pad, grad.dtype)
                continue
            g = _append_zero(grad, axis)
            shape = _weights_shape(grad.ndim, axis, n)
            acc = np.take(g, jdx[0], axis=axis) * wt[0].reshape(shape)
            for r in range(1, len(jdx)):
                acc += np.take(g, jdx[r], axis=axis) * wt[r].reshape(shape)
            grad = acc
        return grad


_LINEAR_DIM = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _is_integer(x) -> bool:
    return not isinstance(x, bool) and hasattr(x, "__index__")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None, antialias: bool = False):
    """Resample (N, C, *spatial) input to ``size`` or by ``scale_factor``.

    ``mode``: ``'nearest'`` (torch's legacy rule, see the module docstring), ``'nearest-exact'``
    (pixel centres), ``'linear'`` (3-D input), ``'bilinear'`` and ``'bicubic'`` (4-D),
    ``'trilinear'`` (5-D) and ``'area'`` (adaptive average pooling). ``align_corners``
    (linear and cubic modes only, default False)
    maps the corner pixel centres of input and output onto each other. With ``scale_factor``
    the output size is floor(in * scale_factor) and the given factor is used for the index
    map unless ``recompute_scale_factor=True`` (then in/out is). ``antialias=True``
    (bilinear and bicubic, 4-D input) low-pass filters when downsampling, as PIL and torch do.
    Differentiable in ``input``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    shape = tuple(input.shape)
    dim = len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    f"and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, "
                                f"int] or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    f"(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    f"format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out_size is None:
        recompute_scale_factor = True
    if out_size is None:
        out_size = [int(math.floor(float(shape[2 + i]) * scales[i])) for i in range(dim)]
        if recompute_scale_factor:
            scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and len(shape) == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")

    if mode in _LINEAR_DIM and len(shape) != _LINEAR_DIM[mode]:
        need = _LINEAR_DIM[mode]
        if len(shape) in (3, 4, 5):
            raise NotImplementedError(f"Got {len(shape)}D input, but {mode} mode needs "
                                      f"{need}D input")
    if len(shape) not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "area",
                                                    *_LINEAR_DIM):
        if mode == "lanczos" and len(shape) == 4:
            raise NotImplementedError("interpolate: mode 'lanczos' is not implemented in "
                                      "ember (nearest, nearest-exact, linear, bilinear, "
                                      "bicubic, trilinear and area are)")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {len(shape)}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    if mode == "area" and dim < 3:
        # adaptive average pooling (ember's C++ kernels); 5-D input takes the separable path
        from ember.nn.functional._pool import adaptive_avg_pool1d, adaptive_avg_pool2d
        return (adaptive_avg_pool1d if dim == 1 else adaptive_avg_pool2d)(input, out_size)
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(f"interpolate: ember resamples floating-point tensors only, "
                                  f"got {input.dtype}")
    in_sp = shape[2:]
    if any(s <= 0 for s in in_sp) or any(s < (mode != "area") for s in out_size):
        names = "DHW"[3 - dim:]
        ins = ", ".join(f"{c}: {s}" for c, s in zip(names, in_sp))
        outs = ", ".join(f"{c}: {s}" for c, s in zip(names, out_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({ins}) output ({outs})")
    plans = []
    for i in reversed(range(dim)):          # the last axis first, as torch combines weights
        axis = 2 + i
        plans.append((axis, _axis_plan(mode, in_sp[i], out_size[i],
                                       None if scales is None else scales[i],
                                       align_corners, dtype, antialias)))
    return _Resample.apply(input, plans=tuple(plans))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (warns, as torch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
