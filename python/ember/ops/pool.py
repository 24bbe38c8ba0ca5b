"""Pooling on ember's C++ kernels: max, average, adaptive and max-unpooling, 1-D and 2-D.

NumPy arrays in and out, PyTorch's geometry and defaults. 2-D ops take (N, C, H, W) or unbatched
(C, H, W) arrays, 1-D ops (N, C, L) or (C, L); float32 or float64. A window of output (oh, ow)
covers input rows ``oh * stride - padding + kh * dilation`` (kh < kernel) and likewise columns;
taps in the padding are ignored by max and count as zeros for average. The output size per
dimension is PyTorch's::

    out = floor((in + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1     (ceil with
    ceil_mode, where a last window starting in the right padding is dropped)

Max-pool indices are int64 flat positions ``ih * W + iw`` inside each input plane (``l`` for
1-D), as torch returns them (or int32 on request: compact, for the backward's use); the backward functions scatter gradients through them. Every
backward takes the forward's output gradient and returns the input gradient.

Non-contiguous input is copied to C order first. Bad geometry raises ValueError naming the
values and shapes, a non-float input TypeError, and an out-of-range index IndexError.
"""
from __future__ import annotations

import numpy as np

from ember import _C
from ember.ops._validate import as_float_array

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


# ---- argument handling shared with ember.ops.reference._pool ----------------------------------
def _tuple(value, n: int, name: str, op: str) -> tuple:
    """An int, or a sequence of n ints (or 1, repeated), as an n-tuple of Python ints."""
    if isinstance(value, (list, tuple)):
        vals = tuple(value) * n if len(value) == 1 else tuple(value)
        if len(vals) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    else:
        vals = (value,) * n
    for v in vals:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        if not -2 ** 31 < int(v) < 2 ** 31:
            # Beyond any real geometry; larger values would overflow int64 size arithmetic or
            # fail pybind11's conversion with an anonymous message.
            raise ValueError(f"{op}: {name}={value!r} is out of range (each value must be "
                             f"below 2^31 in magnitude)")
    return tuple(int(v) for v in vals)


def _batched(x, op: str, spatial: int, name: str = "input"):
    """``x`` as a float array of rank spatial + 2 (a batch of 1 is added to unbatched input)."""
    x = as_float_array(x, name, op)
    dims = "(C, L)" if spatial == 1 else "(C, H, W)"
    bdims = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected {name} of shape {dims} or {bdims}, got shape {x.shape}")
    batched = x.ndim == spatial + 2
    return (x if batched else x[np.newaxis]), batched


def _nonempty(x: np.ndarray, op: str, batched: bool) -> None:
    """PyTorch refuses empty channel/spatial dims (only the batch may be 0)."""
    if any(s == 0 for s in x.shape[1:]):
        shape = x.shape if batched else x.shape[1:]
        raise ValueError(f"{op}: expected non-empty channel and spatial dimensions (only the "
                         f"batch may be 0), got input of shape {shape}")


def _to_kernel(x: np.ndarray, spatial: int) -> np.ndarray:
    """(N, C, H, W) C-contiguous aligned array for _C (1-D data becomes H = 1)."""
    if spatial == 1:
        x = x[:, :, np.newaxis, :]
    return np.require(x, requirements=("C", "A"))


def _from_kernel(y: np.ndarray, spatial: int, batched: bool) -> np.ndarray:
    if spatial == 1:
        y = y[:, :, 0, :]
    return y if batched else y[0]


def _pad2(t: tuple, fill: int) -> tuple:
    """A 1-D geometry tuple (v,) as the 2-D (fill, v) the kernels see."""
    return t if len(t) == 2 else (fill,) + t


