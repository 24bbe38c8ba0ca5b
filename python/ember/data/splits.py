"""Train/validation/test splits and cross-validation folds.

    train_test_split(*arrays, test_size, train_size, random_state, shuffle, stratify)
        scikit-learn's function and arguments
    train_val_test_split(X, y, val_size=0.1, test_size=0.2, stratify=True, seed=None)
        three-way split, stratified by y by default
    KFold, StratifiedKFold
        scikit-learn's classes: ``split(X, y)`` yields (train_indices, test_indices)

Sizes: a float in (0, 1) is a fraction of the samples (test/validation sizes round up, as in
scikit-learn), an int a count. Each split keeps the kind of its input (Tensor, ndarray or
list). Stratified splits give every class the share of each split closest to the overall
proportions (largest-remainder rounding, so the split sizes are exact).

Randomness: ``seed``/``random_state`` may be an int, an ``ember.Generator`` (or NumPy
Generator) or None, which draws from ember's global generator (fixed by ``ember.manual_seed``).
Functions named after scikit-learn take its ``random_state``; ember's own take Keras's ``seed``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember.data._arrays import n_samples, rng_from_seed, take, to_numpy

__all__ = ["train_test_split", "train_val_test_split", "KFold", "StratifiedKFold"]


def _count(size, n: int, name: str, round_up: bool) -> int:
    if size is None:
        return 0
    if isinstance(size, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int or a float, got {size!r}")
    if isinstance(size, (float, np.floating)):
        if not 0.0 <= size < 1.0:
            raise ValueError(f"{name}={size} should be a float in the [0, 1) range or an int "
                             f"in the [0, {n}] range")
        return math.ceil(size * n) if round_up else math.floor(size * n)
    if isinstance(size, (int, np.integer)):
        if not 0 <= size <= n:
            raise ValueError(f"{name}={size} should be a float in the [0, 1) range or an int "
                             f"in the [0, {n}] range (n_samples={n})")
        return int(size)
    raise TypeError(f"{name} must be an int or a float, got {type(size).__name__}")


def _allocate(quota: np.ndarray, cap: np.ndarray, total: int, rng) -> np.ndarray:
    """Integer counts close to ``quota`` (largest remainder), each <= ``cap``, summing to
    ``total``; ties between equal remainders are broken at random."""
    counts = np.minimum(np.floor(quota + 1e-9).astype(np.int64), cap)
    left = total - int(counts.sum())
    frac = quota - counts
    tiebreak = rng.random(quota.size)
    order = np.lexsort((tiebreak, -frac))      # largest remainder first
    while left > 0:
        progressed = False
        for k in order:
            if left == 0:
                break
            if counts[k] < cap[k]:
                counts[k] += 1
                left -= 1
                progressed = True
        if not progressed:
            raise ValueError("cannot allocate the requested split sizes")
    return counts


def _class_codes(labels: np.ndarray, name: str) -> np.ndarray:
    if labels.ndim != 1:
        labels = labels.reshape(labels.shape[0], -1)
        if labels.shape[1] != 1:
            raise ValueError(f"{name} must hold one class label per sample, got shape "
                             f"{labels.shape}")
        labels = labels[:, 0]
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _split_indices(n: int, sizes: list[int], rng, shuffle: bool, strata) -> list[np.ndarray]:
    """Disjoint index arrays of the given ``sizes`` (the first split takes what remains)."""
    if strata is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        out, start = [], 0
        for s in sizes:
            out.append(order[start:start + s])
            start += s
        return out
    codes = _class_codes(strata, "stratify")
    if codes.shape[0] != n:
        raise ValueError(f"stratify has {codes.shape[0]} labels but there are {n} samples")
    counts = np.bincount(codes)
    # allocate the held-out splits (all but the first, the training split) class by class
    per_split = [None] * len(sizes)
    remaining = counts.copy()
    for j in range(len(sizes) - 1, 0, -1):
        per_split[j] = _allocate(counts * sizes[j] / n, remaining, sizes[j], rng)
        remaining = remaining - per_split[j]
    per_split[0] = remaining
    parts = [[] for _ in sizes]
    for k in range(counts.size):
        members = np.flatnonzero(codes == k)
        members = rng.permutation(members)
        start = 0
        for j in range(len(sizes) - 1, -1, -1):
            c = int(per_split[j][k])
            parts[j].append(members[start:start + c])
            start += c
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _check_arrays(arrays) -> int:
    if not arrays:
        raise ValueError("At least one array required as input")
    lengths = [n_samples(a, f"array {i}") for i, a in enumerate(arrays)]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    if lengths[0] == 0:
        raise ValueError("the arrays are empty: there are no samples to split")
    return lengths[0]


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None,
                     shuffle: bool = True, stratify=None):
    """Split arrays into random train and test subsets: returns
    ``[a_train, a_test, b_train, b_test, ...]``.

    ``test_size`` defaults to 0.25 (or the complement of ``train_size``). ``stratify`` is an
    array of class labels whose proportions both splits keep (needs ``shuffle=True``).
    """
    n = _check_arrays(arrays)
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = _count(test_size, n, "test_size", True)
    n_train = _count(train_size, n, "train_size", False)
    if test_size is None:
        n_test = n - n_train
    elif train_size is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be "
                         f"smaller than the number of samples {n}. Reduce test_size and/or "
                         "train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size="
                         f"{train_size}, the resulting train set will be empty. Adjust any of "
                         "the aforementioned parameters.")
    if not shuffle and stratify is not None:
        raise ValueError("Stratified train/test split is not implemented for shuffle=False")
    rng = rng_from_seed(random_state) if shuffle else None
    strata = None if stratify is None else to_numpy(stratify, "stratify")
    if strata is not None and n_train + n_test < n:
        # stratify within the used part: drop a random stratified remainder first
        train, test, _ = _split_indices(n, [n_train, n_test, n - n_train - n_test], rng,
                                        True, strata)
    else:
        train, test = _split_indices(n, [n - n_test, n_test], rng, shuffle, strata)
        train = train[:n_train]
    out = []
    for a in arrays:
        out += [take(a, train), take(a, test)]
    return out


def train_val_test_split(X, y=None, *, val_size=0.1, test_size=0.2, stratify=True,
                         shuffle: bool = True, seed=None):
    """Three disjoint splits covering every sample.

    Returns ``(X_train, X_val, X_test)``, or ``(X_train, X_val, X_test, y_train, y_val,
    y_test)`` when ``y`` is given. ``stratify=True`` keeps y's class proportions in all three
    splits (largest-remainder rounding per class), ``False`` splits at random, and an array
    stratifies by those labels instead. ``shuffle=False`` (not stratified) keeps the order:
    train first, then validation, then test, as for time series.
    """
    arrays = (X,) if y is None else (X, y)
    n = _check_arrays(arrays)
    n_val = _count(val_size, n, "val_size", True)
    n_test = _count(test_size, n, "test_size", True)
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f"With n_samples={n}, val_size={val_size} and test_size={test_size} "
                         f"({n_val} + {n_test} samples), the training set would be empty")
    if stratify is True:
        strata = None if y is None else to_numpy(y, "y")
    elif stratify is False or stratify is None:
        strata = None
    else:
        strata = to_numpy(stratify, "stratify")
    if strata is not None and not shuffle:
        raise ValueError("a stratified split needs shuffle=True")
    rng = rng_from_seed(seed) if shuffle else None
    idx = _split_indices(n, [n_train, n_val, n_test], rng, shuffle, strata)
    out = []
    for a in arrays:
        out += [take(a, i) for i in idx]
    return tuple(out)


class KFold:
    """K consecutive folds (shuffled first if ``shuffle``); each fold is the test set once.

    The first ``n_samples % n_splits`` folds have one extra sample. ``split`` yields sorted
    (train_indices, test_indices) int64 arrays.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None):
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)):
            raise ValueError(f"The number of folds must be of Integral type. {n_splits!r} of "
                             f"type {type(n_splits).__name__} was passed.")
        if n_splits <= 1:
            raise ValueError(f"k-fold cross-validation requires at least one train/test split "
                             f"by setting n_splits=2 or more, got n_splits={n_splits}.")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle}")
        if not shuffle and random_state is not None:
            raise ValueError("Setting a random_state has no effect since shuffle is False. You "
                             "should leave random_state to its default (None), or set "
                             "shuffle=True.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _test_folds(self, n: int, y) -> np.ndarray:
        """fold number of every sample"""
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater "
                             f"than the number of samples: n_samples={n}.")
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        order = rng_from_seed(self.random_state).permutation(n) if self.shuffle \
            else np.arange(n)
        folds = np.empty(n, dtype=np.int64)
        folds[order] = np.repeat(np.arange(self.n_splits), sizes)
        return folds

    def split(self, X, y=None, groups=None):
        n = n_samples(X, "X")
        if y is not None and n_samples(y, "y") != n:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{n}, {n_samples(y, 'y')}]")
        folds = self._test_folds(n, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, random_state="
                f"{self.random_state!r}, shuffle={self.shuffle})")


