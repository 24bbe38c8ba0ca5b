"""Plain-NumPy twins of ``ember.ops.conv``: conv1d, conv2d, conv_transpose2d and their backward
functions, same signatures and argument rules (shared from ``ember.ops.conv``).

They are the oracle in the tests and the NumPy baseline in the benchmarks, written the fastest
way NumPy allows (measured, see PERF_NOTES): im2col from ``sliding_window_view`` of the padded
input, reordered to (C*kH*kW, N*OH*OW) and multiplied in one GEMM per group; col2im as a loop
over the kernel offsets with a strided ``+=``.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ember.ops.conv import (batched, check_bias, check_weight_rank, conv_geometry,
                            conv_transpose_geometry)
from ember.ops._validate import as_float_array

__all__ = ["conv1d", "conv1d_backward", "conv2d", "conv2d_backward", "conv_transpose2d",
           "conv_transpose2d_backward"]


def _floats(op, **arrays):
    out = {k: (None if v is None else as_float_array(v, k, op)) for k, v in arrays.items()}
    dtype = np.result_type(*[v for v in out.values() if v is not None])
    return {k: (None if v is None else v.astype(dtype, copy=False)) for k, v in out.items()}, dtype


def _pad(x: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """Zero-pad the last two axes; a negative amount crops instead."""
    x = np.pad(x, ((0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))))
    h, w = x.shape[2:]
    return x[:, :, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]


def _extent(out: int, stride: int, dil: int, k: int) -> int:
    """Input rows that OH outputs read: (OH - 1)*stride + dil*(k - 1) + 1."""
    return (out - 1) * stride + dil * (k - 1) + 1


def _im2col(x, kernel, stride, pad, dil, out):
    """(N, C, H, W) -> windows (N, C, OH, OW, kH, kW) of the padded input (a strided view)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, pad, dil, out
    h, w = x.shape[2:]
    xp = _pad(x, ph, _extent(oh, sh, dh, kh) - h - ph, pw, _extent(ow, sw, dw, kw) - w - pw)
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return win[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :oh, :ow]


def _cols(win, c0, c1):
    """Group channels [c0, c1) of the windows as the (C_g*kH*kW, N*OH*OW) patch matrix."""
    n, _, oh, ow, kh, kw = win.shape
    return win[:, c0:c1].transpose(1, 4, 5, 0, 2, 3).reshape((c1 - c0) * kh * kw, n * oh * ow)


def _forward(x, w, bias, stride, pad, dil, groups, out):
    """y (N, K, OH, OW) for x (N, C, H, W), w (K, C/G, kH, kW), top/left padding ``pad``."""
    n, c = x.shape[:2]
    k, cg = w.shape[:2]
    kg = k // groups
    win = _im2col(x, w.shape[2:], stride, pad, dil, out)
    y = np.empty((k, n) + tuple(out), np.result_type(x, w))
    for g in range(groups):
        y[g * kg:(g + 1) * kg] = (w[g * kg:(g + 1) * kg].reshape(kg, -1)
                                  @ _cols(win, g * cg, (g + 1) * cg)).reshape(kg, n, *out)
    y = y.transpose(1, 0, 2, 3)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return np.ascontiguousarray(y)


def _input_grad(gy, w, in_size, stride, pad, dil, groups):
    """dx (N, C, H, W): the adjoint of _forward, by col2im (one strided += per kernel offset)."""
    n, k, oh, ow = gy.shape
    _, cg, kh, kw = w.shape
    kg = k // groups
    (sh, sw), (ph, pw), (dh, dw) = stride, pad, dil
    h, wd = in_size
    bottom, right = _extent(oh, sh, dh, kh) - h - ph, _extent(ow, sw, dw, kw) - wd - pw
    hp, wp = h + max(ph, 0) + max(bottom, 0), wd + max(pw, 0) + max(right, 0)
    dxp = np.zeros((n, cg * groups, hp, wp), gy.dtype)
    # Row/column where output 0 of kernel offset 0 reads, inside the padded (not cropped) array.
    r0, q0 = max(ph, 0) - ph, max(pw, 0) - pw
    for g in range(groups):
        gyg = gy[:, g * kg:(g + 1) * kg].transpose(1, 0, 2, 3).reshape(kg, -1)
        dcols = (w[g * kg:(g + 1) * kg].reshape(kg, -1).T @ gyg).reshape(cg, kh, kw, n, oh, ow)
        dcols = dcols.transpose(3, 0, 1, 2, 4, 5)                   # (N, Cg, kH, kW, OH, OW)
        for i in range(kh):
            for j in range(kw):
                r, q = r0 + i * dh, q0 + j * dw
                dxp[:, g * cg:(g + 1) * cg, r:r + sh * (oh - 1) + 1:sh,
                    q:q + sw * (ow - 1) + 1:sw] += dcols[:, :, i, j]
    top, left = max(ph, 0), max(pw, 0)
    return np.ascontiguousarray(dxp[:, :, top:top + h, left:left + wd])


def _weight_grad(x, gy, kernel, stride, pad, dil, groups):
    """dw (K, C/G, kH, kW) = dY (K, N*OH*OW) @ cols^T per group."""
    n, c = x.shape[:2]
    k, out = gy.shape[1], gy.shape[2:]
    cg, kg = c // groups, k // groups
    win = _im2col(x, kernel, stride, pad, dil, out)
    dw = np.empty((k, cg) + tuple(kernel), np.result_type(x, gy))
    for g in range(groups):
        gyg = gy[:, g * kg:(g + 1) * kg].transpose(1, 0, 2, 3).reshape(kg, -1)
        dw[g * kg:(g + 1) * kg] = (gyg @ _cols(win, g * cg, (g + 1) * cg).T).reshape(
            kg, cg, *kernel)
    return dw