def _window_geometry(op: str, in_sizes: tuple, kernel_size, stride, padding, dilation,
                     ceil_mode: bool) -> tuple:
    """Checked (kernel, stride, padding, dilation, out_sizes) tuples, one entry per dimension."""
    n = len(in_sizes)
    kernel = _tuple(kernel_size, n, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, n, "stride", op)
    padding = _tuple(padding, n, "padding", op)
    dilation = _tuple(dilation, n, "dilation", op)
    if min(kernel) <= 0:
        raise ValueError(f"{op}: kernel_size must be greater than zero, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be greater than zero, got {stride}")
    if min(dilation) <= 0:
        raise ValueError(f"{op}: dilation must be greater than zero, got {dilation}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding should be at most half of kernel_size, got padding "
                         f"{padding} and kernel_size {kernel}")
    out = []
    for i, k, s, p, d in zip(in_sizes, kernel, stride, padding, dilation):
        o = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:   # the last window would start in the padding
            o -= 1
        out.append(o)
    if min(out) < 1:
        raise ValueError(f"{op}: input size {tuple(in_sizes)} with kernel_size {kernel}, stride "
                         f"{stride}, padding {padding}, dilation {dilation} gives output size "
                         f"{tuple(out)}: too small")
    return kernel, stride, padding, dilation, tuple(out)


def _adaptive_size(op: str, output_size, in_sizes: tuple) -> tuple:
    """output_size as a tuple; None entries keep the input's size."""
    n = len(in_sizes)
    if isinstance(output_size, (list, tuple)):
        vals = tuple(output_size) * n if len(output_size) == 1 else tuple(output_size)
        if len(vals) != n:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {n} ints, got "
                             f"{output_size!r}")
    else:
        vals = (output_size,) * n
    vals = tuple(i if v is None else v for v, i in zip(vals, in_sizes))
    out = _tuple(vals, n, "output_size", op)
    if min(out) < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {out}")
    return out


