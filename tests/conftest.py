"""Shared fixtures: a seeded RNG, thread-count and SIMD-level switches that restore global state.

Only pytest, pytest-benchmark and hypothesis are assumed; PyTorch is imported (optionally) by
tests/test_torch_parity.py alone.
"""
from __future__ import annotations

import os
import sys

# ember first: it sets OPENBLAS_THREAD_TIMEOUT before NumPy loads OpenBLAS, whose spinning idle
# threads would otherwise steal the cores ember's OpenMP threads need.
import ember  # noqa: I001

import numpy as np
import pytest

# The table-driven tests import tests/op_table.py as a plain module.
sys.path.insert(0, os.path.dirname(__file__))

# Micro-kernel levels from narrowest to widest; the CPU supports a prefix of this list.
SIMD_ORDER = ("generic", "avx2", "avx512")


def supported_simd_levels() -> list[str]:
    detected = ember.backend_info()["simd_detected"]
    return list(SIMD_ORDER[: SIMD_ORDER.index(detected) + 1])


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed: every test sees the same data on every run."""
    return np.random.default_rng(20240611)


@pytest.fixture(params=[1, 2], ids=lambda n: f"threads{n}")
def threads(request):
    """Run the test with ember using 1 and then 2 threads; restore the caller's count after."""
    saved = ember.get_num_threads()
    ember.set_num_threads(request.param)
    try:
        yield request.param
    finally:
        ember.set_num_threads(saved)


@pytest.fixture
def restore_threads():
    """For tests that change the thread count themselves."""
    saved = ember.get_num_threads()
    try:
        yield saved
    finally:
        ember.set_num_threads(saved)


@pytest.fixture(params=supported_simd_levels())
def simd_level(request):
    """Run the test once per micro-kernel level this CPU supports; restore the level after."""
    saved = ember.backend_info()["simd"]
    ember._C.set_simd_level(request.param)
    try:
        yield request.param
    finally:
        ember._C.set_simd_level(saved)
