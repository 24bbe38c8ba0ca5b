"""Convolutions as autograd Functions over ``ember.ops.conv`` (C++ forward and backward).

For y = conv(x, w) + b (see ``ember.ops.conv`` for the index formula):

    dx = conv^T(dy, w)                       (the adjoint map: what conv_transpose computes)
    dw[k, c, i, j] = sum_{n, oh, ow} dy[n, k, oh, ow] * x[n, c', oh*s - p + i*d, ow*s - p + j*d]
    db[k] = sum_{n, oh, ow} dy[n, k, oh, ow]

and for the transposed convolution z = conv^T(x, w) + b the roles swap: dx = conv(dz, w),
dw is conv's weight gradient with dz as the image and x as the output gradient, db sums dz.
Only the gradients in ``ctx.needs_input_grad`` are computed.
"""
from __future__ import annotations

from ember import ops
from ember.autograd.function import ArrayFunction


class Conv1d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        return ops.conv1d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return ops.conv1d_backward(grad, x, weight, *ctx.args,
                                   output_mask=ctx.needs_input_grad[:3])


class Conv2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, dilation, groups)
        return ops.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return ops.conv2d_backward(grad, x, weight, *ctx.args,
                                   output_mask=ctx.needs_input_grad[:3])


class ConvTranspose2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, weight)
        ctx.args = (stride, padding, output_padding, groups, dilation)
        return ops.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
                                    dilation)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return ops.conv_transpose2d_backward(grad, x, weight, *ctx.args,
                                             output_mask=ctx.needs_input_grad[:3])
