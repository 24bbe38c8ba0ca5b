"""Imbalanced classes: random over- and under-sampling, and class weights.

    random_oversample(X, y)   duplicates random samples of the smaller classes (drawn with
                              replacement) until every class has as many as the largest
    random_undersample(X, y)  keeps a random subset (without replacement) of every class, as
                              large as the smallest class
    class_weights(labels)     'balanced' weights n_samples / (n_classes * count[c]), the
                              weights under which every class contributes equally to a loss
                              (scikit-learn's ``compute_class_weight('balanced')``)

``sampling_strategy`` may also be a dict {label: wanted count}. Outputs keep the kind of the
inputs (Tensor, ndarray or list).
"""
from __future__ import annotations

import numpy as np

from ember.data._arrays import n_samples, rng_from_seed, take, to_numpy

__all__ = ["random_oversample", "random_undersample", "class_weights"]


def _labels(X, y):
    labels = to_numpy(y, "y")
    if labels.ndim != 1:
        raise ValueError(f"y must be a 1-d array of class labels, got shape {labels.shape}")
    if X is not None and n_samples(X, "X") != labels.shape[0]:
        raise ValueError(f"X and y have inconsistent numbers of samples: "
                         f"[{n_samples(X, 'X')}, {labels.shape[0]}]")
    if labels.shape[0] == 0:
        raise ValueError("y is empty: there are no samples to resample")
    classes, codes = np.unique(labels, return_inverse=True)
    return labels, classes, codes.reshape(-1), np.bincount(codes.reshape(-1))


def _targets(strategy, classes, counts, default: int, over: bool) -> np.ndarray:
    if isinstance(strategy, str):
        if strategy != "auto":
            raise ValueError(f"sampling_strategy must be 'auto' or a dict {{label: count}}, "
                             f"got {strategy!r}")
        return np.full(classes.size, default)
    if not isinstance(strategy, dict):
        raise TypeError(f"sampling_strategy must be 'auto' or a dict, got "
                        f"{type(strategy).__name__}")
    wanted = counts.copy()
    for label, count in strategy.items():
        hit = np.flatnonzero(classes == label)
        if hit.size == 0:
            raise ValueError(f"sampling_strategy names label {label!r}, which is not in y "
                             f"(labels: {classes.tolist()})")
        k = hit[0]
        if over and count < counts[k]:
            raise ValueError(f"oversampling cannot shrink class {label!r} from {counts[k]} to "
                             f"{count} samples")
        if not over and not 0 <= count <= counts[k]:
            raise ValueError(f"undersampling needs 0 <= count <= {counts[k]} for class "
                             f"{label!r}, got {count}")
        wanted[k] = count
    return wanted


def random_oversample(X, y, *, sampling_strategy="auto", shuffle: bool = False, seed=None):
    """Return ``(X_res, y_res)``: all original samples, in order, followed by random
    duplicates of each smaller class (in label order) up to the majority count (or the counts
    of ``sampling_strategy``). ``shuffle=True`` permutes the result."""
    _, classes, codes, counts = _labels(X, y)
    wanted = _targets(sampling_strategy, classes, counts, int(counts.max()), over=True)
    rng = rng_from_seed(seed)
    extra = [rng.choice(np.flatnonzero(codes == k), size=int(wanted[k] - counts[k]),
                        replace=True) for k in range(classes.size) if wanted[k] > counts[k]]
    idx = np.concatenate([np.arange(codes.size)] + extra).astype(np.int64)
    if shuffle:
        idx = rng.permutation(idx)
    return take(X, idx), take(y, idx)


def random_undersample(X, y, *, sampling_strategy="auto", shuffle: bool = False, seed=None):
    """Return ``(X_res, y_res)`` with a random subset of each class, as large as the smallest
    class (or the counts of ``sampling_strategy``); the kept samples stay in their original
    order unless ``shuffle=True``."""
    _, classes, codes, counts = _labels(X, y)
    wanted = _targets(sampling_strategy, classes, counts, int(counts.min()), over=False)
    rng = rng_from_seed(seed)
    keep = [rng.choice(np.flatnonzero(codes == k), size=int(wanted[k]), replace=False)
            for k in range(classes.size)]
    idx = np.sort(np.concatenate(keep)).astype(np.int64)
    if shuffle:
        idx = rng.permutation(idx)
    return take(X, idx), take(y, idx)


def class_weights(labels, mode="balanced", *, classes=None, as_dict: bool = False):
    """Per-class weights for a loss, as a float64 array over ``classes`` (default: the sorted
    labels that occur), or a {label: weight} dict (Keras's ``class_weight``) with ``as_dict``.

    ``mode='balanced'``: ``n_samples / (n_classes * count[c])``; ``mode=None`` or 'uniform':
    all ones. For ``nn.CrossEntropyLoss(weight=...)`` with labels 0..C-1, pass
    ``classes=range(C)`` and convert: ``ember.tensor(w, dtype=ember.float32)``.
    """
    y, present, codes, counts = _labels(None, labels)
    classes = present if classes is None else np.asarray(list(classes))
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError("classes must be a non-empty 1-d list of labels")
    unknown = np.setdiff1d(present, classes)
    if unknown.size:
        raise ValueError(f"classes should include all valid labels that can be in y; missing "
                         f"{unknown.tolist()}")
    if mode is None or mode == "uniform":
        weights = np.ones(classes.size)
    elif mode == "balanced":
        count_of = dict(zip(present.tolist(), counts.tolist()))
        per_class = np.array([count_of.get(c, 0) for c in classes.tolist()], dtype=np.float64)
        if np.any(per_class == 0):
            absent = classes[per_class == 0].tolist()
            raise ValueError(f"classes should have valid labels that are in y: {absent} never "
                             "occur, so their 'balanced' weight would be infinite")
        weights = y.shape[0] / (classes.size * per_class)
    else:
        raise ValueError(f"mode must be 'balanced', 'uniform' or None, got {mode!r}")
    if as_dict:
        return dict(zip(classes.tolist(), weights.tolist()))
    return weights