class StratifiedKFold(KFold):
    """K folds that each keep the class proportions of ``y``.

    Classes are numbered in order of first appearance; the sorted labels are dealt to the
    folds round-robin, which fixes how many samples of each class every fold gets (counts
    differ by at most one), and each class's samples fill its folds in order (shuffled first
    if ``shuffle``).
    """

    def _test_folds(self, n: int, y) -> np.ndarray:
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y")
        labels = to_numpy(y, "y")
        if labels.ndim != 1:
            raise ValueError(f"Supported target types are: ('binary', 'multiclass'). Got y "
                             f"with shape {labels.shape} instead.")
        _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
        # renumber classes by order of first appearance
        codes = np.argsort(np.argsort(first))[inverse.reshape(-1)]
        counts = np.bincount(codes)
        if np.all(self.n_splits > counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of "
                             "members in each class.")
        if self.n_splits > counts.min():
            warnings.warn(f"The least populated class in y has only {counts.min()} members, "
                          f"which is less than n_splits={self.n_splits}.", UserWarning,
                          stacklevel=3)
        dealt = np.sort(codes)
        per_fold = np.stack([np.bincount(dealt[i::self.n_splits], minlength=counts.size)
                             for i in range(self.n_splits)])
        rng = rng_from_seed(self.random_state) if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for k in range(counts.size):
            assignment = np.repeat(np.arange(self.n_splits), per_fold[:, k])
            if rng is not None:
                assignment = rng.permutation(assignment)
            folds[codes == k] = assignment
        return folds
