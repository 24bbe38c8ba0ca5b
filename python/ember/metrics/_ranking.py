"""Score-ranking metrics: ROC and precision-recall curves, their areas, ``auc``.

All build on one sweep (``_binary_clf_curve``): sort the scores in decreasing order and, at
every distinct score t (a threshold, "predict positive when score >= t"), count the
(weighted) true positives tps(t) and false positives fps(t). Tied scores form one threshold,
so ties are handled as scikit-learn does (a tie between a positive and a negative is a
diagonal step of the ROC curve, i.e. counted as half right by the AUC).

    roc_curve:               fpr = fps / fps[-1], tpr = tps / tps[-1], starting at (0, 0) with
                             threshold +inf; ``drop_intermediate=True`` drops the points on
                             straight segments (collinear neighbours), which leaves the area
                             unchanged
    precision_recall_curve:  precision = tps / (tps + fps), recall = tps / tps[-1], ordered by
                             decreasing recall and ending at (recall 0, precision 1)
    average_precision_score: sum_n (R_n - R_{n-1}) P_n, the step-wise (not trapezoidal) area
                             under the PR curve
    roc_auc_score:           trapezoidal area under the ROC curve; multiclass one-vs-rest or
                             one-vs-one (Hand & Till) from (n_samples, n_classes) probabilities
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from ember.metrics._validation import (as_array, check_consistent_length, check_finite,
                                       check_nonempty, column, sample_weights, warn)

__all__ = ["auc", "roc_curve", "roc_auc_score", "precision_recall_curve",
           "average_precision_score"]


def auc(x, y) -> float:
    """Area under the curve through the points (x, y) by the trapezoidal rule; ``x`` must be
    monotonic (increasing or decreasing)."""
    x = column(as_array(x, "x"), "x").astype(np.float64)
    y = column(as_array(y, "y"), "y").astype(np.float64)
    check_consistent_length(x=x, y=y)
    if x.shape[0] < 2:
        raise ValueError(f"At least 2 points are needed to compute area under curve, but "
                         f"x.shape = {x.shape[0]}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError(f"x is neither increasing nor decreasing : {x}.")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def _binary_inputs(y_true, y_score, sample_weight, pos_label):
    """Validated 1-d arrays; y_true becomes 1.0 for ``pos_label`` and 0.0 otherwise."""
    yt = column(as_array(y_true, "y_true"), "y_true")
    ys = as_array(y_score, "y_score")
    if ys.ndim == 2 and ys.shape[1] > 1:
        raise ValueError(f"y_score has shape {ys.shape}: binary y_true needs one score per "
                         "sample (the positive class's score, e.g. probs[:, 1])")
    ys = column(ys, "y_score").astype(np.float64)
    check_consistent_length(y_true=yt, y_score=ys)
    check_nonempty(yt, "y_true")
    check_finite(yt, "y_true")
    check_finite(ys, "y_score")
    classes = np.unique(yt)
    if pos_label is None:
        ok = classes.dtype.kind not in "USO" and classes.size <= 2 and any(
            classes.size == len(ref) and np.all(classes == ref)
            for ref in ([0, 1], [-1, 1], [0], [-1], [1]))
        if not ok:
            if classes.size > 2:
                raise ValueError(f"multiclass format is not supported: y_true has "
                                 f"{classes.size} classes; pass pos_label to score one class "
                                 "against the rest")
            raise ValueError(f"y_true takes value in {{{', '.join(repr(c) for c in classes.tolist())}"
                             f"}} and pos_label is not specified: either make y_true take "
                             "value in {0, 1} or {-1, 1} or pass pos_label explicitly.")
        pos_label = 1
    w = sample_weights(sample_weight, yt.shape[0])
    return (yt == pos_label).astype(np.float64), ys, w


def _binary_clf_curve(y, score, w):
    """Thresholds (decreasing distinct scores) with the cumulative fps and tps at each."""
    if w is not None:
        keep = w != 0
        y, score, w = y[keep], score[keep], w[keep]
    order = np.argsort(-score, kind="stable")
    score, y = score[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(score))[0], y.size - 1]
    if w is None:
        tps = np.cumsum(y)[last_of_tie]
        fps = 1.0 + last_of_tie - tps
    else:
        w = w[order]
        tps = np.cumsum(y * w)[last_of_tie]
        fps = np.cumsum((1.0 - y) * w)[last_of_tie]
    return fps, tps, score[last_of_tie]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
              drop_intermediate: bool = True):
    """Receiver operating characteristic: (fpr, tpr, thresholds), thresholds decreasing,
    the first +inf (nothing predicted positive)."""
    y, score, w = _binary_inputs(y_true, y_score, sample_weight, pos_label)
    fps, tps, thresholds = _binary_clf_curve(y, score, w)
    if drop_intermediate and fps.size > 2:
        corner = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warn("No negative samples in y_true, false positive value should be meaningless")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warn("No positive samples in y_true, true positive value should be meaningless")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate: bool = False):
    """(precision, recall, thresholds) with recall decreasing; the last point is (1, 0) and
    has no threshold, so ``len(thresholds) == len(precision) - 1``."""
    y, score, w = _binary_inputs(y_true, y_score, sample_weight, pos_label)
    fps, tps, thresholds = _binary_clf_curve(y, score, w)
    if drop_intermediate and fps.size > 2:
        # keep only the first and last point of each run of equal tps (equal recall)
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warn("No positive class found in y_true, recall is set to one for all thresholds.")
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_ap(y, score, w) -> float:
    precision, recall, _ = precision_recall_curve(y, score, sample_weight=w)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _binary_roc_auc(y, score, w, max_fpr=None) -> float:
    if np.unique(y).size != 2:
        warn("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        return float("nan")
    fpr, tpr, _ = roc_curve(y, score, sample_weight=w)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    if max_fpr <= 0 or max_fpr > 1:
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    # partial area up to max_fpr (interpolating the last point), McClish-standardised so that
    # a random ranking scores 0.5 and a perfect one 1
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr_end = np.interp(max_fpr, fpr[stop - 1:stop + 1], tpr[stop - 1:stop + 1])
    partial = auc(np.r_[fpr[:stop], max_fpr], np.r_[tpr[:stop], tpr_end])
    lo, hi = 0.5 * max_fpr ** 2, max_fpr
    return 0.5 * (1 + (partial - lo) / (hi - lo))


def _ovr_average(metric, onehot, scores, average, w):
    """One-vs-rest: ``metric`` per column, combined as 'micro', 'macro', 'weighted' or None."""
    if average == "micro":
        ww = None if w is None else np.repeat(w, onehot.shape[1])
        return metric(onehot.ravel(), scores.ravel(), ww)
    per_class = np.array([metric(onehot[:, c], scores[:, c], w)
                          for c in range(onehot.shape[1])])
    if average is None:
        return per_class
    if average == "weighted":
        support = onehot.sum(0) if w is None else (onehot * w[:, None]).sum(0)
        if np.isclose(support.sum(), 0):
            return 0.0
        per_class[support == 0] = 0
        return float(np.average(per_class, weights=support))
    return float(np.mean(per_class))


def _multiclass_inputs(y_true, y_score, labels):
    yt = column(as_array(y_true, "y_true"), "y_true")
    ys = as_array(y_score, "y_score").astype(np.float64)
    check_consistent_length(y_true=yt, y_score=ys)
    check_nonempty(yt, "y_true")
    check_finite(ys, "y_score")
    if ys.ndim != 2:
        raise ValueError(f"`y_score` needs to be of shape `(n_samples, n_classes)`, since "
                         f"`y_true` contains multiple classes. Got `y_score.shape={ys.shape}`.")
    if labels is not None:
        classes = np.asarray(labels)
        if np.unique(classes).size != classes.size:
            raise ValueError("Parameter 'labels' must be unique")
        if not np.array_equal(np.sort(classes), classes):
            raise ValueError("Parameter 'labels' must be ordered")
        if classes.size != ys.shape[1]:
            raise ValueError(f"Number of given labels, {classes.size}, not equal to the number "
                             f"of columns in 'y_score', {ys.shape[1]}")
        if np.setdiff1d(yt, classes).size:
            raise ValueError("'y_true' contains labels not in parameter 'labels'")
    else:
        classes = np.unique(yt)
        if classes.size != ys.shape[1]:
            raise ValueError(f"Number of classes in y_true ({classes.size}) not equal to the "
                             f"number of columns in 'y_score' ({ys.shape[1]})")
    return yt, ys, classes


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None,
                  multi_class="raise", labels=None):
    """Area under the ROC curve.

    Binary ``y_true`` (two labels; the larger one is positive) takes 1-d scores. Multiclass
    ``y_true`` takes (n_samples, n_classes) probabilities (rows summing to 1) and
    ``multi_class='ovr'`` (each class against the rest, averaged 'macro' / 'weighted' by
    prevalence / 'micro' / None) or 'ovo' (Hand & Till: the mean over class pairs of the two
    one-against-one AUCs, 'macro' or prevalence-'weighted'). ``max_fpr`` gives the
    McClish-standardised partial AUC (binary only).
    """
    yt = column(as_array(y_true, "y_true"), "y_true")
    ys = as_array(y_score, "y_score")
    check_consistent_length(y_true=yt, y_score=ys)
    check_nonempty(yt, "y_true")
    multiclass = np.unique(yt).size > 2 or (ys.ndim == 2 and ys.shape[1] > 2)
    if average not in (None, "micro", "macro", "weighted"):
        raise ValueError(f"average has to be one of (None, 'micro', 'macro', 'weighted'), "
                         f"got {average!r}")
    if not multiclass:
        classes = np.unique(yt)
        y, score, w = _binary_inputs((yt == classes[-1]).astype(np.int64), ys,
                                     sample_weight, None)
        return _binary_roc_auc(y, score, w, max_fpr)

    if max_fpr is not None and max_fpr != 1.0:
        raise ValueError(f"Partial AUC computation not available in multiclass setting, "
                         f"'max_fpr' must be set to `None`, received `max_fpr={max_fpr}` "
                         "instead")
    if multi_class not in ("ovo", "ovr"):
        raise ValueError("multi_class must be in ('ovo', 'ovr') for multiclass y_true, got "
                         f"{multi_class!r}")
    yt, ys, classes = _multiclass_inputs(yt, ys, labels)
    if not np.allclose(1, ys.sum(axis=1)):
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, i.e. "
                         "they should sum up to 1.0 over classes")
    w = sample_weights(sample_weight, yt.shape[0])
    if multi_class == "ovr":
        onehot = (yt[:, None] == classes[None, :]).astype(np.float64)
        return _ovr_average(lambda a, b, ww: _binary_roc_auc(a, b, ww), onehot, ys, average, w)
    if average not in ("macro", "weighted"):
        raise ValueError(f"average must be 'macro' or 'weighted' for multi_class='ovo', got "
                         f"{average!r}")
    if w is not None:
        raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC AUC, "
                         "'sample_weight' must be None in this case.")
    codes = np.searchsorted(classes, yt)
    present = np.unique(codes)
    scores, prevalence = [], []
    for a, b in combinations(present, 2):
        pair = (codes == a) | (codes == b)
        a_true = (codes[pair] == a).astype(np.float64)
        auc_a = _binary_roc_auc(a_true, ys[pair, a], None)
        auc_b = _binary_roc_auc(1.0 - a_true, ys[pair, b], None)
        scores.append((auc_a + auc_b) / 2.0)
        prevalence.append(pair.mean())
    return float(np.average(scores, weights=prevalence if average == "weighted" else None))


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1,
                            sample_weight=None):
    """Average precision: the area under the step-wise precision-recall curve,
    ``sum_n (R_n - R_{n-1}) P_n``.

    Binary ``y_true`` takes 1-d scores of ``pos_label``; multiclass ``y_true`` takes
    (n_samples, n_classes) scores, one-vs-rest, averaged 'macro', 'weighted', 'micro' or None.
    """
    if average not in (None, "micro", "macro", "weighted"):
        raise ValueError(f"average has to be one of (None, 'micro', 'macro', 'weighted'), "
                         f"got {average!r}")
    yt = column(as_array(y_true, "y_true"), "y_true")
    check_consistent_length(y_true=yt, y_score=as_array(y_score, "y_score"))
    check_nonempty(yt, "y_true")
    present = np.unique(yt)
    if present.size <= 2:
        if present.size == 2 and pos_label not in present.tolist():
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one "
                             f"of {present.tolist()}")
        y, score, w = _binary_inputs(yt, y_score, sample_weight, pos_label)
        return _binary_ap(y, score, w)
    if pos_label != 1:
        raise ValueError("Parameter pos_label is fixed to 1 for multiclass y_true. Do not set "
                         "pos_label or set pos_label to 1.")
    yt, ys, classes = _multiclass_inputs(yt, y_score, None)
    w = sample_weights(sample_weight, yt.shape[0])
    onehot = (yt[:, None] == classes[None, :]).astype(np.float64)
    return _ovr_average(_binary_ap, onehot, ys, average, w)
