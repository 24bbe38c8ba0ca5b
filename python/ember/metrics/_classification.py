"""Label metrics: accuracy, confusion matrix, precision / recall / F-beta, the text report.

Definitions are scikit-learn's. For a label L, over the (weighted) samples:

    tp(L)   = #{y_true == L and y_pred == L}
    pred(L) = #{y_pred == L}                      precision(L) = tp / pred
    true(L) = #{y_true == L}   (the 'support')    recall(L)    = tp / true
    F_beta(L) = (1 + beta^2) tp / (beta^2 true + pred)

``average`` combines the labels: 'binary' reports ``pos_label`` only (two-class data), 'micro'
sums tp/pred/true over labels first, 'macro' is the plain mean of the per-label values,
'weighted' the mean weighted by support, None returns the per-label arrays. A 0/0 ratio takes
the value ``zero_division`` ('warn' means 0.0 plus an ``UndefinedMetricWarning``; np.nan
values are left out of the averages).
"""
from __future__ import annotations

import numpy as np

from ember.metrics._validation import (check_labels, check_zero_division, encode, warn)

__all__ = ["accuracy_score", "confusion_matrix", "precision_recall_fscore_support",
           "precision_score", "recall_score", "f1_score", "fbeta_score",
           "classification_report"]

_AVERAGES = (None, "micro", "macro", "weighted", "binary")


def accuracy_score(y_true, y_pred, *, normalize: bool = True, sample_weight=None) -> float:
    """Fraction (or, with ``normalize=False``, the weighted count) of exact matches."""
    yt, yp, w, _, _ = check_labels(y_true, y_pred, sample_weight)
    hits = (yt == yp).astype(np.float64)
    if normalize:
        return float(np.average(hits, weights=w))
    return float(hits.sum() if w is None else np.dot(hits, w))


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None,
                     normalize=None) -> np.ndarray:
    """``C[i, j]`` = (weighted) number of samples with true label ``labels[i]`` predicted as
    ``labels[j]``; samples whose labels are not in ``labels`` are ignored.

    ``labels`` defaults to the sorted labels present in either array. ``normalize``: 'true'
    divides each row by its sum, 'pred' each column, 'all' the whole matrix (0/0 gives 0).
    int64 counts without weights or normalisation, float64 otherwise.
    """
    yt, yp, w, _, present = check_labels(y_true, y_pred, sample_weight)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of {{'true', 'pred', 'all', None}}, got "
                         f"{normalize!r}")
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels._data if hasattr(labels, "_data") else labels)
        if labels.size == 0:
            raise ValueError("'labels' should contain at least one label")
        if np.intersect1d(yt, labels).size == 0:
            raise ValueError(f"At least one label specified must be in y_true (labels="
                             f"{labels.tolist()}, y_true has {np.unique(yt).tolist()})")
    n = labels.size
    ti, pi = encode(yt, labels), encode(yp, labels)
    keep = (ti < n) & (pi < n)
    weights = None if w is None else w[keep]
    cm = np.bincount(ti[keep] * n + pi[keep], weights=weights, minlength=n * n).reshape(n, n)
    cm = cm.astype(np.int64) if w is None else cm.astype(np.float64)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    return cm


def _divide(num, den, zero_division, what: str, average) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    zero = den == 0
    out = num / np.where(zero, 1.0, den)
    if np.any(zero):
        out[zero] = check_zero_division(zero_division)
        if isinstance(zero_division, str):
            where = "labels" if average is None or average == "macro" else "samples"
            warn(f"{what} is ill-defined and being set to 0.0 in {where} with no "
                 f"{'predicted' if what == 'Precision' else 'true'} samples. Use "
                 "`zero_division` parameter to control this behavior.")
    return out


def _nanaverage(values: np.ndarray, weights=None) -> float:
    keep = ~np.isnan(values)
    if values.size == 0 or not np.any(keep):
        return float("nan")
    values = values[keep]
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)[keep]
        if weights.sum() == 0:
            weights = None
    return float(np.average(values, weights=weights))


