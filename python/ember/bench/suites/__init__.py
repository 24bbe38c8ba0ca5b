"""Benchmark suites: each module yields the rows of one kernel family (see ember.bench.cases).

``peak`` is not a module: the machine-limits probe is run by the runner itself.
"""
from __future__ import annotations

import importlib

SUITES = ("matmul", "conv2d", "pool", "lstm", "softmax", "train")


def load(name: str):
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITES + ('peak',))}")
    return importlib.import_module(f"ember.bench.suites.{name}")
