"""Seeded synthetic data sets for teaching: 2-d classification and sequence tasks.

    make_moons, make_blobs          scikit-learn's generators (and argument names)
    make_spirals                    interleaved spiral arms, one per class
    make_sine_sequences             windows of noisy sine waves -> the next values (forecasting)
    make_copy_task                  remember a symbol sequence and repeat it after a delimiter
    make_parity_task                parity (XOR) of a bit sequence

Every generator returns NumPy arrays (float64 features, int64 labels) or, with
``return_tensors=True``, ember Tensors (float32 features, int64 labels). The same seed gives
the same data; ``seed``/``random_state`` None draws from ember's global generator.
"""
from __future__ import annotations

import numbers

import numpy as np

from ember.data._arrays import as_tensors, rng_from_seed

__all__ = ["make_moons", "make_blobs", "make_spirals", "make_sine_sequences",
           "make_copy_task", "make_parity_task"]


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _finish(X, y, shuffle: bool, rng, return_tensors: bool):
    if shuffle:
        order = rng.permutation(y.shape[0])
        X, y = X[order], y[order]
    return as_tensors(X, y) if return_tensors else (X, y)


def make_moons(n_samples=100, *, shuffle: bool = True, noise=None, random_state=None,
               return_tensors: bool = False):
    """Two interleaving half circles: class 0 the upper arc (cos t, sin t), class 1 the lower
    one (1 - cos t, 0.5 - sin t), t in [0, pi]; ``noise`` is the std of Gaussian noise added
    to the points. ``n_samples`` is a total (split n//2 outer, the rest inner) or a pair."""
    if isinstance(n_samples, numbers.Integral):
        n_out = int(n_samples) // 2
        n_in = int(n_samples) - n_out
    else:
        n_out, n_in = (int(v) for v in n_samples)
    if n_out < 0 or n_in < 0 or n_out + n_in < 1:
        raise ValueError(f"n_samples must give a positive number of points, got {n_samples!r}")
    rng = rng_from_seed(random_state)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5])])
    y = np.r_[np.zeros(n_out, np.int64), np.ones(n_in, np.int64)]
    if noise is not None:
        X = X + rng.normal(scale=noise, size=X.shape)
    return _finish(X, y, shuffle, rng, return_tensors)


