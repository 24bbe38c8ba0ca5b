"""Convolution layers (torch.nn's): Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Constructor arguments, defaults, attribute names (``kernel_size``, ``stride``, ``padding``,
``dilation``, ``output_padding``, ``groups``, ``padding_mode``, all tuples like torch's),
reprs and ``state_dict`` keys (``weight``, ``bias``) match torch 2.x.

Shapes: weight (C_out, C_in/groups, *k) for a convolution, (C_in, C_out/groups, *k) for a
transposed one; bias (C_out,). Initialisation is torch's: weight ~ kaiming_uniform_(a=sqrt(5)),
i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.size(1) * prod(k), and bias ~
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the same fan_in (for a transposed convolution that is
C_out/groups * prod(k), as in torch).

``padding_mode`` other than ``'zeros'`` pads the input with ``F.pad`` (reflect, replicate,
circular) and then convolves without padding, exactly as torch does.
"""
from __future__ import annotations

import math

from ember._creation import empty
from ember.nn import init
from ember.nn.functional._conv import conv1d, conv2d, conv_transpose2d
from ember.nn.functional._vision import pad as _pad
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(x, n: int) -> tuple:
    """torch.nn.modules.utils._ntuple: a list/tuple becomes a tuple, anything else repeats."""
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,) * n


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """(a, b) -> (b, b, a, a) for n = 2: conv padding as F.pad's (last dim first) pads."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _check_int(name: str, value) -> None:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")


class _ConvNd(Module):
    """Parameters, initialisation and repr shared by the convolution layers."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        super().__init__()
        # Like torch, only what the weight's shape needs is checked here; bad strides,
        # paddings, dilations and empty kernels are refused by the convolution (RuntimeError).
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups), *(("kernel_size", k) for k in kernel_size)):
            _check_int(name, v)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("kernel_size", min(kernel_size, default=0))):
            if v < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension: "
                                   f"{name}={v}")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's pads (last dim first) for the non-zero padding modes
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i] = total // 2
                    pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class Conv1d(_ConvNd):
    """1-D convolution: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out) with
    L_out = (L + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1.

    weight (out_channels, in_channels/groups, kernel_size), bias (out_channels,).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, 1),
                         _ntuple(stride, 1),
                         padding if isinstance(padding, str) else _ntuple(padding, 1),
                         _ntuple(dilation, 1), False, _ntuple(0, 1), groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            return conv1d(_pad(input, self._reversed_padding_repeated_twice,
                               mode=self.padding_mode),
                          weight, bias, self.stride, (0,), self.dilation, self.groups)
        return conv1d(input, weight, bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvNd):
    """2-D convolution: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = (H + 2*padding[0] - dilation[0]*(kernel_size[0] - 1) - 1) // stride[0] + 1
    (likewise W).

    weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, 2),
                         _ntuple(stride, 2),
                         padding if isinstance(padding, str) else _ntuple(padding, 2),
                         _ntuple(dilation, 2), False, _ntuple(0, 2), groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            return conv2d(_pad(input, self._reversed_padding_repeated_twice,
                               mode=self.padding_mode),
                          weight, bias, self.stride, (0, 0), self.dilation, self.groups)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    """Transposed convolutions: only zero padding, and ``forward(input, output_size)``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f'{self.__class__.__name__}')
        if isinstance(padding, tuple) and any(isinstance(p, str) for p in padding):
            raise ValueError(f"{self.__class__.__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding[0]!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, num_spatial_dims: int) -> tuple:
        """The output_padding giving ``output_size`` (torch's rule: it must lie within one
        stride of the smallest size)."""
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)
        has_batch_dim = input.dim() == num_spatial_dims + 2
        num_non_spatial_dims = 2 if has_batch_dim else 1
        if len(output_size) == num_non_spatial_dims + num_spatial_dims:
            output_size = output_size[num_non_spatial_dims:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, "
                             f"output_size must have {num_spatial_dims} or "
                             f"{num_non_spatial_dims + num_spatial_dims} elements (got "
                             f"{len(output_size)})")
        min_sizes, max_sizes = [], []
        for d in range(num_spatial_dims):
            n = (input.size(d + num_non_spatial_dims) - 1) * self.stride[d] \
                - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            min_sizes.append(n)
            max_sizes.append(n + self.stride[d] - 1)
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {min_sizes} to {max_sizes} (for an input of "
                                 f"{tuple(input.shape)[num_non_spatial_dims:]})")
        return tuple(int(output_size[d]) - min_sizes[d] for d in range(num_spatial_dims))


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the input gradient of Conv2d): (N, C_in, H, W) or
    (C_in, H, W) -> (N, C_out, H_out, W_out) with
    H_out = (H - 1)*stride[0] - 2*padding[0] + dilation[0]*(kernel_size[0] - 1)
    + output_padding[0] + 1 (likewise W).

    weight (in_channels, out_channels/groups, kH, kW), bias (out_channels,).
    ``forward(input, output_size)`` picks output_padding to reach ``output_size``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, 2),
                         _ntuple(stride, 2), _ntuple(padding, 2), _ntuple(dilation, 2), True,
                         _ntuple(output_padding, 2), groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError("Only `zeros` padding mode is supported for ConvTranspose2d")
        output_padding = self._output_padding(input, output_size, 2)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out) with
    L_out = (L - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1.

    weight (in_channels, out_channels/groups, kernel_size), bias (out_channels,). Computed as
    a 2-D transposed convolution over a height-1 image.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, 1),
                         _ntuple(stride, 1), _ntuple(padding, 1), _ntuple(dilation, 1), True,
                         _ntuple(output_padding, 1), groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError("Only `zeros` padding mode is supported for ConvTranspose1d")
        output_padding = self._output_padding(input, output_size, 1)
        if input.dim() not in (2, 3):
            raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to "
                               f"conv_transpose1d, but got input of size: "
                               f"{list(input.shape)}")
        out = conv_transpose2d(input.unsqueeze(-2), self.weight.unsqueeze(-2), self.bias,
                               (1, self.stride[0]), (0, self.padding[0]),
                               (0, output_padding[0]), self.groups, (1, self.dilation[0]))
        return out.squeeze(-2)
