"""Interleaved timing: every implementation of a row is measured in turns, so drift of a shared
machine hits all of them alike.

A *sample* is one implementation called ``count`` times back to back (``count`` chosen so a
sample lasts at least ``min_sample_s``); a *round* takes one sample of each implementation, in
an order that rotates from round to round. Between samples the runner sleeps ``settle_s``: the
thread pools of OpenMP and OpenBLAS spin for a while after each call, and on a 2-core machine a
pool still spinning from the previous implementation would steal the next one's cores.
The figure quoted is the median over rounds; the spread is the interquartile range over the
median, and a row whose spread exceeds ``noisy_spread`` is flagged as noisy.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Timing:
    median_s: float
    spread: float                      # (q75 - q25) / median over rounds
    samples_s: list = field(repr=False, default_factory=list)


def _quantile(sorted_xs: list, q: float) -> float:
    pos = q * (len(sorted_xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def summarize(samples: list) -> Timing:
    xs = sorted(samples)
    med = _quantile(xs, 0.5)
    spread = (_quantile(xs, 0.75) - _quantile(xs, 0.25)) / med if med > 0 else 0.0
    return Timing(med, spread, list(samples))


def calls_per_sample(fn: Callable, min_sample_s: float) -> int:
    """How many back-to-back calls make a sample last at least ``min_sample_s``."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    return max(1, min(100_000, int(min_sample_s / max(once, 1e-7)) + 1))


def time_interleaved(impls: dict, rounds: int, warmup: int = 1, min_sample_s: float = 2e-3,
                     settle_s: float = 2e-3) -> dict:
    """Median seconds per call of each callable in ``impls``, measured in rotating rounds."""
    names = list(impls)
    for name in names:
        for _ in range(warmup):
            impls[name]()
    counts = {name: calls_per_sample(impls[name], min_sample_s) for name in names}
    samples = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn, count = impls[name], counts[name]
            time.sleep(settle_s)
            t0 = time.perf_counter()
            for _ in range(count):
                fn()
            samples[name].append((time.perf_counter() - t0) / count)
    return {name: summarize(samples[name]) for name in names}