def _select_labels(kind, present, labels, average, pos_label):
    """The labels precision/recall are computed for, after sklearn's 'binary' rules."""
    if average not in _AVERAGES:
        raise ValueError(f"average has to be one of {_AVERAGES}, got {average!r}")
    if average == "binary":
        if kind == "multiclass":
            raise ValueError("Target is multiclass but average='binary'. Please choose "
                             "another average setting, one of [None, 'micro', 'macro', "
                             "'weighted'].")
        if pos_label not in present.tolist() and present.size >= 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be "
                             f"one of {present.tolist()}")
        return np.asarray([pos_label])
    if labels is None:
        return present
    labels = np.asarray(labels._data if hasattr(labels, "_data") else labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d list of labels, got {labels!r}")
    return labels


def precision_recall_fscore_support(y_true, y_pred, *, beta: float = 1.0, labels=None,
                                    pos_label=1, average=None, sample_weight=None,
                                    zero_division="warn"):
    """Precision, recall, F-beta and support (see the module docstring).

    Returns arrays over ``labels`` when ``average`` is None, else three floats and None.
    """
    check_zero_division(zero_division)
    if beta < 0:
        raise ValueError(f"beta should be >=0 in the F-beta score, got {beta}")
    yt, yp, w, kind, present = check_labels(y_true, y_pred, sample_weight)
    labels = _select_labels(kind, present, labels, average, pos_label)
    n = labels.size
    ti, pi = encode(yt, labels), encode(yp, labels)
    ones = np.ones(yt.shape[0]) if w is None else w
    hit = (yt == yp) & (ti < n)
    tp = np.bincount(ti[hit], weights=ones[hit], minlength=n + 1)[:n]
    true_sum = np.bincount(ti, weights=ones, minlength=n + 1)[:n]
    pred_sum = np.bincount(pi, weights=ones, minlength=n + 1)[:n]
    if w is None:
        tp, true_sum, pred_sum = (a.astype(np.int64) for a in (tp, true_sum, pred_sum))
    else:
        # scikit-learn rebuilds these as tp + (sum - tp); doing the same keeps weighted
        # supports equal to the last bit (they are printed in full by classification_report)
        true_sum, pred_sum = tp + (true_sum - tp), tp + (pred_sum - tp)
    support = true_sum
    if average == "micro":
        tp, true_sum, pred_sum = (np.asarray([a.sum()]) for a in (tp, true_sum, pred_sum))
    precision = _divide(tp, pred_sum, zero_division, "Precision", average)
    recall = _divide(tp, true_sum, zero_division, "Recall", average)
    if np.isposinf(beta):
        f = recall
    elif beta == 0:
        f = precision
    else:
        b2 = beta * beta
        f = _divide((1 + b2) * tp.astype(np.float64), b2 * true_sum + pred_sum.astype(float),
                    zero_division, "F-score", average)
    if average is None:
        return precision, recall, f, support
    weights = support if average == "weighted" else None
    return _nanaverage(precision, weights), _nanaverage(recall, weights), \
        _nanaverage(f, weights), None


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn"):
    """tp / (tp + fp); see ``precision_recall_fscore_support``."""
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label,
                                           average=average, sample_weight=sample_weight,
                                           zero_division=zero_division)[0]


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
    """tp / (tp + fn); see ``precision_recall_fscore_support``."""
    return precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label,
                                           average=average, sample_weight=sample_weight,
                                           zero_division=zero_division)[1]


def fbeta_score(y_true, y_pred, *, beta: float, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn"):
    """(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)."""
    return precision_recall_fscore_support(y_true, y_pred, beta=beta, labels=labels,
                                           pos_label=pos_label, average=average,
                                           sample_weight=sample_weight,
                                           zero_division=zero_division)[2]


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
             sample_weight=None, zero_division="warn"):
    """Harmonic mean of precision and recall: 2 tp / (2 tp + fp + fn)."""
    return fbeta_score(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label,
                       average=average, sample_weight=sample_weight,
                       zero_division=zero_division)


def classification_report(y_true, y_pred, *, labels=None, target_names=None,
                          sample_weight=None, digits: int = 2, output_dict: bool = False,
                          zero_division="warn"):
    """Per-label precision, recall, F1 and support, then the averages, as scikit-learn's text
    table (or a nested dict with ``output_dict=True``).

    The micro average is printed as 'accuracy' when every label that occurs is reported.
    """
    yt, yp, w, _, present = check_labels(y_true, y_pred, sample_weight)
    labels_given = labels is not None
    labels = present if labels is None else np.asarray(labels)
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(labels) != len(target_names):
        if not labels_given:
            raise ValueError(f"Number of classes, {len(labels)}, does not match size of "
                             f"target_names, {len(target_names)}. Try specifying the labels "
                             "parameter")
        import warnings
        warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, "
                      f"{len(target_names)}", stacklevel=2)
    if target_names is None:
        target_names = [f"{lab}" for lab in labels.tolist()]
    headers = ["precision", "recall", "f1-score", "support"]
    kwargs = dict(labels=labels, sample_weight=w, zero_division=zero_division)
    p, r, f1, s = precision_recall_fscore_support(yt, yp, average=None, **kwargs)
    rows = list(zip(target_names, p, r, f1, s))
    averages = []
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else average + " avg"
        ap, ar, af, _ = precision_recall_fscore_support(yt, yp, average=average, **kwargs)
        averages.append((heading, ap, ar, af, np.sum(s)))

    if output_dict:
        report = {name: dict(zip(headers, (float(v) for v in vals))) for name, *vals in rows}
        for heading, *vals in averages:
            report[heading] = dict(zip(headers, (float(v) for v in vals)))
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report

    width = max(max(len(n) for n in target_names), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        text += row_fmt.format(*row, width=width, digits=digits)
    text += "\n"
    for heading, ap, ar, af, support in averages:
        if heading == "accuracy":
            fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
            text += fmt.format(heading, "", "", af, support, width=width, digits=digits)
        else:
            text += row_fmt.format(heading, ap, ar, af, support, width=width, digits=digits)
    return text
