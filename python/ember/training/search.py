"""Hyperparameter search over ``fit``: exhaustive grid search and random search.

``build(params)`` turns one parameter setting into what ``fit`` needs: a tuple
``(model, loss_fn, optimizer)`` or ``(model, loss_fn, optimizer, scheduler)``, or a dict with
those keys. Each setting is trained with ``fit`` and scored by the best value of ``monitor``
over its epochs (``val_loss`` by default, so pass validation data). Results come back best
first, with a printable table.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ember.training.callbacks import _mode_for
from ember.training.loop import fit


class uniform:
    """A float drawn uniformly from [low, high)."""

    def __init__(self, low: float, high: float):
        if not low < high:
            raise ValueError(f"uniform: need low < high, got {low}, {high}")
        self.low, self.high = float(low), float(high)

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def __repr__(self):
        return f"uniform({self.low:g}, {self.high:g})"


class loguniform(uniform):
    """A float whose logarithm is uniform: learning rates, weight decays."""

    def __init__(self, low: float, high: float):
        if not 0 < low < high:
            raise ValueError(f"loguniform: need 0 < low < high, got {low}, {high}")
        super().__init__(low, high)

    def sample(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __repr__(self):
        return f"loguniform({self.low:g}, {self.high:g})"


@dataclass
class SearchResult:
    monitor: str
    mode: str
    results: list = field(default_factory=list)   # dicts: params, score, epochs, seconds, history

    @property
    def best(self) -> dict:
        return self.results[0]

    @property
    def best_params(self) -> dict:
        return self.best["params"]

    @property
    def best_score(self) -> float:
        return self.best["score"]

    def table(self) -> str:
        """One line per setting, best first."""
        if not self.results:
            return "(no results)"
        keys = list(self.results[0]["params"])
        head = ["rank"] + keys + [self.monitor, "epochs", "seconds"]
        rows = [[str(i + 1)] + [f"{r['params'][k]:.4g}" if isinstance(r["params"][k], float)
                                else str(r["params"][k]) for k in keys]
                + [f"{r['score']:.4f}", str(r["epochs"]), f"{r['seconds']:.1f}"]
                for i, r in enumerate(self.results)]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
        return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])

    def __repr__(self):
        return f"SearchResult({len(self.results)} settings, best {self.best_params if self.results else None})"


def _unpack(built):
    if isinstance(built, dict):
        return built["model"], built["loss_fn"], built["optimizer"], built.get("scheduler")
    if isinstance(built, (tuple, list)) and len(built) in (3, 4):
        return (*built, None) if len(built) == 3 else tuple(built)
    raise TypeError("build(params) must return (model, loss_fn, optimizer[, scheduler]) or a "
                    f"dict with those keys, got {type(built).__name__}")


def _evaluate_settings(build, settings, train_data, val_data, epochs, monitor, mode,
                       fit_kwargs) -> SearchResult:
    mode = _mode_for(monitor, mode)
    out = SearchResult(monitor, mode)
    for params in settings:
        model, loss_fn, optimizer, scheduler = _unpack(build(dict(params)))
        t0 = time.perf_counter()
        hist = fit(model, loss_fn, optimizer, train_data, epochs=epochs, val_data=val_data,
                   scheduler=scheduler, progress=False, **fit_kwargs)
        if monitor not in hist:
            raise KeyError(f"search: {monitor!r} was not logged by fit; logged: "
                           f"{sorted(hist.keys())} (pass val_data for val_ quantities)")
        values = [v for v in hist[monitor] if not math.isnan(v)]
        score = (min(values) if mode == "min" else max(values)) if values else math.nan
        out.results.append({"params": dict(params), "score": score, "epochs": len(hist.epoch),
                            "seconds": time.perf_counter() - t0, "history": hist.history})
    worst = math.inf if mode == "min" else -math.inf
    key = lambda r: r["score"] if not math.isnan(r["score"]) else worst  # noqa: E731
    out.results.sort(key=key, reverse=(mode == "max"))
    return out


def grid_search(build, param_grid: dict, train_data, val_data=None, epochs: int = 5,
                monitor: str = "val_loss", mode: str = "auto", **fit_kwargs) -> SearchResult:
    """Train every combination of ``param_grid`` ({name: [values]}) and rank them."""
    if not param_grid or any(len(v) == 0 for v in param_grid.values()):
        raise ValueError("grid_search: param_grid needs at least one value per parameter")
    names = list(param_grid)
    settings = [dict(zip(names, combo)) for combo in itertools.product(*param_grid.values())]
    return _evaluate_settings(build, settings, train_data, val_data, epochs, monitor, mode,
                              fit_kwargs)


def random_search(build, param_distributions: dict, n_iter: int, train_data, val_data=None,
                  epochs: int = 5, monitor: str = "val_loss", mode: str = "auto", seed=None,
                  **fit_kwargs) -> SearchResult:
    """Train ``n_iter`` settings drawn from ``param_distributions``: a list (uniform choice),
    ``uniform(a, b)``, ``loguniform(a, b)``, or a callable ``rng -> value``; seeded by ``seed``."""
    if n_iter < 1:
        raise ValueError(f"random_search: n_iter must be >= 1, got {n_iter}")
    rng = np.random.default_rng(seed)
    settings = []
    for _ in range(n_iter):
        params = {}
        for name, dist in param_distributions.items():
            if hasattr(dist, "sample"):
                params[name] = dist.sample(rng)
            elif callable(dist):
                params[name] = dist(rng)
            elif isinstance(dist, (list, tuple)) and len(dist) > 0:
                v = dist[int(rng.integers(len(dist)))]
                params[name] = v.item() if isinstance(v, np.generic) else v
            else:
                raise ValueError(f"random_search: cannot sample {name!r} from {dist!r}")
        settings.append(params)
    return _evaluate_settings(build, settings, train_data, val_data, epochs, monitor, mode,
                              fit_kwargs)
