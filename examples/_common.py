"""Small helpers shared by the example scripts: seeding, output folder, optional figures.

matplotlib is optional for ember: without it an example still trains and prints its result,
and simply says it skipped the picture.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import ember


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed ember's global generator and return a NumPy Generator for data."""
    ember.manual_seed(seed)
    return np.random.default_rng(seed)


def output_path(out_dir, name: str) -> Path:
    """``out_dir / name``, creating the folder."""
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path / name


def save_figure(draw, out_dir, name: str):
    """Call ``draw(plt)`` to build a figure and save it as ``out_dir/name``.

    Returns the path written, or None (with a message) when matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")                 # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib not installed: skipped {name})")
        return None
    path = output_path(out_dir, name)
    draw(plt)
    plt.tight_layout()
    plt.savefig(path, dpi=100)
    plt.close("all")
    print(f"wrote {os.fspath(path)}")
    return path
