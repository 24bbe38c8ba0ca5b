"""Convolutions on NumPy arrays through ember's C++ kernels: conv1d, conv2d, conv_transpose2d,
forward and backward, with PyTorch's argument rules.

Layouts are PyTorch's: images (N, C, H, W) (or (C, H, W) unbatched), sequences (N, C, L) (or
(C, L)), weights (C_out, C_in/groups, kH, kW) for convolutions and (C_in, C_out/groups, kH, kW)
for transposed convolutions. ``stride``, ``padding``, ``dilation`` (and ``output_padding``) take an
int or one value per spatial dimension; ``padding`` may also be ``'valid'`` (no padding) or
``'same'`` (output as large as the input; stride 1 only; when the total padding
``dilation * (k - 1)`` is odd the extra row/column goes on the bottom/right, as in torch).

    y[n, k, oh, ow] = bias[k] + sum_{c, i, j} w[k, c, i, j]
                      * x[n, g*C/G + c, oh*sH - pH + i*dH, ow*sW - pW + j*dW]
    OH = (H + pH_top + pH_bottom - dH*(kH - 1) - 1) // sH + 1        (likewise OW)

``conv_transpose2d`` is the adjoint of that map (x of shape (N, C_in, H, W) lands in an output of
height (H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding + 1), so its forward runs conv2d's
input-gradient kernel and its input gradient runs conv2d's forward kernel.

The ``*_backward`` functions take the output gradient and return ``(grad_input, grad_weight,
grad_bias)``, computing only the entries ``output_mask`` asks for (None for the others).

Mixed float32/float64 operands compute in float64; integer arrays are refused (TypeError).
Arguments that describe no valid convolution raise ValueError naming the shapes and values.
Inputs may be any strided view; the GIL is released while the kernels run.
"""
from __future__ import annotations

import numpy as np

from ember import _C
from ember.ops._validate import as_float_array, kernel_ready

__all__ = ["conv1d", "conv1d_backward", "conv2d", "conv2d_backward", "conv_transpose2d",
           "conv_transpose2d_backward"]

_DIMS = {1: "1d", 2: "2d"}


# ---------------------------------------------------------------------------------------------
# Argument rules (shared with ember.ops.reference and ember.nn.functional)
# ---------------------------------------------------------------------------------------------

def _ntuple(value, n: int, name: str, op: str) -> tuple:
    """An int, or a sequence of 1 or n ints, as an n-tuple of ints (torch's rule)."""
    if isinstance(value, (list, tuple)):
        out = tuple(value) * n if len(value) == 1 else tuple(value)
        if len(out) != n:
            raise ValueError(f"{op}: expected {name} to be a single integer value or a list of "
                             f"{n} values to match the convolution dimensions, but got "
                             f"{name}={list(value)}")
    else:
        out = (value,) * n
    for v in out:
        if isinstance(v, (bool, np.bool_)) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        if not -2 ** 31 < int(v) < 2 ** 31:
            # No real geometry gets near this, and larger values would overflow the kernels' int64
            # size arithmetic (or fail pybind11's conversion with an anonymous message).
            raise ValueError(f"{op}: {name}={value!r} is out of range (each value must be "
                             f"below 2^31 in magnitude)")
    return tuple(int(v) for v in out)


def _shape(a) -> tuple:
    return tuple(int(s) for s in a)


