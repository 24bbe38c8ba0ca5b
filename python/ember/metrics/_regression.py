"""Regression metrics (scikit-learn's definitions), per output column then averaged.

    mean_squared_error       mean_i w_i (y_i - p_i)^2 / mean_i w_i
    root_mean_squared_error  sqrt of the above, per output, before averaging outputs
    mean_absolute_error      mean_i w_i |y_i - p_i| / mean_i w_i
    r2_score                 1 - sum w (y - p)^2 / sum w (y - mean_w(y))^2

``multioutput``: 'uniform_average' (mean over outputs), 'raw_values' (one value per output),
an array of output weights, or for r2_score also 'variance_weighted'.
"""
from __future__ import annotations

import numpy as np

from ember.metrics._validation import (as_array, check_consistent_length, check_finite,
                                       check_nonempty, sample_weights, warn)

__all__ = ["mean_squared_error", "root_mean_squared_error", "mean_absolute_error", "r2_score"]


def _check(y_true, y_pred, sample_weight, multioutput, allowed):
    yt = as_array(y_true, "y_true").astype(np.float64)
    yp = as_array(y_pred, "y_pred").astype(np.float64)
    check_consistent_length(y_true=yt, y_pred=yp)
    check_nonempty(yt, "y_true")
    for arr, name in ((yt, "y_true"), (yp, "y_pred")):
        if arr.ndim > 2:
            raise ValueError(f"{name} must be 1-d or 2-d (samples, outputs), got shape "
                             f"{arr.shape}")
        check_finite(arr, name)
    yt = yt.reshape(yt.shape[0], -1)
    yp = yp.reshape(yp.shape[0], -1)
    if yt.shape[1] != yp.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output "
                         f"({yt.shape[1]}!={yp.shape[1]})")
    w = sample_weights(sample_weight, yt.shape[0])
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(f"Allowed 'multioutput' string values are {allowed}. You provided "
                             f"multioutput={multioutput!r}")
    elif multioutput is not None:
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if yt.shape[1] == 1:
            raise ValueError("Custom weights are useful only in multi-output cases.")
        if multioutput.shape != (yt.shape[1],):
            raise ValueError(f"There must be equally many custom weights ({multioutput.size})"
                             f" as outputs ({yt.shape[1]}).")
    return yt, yp, w, multioutput


def _combine(per_output: np.ndarray, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        multioutput = None
    return float(np.average(per_output, weights=multioutput))


_ALLOWED = ("raw_values", "uniform_average")


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    yt, yp, w, mo = _check(y_true, y_pred, sample_weight, multioutput, _ALLOWED)
    return _combine(np.average((yt - yp) ** 2, axis=0, weights=w), mo)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    yt, yp, w, mo = _check(y_true, y_pred, sample_weight, multioutput, _ALLOWED)
    return _combine(np.sqrt(np.average((yt - yp) ** 2, axis=0, weights=w)), mo)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    yt, yp, w, mo = _check(y_true, y_pred, sample_weight, multioutput, _ALLOWED)
    return _combine(np.average(np.abs(yt - yp), axis=0, weights=w), mo)


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average",
             force_finite: bool = True):
    """Coefficient of determination. A constant y_true (zero denominator) gives 1.0 for a
    perfect prediction and 0.0 otherwise when ``force_finite`` (else nan / -inf); fewer than
    two samples give nan with a warning."""
    yt, yp, w, mo = _check(y_true, y_pred, sample_weight, multioutput,
                           _ALLOWED + ("variance_weighted",))
    if yt.shape[0] < 2:
        warn("R^2 score is not well-defined with less than two samples.")
        return float("nan")
    ww = 1.0 if w is None else w[:, None]
    num = np.sum(ww * (yt - yp) ** 2, axis=0)
    den = np.sum(ww * (yt - np.average(yt, axis=0, weights=w)) ** 2, axis=0)
    if force_finite:
        scores = np.ones(yt.shape[1])
        ok = (den != 0) & (num != 0)
        scores[ok] = 1 - num[ok] / den[ok]
        scores[(num != 0) & (den == 0)] = 0.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - num / den
    if isinstance(mo, str) and mo == "variance_weighted":
        mo = den if np.any(den != 0) else None
    return _combine(scores, mo)
