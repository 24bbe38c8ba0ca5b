"""Padding layers (torch.nn's): Zero/Constant/Reflection/Replication/CircularPad 1d, 2d, 3d.

``padding`` is an int (the same on every side) or a tuple in F.pad's order, last dim first:
(left, right) for 1d, (left, right, top, bottom) for 2d, and (left, right, top, bottom, front,
back) for 3d. The layers store it as that tuple (as torch does: the repr shows it), have no
parameters, and call ``ember.nn.functional.pad``: e.g. ReflectionPad2d(p) maps (N, C, H, W) to
(N, C, H + top + bottom, W + left + right).
"""
from __future__ import annotations

from ember.nn.functional._vision import pad as _pad
from ember.nn.modules.module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _ntuple(x, n: int) -> tuple:
    """torch.nn.modules.utils._ntuple: a list/tuple becomes a tuple, anything else repeats."""
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,) * n


class _PadNd(Module):
    """Stores ``padding`` as a 2*dims tuple and pads with F.pad in ``mode``."""

    mode = "constant"
    dims = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.dims)

    def forward(self, input):
        return _pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    """Wrap-around padding; torch checks the input rank here, with a ValueError."""

    mode = "circular"

    def forward(self, input):
        if input.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"expected {self.dims + 1}D or {self.dims + 2}D input (got "
                             f"{input.dim()}D input)")
        return _pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim of (N, C, W) or (C, W) input with its values wrapped around."""
    dims = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims of (N, C, H, W) or (C, H, W) input circularly."""
    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims of (N, C, D, H, W) or (C, D, H, W) input circularly."""
    dims = 3


class _ConstantPadNd(_PadNd):
    """Pads with the constant ``value`` (negative pads crop)."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``: (*, W) -> (*, W + left + right)."""
    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with ``value``: (*, H, W) -> (*, H + top + bottom,
    W + left + right)."""
    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with ``value``."""
    dims = 3


class ZeroPad1d(ConstantPad1d):
    """ConstantPad1d with value 0."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """ConstantPad2d with value 0."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """ConstantPad3d with value 0."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Mirror padding of the last dim without repeating the edge ([a b c] with left 2 ->
    [c b a b c]); each pad must be smaller than the dim."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Mirror padding of the last 2 dims of (N, C, H, W) or (C, H, W) input."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Mirror padding of the last 3 dims of (N, C, D, H, W) or (C, D, H, W) input."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Edge-repeating padding of the last dim ([a b c] with left 2 -> [a a a b c])."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Edge-repeating padding of the last 2 dims of (N, C, H, W) or (C, H, W) input."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Edge-repeating padding of the last 3 dims of (N, C, D, H, W) or (C, D, H, W) input."""
    mode, dims = "replicate", 3
