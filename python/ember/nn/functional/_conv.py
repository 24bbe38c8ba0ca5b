"""ember.nn.functional convolutions with PyTorch's names, signatures, defaults and output shapes:
``conv1d`` on (N, C, L) or (C, L), ``conv2d`` and ``conv_transpose2d`` on (N, C, H, W) or
(C, H, W) tensors. The work (forward and backward) is done by ember's C++ kernels through the
autograd Functions in ``ember._functions.conv``; see ``ember.ops.conv`` for the formulas.

Invalid arguments raise what torch raises: RuntimeError for geometry, channel and dtype
mismatches (the message names the shapes), TypeError for arguments of the wrong kind.
"""
from __future__ import annotations

from ember._dtype import legacy_name
from ember._functions.conv import Conv1d, Conv2d, ConvTranspose2d
from ember._tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


def _check(op: str, input, weight, bias) -> None:
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    x, w = input._data, weight._data
    if x.dtype.kind != "f" or w.dtype.kind != "f":
        raise RuntimeError(f"{op}: ember's convolutions need floating-point tensors, got input "
                           f"{legacy_name(x.dtype)} and weight {legacy_name(w.dtype)}")
    if x.dtype != w.dtype:
        raise RuntimeError(f"Input type ({legacy_name(x.dtype)}) and weight type "
                           f"({legacy_name(w.dtype)}) should be the same (input of shape "
                           f"{list(x.shape)}, weight of shape {list(w.shape)})")
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(f"Input type ({legacy_name(x.dtype).lower()}) and bias type "
                           f"({legacy_name(bias._data.dtype).lower()}) should be the same")


def _apply(fn, *args):
    try:
        return fn.apply(*args)
    except ValueError as e:     # ember.ops reports bad geometry as ValueError; torch as this
        raise RuntimeError(str(e)) from None


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C_in, L) or (C_in, L) with weight (C_out, C_in/groups, k):
    out length (L + 2*padding - dilation*(k - 1) - 1) // stride + 1. ``padding`` may be an int,
    ``'valid'`` or ``'same'``."""
    _check("conv1d", input, weight, bias)
    return _apply(Conv1d, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) with weight
    (C_out, C_in/groups, kH, kW): out height (H + 2*padding - dilation*(kH - 1) - 1) // stride + 1
    (likewise width). ``stride``/``padding``/``dilation`` are ints or pairs; ``padding`` may be
    ``'valid'`` or ``'same'`` (stride 1 only; an odd total puts the extra row/column at the
    bottom/right)."""
    _check("conv2d", input, weight, bias)
    return _apply(Conv2d, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kH, kW): out height
    (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1 (likewise width);
    ``output_padding`` must be smaller than stride or dilation."""
    _check("conv_transpose2d", input, weight, bias)
    return _apply(ConvTranspose2d, input, weight, bias, stride, padding, output_padding, groups,
                  dilation)
