"""ember.nn.functional pooling with PyTorch's names, signatures, defaults and output shapes:
max/avg/adaptive pooling and max-unpooling, 1-D on (N, C, L) or (C, L) and 2-D on (N, C, H, W)
or (C, H, W) tensors. The work is done by ember's C++ kernels (``ember._functions.pool``).
"""
from __future__ import annotations

from ember._functions.pool import AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, MaxPool, MaxUnpool
from ember.ops.pool import _unpool_size

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "max_unpool1d", "max_unpool2d",
]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling: out[n, c, oh, ow] = max of the window at (oh * stride - padding) with
    ``kernel_size`` taps ``dilation`` apart. ``stride`` defaults to ``kernel_size``. With
    ``return_indices`` also returns the int64 argmax positions (flat in each H*W plane), as
    ``max_unpool2d`` takes them. NaN propagates; ties go to the first maximum."""
    return MaxPool.apply(input, spatial=2, kernel_size=kernel_size, stride=stride,
                         padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                         return_indices=return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over the last dimension of (N, C, L) or (C, L) input."""
    return MaxPool.apply(input, spatial=1, kernel_size=kernel_size, stride=stride,
                         padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                         return_indices=return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """``max_pool2d`` returning ``(output, indices)``."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """``max_pool1d`` returning ``(output, indices)``."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling: each window's sum divided by ``divisor_override``, or by its area
    including the zero padding (``count_include_pad``) or counting only input elements."""
    return AvgPool.apply(input, spatial=2, kernel_size=kernel_size, stride=stride,
                         padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over the last dimension of (N, C, L) or (C, L) input."""
    return AvgPool.apply(input, spatial=1, kernel_size=kernel_size, stride=stride,
                         padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=None)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` (int or (OH, OW), None keeps that input
    size): output row oh averages input rows [floor(oh*H/OH), ceil((oh+1)*H/OH)).
    ``output_size=1`` is global average pooling."""
    return AdaptiveAvgPool.apply(input, spatial=2, output_size=output_size)


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling of (N, C, L) or (C, L) input to length ``output_size``."""
    return AdaptiveAvgPool.apply(input, spatial=1, output_size=output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive_avg_pool2d's windows; optionally also the int64 argmax indices."""
    return AdaptiveMaxPool.apply(input, spatial=2, output_size=output_size,
                                 return_indices=return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pooling of (N, C, L) or (C, L) input."""
    return AdaptiveMaxPool.apply(input, spatial=1, output_size=output_size,
                                 return_indices=return_indices)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool2d`` returning ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool1d`` returning ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


def _unpool(input, indices, kernel_size, stride, padding, output_size, spatial, op):
    # The output size is checked here so that a bad output_size raises ValueError, as in PyTorch.
    if output_size is not None:
        shape = tuple(input.shape)
        if len(shape) not in (spatial + 1, spatial + 2):
            raise RuntimeError(f"{op}: expected input of {spatial + 1} or {spatial + 2} "
                               f"dimensions, got shape {shape}")
        output_size = _unpool_size(op, shape[-spatial:], kernel_size, stride, padding,
                                   output_size)
    return MaxUnpool.apply(input, indices, spatial=spatial, kernel_size=kernel_size,
                           stride=stride, padding=padding, output_size=output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: zeros with ``input`` placed at ``indices`` (from
    ``max_pool2d(..., return_indices=True)``). Output size (H - 1) * stride - 2 * padding +
    kernel_size, or ``output_size`` within one stride of it."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d on (N, C, L) or (C, L) input."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")
