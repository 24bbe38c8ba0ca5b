"""Activation functions with torch.nn.functional's names, signatures and defaults.

Each is one autograd node (``ember._functions.nn_ops``). ``inplace=True`` overwrites the input
and returns it, exactly like torch: it raises on a leaf that requires grad, and on a non-leaf
the in-place op is recorded in the graph. The ``*_`` spellings (``relu_``, ``elu_``, ...) are the
in-place versions.

    relu       max(x, 0)                       relu6      min(max(x, 0), 6)
    leaky_relu x if x > 0 else slope x         prelu      x if x > 0 else w[c] x (learned w)
    elu        x if x > 0 else a (e^x - 1)     selu       scale * elu(x, alpha) (fixed consts)
    celu       x if x > 0 else a (e^(x/a) - 1) gelu       x Phi(x) (or its tanh approximation)
    silu       x sigmoid(x)                    mish       x tanh(softplus(x))
    softplus   log(1 + e^(beta x)) / beta      logsigmoid log sigmoid(x)
    hardtanh   clamp(x, min_val, max_val)      hardsigmoid, hardswish: piecewise-linear ones
    softsign   x / (1 + |x|)                   tanhshrink x - tanh x
    softshrink, hardshrink: zero on [-lambd, lambd]   threshold: value where x <= threshold
    glu        a sigmoid(b), (a, b) = the two halves of ``dim``
"""
from __future__ import annotations

import numpy as np

from ember._dtype import legacy_name
from ember._functions import elementwise as _E
from ember._functions import nn_ops as _ops
from ember._tensor import Tensor

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "hardtanh",
           "hardtanh_", "hardsigmoid", "hardswish", "softsign", "logsigmoid", "tanhshrink",
           "softshrink", "hardshrink", "threshold", "threshold_", "prelu", "glu", "sigmoid",
           "tanh"]

# SELU's constants (Klambauer et al., 2017), as torch defines them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _require_tensor(input, fn: str = "activation") -> None:
    """torch's TypeError for a non-Tensor input (instead of an AttributeError further in)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _float_only(input: Tensor, name: str) -> None:
    """torch implements these activations for floating-point tensors only."""
    _require_tensor(input, name)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{legacy_name(input._data.dtype)}'")


def _apply(fn, input: Tensor, inplace: bool, *args):
    """``fn.apply(input, *args)``, or the same written into ``input`` when ``inplace``."""
    _require_tensor(input, fn.__name__.lower())
    if inplace:
        return input._inplace_unary(fn.apply, *args)
    return fn.apply(input, *args)


# ------------------------------------------------------------------------------- rectifiers
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    if inplace:
        _require_tensor(input, "relu_")
        return input._inplace_unary(_E.relu)
    return _E.relu(input)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x."""
    _float_only(input, "leaky_relu_cpu")
    return _apply(_ops.LeakyRelu, input, inplace, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight[c] * x, c the channel (dim 1); weight has 1 or C elements."""
    _require_tensor(input, "prelu")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
    return _ops.Prelu.apply(input, weight)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """value where x <= threshold, else x."""
    return _apply(_ops.Threshold, input, inplace, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _apply(_ops.Threshold, input, True, threshold, value)


# ------------------------------------------------------------------------------- exponential
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1)."""
    _float_only(input, "elu_cpu")
    return _apply(_ops.Elu, input, inplace, alpha, 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (x if x > 0 else alpha * (exp(x) - 1)) with SELU's fixed alpha and scale."""
    _float_only(input, "elu_cpu")
    return _apply(_ops.Elu, input, inplace, SELU_ALPHA, SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x / alpha) - 1)."""
    _float_only(input, "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _apply(_ops.Elu, input, inplace, alpha, 1.0, 1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


# ------------------------------------------------------------------------------- smooth gates
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _float_only(input, "GeluKernelImpl")
    return _ops.Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    _float_only(input, "silu_cpu")
    return _apply(_ops.Silu, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _float_only(input, "mish_cpu")
    return _apply(_ops.Mish, input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta; x itself where beta x > threshold."""
    _float_only(input, "softplus_cpu")
    return _ops.Softplus.apply(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), computed without overflow."""
    _float_only(input, "log_sigmoid_cpu")
    return _ops.LogSigmoid.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), with full relative precision in both tails."""
    return _ops.Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    return _E.tanh(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b) where a, b are the first and second halves of ``input`` along ``dim``."""
    _require_tensor(input, "glu")
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.dim()} is size {size}")
    a, b = input.chunk(2, dim)
    return a * _ops.Sigmoid.apply(b)


# ------------------------------------------------------------------------------- piecewise
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val) with gradient 1 strictly inside the interval."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _apply(_ops.Hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x + 3, 0), 6) / 6."""
    _float_only(input, "hardsigmoid_cpu")
    return _apply(_ops.Hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * min(max(x + 3, 0), 6) / 6."""
    _float_only(input, "hardswish_cpu")
    return _apply(_ops.Hardswish, input, inplace)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _ops.Softsign.apply(input)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return _ops.Tanhshrink.apply(input)


def _check_lambd(input: Tensor, lambd: float) -> None:
    if not lambd >= 0:
        dt = input._data.dtype
        top = np.finfo(dt).max if dt.kind == "f" else np.iinfo(dt).max
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{legacy_name(dt)}, but found {lambd:g}")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd (x > lambd), x + lambd (x < -lambd), 0 otherwise."""
    _float_only(input, "softshrink_check")
    _check_lambd(input, lambd)
    return _ops.Shrink.apply(input, lambd, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, 0 otherwise."""
    _float_only(input, "hardshrink_cpu")
    return _ops.Shrink.apply(input, lambd, False)
