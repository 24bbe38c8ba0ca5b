"""Run the fast version of each basic example (issue 6) and assert the figure it must reach."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


def _load(name: str):
    """Import examples/<name>.py by path (examples/ on sys.path for its _common import)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(name: str, tmp_path) -> dict:
    """main(fast=True, out_dir=tmp_path) of examples/<name>.py; checks the PNG."""
    module = _load(name)
    # These models are tiny: one thread is as fast, and immune to a loaded machine.
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        result = module.main(fast=True, out_dir=tmp_path)
    finally:
        ember.set_num_threads(saved)
    assert isinstance(result, dict)
    if HAVE_MPL:
        assert (tmp_path / f"{name}.png").is_file()
    return result


def test_perceptron(tmp_path):
    r = run("perceptron", tmp_path)
    assert r["separable_accuracy"] == 1.0
    assert r["xor_perceptron_accuracy"] < 1.0
    assert r["xor_perceptron_accuracy"] <= 0.75          # no line gets more than 3 of 4
    assert r["xor_mlp_accuracy"] == 1.0


def test_activations_and_gradients(tmp_path):
    r = run("activations_and_gradients", tmp_path)
    slope = r["max_slope"]
    assert slope["sigmoid"] == pytest.approx(0.25, abs=1e-3)     # sigma' <= 1/4, at 0
    assert slope["tanh"] == pytest.approx(1.0, abs=1e-3)
    assert slope["relu"] == pytest.approx(1.0)
    ratio = r["first_last_ratio"]
    assert ratio["sigmoid"] < 1e-5                # vanished over ten sigmoid layers
    assert ratio["relu_he"] > 0.05                # He + ReLU keeps it within an order or so
    assert ratio["sigmoid_batchnorm"] > 0.05
    assert ratio["relu_he"] > 1e3 * ratio["sigmoid"]
    assert ratio["sigmoid_batchnorm"] > 1e3 * ratio["sigmoid"]
    norms = r["grad_norms"]["sigmoid"]
    assert all(a < b for a, b in zip(norms, norms[1:]))   # shrinks layer by layer going back


def test_exploding_gradients(tmp_path):
    r = run("exploding_gradients", tmp_path)
    assert r["max_grad_norm_unclipped"] > 1e6          # exploded
    assert r["unclipped_diverged"]
    assert np.isfinite(r["clipped_final_loss"])
    assert r["clipped_final_loss"] < 0.25 * r["baseline_loss"]   # clipped run actually learns


def test_optimizers_and_schedules(tmp_path):
    r = run("optimizers_and_schedules", tmp_path)
    final = r["final_loss"]
    assert set(final) == {"SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"}
    assert final["Adam"] < 0.5 * final["SGD"]
    assert final["momentum"] < 0.7 * final["SGD"]
    assert final["Nesterov"] < 0.7 * final["SGD"]
    assert final["Adam"] < 0.1
    for name, loss in r["schedule_final_loss"].items():
        assert loss < 0.5 * final["SGD"], name         # every schedule still trains


def test_weight_initialization(tmp_path):
    r = run("weight_initialization", tmp_path)["results"]
    for name in ("zeros", "too small N(0, 0.01)"):
        assert r[name]["final_loss"] > 0.6, name          # stuck near ln 2
        assert r[name]["accuracy"] < 0.6, name
    assert r["zeros"]["last_layer_std"] == 0.0            # perfect symmetry
    assert r["too small N(0, 0.01)"]["last_layer_std"] < 1e-6   # signal vanished with depth
    for name in ("Xavier (tanh)", "He (ReLU)"):
        assert 0.1 < r[name]["last_layer_std"] < 2.0, name
        assert r[name]["accuracy"] >= 0.97, name
        assert r[name]["final_loss"] < 0.1, name


def test_regression_losses(tmp_path):
    s = run("regression_losses", tmp_path)["scores"]
    mse, mae, huber = s["MSE"], s["MAE (L1)"], s["Huber (delta=1)"]
    for robust in (mae, huber):
        assert robust["rmse"] < 0.5 * mse["rmse"]
        assert robust["mae"] < 0.5 * mse["mae"]
        assert robust["r2"] > 0.9
    assert mse["r2"] < 0.6                        # dragged upwards by the outliers
    for v in s.values():                          # RMSE >= MAE always
        assert v["rmse"] >= v["mae"]


def test_imbalanced_classes(tmp_path):
    s = run("imbalanced_classes", tmp_path)["scores"]
    plain = s["plain"]
    assert plain["accuracy"] > 0.94               # the accuracy trap: high, yet ...
    assert plain["recall"] < 0.7                  # ... most positives missed
    for name in ("class weights", "oversampling", "undersampling"):
        assert s[name]["recall"] >= plain["recall"] + 0.15, name
        assert s[name]["precision"] < plain["precision"], name     # the price
    for name, v in s.items():
        assert v["roc_auc"] > 0.8, name
        (tn, fp), (fn, tp) = v["confusion_matrix"]
        assert tn + fp == 600 and fn + tp == 30, name               # 1:20 test split
        assert v["recall"] == pytest.approx(tp / (tp + fn))


def test_hyperparameter_search(tmp_path):
    r = run("hyperparameter_search", tmp_path)
    for method, (params, score) in r["best"].items():
        assert set(params) == {"lr", "width"}, method
        assert 1e-4 <= params["lr"] <= 1.0 and 2 <= params["width"] <= 128, method
        assert score < 0.3, method                          # moons: a good setting found
        assert score < 0.6 * r["worst_grid_score"], method
    assert min(r["bayes_scores"]) == pytest.approx(r["best"]["bayes"][1])


def test_hyperparameter_search_gp_and_ei():
    m = _load("hyperparameter_search")
    rng = np.random.default_rng(0)
    X = rng.random((8, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    mu, sd = m.gp_posterior(X, y, X, noise=1e-6)
    np.testing.assert_allclose(mu, y, atol=1e-3)            # interpolates its data
    assert np.all(sd < 1e-2)
    far = np.array([[5.0, 5.0]])
    mu_far, sd_far = m.gp_posterior(X, y, far, noise=1e-6)
    assert mu_far[0] == pytest.approx(y.mean(), abs=1e-3)   # reverts to the prior mean ...
    assert sd_far[0] == pytest.approx(y.std(), rel=1e-3)    # ... and prior std far away
    ei = m.expected_improvement(np.array([0.0, 0.0, 1.0]), np.array([1e-9, 1.0, 1.0]), 0.5)
    assert ei[0] == pytest.approx(0.5)                      # certain improvement of 0.5
    assert ei[1] > ei[0] and ei[1] > ei[2] > 0              # uncertainty adds value


def test_dqn(tmp_path):
    r = run("dqn", tmp_path)
    assert r["start_path_length"] == r["start_shortest"]          # shortest path from S
    assert r["optimal_cells"] == r["free_cells"]                  # ... and from every cell
    assert r["average_return"] > 0.5          # mostly reaching the goal despite epsilon=0.05


def test_dqn_gridworld_rules():
    m = _load("dqn")
    env = m.GridWorld(["S.", "#G"])
    assert env.step((0, 0), 2) == ((0, 0), -0.01, False)          # off the grid: stay
    assert env.step((0, 0), 1) == ((0, 0), -0.01, False)          # into a wall: stay
    assert env.step((0, 0), 3) == ((0, 1), -0.01, False)
    assert env.step((0, 1), 1) == ((1, 1), 1.0, True)
    assert env.shortest((0, 0)) == 2
    assert m.GridWorld(m.LAYOUTS["large"]).shortest((0, 0)) == 10
