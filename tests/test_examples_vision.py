"""The vision/generative examples (examples/*.py) run in fast mode and reach their figures.

Each example's ``main(fast=True, out_dir=...)`` returns a dict of the figures it reached; these
tests assert them (the thresholds are the fast-mode ones; the full-mode figures of the issue are
checked by running the scripts themselves) and that the PNG was written when matplotlib is
installed.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


def run_example(name: str, tmp_path) -> dict:
    """Import examples/<name>.py by path and run its fast mode into tmp_path."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(fast=True, out_dir=tmp_path)
    assert isinstance(result, dict)
    return result


def check_figure(result: dict, tmp_path, name: str) -> None:
    if HAVE_MPL:
        path = tmp_path / name
        assert path.exists() and path.stat().st_size > 1000
        assert Path(result["figure"]) == path
    else:
        assert result["figure"] is None


def test_digits_mlp(tmp_path):
    r = run_example("digits_mlp", tmp_path)
    assert r["test_accuracy"] >= 0.93
    assert r["train_accuracy"] >= 0.93
    check_figure(r, tmp_path, "digits_mlp.png")


def test_autoencoders(tmp_path):
    r = run_example("autoencoders", tmp_path)
    # the plain AE rebuilds clean digits well but passes noise through; the DAE removes it
    assert r["mse_plain_clean"] < r["mse_plain_noisy"]
    assert r["mse_denoise_noisy"] < 0.95 * r["mse_plain_noisy"]
    # the KL penalty pulls the mean code activation to about rho = 0.05
    assert r["sparse_mean_activation"] < 0.1
    assert r["sparse_mean_activation"] < 0.5 * r["dense_mean_activation"]
    assert r["sparse_mse"] < 0.08
    # the VAE learns (negative ELBO falls) and its prior samples look like several digits
    assert r["vae_nelbo_last"] < r["vae_nelbo_first"] - 5
    assert r["vae_sample_classes"] >= 6
    check_figure(r, tmp_path, "autoencoders.png")
