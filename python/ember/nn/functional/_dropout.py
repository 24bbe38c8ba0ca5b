"""Dropout with torch.nn.functional's names, signatures and defaults.

In training, each element (``dropout``) or each whole channel (``dropout1d/2d/3d``, i.e. every
value of one (sample, channel) pair) is zeroed with probability p and the survivors are scaled
by 1 / (1 - p), so the expected value is unchanged; with ``training=False`` (or p = 0) the input
is returned as is. ``alpha_dropout`` keeps SELU's self-normalising mean 0 / variance 1: dropped
values become -scale * alpha of SELU and an affine correction a x + b restores the moments.
Masks come from ember's global generator, so ``ember.manual_seed`` makes them reproducible.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _random
from ember._functions import nn_ops as _ops
from ember._tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

# -SELU_SCALE * SELU_ALPHA: the value a SELU unit saturates at for very negative inputs.
_ALPHA_PRIME = 1.7580993408473766


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """Bernoulli(1 - p) as 0/1 in ``dtype`` (float64 draws for float64, float32 otherwise)."""
    draw = np.float64 if dtype == np.float64 else np.float32
    u = _random.get_rng().random(shape, dtype=draw)
    return (u >= p).astype(dtype)


def _noise_shape(input: Tensor, kept: int | None) -> tuple:
    """The mask's shape: the input's (element-wise noise, ``kept=None``), or its first ``kept``
    dims with 1s after them (one value per channel, broadcast over the spatial dims)."""
    shape = tuple(input.shape)
    if kept is None:
        return shape
    return shape[:kept] + (1,) * (len(shape) - kept)


def _require_tensor(input, fn: str) -> None:
    """torch's TypeError for a non-Tensor input (instead of an AttributeError further in)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, kept: int | None,
             alpha: bool) -> Tensor:
    _check_p(p)
    _require_tensor(input, "dropout")
    if p == 0 or not training:
        return input
    if kept is not None and input.dim() < kept:
        # torch checks this only when it actually drops (training, p > 0), as here
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input, got "
                           f"input of shape {tuple(input.shape)}")
    if input.numel() == 0:
        return input
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise RuntimeError(f"dropout: expected a floating-point input, got {input.dtype}")
    shape = _noise_shape(input, kept)
    if p == 1:
        mask, shift = np.zeros(shape, dtype), None
    else:
        keep = _keep_mask(shape, p, dtype)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
            shift = ((keep - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p).astype(dtype)
            mask = keep * a
        else:
            mask, shift = keep / (1 - p), None
    if inplace:
        return input._inplace_unary(_ops.MaskedScale.apply, mask, shift)
    return _ops.MaskedScale.apply(input, mask, shift)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    return _dropout(input, p, training, inplace, None, alpha=False)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _check_p(p)
    _require_tensor(input, "dropout1d")
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _dropout(input, p, training, inplace, 2 if input.dim() == 3 else 1, alpha=False)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input. As in torch, 3-D input is read as (N, C, L)
    (with a warning) and other ranks are accepted with a deprecation warning."""
    _check_p(p)
    _require_tensor(input, "dropout2d")
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _dropout(input, p, training, inplace, 2, alpha=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    _require_tensor(input, "dropout3d")
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _dropout(input, p, training, inplace, 2 if ndim == 5 else 1, alpha=False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped values are set to SELU's negative saturation and the
    result is rescaled so that zero-mean unit-variance input keeps those moments."""
    return _dropout(input, p, training, inplace, None, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """alpha_dropout that drops whole channels (dim 1)."""
    return _dropout(input, p, training, inplace, 2, alpha=True)