def _unpool_size(op: str, in_sizes: tuple, kernel_size, stride, padding, output_size) -> tuple:
    """PyTorch's unpooled size: (in - 1) * stride - 2 * padding + kernel, or output_size if it
    lies strictly within one stride of that."""
    n = len(in_sizes)
    kernel = _tuple(kernel_size, n, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, n, "stride", op)
    padding = _tuple(padding, n, "padding", op)
    if min(kernel) <= 0:
        raise ValueError(f"{op}: kernel_size must be greater than zero, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be greater than zero, got {stride}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    default = tuple((i - 1) * s - 2 * p + k for i, k, s, p in zip(in_sizes, kernel, stride, padding))
    if output_size is None:
        out = default
    else:
        given = tuple(output_size)
        if len(given) == n + 2:
            given = given[2:]
        if len(given) != n:
            raise ValueError(f"{op}: output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        out = _tuple(given, n, "output_size", op)
        for d in range(n):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < out[d] < hi:
                raise ValueError(f'{op}: invalid output_size "{tuple(output_size)}" (dim {d} '
                                 f"must be between {lo} and {hi})")
    if min(out) < 0:
        raise ValueError(f"{op}: input size {tuple(in_sizes)} with kernel_size {kernel}, stride "
                         f"{stride}, padding {padding} gives a negative output size {out}")
    return out


def _check_indices(indices, like_shape: tuple, op: str, name: str = "indices",
                   allow_int32: bool = False) -> np.ndarray:
    ind = indices if isinstance(indices, np.ndarray) else np.asarray(indices)
    if ind.dtype != np.int64 and not (allow_int32 and ind.dtype == np.int32):
        kinds = "an int64 or int32" if allow_int32 else "an int64"
        raise TypeError(f"{op}: {name} must be {kinds} array, got dtype {ind.dtype}")
    if ind.shape != tuple(like_shape):
        raise ValueError(f"{op}: {name} of shape {ind.shape} must have the shape {tuple(like_shape)}")
    return ind


def _grad_setup(grad_output, input_shape, op: str, spatial: int):
    """Checked (grad as 4-D kernel array, batched flag, input spatial sizes) for a backward."""
    g, batched = _batched(grad_output, op, spatial, "grad_output")
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != np.ndim(grad_output) or \
            input_shape[:-spatial] != np.shape(grad_output)[:-spatial]:
        raise ValueError(f"{op}: grad_output of shape {np.shape(grad_output)} does not match "
                         f"input_shape {input_shape}")
    if min(input_shape[-spatial:]) < 1:
        raise ValueError(f"{op}: input_shape {input_shape} has an empty spatial dimension")
    return g, batched, input_shape[-spatial:]


# ---- max pooling ----------------------------------------------------------------------------------
def _index_dtype(index_dtype, plane: int, op: str) -> np.dtype:
    dt = np.dtype(index_dtype)
    if dt not in (np.dtype(np.int64), np.dtype(np.int32)):
        raise TypeError(f"{op}: index_dtype must be int64 or int32, got {dt}")
    if dt == np.int32 and plane > np.iinfo(np.int32).max:
        raise ValueError(f"{op}: int32 indices cannot address an input plane of {plane} elements")
    return dt


def _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, index_dtype,
              spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    k, s, p, d, _ = _window_geometry(op, x4.shape[2:], kernel_size, stride, padding, dilation,
                                     ceil_mode)
    idt = _index_dtype(index_dtype, int(np.prod(x4.shape[2:])), op)
    res = _C.max_pool2d(_to_kernel(x4, spatial), _pad2(k, 1), _pad2(s, 1), _pad2(p, 0),
                        _pad2(d, 1), bool(ceil_mode), bool(return_indices), idt)
    if return_indices:
        return _from_kernel(res[0], spatial, batched), _from_kernel(res[1], spatial, batched)
    return _from_kernel(res, spatial, batched)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=True, index_dtype=np.int64):
    """Max over each window of (N, C, H, W) or (C, H, W) ``x``: ``(out, indices)``.

    out[n, c, oh, ow] = max over kh, kw of x[n, c, oh*sH - pH + kh*dH, ow*sW - pW + kw*dW]
    (padding taps excluded). ``stride`` defaults to ``kernel_size``; padding must be at most
    half the kernel. NaN propagates (the last NaN's index is taken); among equal maxima the first
    in scan order wins. With ``return_indices=False`` only ``out`` is computed and returned.
    ``index_dtype=np.int32`` gives compact indices (half the memory traffic of PyTorch's int64;
    the backward accepts both).
    """
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     index_dtype, 2, "max_pool2d")


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=True, index_dtype=np.int64):
    """Max pooling of (N, C, L) or (C, L) ``x``: ``(out, indices)``, indices into L."""
    return _max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     index_dtype, 1, "max_pool1d")


def _index_backward(grad_output, indices, input_shape, spatial, op):
    g4, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    ind = _check_indices(indices, np.shape(grad_output), op, allow_int32=True)
    ind4 = ind if batched else ind[np.newaxis]
    gx = _C.max_pool2d_backward(_to_kernel(g4, spatial), _to_kernel(ind4, spatial),
                                _pad2(in_sizes, 1))
    return _from_kernel(gx, spatial, batched)


def max_pool2d_backward(grad_output, indices, input_shape):
    """Gradient of max_pool2d: zeros of ``input_shape`` with ``grad_output[n, c, o]`` added at
    ``indices[n, c, o]`` (int64 or int32) of each plane (overlapping windows accumulate). Index
    -1 (an empty window) is skipped."""
    return _index_backward(grad_output, indices, input_shape, 2, "max_pool2d_backward")


def max_pool1d_backward(grad_output, indices, input_shape):
    """Gradient of max_pool1d (see max_pool2d_backward)."""
    return _index_backward(grad_output, indices, input_shape, 1, "max_pool1d_backward")


