"""Regression with MSE, MAE (L1) and Huber losses on a noisy function with outliers.

With residual r = y_hat - y:
    MSE     r^2                          minimiser: the conditional mean (pulled by outliers)
    MAE     |r|                          minimiser: the conditional median (robust)
    Huber   r^2 / 2 if |r| <= d, else d (|r| - d / 2)
            quadratic near 0 (smooth, like MSE), linear in the tails (robust, like MAE)
The training targets are y = sin(2x) + x/2 + N(0, 0.1^2), and 15% of them are corrupted by a
one-sided outlier (+3 to +8): the squared loss gives each outlier a pull proportional to its
size and drags the whole curve upwards; MAE and Huber cap the pull. The models are scored on
clean test targets with ember.metrics:
    RMSE = sqrt(mean r^2),   MAE = mean |r|,   R2 = 1 - sum r^2 / sum (y - mean y)^2
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn as nn
from ember.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from _common import save_figure, seed_everything

LOSSES = {"MSE": nn.MSELoss(), "MAE (L1)": nn.L1Loss(), "Huber (delta=1)": nn.HuberLoss(delta=1.0)}


def target(x):
    return np.sin(2 * x) + 0.5 * x


def make_data(rng, n, outlier_fraction=0.15):
    x = rng.uniform(-3, 3, size=(n, 1))
    y = target(x) + rng.normal(0, 0.1, size=(n, 1))
    bad = rng.random(n) < outlier_fraction
    y[bad] += rng.uniform(3, 8, size=(bad.sum(), 1))      # one-sided, so they bias the mean
    return x.astype(np.float32), y.astype(np.float32), bad


def train(loss_fn, x, y, steps, seed=1):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 1))
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    X, Y = ember.from_numpy(x), ember.from_numpy(y)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        opt.step()
        sched.step()
    return model


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    n, steps = (300, 200) if fast else (1000, 1500)
    x, y, bad = make_data(rng, n)
    x_test = np.linspace(-3, 3, 400, dtype=np.float32).reshape(-1, 1)
    y_test = target(x_test)                                   # clean truth
    print(f"{n} training points, {bad.sum()} outliers")

    scores, preds = {}, {}
    for name, loss_fn in LOSSES.items():
        model = train(loss_fn, x, y, steps)
        with ember.no_grad():
            p = model(ember.from_numpy(x_test)).numpy()
        preds[name] = p
        scores[name] = {"rmse": root_mean_squared_error(y_test, p),
                        "mae": mean_absolute_error(y_test, p), "r2": r2_score(y_test, p)}
        s = scores[name]
        print(f"{name:16s} clean test RMSE {s['rmse']:.3f}  MAE {s['mae']:.3f}  "
              f"R2 {s['r2']:.3f}")

    def draw(plt):
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.scatter(x[~bad], y[~bad], s=6, c="gray", alpha=0.5, label="data")
        ax.scatter(x[bad], y[bad], s=8, c="red", alpha=0.5, label="outliers")
        ax.plot(x_test, y_test, "k--", label="truth")
        for name, p in preds.items():
            ax.plot(x_test, p, lw=2, label=f"{name} (RMSE {scores[name]['rmse']:.2f})")
        ax.set(title="MSE vs MAE vs Huber with 15% one-sided outliers", xlabel="x", ylabel="y")
        ax.legend(fontsize=8)

    png = save_figure(draw, out_dir, "regression_losses.png")
    return {"scores": scores, "figure": png}


if __name__ == "__main__":
    main()
