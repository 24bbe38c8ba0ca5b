"""Noise layers with Keras's names (torch has no counterpart): regularisation by corrupting the
activations in training mode only; both are the identity after ``model.eval()``.

    GaussianNoise(stddev)   y = x + e,  e ~ N(0, stddev^2)       (additive)
    GaussianDropout(rate)   y = x * m,  m ~ N(1, rate / (1 - rate))  (multiplicative; the same
                                         mean and variance as dropout's 0-or-1/(1-p) mask)

The noise comes from ember's global generator (``ember.manual_seed``), or from a private one
when ``seed`` is given, and carries no gradient: dy/dx is 1 (GaussianNoise) or m.
"""
from __future__ import annotations

import math

import numpy as np

from ember import _random
from ember._tensor import _new_tensor
from ember.nn.modules.module import Module

__all__ = ["GaussianNoise", "GaussianDropout"]


class _NoiseBase(Module):
    def __init__(self, seed: int | None) -> None:
        super().__init__()
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def _normal(self, loc: float, scale: float, input) -> "np.ndarray":
        rng = self._rng if self._rng is not None else _random.get_rng()
        dtype = input._data.dtype
        draw = np.float64 if dtype == np.float64 else np.float32
        noise = rng.standard_normal(tuple(input.shape), dtype=draw)
        noise *= scale
        noise += loc
        return _new_tensor(noise.astype(dtype, copy=False))


class GaussianNoise(_NoiseBase):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` (training mode only)."""

    def __init__(self, stddev: float, seed: int | None = None) -> None:
        if not stddev >= 0:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float "
                             f"value >= 0. Received: stddev={stddev}")
        super().__init__(seed)
        self.stddev = stddev

    def forward(self, input):
        if not self.training or self.stddev == 0:
            return input
        return input + self._normal(0.0, self.stddev, input)

    def extra_repr(self) -> str:
        return f"stddev={self.stddev}"


class GaussianDropout(_NoiseBase):
    """Multiply by Gaussian noise of mean 1 and variance rate / (1 - rate) (training only)."""

    def __init__(self, rate: float, seed: int | None = None) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        super().__init__(seed)
        self.rate = rate

    def forward(self, input):
        if not self.training or not 0 < self.rate < 1:
            return input
        return input * self._normal(1.0, math.sqrt(self.rate / (1.0 - self.rate)), input)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"
