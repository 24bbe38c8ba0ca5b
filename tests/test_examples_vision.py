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

import ember

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


@pytest.fixture(autouse=True)
def one_thread():
    """The examples' tensors are small: on a loaded machine a second OpenMP thread only adds
    barrier waits (a 128x128 matmul measured 0.13 ms on 1 thread, 18 ms on 2 under load)."""
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        yield
    finally:
        ember.set_num_threads(saved)


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


def test_gan_mixture(tmp_path):
    r = run_example("gan_mixture", tmp_path)
    # every one of the 8 modes gets a share of the samples (no mode collapse) and most samples
    # lie near some mode (within half the gap between neighbouring modes)
    assert len(r["coarse_shares"]) == 8
    assert r["min_coarse_share"] >= 0.04
    assert r["share_near_modes_coarse"] >= 0.6
    # neither player wins outright: the losses stay near the equilibrium values (2 log 2, log 2)
    assert 0.5 < r["final_d_loss"] < 2.0 and 0.3 < r["final_g_loss"] < 2.5
    check_figure(r, tmp_path, "gan_mixture.png")


def test_digits_cnn(tmp_path):
    r = run_example("digits_cnn", tmp_path)
    assert r["test_accuracy"] >= 0.95
    assert r["parameters"] == 62250          # DigitsCNN: 320+9248+18496 conv, 32896+1290 fc
    check_figure(r, tmp_path, "digits_cnn.png")


def test_regularization(tmp_path):
    r = run_example("regularization", tmp_path)
    plain, reg = r["plain"], r["regularised"]
    # the plain net fits its 200 training digits far better than the test digits ...
    assert plain["train_loss"] < 0.5 * plain["test_loss"]
    # ... and dropout + L2 + augmentation + early stopping shrink that gap
    assert r["gap_regularized"] < 0.85 * r["gap_plain"]
    assert reg["test_accuracy"] >= 0.85
    check_figure(r, tmp_path, "regularization.png")


def test_transfer_learning(tmp_path):
    r = run_example("transfer_learning", tmp_path)
    assert r["source_accuracy"] >= 0.95
    # the two transferred convolutions (1 -> 32 and 32 -> 32 channels, 3x3) are frozen
    assert r["trainable_parameters"] == 61605 - (32 * 9 + 32) - (32 * 32 * 9 + 32)
    # digits 5-9 from one label per class, mean of 20 label draws: both learn something, and the
    # frozen pre-trained features beat training from scratch on the same images (fast mode,
    # seeds 0-4: ahead by 0.017 to 0.048)
    assert r["scratch_accuracy"] >= 0.6
    assert len(r["transfer_runs"]) == len(r["scratch_runs"]) == 20
    assert r["transfer_accuracy"] >= r["scratch_accuracy"] + 0.01
    check_figure(r, tmp_path, "transfer_learning.png")


def test_interpretability(tmp_path):
    r = run_example("interpretability", tmp_path)
    assert r["test_accuracy"] >= 0.93
    # both maps put more mass per pixel on the digit's ink than on the background
    assert r["saliency_ink_ratio"] > 1.3
    assert r["gradcam_ink_ratio"] > 1.0
    # MC dropout is more uncertain on noise images than on test digits
    assert r["variance_ood"] > 2 * r["variance_in"]
    assert r["entropy_ood"] > 2 * r["entropy_in"]
    check_figure(r, tmp_path, "interpretability.png")


def test_gan_digits(tmp_path):
    r = run_example("gan_digits", tmp_path)
    # a classifier trained on real digits finds many different digits among 500 samples
    # (a collapsed generator gives one or two) and is confident on a fair share of them
    assert r["sample_classes"] >= 6
    assert sum(r["class_counts"]) == 500
    assert r["confident_share"] >= 0.15
    # neither player wins outright
    assert 0.3 < r["final_d_loss"] < 1.4 and r["final_g_loss"] < 3.5
    check_figure(r, tmp_path, "gan_digits.png")