# ---- average pooling ------------------------------------------------------------------------------
def _divisor(divisor_override, op: str) -> int:
    if divisor_override is None:
        return 0
    if isinstance(divisor_override, bool) or not hasattr(divisor_override, "__index__"):
        raise TypeError(f"{op}: divisor_override must be an int or None, got {divisor_override!r}")
    if int(divisor_override) == 0:
        raise ValueError(f"{op}: divisor_override must not be zero")
    return int(divisor_override)


def _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    k, s, p, _, _ = _window_geometry(op, x4.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    y = _C.avg_pool2d(_to_kernel(x4, spatial), _pad2(k, 1), _pad2(s, 1), _pad2(p, 0),
                      bool(ceil_mode), bool(count_include_pad), _divisor(divisor_override, op))
    return _from_kernel(y, spatial, batched)


def _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                  count_include_pad, divisor_override, spatial, op):
    g4, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    k, s, p, _, out = _window_geometry(op, in_sizes, kernel_size, stride, padding, 1, ceil_mode)
    if g4.shape[2:] != out:
        raise ValueError(f"{op}: grad_output of shape {np.shape(grad_output)} does not match the "
                         f"pooled size {out} of input_shape {tuple(input_shape)}")
    gx = _C.avg_pool2d_backward(_to_kernel(g4, spatial), _pad2(in_sizes, 1), _pad2(k, 1),
                                _pad2(s, 1), _pad2(p, 0), bool(ceil_mode),
                                bool(count_include_pad), _divisor(divisor_override, op))
    return _from_kernel(gx, spatial, batched)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each window of (N, C, H, W) or (C, H, W) ``x``.

    out = (sum of the window's in-input taps) / divisor, where divisor is ``divisor_override`` if
    given, else the window's area clipped to the padded input (``count_include_pad=True``) or to
    the input itself.
    """
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Gradient of avg_pool2d: each ``grad_output`` element / its divisor, added to every tap
    of its window that lies inside the input."""
    return _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override, 2, "avg_pool2d_backward")


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of (N, C, L) or (C, L) ``x`` (see avg_pool2d)."""
    return _avg_pool(x, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


def avg_pool1d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode=False, count_include_pad=True):
    """Gradient of avg_pool1d."""
    return _avg_backward(grad_output, input_shape, kernel_size, stride, padding, ceil_mode,
                         count_include_pad, None, 1, "avg_pool1d_backward")


# ---- adaptive pooling -----------------------------------------------------------------------------
def _adaptive_setup(x, output_size, spatial, op):
    x4, batched = _batched(x, op, spatial)
    _nonempty(x4, op, batched)
    out = _adaptive_size(op, output_size, x4.shape[2:])
    return x4, batched, out


def _adaptive_avg(x, output_size, spatial, op):
    x4, batched, out = _adaptive_setup(x, output_size, spatial, op)
    y = _C.adaptive_avg_pool2d(_to_kernel(x4, spatial), _pad2(out, 1))
    return _from_kernel(y, spatial, batched)


def _adaptive_avg_backward(grad_output, input_shape, spatial, op):
    g4, batched, in_sizes = _grad_setup(grad_output, input_shape, op, spatial)
    gx = _C.adaptive_avg_pool2d_backward(_to_kernel(g4, spatial), _pad2(in_sizes, 1))
    return _from_kernel(gx, spatial, batched)


def _adaptive_max(x, output_size, spatial, op):
    x4, batched, out = _adaptive_setup(x, output_size, spatial, op)
    y, ind = _C.adaptive_max_pool2d(_to_kernel(x4, spatial), _pad2(out, 1))
    return _from_kernel(y, spatial, batched), _from_kernel(ind, spatial, batched)


def adaptive_avg_pool2d(x, output_size):
    """Mean over adaptive windows: output (oh, ow) of an (H, W) plane averages rows
    [floor(oh*H/OH), ceil((oh+1)*H/OH)) and the same for columns. ``output_size`` is an int or
    (OH, OW), None keeping that input size; 1 gives global average pooling."""
    return _adaptive_avg(x, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool2d_backward(grad_output, input_shape):
    """Gradient of adaptive_avg_pool2d: grad / window area spread over each window."""
    return _adaptive_avg_backward(grad_output, input_shape, 2, "adaptive_avg_pool2d_backward")


def adaptive_max_pool2d(x, output_size):
    """Max over the adaptive windows of adaptive_avg_pool2d: ``(out, indices)`` (flat per
    plane), with max_pool2d's NaN and tie rules."""
    return _adaptive_max(x, output_size, 2, "adaptive_max_pool2d")


