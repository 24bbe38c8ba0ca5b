"""Hyperparameter search over learning rate and width: grid, random and Bayesian optimisation.

    grid search     try every point of a Cartesian grid (cost grows as values^parameters)
    random search   sample settings from distributions (lr log-uniform); for the same budget
                    it tries more distinct values of the parameter that matters
    Bayesian opt.   fit a Gaussian process to the scores seen so far and pick the next setting
                    by expected improvement, trading exploration against exploitation
GP with an RBF kernel k(a, b) = s^2 exp(-|a - b|^2 / (2 l^2)) on inputs scaled to [0, 1]:
    mean  mu(x) = k_x^T (K + n^2 I)^-1 y,     var  s(x)^2 = k(x, x) - k_x^T (K + n^2 I)^-1 k_x
Expected improvement over the best (lowest) loss y*, with z = (y* - mu) / s:
    EI(x) = (y* - mu) Phi(z) + s phi(z)
Every setting trains the same MLP on two moons for a few epochs with ember.training.fit; the
score is the lowest validation loss.
"""
from __future__ import annotations

import math

import numpy as np

import ember
import ember.nn as nn
from ember.data import make_moons, train_test_split
from ember.models import MLP
from ember.training import fit, grid_search, loguniform, random_search
from _common import save_figure, seed_everything

LOG_LR, LOG_WIDTH = (-4.0, 0.0), (1.0, 7.0)      # lr in [1e-4, 1], width in [2, 128]


def build(params):
    ember.manual_seed(1)
    model = MLP(2, hidden=(int(params["width"]),), out_features=2)
    return model, nn.CrossEntropyLoss(), ember.optim.SGD(model.parameters(), lr=params["lr"],
                                                         momentum=0.9)


def score(params, data, epochs) -> float:
    """Lowest validation loss of one setting (what grid/random search rank by)."""
    (X_tr, y_tr), (X_va, y_va) = data
    hist = fit(*build(params), (X_tr, y_tr), epochs=epochs, val_data=(X_va, y_va),
               batch_size=32, metrics=(), progress=False)
    loss = min(hist["val_loss"])
    return loss if math.isfinite(loss) else 10.0          # a diverged run scores badly


def gp_posterior(Xs, ys, Xq, length=0.25, noise=1e-2):
    """Posterior mean and std at Xq of a zero-mean GP (RBF kernel, unit-variance targets)."""
    mu_y, sd_y = ys.mean(), ys.std() + 1e-9
    y = (ys - mu_y) / sd_y
    k = lambda a, b: np.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * length ** 2))  # noqa
    L = np.linalg.cholesky(k(Xs, Xs) + noise * np.eye(len(Xs)))
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    kq = k(Xs, Xq)
    v = np.linalg.solve(L, kq)
    var = np.clip(1.0 - (v * v).sum(0), 1e-12, None)
    return mu_y + sd_y * (kq.T @ alpha), sd_y * np.sqrt(var)


def expected_improvement(mu, sigma, best):
    z = (best - mu) / sigma
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return (best - mu) * cdf + sigma * pdf


def to_params(u):
    """Unit square -> {'lr', 'width'} (both on log scales)."""
    return {"lr": float(10 ** (LOG_LR[0] + u[0] * (LOG_LR[1] - LOG_LR[0]))),
            "width": int(round(2 ** (LOG_WIDTH[0] + u[1] * (LOG_WIDTH[1] - LOG_WIDTH[0]))))}


def bayes_opt(data, epochs, n_init, n_iter, rng):
    U = list(rng.random((n_init, 2)))
    ys = [score(to_params(u), data, epochs) for u in U]
    for _ in range(n_iter):
        cand = rng.random((2000, 2))
        mu, sigma = gp_posterior(np.array(U), np.array(ys), cand)
        u = cand[np.argmax(expected_improvement(mu, sigma, min(ys)))]
        U.append(u)
        ys.append(score(to_params(u), data, epochs))
    i = int(np.argmin(ys))
    return to_params(U[i]), ys[i], np.array(U), np.array(ys)


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    n, epochs = (300, 6) if fast else (1000, 15)
    X, y = make_moons(n, noise=0.25, random_state=0)
    X_tr, X_va, y_tr, y_va = train_test_split(X.astype(np.float32), y, test_size=0.3,
                                              random_state=0, stratify=y)
    data = ((X_tr, y_tr), (X_va, y_va))
    grid = {"lr": [1e-3, 1e-2, 1e-1], "width": [4, 32, 128]}
    gs = grid_search(build, grid, (X_tr, y_tr), (X_va, y_va), epochs=epochs, batch_size=32,
                     metrics=())
    print("grid search (val_loss, best first)\n" + gs.table())
    n_random = 6 if fast else 9
    rs = random_search(build, {"lr": loguniform(1e-4, 1.0), "width": [2, 4, 8, 16, 32, 64, 128]},
                       n_iter=n_random, train_data=(X_tr, y_tr), val_data=(X_va, y_va),
                       epochs=epochs, seed=0, batch_size=32, metrics=())
    print("random search\n" + rs.table())
    bo_params, bo_score, U, ys = bayes_opt(data, epochs, 3, n_random - 3, rng)
    print(f"Bayesian optimisation best: lr {bo_params['lr']:.3g}, width {bo_params['width']}, "
          f"val_loss {bo_score:.4f} ({len(ys)} trainings)")
    best = {"grid": (gs.best_params, gs.best_score), "random": (rs.best_params, rs.best_score),
            "bayes": (bo_params, bo_score)}
    for k, (p, s) in best.items():
        print(f"best by {k:6s}: lr {p['lr']:.3g}, width {p['width']}, val_loss {s:.4f}")

    def draw(plt):
        fig, ax = plt.subplots(figsize=(7, 5))
        for name, res, marker in (("grid", gs, "s"), ("random", rs, "^")):
            pts = [(r["params"]["lr"], r["params"]["width"], r["score"]) for r in res.results]
            lr, w, s = map(np.array, zip(*pts))
            sc = ax.scatter(lr, w, c=np.minimum(s, 1), marker=marker, s=70, cmap="viridis_r",
                            vmin=0, vmax=1, label=name, edgecolors="k")
        bo = [to_params(u) for u in U]
        ax.scatter([p["lr"] for p in bo], [p["width"] for p in bo], c=np.minimum(ys, 1),
                   marker="o", s=70, cmap="viridis_r", vmin=0, vmax=1, label="Bayes (GP+EI)",
                   edgecolors="r")
        ax.plot([p["lr"] for p in bo], [p["width"] for p in bo], "r:", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="width",
               title="validation loss of every trained setting")
        fig.colorbar(sc, label="val_loss")
        ax.legend()

    png = save_figure(draw, out_dir, "hyperparameter_search.png")
    worst_grid = max(r["score"] for r in gs.results)
    return {"best": best, "worst_grid_score": worst_grid, "bayes_scores": ys.tolist(),
            "figure": png}


if __name__ == "__main__":
    main()
