"""Pooling layers (torch.nn's): MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d,
AdaptiveMaxPool1d/2d, MaxUnpool1d/2d, LPPool1d/2d.

Like torch's, the constructors store their arguments as given (MaxPool/AvgPool2d keep ints as
ints; AvgPool1d and MaxUnpool turn them into tuples) and leave validation to the functional
ops, so a bad kernel or stride raises when the layer is called, with torch's error types.
None of these layers has parameters or buffers (empty ``state_dict``). Shapes: 1-D layers take
(N, C, L) or (C, L), 2-D layers (N, C, H, W) or (C, H, W); see ``ember.nn.functional`` for the
output-size formulas.
"""
from __future__ import annotations

from ember.nn.functional import _pool as P
from ember.nn.functional._activation import relu
from ember.nn.modules.module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "MaxUnpool1d", "MaxUnpool2d", "LPPool1d", "LPPool2d",
]


def _ntuple(x, n: int) -> tuple:
    """torch.nn.modules.utils._ntuple: a list/tuple becomes a tuple, anything else repeats."""
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,) * n


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over windows of ``kernel_size`` taps (``dilation`` apart) every ``stride``
    (default ``kernel_size``) along L of (N, C, L) or (C, L) input, implicit -inf padding.
    With ``return_indices`` returns (output, int64 argmax indices) for MaxUnpool1d."""

    def forward(self, input):
        return P.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over kH x kW windows of (N, C, H, W) or (C, H, W) input:
    H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride + 1) (ceil with
    ``ceil_mode``), likewise W. With ``return_indices`` returns (output, indices), the indices
    flat in each H*W plane."""

    def forward(self, input):
        return P.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``kernel_size`` along L of (N, C, L) or (C, L) input; the zero
    padding counts in the divisor unless ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over kH x kW windows of (N, C, H, W) or (C, H, W) input (output size as
    MaxPool2d with dilation 1); the divisor is ``divisor_override`` if given, else the window
    area with (``count_include_pad``) or without the zero padding."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) or (C, L) input to length ``output_size``: output o
    averages input [floor(o*L/out), ceil((o+1)*L/out))."""

    def forward(self, input):
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, H, W) or (C, H, W) input to ``output_size`` (int or
    (OH, OW); None keeps that input size). ``AdaptiveAvgPool2d(1)`` is global average
    pooling."""

    def forward(self, input):
        return P.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over AdaptiveAvgPool1d's windows; optionally also the argmax indices."""

    def forward(self, input):
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over AdaptiveAvgPool2d's windows; optionally also the argmax indices."""

    def forward(self, input):
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: ``forward(input, indices, output_size=None)`` puts
    each input value at its index in a zero output of length
    (L - 1)*stride - 2*padding + kernel_size (or ``output_size``)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)

    def forward(self, input, indices, output_size=None):
        return P.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d: ``forward(input, indices, output_size=None)``; output
    height (H - 1)*stride[0] - 2*padding[0] + kernel_size[0] (likewise width) or
    ``output_size``."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 2)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 2)
        self.padding = _ntuple(padding, 2)

    def forward(self, input, indices, output_size=None):
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


def _lp_finish(out, window: int, p: float):
    # torch's formula: (sign(s) * relu(|s|) * window) ** (1/p) with s the window mean of x**p
    # (the sign/relu pair keeps a negative mean, possible for odd p, negative -> NaN root).
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / p)


class LPPool1d(_LPPoolNd):
    """Power-average pooling: (sum over each window of x**p) ** (1/p) along L of
    (N, C, L) or (C, L) input (windows of ``kernel_size`` every ``stride``)."""

    def forward(self, input):
        p = float(self.norm_type)
        (k,) = _ntuple(self.kernel_size, 1)
        stride = self.stride if self.stride is not None else self.kernel_size
        out = P.avg_pool1d(input.pow(p), self.kernel_size, stride, 0, self.ceil_mode)
        return _lp_finish(out, k, p)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over kH x kW windows of (N, C, H, W) or (C, H, W) input:
    (sum over the window of x**p) ** (1/p)."""

    def forward(self, input):
        p = float(self.norm_type)
        kh, kw = _ntuple(self.kernel_size, 2)
        stride = self.stride if self.stride is not None else self.kernel_size
        out = P.avg_pool2d(input.pow(p), self.kernel_size, stride, 0, self.ceil_mode)
        return _lp_finish(out, kh * kw, p)
