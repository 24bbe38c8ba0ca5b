"""ember's global random number generator (a NumPy ``Generator``), seeded by ``manual_seed``.

Everything random in ember (rand, randn, randint, randperm, uniform_/normal_, dropout masks,
DataLoader shuffling) draws from ``get_rng()``, so one ``ember.manual_seed(0)`` makes a run
reproducible.
"""
from __future__ import annotations

import numpy as np

_seed = 0x5EED
_rng = np.random.default_rng(_seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed ember's global generator; returns it (torch returns its Generator too)."""
    global _rng, _seed
    _seed = int(seed)
    _rng = np.random.default_rng(_seed)
    return _rng


def seed() -> int:
    """Reseed from OS entropy and return the new seed."""
    new = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(new)
    return new


def initial_seed() -> int:
    return _seed


def get_rng() -> np.random.Generator:
    """The global generator (look it up at call time: ``manual_seed`` replaces it)."""
    return _rng
