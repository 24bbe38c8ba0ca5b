"""``F.linear`` and ``F.bilinear``: the dense layers' math.

linear:   y = x W^T + b      x (*, in), W (out, in), b (out,) -> y (*, out)
    The leading dims are flattened to N rows, so the whole batch is one GEMM (ember.ops.matmul
    reads W^T through its strides, no copy). Backward, with g = dL/dy as (N, out):
        dx = g W        (N, in)
        dW = g^T x      (out, in)   (one GEMM over all N rows, whatever the leading dims)
        db = sum_n g    (out,)
bilinear: y[n, o] = sum_ij x1[n, i] W[o, i, j] x2[n, j] + b[o]
    x1 (*, in1), x2 (*, in2), W (out, in1, in2) -> y (*, out); computed as one GEMM
    x1 @ W' with W' = W laid out as (in1, out*in2), then a product with x2 summed over in2,
    from differentiable ember ops (their backward gives all four gradients).
"""
from __future__ import annotations

import numpy as np

from ember import ops
from ember._dtype import legacy_name
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction

__all__ = ["linear", "bilinear"]


def _dtype_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                        f"{legacy_name(a.dtype).lower()} != {legacy_name(b.dtype).lower()}")


class Linear(ArrayFunction):
    """y = x W^T + b on arrays; x (*, in), W (out, in), b (out,) or None."""

    @staticmethod
    def forward(ctx, x, w, b):
        if x.ndim == 0:
            raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                               f"0D and {w.ndim}D")
        if x.dtype != w.dtype:
            raise _dtype_error(x, w)
        if x.dtype.kind != "f":
            raise RuntimeError(f"linear: expected a floating-point input, got "
                               f"{legacy_name(x.dtype)}")
        out_features, in_features = w.shape
        x2 = x.reshape(-1, x.shape[-1])
        if x2.shape[1] != in_features:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x2.shape[0]}x"
                               f"{x2.shape[1]} and {in_features}x{out_features})")
        y = ops.matmul(x2, w.T)
        if b is not None:
            if b.dtype != x.dtype:
                raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                                   f"{legacy_name(b.dtype)} and {legacy_name(x.dtype)}")
            try:
                y += b
            except ValueError:
                raise RuntimeError(f"linear: bias of shape {list(b.shape)} does not broadcast "
                                   f"to the output shape {list(y.shape)}") from None
        ctx.save_for_backward(x, w)      # the arrays themselves: in-place edits are detected
        return y.reshape(x.shape[:-1] + (out_features,))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, w.shape[0])
        gx = ops.matmul(g2, w).reshape(x.shape) if need_x else None
        gw = ops.matmul(g2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight^T + bias.

    input (*, in_features), weight (out_features, in_features), bias (out_features,) or None;
    returns (*, out_features). A 1-D weight (in_features,) gives shape (*).
    """
    if weight.dim() == 1:
        y = input.matmul(weight)
        return y if bias is None else y + bias
    if weight.dim() != 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{weight.dim()}D")
    if bias is not None and bias.dim() > 1:     # a bias that broadcasts over the rows too
        return Linear.apply(input, weight, None) + bias
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o].

    input1 (*, in1_features), input2 (*, in2_features) with the same leading dims,
    weight (out_features, in1_features, in2_features), bias (out_features,) or None;
    returns (*, out_features).
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be a 3-D tensor (out_features, "
                           f"in1_features, in2_features), got {weight.dim()}-D")
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} "
                           f"and {input2.dim()}")
    if input1.dim() == 0:
        raise RuntimeError("bilinear(): inputs must be at least 1-D")
    for d, (s1, s2) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if s1 != s2:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: "
                               f"got {s1} and {s2}")
    n_out, n_in1, n_in2 = weight.shape
    if input1.shape[-1] != n_in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {n_in1}")
    if input2.shape[-1] != n_in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {n_in2}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != n_out):
        got = bias.shape[-1] if bias.dim() else bias.numel()
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {got} but "
                           f"expected {n_out}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, n_in1)                                  # (N, in1)
    x2 = input2.reshape(-1, 1, n_in2)                               # (N, 1, in2)
    w = weight.permute(1, 0, 2).reshape(n_in1, n_out * n_in2)       # (in1, out*in2)
    t = x1.matmul(w).reshape(-1, n_out, n_in2)                      # (N, out, in2)
    y = (t * x2).sum(-1)                                            # (N, out)
    if bias is not None:
        y = y + bias
    return y.reshape(tuple(lead) + (n_out,))