def make_blobs(n_samples=100, n_features: int = 2, *, centers=None, cluster_std=1.0,
               center_box=(-10.0, 10.0), shuffle: bool = True, random_state=None,
               return_centers: bool = False, return_tensors: bool = False):
    """Isotropic Gaussian clusters. ``centers``: a count (drawn uniformly in ``center_box``,
    default 3) or an array (k, n_features); ``n_samples``: a total (split evenly, the first
    clusters taking the remainder) or one count per cluster; ``cluster_std``: one std or one
    per cluster. Returns (X, y[, centers])."""
    rng = rng_from_seed(random_state)
    n_features = _positive(n_features, "n_features")
    if isinstance(n_samples, numbers.Integral):
        k = 3 if centers is None else (int(centers) if isinstance(centers, numbers.Integral)
                                       else len(centers))
        counts = np.full(k, int(n_samples) // k)
        counts[: int(n_samples) % k] += 1
    else:
        counts = np.asarray(n_samples, dtype=np.int64)
        k = counts.size
        if centers is not None and not isinstance(centers, numbers.Integral) and \
                len(centers) != k:
            raise ValueError(f"Length of `n_samples` not consistent with number of centers. "
                             f"Got n_samples = {list(counts)} and centers = {len(centers)}")
    if centers is None or isinstance(centers, numbers.Integral):
        centers = rng.uniform(center_box[0], center_box[1], size=(k, n_features))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2:
            raise ValueError(f"centers must be a count or an array (k, n_features), got shape "
                             f"{centers.shape}")
        n_features = centers.shape[1]
    stds = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    X = np.vstack([rng.normal(centers[i], stds[i], size=(counts[i], n_features))
                   for i in range(k)])
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X, y = _finish(X, y, shuffle, rng, return_tensors)
    return (X, y, centers) if return_centers else (X, y)


def make_spirals(n_samples=100, *, n_classes: int = 2, n_turns: float = 1.0, noise=0.0,
                 shuffle: bool = True, seed=None, return_tensors: bool = False):
    """``n_classes`` spiral arms around the origin, one per class (not linearly separable).

    Point j of arm k (m points per arm, t = j / m): radius t, angle
    2 pi (n_turns * t + k / n_classes); ``noise`` is the std of Gaussian noise added to the
    coordinates. ``n_samples`` is the total, split evenly (the first arms take the rest).
    """
    n = _positive(n_samples, "n_samples")
    n_classes = _positive(n_classes, "n_classes")
    rng = rng_from_seed(seed)
    counts = np.full(n_classes, n // n_classes)
    counts[: n % n_classes] += 1
    parts = []
    for k, m in enumerate(counts):
        t = (np.arange(m) + 0.5) / max(m, 1)
        angle = 2 * np.pi * (n_turns * t + k / n_classes)
        parts.append(np.column_stack([t * np.cos(angle), t * np.sin(angle)]))
    X = np.vstack(parts)
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    return _finish(X, y, shuffle, rng, return_tensors)


def make_sine_sequences(n_samples: int = 1000, seq_len: int = 50, horizon: int = 1, *,
                        noise: float = 0.05, amplitude=(0.5, 1.5), frequency=(0.02, 0.1),
                        seed=None, return_tensors: bool = False):
    """Forecasting windows: ``X`` (n_samples, seq_len, 1) and the next ``horizon`` values
    ``y`` (n_samples, horizon).

    Each sample is one series s_t = A sin(2 pi f t + phi) + e_t, t = 0 .. seq_len+horizon-1,
    with A ~ U(amplitude), f ~ U(frequency) in cycles per step, phi ~ U(0, 2 pi) and
    e_t ~ N(0, noise^2); X holds its first ``seq_len`` values, y the following ones.
    """
    n = _positive(n_samples, "n_samples")
    seq_len = _positive(seq_len, "seq_len")
    horizon = _positive(horizon, "horizon")
    rng = rng_from_seed(seed)
    amp = rng.uniform(amplitude[0], amplitude[1], size=(n, 1))
    freq = rng.uniform(frequency[0], frequency[1], size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(seq_len + horizon)[None, :]
    series = amp * np.sin(2 * np.pi * freq * t + phase)
    if noise:
        series = series + rng.normal(scale=noise, size=series.shape)
    X, y = series[:, :seq_len, None], series[:, seq_len:]
    return as_tensors(X, y) if return_tensors else (X, y)


def make_copy_task(n_samples: int = 1000, seq_len: int = 10, *, n_symbols: int = 8,
                   seed=None, return_tensors: bool = False):
    """The copy task: read ``seq_len`` random symbols, then a delimiter, then reproduce them.

    Tokens: 0 blank, 1..n_symbols symbols, n_symbols + 1 the delimiter (vocabulary
    n_symbols + 2). Both arrays are int64 of shape (n_samples, 2 * seq_len + 1):
    ``X = [s_1 .. s_L, delim, 0 .. 0]`` and ``y = [0 .. 0, 0, s_1 .. s_L]``, so the model must
    output each symbol L + 1 steps after it saw it.
    """
    n = _positive(n_samples, "n_samples")
    L = _positive(seq_len, "seq_len")
    n_symbols = _positive(n_symbols, "n_symbols")
    rng = rng_from_seed(seed)
    symbols = rng.integers(1, n_symbols + 1, size=(n, L), dtype=np.int64)
    X = np.zeros((n, 2 * L + 1), np.int64)
    y = np.zeros((n, 2 * L + 1), np.int64)
    X[:, :L] = symbols
    X[:, L] = n_symbols + 1
    y[:, L + 1:] = symbols
    return as_tensors(X, y) if return_tensors else (X, y)


def make_parity_task(n_samples: int = 1000, seq_len: int = 8, *, seed=None,
                     return_tensors: bool = False):
    """Random bit sequences and their parity: ``X`` (n_samples, seq_len, 1) of 0.0/1.0 (one
    input feature per step, ready for a recurrent layer) and ``y`` = (sum of bits) mod 2
    (int64, shape (n_samples,))."""
    n = _positive(n_samples, "n_samples")
    L = _positive(seq_len, "seq_len")
    rng = rng_from_seed(seed)
    bits = rng.integers(0, 2, size=(n, L), dtype=np.int64)
    X = bits[:, :, None].astype(np.float64)
    y = bits.sum(axis=1) % 2
    return as_tensors(X, y) if return_tensors else (X, y)
