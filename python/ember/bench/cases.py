"""What a benchmark row is: a named case with one callable per implementation.

A suite module defines ``cases(dtype, quick, torch)``, yielding ``Case`` objects. A case is
built lazily (its arrays are only allocated when the row runs), and ``prepare()`` returns a
``Prepared``: the callables to time, keyed by implementation name ('ember', 'numpy', 'torch'),
and the outputs to compare. Every callable returns its result (an array, a tensor, or a tuple
of them) so the runner can check ember against the NumPy twin with the very calls it timed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Prepared:
    impls: dict                        # name -> zero-argument callable returning the output(s)
    # Optional: a callable giving (ember outputs, reference outputs) when the timed callables'
    # results are not directly comparable (e.g. a training step that mutates its model).
    check: Callable | None = None


@dataclass
class Case:
    suite: str
    name: str                          # shape and pass, e.g. "1024x1024x1024 fwd"
    dtype: str
    prepare: Callable[[], Prepared]
    flops: float = 0.0                 # per call, for GFLOP/s (0 if memory-bound)
    bytes: float = 0.0                 # per call, for GB/s (0 if compute-bound)
    note: str = ""
    tags: list = field(default_factory=list)


def to_numpy(x):
    """An output as NumPy (ember.Tensor and torch.Tensor included), recursively for tuples."""
    if isinstance(x, (tuple, list)):
        return tuple(to_numpy(v) for v in x)
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):           # torch.Tensor or ember.Tensor
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def max_relative_error(out, ref) -> float:
    """max |out - ref| / max |ref| over every output (inf when shapes differ or out is not
    finite where ref is)."""
    out, ref = to_numpy(out), to_numpy(ref)
    if not isinstance(out, tuple):
        out, ref = (out,), (ref,)
    if len(out) != len(ref):
        return float("inf")
    worst = 0.0
    for o, r in zip(out, ref):
        o = np.asarray(o, dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        if o.shape != r.shape:
            return float("inf")
        if r.size == 0:
            continue
        finite = np.isfinite(r)
        if not np.array_equal(np.isfinite(o), finite):
            return float("inf")
        scale = max(float(np.max(np.abs(r[finite]))) if finite.any() else 0.0, 1e-30)
        diff = np.abs(o[finite] - r[finite])
        worst = max(worst, float(diff.max()) / scale if diff.size else 0.0)
    return worst


def tolerance(dtype: str) -> float:
    """Largest max-relative error that still counts as correct."""
    return 1e-3 if dtype == "float32" else 1e-9


def random(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)
