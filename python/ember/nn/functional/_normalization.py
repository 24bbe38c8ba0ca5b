"""Normalisation layers as functions, with torch.nn.functional's names and signatures.

All of them compute xhat = (x - mean) / sqrt(var + eps) (biased variance) over some group of
values and return xhat * weight + bias; they differ in the group:

    batch_norm   (N, C, *): per channel C, over the batch and all spatial positions
    layer_norm   (*, normalized_shape): per sample, over the trailing normalized_shape dims
    group_norm   (N, C, *): per sample and group of C / num_groups channels
    rms_norm     like layer_norm without the mean: x / sqrt(mean(x^2) + eps) * weight
    normalize    x / max(||x||_p, eps) along ``dim`` (no statistics, no parameters)

Each (except normalize) is one autograd node with a closed-form backward
(``ember._functions.nn_ops``).
"""
from __future__ import annotations

import numbers

import numpy as np

from ember._functions import nn_ops as _ops
from ember._functions._util import wrap_dim as _wrap_dim
from ember._dtype import legacy_name
from ember._tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "rms_norm", "normalize"]


def _verify_batch_size(size) -> None:
    """Training statistics need at least two values per channel (torch's check)."""
    prod = size[0]
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")


def _float_only(input: Tensor, kernel: str) -> None:
    """Statistics of integer data would be computed in integer arithmetic: refuse, as torch.
    A non-Tensor gets torch's TypeError rather than an AttributeError further in."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{kernel}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{legacy_name(input._data.dtype)}'")


def _check_numel(t, name: str, c: int) -> None:
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Normalise (N, C, *) per channel.

    training=True: batch statistics; running_mean/running_var (if given) are updated in place,
    r = (1 - momentum) r + momentum * stat, with the unbiased batch variance for running_var.
    training=False: the running statistics are used (they must be given).
    """
    _float_only(input, "batch_norm")
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    c = input.size(1)
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_numel(t, name, c)
    if not training:
        for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    if input.numel() == 0:
        return _empty_affine(input, weight, bias)
    rm = None if running_mean is None else running_mean._data.reshape(-1)
    rv = None if running_var is None else running_var._data.reshape(-1)
    out = _ops.BatchNorm.apply(input, _flat(weight), _flat(bias), bool(training),
                               float(momentum), float(eps), rm, rv)
    if training:            # the buffers changed in place: bump their version counters
        for t in (running_mean, running_var):
            if t is not None:
                t._version[0] += 1
    return out


def _empty_affine(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """torch's answer for an empty batch: an empty output still connected to input, weight and
    bias (their gradients are zeros), running statistics left alone."""
    out = input.clone()
    if weight is not None and weight.numel():
        out = out * weight.reshape(-1)[0]
    if bias is not None and bias.numel():
        out = out + bias.reshape(-1)[0]
    return out


def _flat(t: Tensor | None):
    return t if t is None or t.dim() == 1 else t.reshape(-1)


def _normalized_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_trailing(input: Tensor, shape: tuple) -> None:
    k = len(shape)
    if k == 0 or input.dim() < k or tuple(input.shape[input.dim() - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")


def _check_affine(t, name: str, shape: tuple) -> None:
    if t is not None and tuple(t.shape) != shape:
        raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                           f"{name} of shape {list(t.shape)} and normalized_shape = "
                           f"{list(shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` dims; weight and bias (if
    given) have shape ``normalized_shape``."""
    shape = _normalized_shape(normalized_shape)
    _float_only(input, "LayerNormKernelImpl")
    _check_trailing(input, shape)
    _check_affine(weight, "weight", shape)
    _check_affine(bias, "bias", shape)
    return _ops.LayerNorm.apply(input, weight, bias, len(shape), float(eps))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-05) -> Tensor:
    """Normalise (N, C, *) over groups of C / num_groups channels per sample; weight and bias
    have one value per channel."""
    _float_only(input, "GroupNormKernelImpl")
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(input.shape)}")
    if input.numel() == 0:
        return _empty_affine(input, weight, bias)
    return _ops.GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` dims; eps
    defaults to the machine epsilon of input's dtype."""
    shape = _normalized_shape(normalized_shape)
    _float_only(input, "rms_norm")
    _check_trailing(input, shape)
    _check_affine(weight, "weight", shape)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    return _ops.RMSNorm.apply(input, weight, len(shape), float(eps))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """input / max(||input||_p, eps), the norm taken along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported by ember")
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    return _ops.Normalize.apply(input, float(p), _wrap_dim(dim, input.dim()), float(eps))