def conv_geometry(op: str, x_shape, w_shape, stride, padding, dilation, groups):
    """Resolve conv arguments for a batched input ``x_shape`` (N, C, *spatial) and weight
    ``w_shape`` (K, C/groups, *kernel): returns ``(stride, pad_before, pad_after, dilation,
    out_size)``, tuples with one entry per spatial dimension. Raises ValueError/TypeError."""
    x_shape, w_shape = _shape(x_shape), _shape(w_shape)
    nd = len(w_shape) - 2
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if isinstance(groups, (bool, np.bool_)) or not hasattr(groups, "__index__"):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise ValueError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise ValueError(f"{op}: non-positive dilation is not supported, got dilation={dilation}")
    if groups <= 0:
        raise ValueError(f"{op}: non-positive groups is not supported, got groups={groups}")
    kernel = w_shape[2:]
    if any(k <= 0 for k in kernel):
        raise ValueError(f"{op}: weight of shape {w_shape} has an empty kernel")
    if w_shape[0] == 0:
        raise ValueError(f"{op}: given groups={groups}, expected weight to be at least 1 at "
                         f"dimension 0, but got weight of shape {w_shape} instead")
    if w_shape[0] % groups:
        raise ValueError(f"{op}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of shape {w_shape} instead")
    if x_shape[1] != w_shape[1] * groups:
        raise ValueError(f"{op}: given groups={groups}, weight of shape {w_shape}, expected input "
                         f"{x_shape} to have {w_shape[1] * groups} channels, but got "
                         f"{x_shape[1]} channels instead")
    span = tuple(d * (k - 1) for d, k in zip(dilation, kernel))  # dilated kernel size - 1
    if isinstance(padding, str):
        if padding == "valid":
            before = after = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            before = tuple(t // 2 for t in span)
            after = tuple(t - t // 2 for t in span)
        else:
            raise ValueError(f"{op}: Invalid padding string {padding!r} (expected 'same' or "
                             "'valid')")
    else:
        before = after = _ntuple(padding, nd, "padding", op)
        if any(p < 0 for p in before):
            raise ValueError(f"{op}: negative padding is not supported, got padding={before}")
    padded = tuple(i + b + a for i, b, a in zip(x_shape[2:], before, after))
    if any(p < t + 1 for p, t in zip(padded, span)):
        raise ValueError(
            f"{op}: calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(str(t + 1) for t in span)}). Kernel size can't be greater "
            f"than actual input size (input {x_shape}, weight {w_shape}, dilation {dilation})")
    out = tuple((p - t - 1) // s + 1 for p, t, s in zip(padded, span, stride))
    return stride, before, after, dilation, out


def conv_transpose_geometry(op: str, x_shape, w_shape, stride, padding, output_padding, groups,
                            dilation):
    """Resolve transposed-conv arguments for a batched input ``x_shape`` (N, C_in, *spatial) and
    weight ``w_shape`` (C_in, C_out/groups, *kernel): returns ``(stride, padding, dilation,
    out_size)``, one entry per spatial dimension. Raises ValueError/TypeError."""
    x_shape, w_shape = _shape(x_shape), _shape(w_shape)
    nd = len(w_shape) - 2
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, not str "
                        f"({padding!r}); 'same'/'valid' only exist for convolutions")
    stride = _ntuple(stride, nd, "stride", op)
    padding = _ntuple(padding, nd, "padding", op)
    output_padding = _ntuple(output_padding, nd, "output_padding", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if isinstance(groups, (bool, np.bool_)) or not hasattr(groups, "__index__"):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise ValueError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if any(d <= 0 for d in dilation):
        raise ValueError(f"{op}: non-positive dilation is not supported, got dilation={dilation}")
    if groups <= 0:
        raise ValueError(f"{op}: non-positive groups is not supported, got groups={groups}")
    if any(p < 0 for p in padding):
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding}")
    if any(p < 0 for p in output_padding):
        raise ValueError(f"{op}: negative output_padding is not supported, got "
                         f"output_padding={output_padding}")
    if any(op_ >= s and op_ >= d for op_, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output padding must be smaller than either stride or dilation, "
                         f"but got output_padding={output_padding}, stride={stride}, "
                         f"dilation={dilation}")
    kernel = w_shape[2:]
    if any(k <= 0 for k in kernel):
        raise ValueError(f"{op}: weight of shape {w_shape} has an empty kernel")
    if w_shape[0] % groups:
        raise ValueError(f"{op}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of shape {w_shape} instead")
    if x_shape[1] != w_shape[0]:
        raise ValueError(f"{op}: given transposed=1, weight of shape {w_shape}, expected input "
                         f"{x_shape} to have {w_shape[0]} channels, but got {x_shape[1]} "
                         "channels instead")
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
                zip(x_shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out):
        raise ValueError(f"{op}: given input size per channel: "
                         f"({' x '.join(map(str, x_shape[2:]))}). Calculated output size per "
                         f"channel: ({' x '.join(map(str, out))}). Output size is too small "
                         f"(weight {w_shape}, stride {stride}, padding {padding})")
    return stride, padding, dilation, out


def check_bias(op: str, bias_shape, channels: int, w_shape) -> None:
    if _shape(bias_shape) != (channels,):
        raise ValueError(f"{op}: given weight of shape {_shape(w_shape)}, expected bias to be "
                         f"1-dimensional with {channels} elements, but got bias of shape "
                         f"{_shape(bias_shape)} instead")


def batched(op: str, x: np.ndarray, nd: int, what: str = "input") -> tuple[np.ndarray, bool]:
    """``x`` with a batch axis (added if ``x`` is unbatched) and whether one was added."""
    if x.ndim == nd + 1:
        return x[np.newaxis], True
    if x.ndim != nd + 2:
        raise ValueError(f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) {what}, "
                         f"but got {what} of shape {x.shape}")
    return x, False


def check_weight_rank(op: str, weight: np.ndarray, nd: int) -> None:
    if weight.ndim != nd + 2:
        raise ValueError(f"{op}: expected {nd + 2}-D weight (out_channels, in_channels/groups, "
                         f"{', '.join('k' + 'HW'[-nd:][i] for i in range(nd))}), got weight of "
                         f"shape {weight.shape}")


def _floats(op: str, **arrays):
    """Arrays as float ndarrays (None stays None) and the dtype they compute in."""
    out = {k: (None if v is None else as_float_array(v, k, op)) for k, v in arrays.items()}
    dtype = np.result_type(*[v for v in out.values() if v is not None])
    return out, dtype


def _contig(a, dtype):
    """C-contiguous and aligned (np.ascontiguousarray keeps a misaligned contiguous array)."""
    return None if a is None else np.require(a, dtype=dtype, requirements=("C", "A"))


def _as2d(x: np.ndarray) -> np.ndarray:
    """(N, C, L) -> (N, C, 1, L): a 1-D convolution is a 2-D one with a kernel of height 1."""
    return x[:, :, np.newaxis, :]


# ---------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------

def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    a, dtype = _floats(op, input=input, weight=weight, bias=bias)
    x, unbatched = batched(op, a["input"], nd)
    w = a["weight"]
    check_weight_rank(op, w, nd)
    s, before, _, d, out = conv_geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    if a["bias"] is not None:
        check_bias(op, a["bias"].shape, w.shape[0], w.shape)
    if nd == 1:
        x, w, s, before, d, out = _as2d(x), _as2d(w), (1,) + s, (0,) + before, (1,) + d, (1,) + out
    y = _C.conv2d_forward(kernel_ready(x, dtype), _contig(w, dtype), _contig(a["bias"], dtype),
                          out, s, before, d, int(groups))
    if nd == 1:
        y = y[:, :, 0, :]
    return y[0] if unbatched else y


def _conv_backward(op, nd, grad_output, input, weight, stride, padding, dilation, groups,
                   output_mask):
    a, dtype = _floats(op, grad_output=grad_output, input=input, weight=weight)
    x, unbatched = batched(op, a["input"], nd)
    w = a["weight"]
    check_weight_rank(op, w, nd)
    s, before, _, d, out = conv_geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    g = a["grad_output"]
    expected = (x.shape[0], w.shape[0]) + out
    if (g[np.newaxis] if unbatched else g).shape != expected:
        raise ValueError(f"{op}: grad_output has shape {g.shape}, expected "
                         f"{expected[1:] if unbatched else expected} for input {a['input'].shape} "
                         f"and weight {w.shape}")
    if unbatched:
        g = g[np.newaxis]
    spatial = x.shape[2:]
    if nd == 1:
        x, w, g = _as2d(x), _as2d(w), _as2d(g)
        s, before, d, spatial = (1,) + s, (0,) + before, (1,) + d, (1,) + spatial
    need_x, need_w, need_b = output_mask
    g = _contig(g, dtype)
    gx = gw = gb = None
    if need_x:
        gx = _C.conv2d_backward_input(g, _contig(w, dtype), spatial, s, before, d, int(groups))
        gx = gx[:, :, 0, :] if nd == 1 else gx
        gx = gx[0] if unbatched else gx
    if need_w:
        gw = _C.conv2d_backward_weight(kernel_ready(x, dtype), g, w.shape[2:], s, before, d,
                                       int(groups))
        gw = gw[:, :, 0, :] if nd == 1 else gw
    if need_b:
        gb = _C.channel_sum(g)
    return gx, gw, gb


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2-D convolution (cross-correlation, as torch): input (N, C, H, W) or (C, H, W), weight
    (K, C/groups, kH, kW), bias (K,) or None -> (N, K, OH, OW) (or (K, OH, OW)).

    OH = (H + pad_top + pad_bottom - dilation*(kH - 1) - 1) // stride + 1, likewise OW;
    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (see the module docstring).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                    output_mask=(True, True, True)):
    """Gradients of :func:`conv2d` given ``grad_output`` (the shape of its output):
    ``(grad_input, grad_weight, grad_bias)``, None where ``output_mask`` is False.

    grad_input  = conv2d's adjoint applied to grad_output (what conv_transpose2d computes)
    grad_weight[k, c, i, j] = sum_{n, oh, ow} grad_output[n, k, oh, ow] * x[n, c', oh*s - p + i*d, ...]
    grad_bias[k] = sum_{n, oh, ow} grad_output[n, k, oh, ow]
    """
    return _conv_backward("conv2d_backward", 2, grad_output, input, weight, stride, padding,
                          dilation, groups, output_mask)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """1-D convolution: input (N, C, L) or (C, L), weight (K, C/groups, k), bias (K,) or None
    -> (N, K, OL) with OL = (L + pad_left + pad_right - dilation*(k - 1) - 1) // stride + 1.
    Runs the 2-D kernels with a kernel of height 1."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv1d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                    output_mask=(True, True, True)):
    """Gradients of :func:`conv1d`: ``(grad_input, grad_weight, grad_bias)`` as in
    :func:`conv2d_backward`."""
    return _conv_backward("conv1d_backward", 1, grad_output, input, weight, stride, padding,
                          dilation, groups, output_mask)


# ---------------------------------------------------------------------------------------------
# conv_transpose2d
# ---------------------------------------------------------------------------------------------

def _transpose_args(op, input, weight, bias, stride, padding, output_padding, groups, dilation,
                    grad_output=None):
    a, dtype = _floats(op, input=input, weight=weight, bias=bias, grad_output=grad_output)
    x, unbatched = batched(op, a["input"], 2)
    w = a["weight"]
    check_weight_rank(op, w, 2)
    s, p, d, out = conv_transpose_geometry(op, x.shape, w.shape, stride, padding,
                                           output_padding, groups, dilation)
    return a, dtype, x, unbatched, w, s, p, d, out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> np.ndarray:
    """2-D transposed convolution: input (N, C_in, H, W) or (C_in, H, W), weight
    (C_in, C_out/groups, kH, kW), bias (C_out,) or None -> (N, C_out, OH, OW) with
    OH = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1 (likewise OW).

    It is the adjoint (input gradient) of conv2d with the same weight, stride, padding and
    dilation, mapping an (OH, OW) image to (H, W); ``output_padding`` (< stride or < dilation)
    only picks the output size, which that conv2d cannot tell apart.
    """
    op = "conv_transpose2d"
    a, dtype, x, unbatched, w, s, p, d, out = _transpose_args(
        op, input, weight, bias, stride, padding, output_padding, groups, dilation)
    if a["bias"] is not None:
        check_bias(op, a["bias"].shape, w.shape[1] * int(groups), w.shape)
    y = _C.conv2d_backward_input(_contig(x, dtype), _contig(w, dtype), out, s,
                                 p, d, int(groups), _contig(a["bias"], dtype))
    return y[0] if unbatched else y


def conv_transpose2d_backward(grad_output, input, weight, stride=1, padding=0, output_padding=0,
                              groups=1, dilation=1, output_mask=(True, True, True)):
    """Gradients of :func:`conv_transpose2d` given ``grad_output``: ``(grad_input, grad_weight,
    grad_bias)``, None where ``output_mask`` is False.

    grad_input  = conv2d(grad_output, weight, stride, padding, dilation, groups)
    grad_weight = conv2d's weight gradient with grad_output as its input and input as its
                  output gradient
    grad_bias[c] = sum_{n, h, w} grad_output[n, c, h, w]
    """
    op = "conv_transpose2d_backward"
    a, dtype, x, unbatched, w, s, p, d, out = _transpose_args(
        op, input, weight, None, stride, padding, output_padding, groups, dilation, grad_output)
    g = a["grad_output"]
    expected = (x.shape[0], w.shape[1] * int(groups)) + out
    if (g[np.newaxis] if unbatched else g).shape != expected:
        raise ValueError(f"{op}: grad_output has shape {g.shape}, expected "
                         f"{expected[1:] if unbatched else expected} for input {a['input'].shape} "
                         f"and weight {w.shape}")
    if unbatched:
        g = g[np.newaxis]
    need_x, need_w, need_b = output_mask
    gx = gw = gb = None
    if need_x:
        gx = _C.conv2d_forward(kernel_ready(g, dtype), _contig(w, dtype), None, x.shape[2:], s, p,
                               d, int(groups))
        gx = gx[0] if unbatched else gx
    if need_w:
        gw = _C.conv2d_backward_weight(kernel_ready(g, dtype), _contig(x, dtype),
                                       w.shape[2:], s, p, d, int(groups))
    if need_b:
        gb = _C.channel_sum(kernel_ready(g, dtype))
    return gx, gw, gb
