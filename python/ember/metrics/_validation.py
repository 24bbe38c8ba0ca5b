"""Input checks shared by the metrics: array conversion, lengths, label types, weights."""
from __future__ import annotations

import warnings

import numpy as np


class UndefinedMetricWarning(UserWarning):
    """A metric was undefined for these inputs (e.g. a precision with no predicted samples)
    and a conventional value was returned instead."""


def as_array(x, name: str) -> np.ndarray:
    """``x`` (a NumPy array, a list or an ember Tensor) as a NumPy array, never a 0-d one."""
    from ember._tensor import Tensor
    if isinstance(x, Tensor):
        arr = x._data
    else:
        arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a scalar ({arr!r})")
    return arr


def check_nonempty(arr: np.ndarray, name: str) -> None:
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: found array with 0 samples (shape={arr.shape}) "
                         "while a minimum of 1 is required")


def check_consistent_length(**arrays) -> None:
    """All given arrays (None skipped) have the same first dimension."""
    items = [(k, v) for k, v in arrays.items() if v is not None]
    lengths = [v.shape[0] for _, v in items]
    if len(set(lengths)) > 1:
        names = ", ".join(k for k, _ in items)
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"{lengths} ({names})")


def check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "infinity"
        raise ValueError(f"{name} contains {bad}")


def column(arr: np.ndarray, name: str) -> np.ndarray:
    """A 1-d view of a 1-d or (n, 1) array."""
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d (one label or score per sample), got shape "
                         f"{arr.shape}")
    return arr


def sample_weights(sample_weight, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = column(as_array(sample_weight, "sample_weight"), "sample_weight").astype(np.float64)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} entries but there are {n} samples")
    check_finite(w, "sample_weight")
    return w


def _is_continuous(y: np.ndarray) -> bool:
    return y.dtype.kind == "f" and np.any(y != np.round(y))


def check_labels(y_true, y_pred, sample_weight=None):
    """Validate a pair of 1-d label arrays; returns (y_true, y_pred, weights, type, labels).

    ``type`` is 'binary' (at most two distinct labels over both arrays) or 'multiclass';
    ``labels`` is the sorted union of the labels that occur.
    """
    yt = as_array(y_true, "y_true")
    yp = as_array(y_pred, "y_pred")
    for arr, name in ((yt, "y_true"), (yp, "y_pred")):
        if arr.ndim == 2 and arr.shape[1] > 1:
            raise ValueError(f"{name} has shape {arr.shape}: ember.metrics takes 1-d label "
                             "arrays (binary or multiclass); multilabel indicator matrices are "
                             "not supported (pass class indices, e.g. y.argmax(1))")
    yt, yp = column(yt, "y_true"), column(yp, "y_pred")
    check_consistent_length(y_true=yt, y_pred=yp)
    check_nonempty(yt, "y_true")
    check_finite(yt, "y_true")
    check_finite(yp, "y_pred")
    str_kinds = [a.dtype.kind in "USO" for a in (yt, yp)]
    if str_kinds[0] != str_kinds[1]:
        raise ValueError("Mix of label input types (string and number) in y_true and y_pred")
    for arr, name in ((yt, "y_true"), (yp, "y_pred")):
        if _is_continuous(arr):
            raise ValueError(f"Classification metrics can't handle continuous {name}: it has "
                             "non-integer values (threshold scores into labels first)")
    w = sample_weights(sample_weight, yt.shape[0])
    labels = np.union1d(yt, yp)
    kind = "binary" if labels.size <= 2 else "multiclass"
    return yt, yp, w, kind, labels


def encode(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each y in ``labels`` (any order); ``len(labels)`` where y is not a label."""
    n = labels.size
    if n == 0:
        return np.full(y.shape, 0, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.searchsorted(sorted_labels, y)
    pos_c = np.minimum(pos, n - 1)
    found = (pos < n) & (sorted_labels[pos_c] == y)
    return np.where(found, order[pos_c], n).astype(np.int64)


def check_zero_division(zero_division) -> float:
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return 0.0
    elif isinstance(zero_division, (int, float, np.number)) and not isinstance(zero_division,
                                                                                bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if np.isnan(zero_division):
            return np.nan
    raise ValueError(f"zero_division must be 'warn', 0, 1 or np.nan, got {zero_division!r}")


def warn(msg: str) -> None:
    warnings.warn(msg, UndefinedMetricWarning, stacklevel=3)
