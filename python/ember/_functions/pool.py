"""Pooling as autograd Functions on ember's C++ kernels (``ember.ops`` pool functions).

Each Function takes the input array plus keyword geometry (``spatial`` = 1 or 2 picks the 1-D or
2-D op) and returns the gradient of its first input only:

- MaxPool:          y, idx = max over windows; dx = scatter of dy through idx (overlapping
                    windows accumulate). The forward's argmax indices are what backward reuses;
                    they are only computed when a gradient or the indices are wanted, and kept
                    as int32 when only the backward needs them.
- AvgPool:          y = window sum / divisor; dx = dy / divisor spread over each window.
- AdaptiveAvgPool:  the same with adaptive windows.
- AdaptiveMaxPool:  like MaxPool with adaptive windows.
- MaxUnpool:        y = zeros with x written at idx; dx = dy gathered at idx. With duplicate
                    indices (overlapping pooling windows) the forward keeps the last value but
                    every duplicate receives the gradient, exactly as PyTorch does.

Geometry errors from the kernels' ValueError (and bad unpool indices' IndexError) surface as
RuntimeError, as PyTorch raises them.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ember import ops
from ember.autograd import grad_mode
from ember.autograd.function import ArrayFunction

_MAX = {2: ops.max_pool2d, 1: ops.max_pool1d}
_MAX_BWD = {2: ops.max_pool2d_backward, 1: ops.max_pool1d_backward}
_AVG = {2: ops.avg_pool2d, 1: ops.avg_pool1d}
_AVG_BWD = {2: ops.avg_pool2d_backward, 1: ops.avg_pool1d_backward}
_ADA_AVG = {2: ops.adaptive_avg_pool2d, 1: ops.adaptive_avg_pool1d}
_ADA_AVG_BWD = {2: ops.adaptive_avg_pool2d_backward, 1: ops.adaptive_avg_pool1d_backward}
_ADA_MAX = {2: ops.adaptive_max_pool2d, 1: ops.adaptive_max_pool1d}
_UNPOOL = {2: ops.max_unpool2d, 1: ops.max_unpool1d}
_UNPOOL_BWD = {2: ops.max_unpool2d_backward, 1: ops.max_unpool1d_backward}


@contextlib.contextmanager
def _torch_errors():
    """Report bad geometry or indices as RuntimeError, like PyTorch's pooling ops."""
    try:
        yield
    except (ValueError, IndexError) as e:
        raise RuntimeError(str(e)) from None


def _grad_wanted(ctx) -> bool:
    return grad_mode.is_grad_enabled() and ctx.needs_input_grad[0]


class MaxPool(ArrayFunction):
    @staticmethod
    def forward(ctx, x, *, spatial, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):
        need_indices = return_indices or _grad_wanted(ctx)
        # Indices kept only for backward are int32: half the memory traffic of int64.
        plane = int(np.prod(x.shape[-spatial:])) if x.ndim else 0
        compact = not return_indices and plane <= np.iinfo(np.int32).max
        with _torch_errors():
            res = _MAX[spatial](x, kernel_size, stride, padding, dilation, ceil_mode,
                                return_indices=need_indices,
                                index_dtype=np.int32 if compact else np.int64)
        if not need_indices:
            return res
        y, idx = res
        ctx.spatial, ctx.input_shape = spatial, x.shape
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        ctx.set_materialize_grads(False)
        return (y, idx) if return_indices else y

    @staticmethod
    def backward(ctx, grad, grad_idx=None):
        if grad is None:
            return None
        idx, = ctx.saved_tensors
        return _MAX_BWD[ctx.spatial](grad, idx, ctx.input_shape)


class AvgPool(ArrayFunction):
    @staticmethod
    def forward(ctx, x, *, spatial, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        extra = (divisor_override,) if spatial == 2 else ()
        with _torch_errors():
            y = _AVG[spatial](x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                              *extra)
        ctx.spatial, ctx.input_shape = spatial, x.shape
        ctx.args = (kernel_size, stride, padding, ceil_mode, count_include_pad) + extra
        return y

    @staticmethod
    def backward(ctx, grad):
        return _AVG_BWD[ctx.spatial](grad, ctx.input_shape, *ctx.args)


class AdaptiveAvgPool(ArrayFunction):
    @staticmethod
    def forward(ctx, x, *, spatial, output_size):
        with _torch_errors():
            y = _ADA_AVG[spatial](x, output_size)
        ctx.spatial, ctx.input_shape = spatial, x.shape
        return y

    @staticmethod
    def backward(ctx, grad):
        return _ADA_AVG_BWD[ctx.spatial](grad, ctx.input_shape)


class AdaptiveMaxPool(ArrayFunction):
    @staticmethod
    def forward(ctx, x, *, spatial, output_size, return_indices):
        with _torch_errors():
            y, idx = _ADA_MAX[spatial](x, output_size)
        ctx.spatial, ctx.input_shape = spatial, x.shape
        ctx.save_for_backward(idx)
        ctx.mark_non_differentiable(idx)
        ctx.set_materialize_grads(False)
        return (y, idx) if return_indices else y

    @staticmethod
    def backward(ctx, grad, grad_idx=None):
        if grad is None:
            return None
        idx, = ctx.saved_tensors
        return _MAX_BWD[ctx.spatial](grad, idx, ctx.input_shape)


class MaxUnpool(ArrayFunction):
    @staticmethod
    def forward(ctx, x, indices, *, spatial, kernel_size, stride, padding, output_size):
        with _torch_errors():
            y = _UNPOOL[spatial](x, indices, kernel_size, stride, padding, output_size)
        ctx.spatial = spatial
        ctx.save_for_backward(indices)
        return y

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        return _UNPOOL_BWD[ctx.spatial](grad, indices), None