def adaptive_max_pool2d_backward(grad_output, indices, input_shape):
    """Gradient of adaptive_max_pool2d (the same scatter as max_pool2d_backward)."""
    return _index_backward(grad_output, indices, input_shape, 2, "adaptive_max_pool2d_backward")


def adaptive_avg_pool1d(x, output_size):
    """Adaptive average pooling of (N, C, L) or (C, L) ``x``."""
    return _adaptive_avg(x, output_size, 1, "adaptive_avg_pool1d")


def adaptive_avg_pool1d_backward(grad_output, input_shape):
    """Gradient of adaptive_avg_pool1d."""
    return _adaptive_avg_backward(grad_output, input_shape, 1, "adaptive_avg_pool1d_backward")


def adaptive_max_pool1d(x, output_size):
    """Adaptive max pooling of (N, C, L) or (C, L) ``x``: ``(out, indices)``."""
    return _adaptive_max(x, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool1d_backward(grad_output, indices, input_shape):
    """Gradient of adaptive_max_pool1d."""
    return _index_backward(grad_output, indices, input_shape, 1, "adaptive_max_pool1d_backward")


# ---- max unpooling --------------------------------------------------------------------------------
def _max_unpool(x, indices, kernel_size, stride, padding, output_size, spatial, op):
    x4, batched = _batched(x, op, spatial)
    ind = _check_indices(indices, np.shape(x), op)
    ind4 = ind if batched else ind[np.newaxis]
    out = _unpool_size(op, x4.shape[2:], kernel_size, stride, padding, output_size)
    y = _C.max_unpool2d(_to_kernel(x4, spatial), _to_kernel(ind4, spatial), _pad2(out, 1))
    return _from_kernel(y, spatial, batched)


def _max_unpool_backward(grad_output, indices, spatial, op):
    g4, batched = _batched(grad_output, op, spatial, "grad_output")
    ind = np.asarray(indices)
    if ind.ndim != np.ndim(grad_output) or ind.shape[:-spatial] != np.shape(grad_output)[:-spatial]:
        raise ValueError(f"{op}: indices of shape {ind.shape} do not match grad_output of shape "
                         f"{np.shape(grad_output)}")
    ind = _check_indices(ind, ind.shape, op)
    ind4 = ind if batched else ind[np.newaxis]
    gx = _C.max_unpool2d_backward(_to_kernel(g4, spatial), _to_kernel(ind4, spatial))
    return _from_kernel(gx, spatial, batched)


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: zeros of the unpooled size with ``x[n, c, i]`` written at
    ``indices[n, c, i]`` of each plane. The size is (H - 1) * stride - 2 * padding + kernel
    unless ``output_size`` ((H, W) or (N, C, H, W), within one stride of it) is given."""
    return _max_unpool(x, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool2d_backward(grad_output, indices):
    """Gradient of max_unpool2d with respect to its input: ``grad_output`` gathered at
    ``indices`` (the result has the indices' shape)."""
    return _max_unpool_backward(grad_output, indices, 2, "max_unpool2d_backward")


def max_unpool1d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d on (N, C, L) or (C, L) ``x`` (see max_unpool2d)."""
    return _max_unpool(x, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool1d_backward(grad_output, indices):
    """Gradient of max_unpool1d with respect to its input."""
    return _max_unpool_backward(grad_output, indices, 1, "max_unpool1d_backward")