def _to2d(nd, *arrays):
    return [a if a is None or nd == 2 else a[:, :, np.newaxis, :] for a in arrays]


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    a, _ = _floats(op, input=input, weight=weight, bias=bias)
    x, unbatched = batched(op, a["input"], nd)
    w = a["weight"]
    check_weight_rank(op, w, nd)
    s, before, _, d, out = conv_geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    if a["bias"] is not None:
        check_bias(op, a["bias"].shape, w.shape[0], w.shape)
    x2, w2 = _to2d(nd, x, w)
    if nd == 1:
        s, before, d, out = (1,) + s, (0,) + before, (1,) + d, (1,) + out
    y = _forward(x2, w2, a["bias"], s, before, d, int(groups), out)
    y = y[:, :, 0, :] if nd == 1 else y
    return y[0] if unbatched else y


def _conv_backward(op, nd, grad_output, input, weight, stride, padding, dilation, groups,
                   output_mask):
    a, _ = _floats(op, grad_output=grad_output, input=input, weight=weight)
    x, unbatched = batched(op, a["input"], nd)
    w = a["weight"]
    check_weight_rank(op, w, nd)
    s, before, _, d, out = conv_geometry(op, x.shape, w.shape, stride, padding, dilation, groups)
    g = a["grad_output"][np.newaxis] if unbatched else a["grad_output"]
    if g.shape != (x.shape[0], w.shape[0]) + out:
        raise ValueError(f"{op}: grad_output has shape {a['grad_output'].shape}, which does not "
                         f"match input {a['input'].shape} and weight {w.shape}")
    spatial = x.shape[2:]
    x2, w2, g2 = _to2d(nd, x, w, g)
    if nd == 1:
        s, before, d, spatial = (1,) + s, (0,) + before, (1,) + d, (1,) + spatial
    gx = gw = gb = None
    if output_mask[0]:
        gx = _input_grad(g2, w2, spatial, s, before, d, int(groups))
        gx = gx[:, :, 0, :] if nd == 1 else gx
        gx = gx[0] if unbatched else gx
    if output_mask[1]:
        gw = _weight_grad(x2, g2, w2.shape[2:], s, before, d, int(groups))
        gw = gw[:, :, 0, :] if nd == 1 else gw
    if output_mask[2]:
        gb = g.sum(axis=tuple(i for i in range(g.ndim) if i != 1))
    return gx, gw, gb


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """NumPy twin of :func:`ember.ops.conv2d`."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                    output_mask=(True, True, True)):
    """NumPy twin of :func:`ember.ops.conv2d_backward`."""
    return _conv_backward("conv2d_backward", 2, grad_output, input, weight, stride, padding,
                          dilation, groups, output_mask)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """NumPy twin of :func:`ember.ops.conv1d`."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv1d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                    output_mask=(True, True, True)):
    """NumPy twin of :func:`ember.ops.conv1d_backward`."""
    return _conv_backward("conv1d_backward", 1, grad_output, input, weight, stride, padding,
                          dilation, groups, output_mask)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """NumPy twin of :func:`ember.ops.conv_transpose2d` (conv2d's col2im input gradient)."""
    op = "conv_transpose2d"
    a, _ = _floats(op, input=input, weight=weight, bias=bias)
    x, unbatched = batched(op, a["input"], 2)
    w = a["weight"]
    check_weight_rank(op, w, 2)
    s, p, d, out = conv_transpose_geometry(op, x.shape, w.shape, stride, padding, output_padding,
                                           groups, dilation)
    if a["bias"] is not None:
        check_bias(op, a["bias"].shape, w.shape[1] * int(groups), w.shape)
    y = _input_grad(x, w, out, s, p, d, int(groups))
    if a["bias"] is not None:
        y += a["bias"].reshape(1, -1, 1, 1)
    return y[0] if unbatched else y


def conv_transpose2d_backward(grad_output, input, weight, stride=1, padding=0, output_padding=0,
                              groups=1, dilation=1, output_mask=(True, True, True)):
    """NumPy twin of :func:`ember.ops.conv_transpose2d_backward`."""
    op = "conv_transpose2d_backward"
    a, _ = _floats(op, grad_output=grad_output, input=input, weight=weight)
    x, unbatched = batched(op, a["input"], 2)
    w = a["weight"]
    check_weight_rank(op, w, 2)
    s, p, d, out = conv_transpose_geometry(op, x.shape, w.shape, stride, padding, output_padding,
                                           groups, dilation)
    g = a["grad_output"][np.newaxis] if unbatched else a["grad_output"]
    if g.shape != (x.shape[0], w.shape[1] * int(groups)) + out:
        raise ValueError(f"{op}: grad_output has shape {a['grad_output'].shape}, which does not "
                         f"match input {a['input'].shape} and weight {w.shape}")
    gx = gw = gb = None
    if output_mask[0]:
        gx = _forward(g, w, None, s, p, d, int(groups), x.shape[2:])
        gx = gx[0] if unbatched else gx
    if output_mask[1]:
        gw = _weight_grad(g, x, w.shape[2:], s, p, d, int(groups))
    if output_mask[2]:
        gb = g.sum(axis=(0, 2, 3))
    return gx, gw, gb
