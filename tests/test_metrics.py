"""ember.metrics: hand-computed values (no sklearn needed), then scikit-learn parity on random
inputs for every metric and averaging mode (skipped when sklearn is not installed)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.metrics as M

# ----------------------------------------------------------------------------- hand-computed
# y_true / y_pred of three classes; per label (tp, pred, true):
#   0: (2, 2, 3)   p=1    r=2/3  f=0.8
#   1: (1, 2, 2)   p=1/2  r=1/2  f=1/2
#   2: (1, 2, 1)   p=1/2  r=1    f=2/3
YT3 = [0, 0, 0, 1, 1, 2]
YP3 = [0, 1, 0, 1, 2, 2]


def test_accuracy_hand():
    assert M.accuracy_score(YT3, YP3) == pytest.approx(4 / 6)
    assert M.accuracy_score(YT3, YP3, normalize=False) == 4
    assert M.accuracy_score([1, 0, 1], [1, 1, 1], sample_weight=[1, 2, 3]) == pytest.approx(4 / 6)
    assert M.accuracy_score([1, 0, 1], [1, 1, 1], sample_weight=[1, 2, 3],
                            normalize=False) == pytest.approx(4.0)
    assert M.accuracy_score(["a", "b"], ["a", "a"]) == 0.5


def test_precision_recall_f1_hand_multiclass():
    p, r, f, s = M.precision_recall_fscore_support(YT3, YP3)
    np.testing.assert_allclose(p, [1, 0.5, 0.5])
    np.testing.assert_allclose(r, [2 / 3, 0.5, 1])
    np.testing.assert_allclose(f, [0.8, 0.5, 2 / 3])
    np.testing.assert_array_equal(s, [3, 2, 1])
    assert M.precision_score(YT3, YP3, average="macro") == pytest.approx(2 / 3)
    assert M.recall_score(YT3, YP3, average="macro") == pytest.approx(13 / 18)
    assert M.f1_score(YT3, YP3, average="macro") == pytest.approx(59 / 90)
    assert M.precision_score(YT3, YP3, average="weighted") == pytest.approx(0.75)
    assert M.recall_score(YT3, YP3, average="weighted") == pytest.approx(4 / 6)
    assert M.f1_score(YT3, YP3, average="weighted") == pytest.approx(61 / 90)
    for fn in (M.precision_score, M.recall_score, M.f1_score):
        assert fn(YT3, YP3, average="micro") == pytest.approx(4 / 6)
    # a label subset: only labels 1 and 2 count
    assert M.precision_score(YT3, YP3, labels=[1, 2], average="micro") == pytest.approx(2 / 4)
    assert M.recall_score(YT3, YP3, labels=[1, 2], average="micro") == pytest.approx(2 / 3)


def test_binary_hand():
    yt = [0, 1, 1, 0, 1, 1, 0, 0]
    yp = [0, 1, 0, 0, 1, 1, 1, 1]          # tp=3 fp=2 fn=1 tn=2
    assert M.accuracy_score(yt, yp) == pytest.approx(5 / 8)
    assert M.precision_score(yt, yp) == pytest.approx(3 / 5)
    assert M.recall_score(yt, yp) == pytest.approx(3 / 4)
    assert M.f1_score(yt, yp) == pytest.approx(6 / 9)
    assert M.fbeta_score(yt, yp, beta=2) == pytest.approx(15 / 21)
    assert M.fbeta_score(yt, yp, beta=0.5) == pytest.approx(1.25 * 3 / (0.25 * 4 + 5))
    # pos_label=0: tp=2, pred=3, true=4
    assert M.precision_score(yt, yp, pos_label=0) == pytest.approx(2 / 3)
    assert M.recall_score(yt, yp, pos_label=0) == pytest.approx(2 / 4)
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp), [[2, 2], [1, 3]])
    assert M.precision_score(["n", "y", "y"], ["y", "y", "n"], pos_label="y") == 0.5


def test_inputs_may_be_tensors_and_lists():
    yt, yp = ember.tensor(YT3), ember.tensor(YP3)
    assert M.f1_score(yt, yp, average="macro") == pytest.approx(59 / 90)
    assert M.accuracy_score(np.array(YT3), YP3) == pytest.approx(4 / 6)
    s = ember.tensor([0.1, 0.4, 0.35, 0.8], requires_grad=True)
    assert M.roc_auc_score(ember.tensor([0, 0, 1, 1]), s) == pytest.approx(0.75)
    assert M.mean_squared_error(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 4.0])) == 2.0


def test_zero_division_hand():
    yt, yp = [0, 0, 1], [0, 0, 0]            # label 1 never predicted
    with pytest.warns(M.UndefinedMetricWarning, match="Precision is ill-defined"):
        assert M.precision_score(yt, yp) == 0.0
    assert M.precision_score(yt, yp, zero_division=1) == 1.0
    assert M.precision_score(yt, yp, zero_division=0) == 0.0
    assert math.isnan(M.precision_score(yt, yp, zero_division=np.nan))
    assert M.recall_score(yt, yp, zero_division=1) == 0.0
    assert M.f1_score(yt, yp, zero_division=1) == 0.0
    # macro over labels with nan values leaves them out
    p = M.precision_score(yt, yp, average="macro", zero_division=np.nan)
    assert p == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="zero_division"):
        M.precision_score(yt, yp, zero_division=2)


def test_confusion_matrix_hand():
    cm = M.confusion_matrix(YT3, YP3)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    assert cm.dtype == np.int64
    np.testing.assert_allclose(M.confusion_matrix(YT3, YP3, normalize="true"),
                               [[2 / 3, 1 / 3, 0], [0, .5, .5], [0, 0, 1]])
    np.testing.assert_allclose(M.confusion_matrix(YT3, YP3, normalize="pred"),
                               [[1, .5, 0], [0, .5, .5], [0, 0, .5]])
    np.testing.assert_allclose(M.confusion_matrix(YT3, YP3, normalize="all"),
                               np.array([[2, 1, 0], [0, 1, 1], [0, 0, 1]]) / 6)
    # labels reorder and restrict (samples outside the labels are dropped); absent rows are 0
    np.testing.assert_array_equal(M.confusion_matrix(YT3, YP3, labels=[2, 0, 7]),
                                  [[1, 0, 0], [0, 2, 0], [0, 0, 0]])
    np.testing.assert_allclose(M.confusion_matrix(YT3, YP3, labels=[0, 7], normalize="true"),
                               [[1, 0], [0, 0]])
    np.testing.assert_allclose(M.confusion_matrix([0, 1], [1, 1], sample_weight=[0.5, 2]),
                               [[0, 0.5], [0, 2]])
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        M.confusion_matrix(YT3, YP3, labels=[9])
    with pytest.raises(ValueError, match="normalize"):
        M.confusion_matrix(YT3, YP3, normalize="rows")


def test_roc_curve_hand():
    fpr, tpr, thr = M.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert M.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_ties_and_drop_intermediate_hand():
    # tied scores 0.5 (one positive, one negative) form one diagonal step
    fpr, tpr, thr = M.roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.5, 0.2])
    assert M.roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(3.5 / 4)
    # the point at threshold 0.6 lies on a straight segment: dropped unless asked to keep it
    y, s = [1, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5]
    fpr, tpr, thr = M.roc_curve(y, s)
    np.testing.assert_allclose(thr, [np.inf, 0.9, 0.8, 0.7, 0.5])
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 1 / 3, 1])
    fpr_all, tpr_all, thr_all = M.roc_curve(y, s, drop_intermediate=False)
    assert thr_all.size == 6 and M.auc(fpr_all, tpr_all) == pytest.approx(M.auc(fpr, tpr))
    assert M.roc_auc_score(y, s) == pytest.approx(5 / 6)


def test_pr_curve_and_average_precision_hand():
    p, r, t = M.precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    np.testing.assert_allclose(p, [0.5, 2 / 3, 0.5, 1, 1])
    np.testing.assert_allclose(r, [1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(t, [0.1, 0.35, 0.4, 0.8])
    assert M.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == \
        pytest.approx(0.5 + 0.5 * 2 / 3)
    # perfect ranking: AP 1; pos_label picks the class
    assert M.average_precision_score([1, 1, 0], [0.9, 0.8, 0.1]) == pytest.approx(1.0)
    assert M.average_precision_score(["b", "b", "a"], [0.1, 0.2, 0.9],
                                     pos_label="a") == pytest.approx(1.0)


def test_auc_hand():
    assert M.auc([0, 1, 2], [0, 1, 1]) == pytest.approx(1.5)
    assert M.auc([2, 1, 0], [1, 1, 0]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        M.auc([0, 2, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="At least 2 points"):
        M.auc([0], [1])


def test_roc_auc_multiclass_hand():
    # class 0 ranked perfectly against the rest; a tie at 0.3 in class 1's column
    y = [0, 1, 2, 1, 2]
    P = np.array([[.8, .1, .1], [.1, .3, .6], [.4, .3, .3], [.2, .7, .1], [.1, .1, .8]])
    # one-vs-rest, counting positive-negative pairs ranked right (ties count 1/2):
    #   class 1: positives .3, .7 against .1, .3, .1 -> (2.5 + 3) / 6
    #   class 2: positives .3, .8 against .1, .6, .1 -> (2 + 3) / 6
    auc_ovr = [1.0, 5.5 / 6, 5 / 6]
    assert M.roc_auc_score(y, P, multi_class="ovr") == pytest.approx(np.mean(auc_ovr))
    assert M.roc_auc_score(y, P, multi_class="ovr", average="weighted") == \
        pytest.approx(np.average(auc_ovr, weights=[1, 2, 2]))
    np.testing.assert_allclose(M.roc_auc_score(y, P, multi_class="ovr", average=None),
                               auc_ovr)
    with pytest.raises(ValueError, match="multi_class must be in"):
        M.roc_auc_score(y, P)
    with pytest.raises(ValueError, match="probabilities"):
        M.roc_auc_score(y, P * 2, multi_class="ovr")


def test_roc_auc_one_class_is_nan_with_warning():
    with pytest.warns(M.UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(M.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))


def test_regression_hand():
    yt, yp = [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]
    assert M.mean_squared_error(yt, yp) == pytest.approx(0.375)
    assert M.root_mean_squared_error(yt, yp) == pytest.approx(math.sqrt(0.375))
    assert M.mean_absolute_error(yt, yp) == pytest.approx(0.5)
    assert M.r2_score(yt, yp) == pytest.approx(1 - 1.5 / 29.1875)
    Yt = [[0.5, 1], [-1, 1], [7, -6]]
    Yp = [[0, 2], [-1, 2], [8, -5]]
    np.testing.assert_allclose(M.mean_squared_error(Yt, Yp, multioutput="raw_values"),
                               [0.25 / 3 + 1 / 3, 1.0])
    assert M.mean_absolute_error(Yt, Yp) == pytest.approx(0.75)
    assert M.mean_absolute_error(Yt, Yp, multioutput=[0.3, 0.7]) == \
        pytest.approx(0.3 * 0.5 + 0.7 * 1.0)
    assert M.mean_squared_error([1, 2], [1, 4], sample_weight=[3, 1]) == pytest.approx(1.0)
    # constant y_true
    assert M.r2_score([1, 1, 1], [1, 1, 1]) == 1.0
    assert M.r2_score([1, 1, 1], [1, 2, 1]) == 0.0
    assert M.r2_score([1, 1, 1], [1, 2, 1], force_finite=False) == -np.inf
    with pytest.warns(M.UndefinedMetricWarning):
        assert math.isnan(M.r2_score([1.0], [2.0]))


def test_classification_report_hand():
    text = M.classification_report(YT3, YP3, target_names=["cat", "dog", "eel"])
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[1].split() == ["cat", "1.00", "0.67", "0.80", "3"]
    assert lines[2].split() == ["dog", "0.50", "0.50", "0.50", "2"]
    assert lines[4].split() == ["accuracy", "0.67", "6"]
    assert lines[5].split() == ["macro", "avg", "0.67", "0.72", "0.66", "6"]
    d = M.classification_report(YT3, YP3, output_dict=True)
    assert d["accuracy"] == pytest.approx(4 / 6)
    assert d["2"]["recall"] == 1.0 and d["weighted avg"]["f1-score"] == pytest.approx(61 / 90)
    # a label subset reports a micro average instead of accuracy
    assert "micro avg" in M.classification_report(YT3, YP3, labels=[0, 1])
    with pytest.raises(ValueError, match="target_names"):
        M.classification_report(YT3, YP3, target_names=["a", "b"])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [M.accuracy_score, M.precision_score, M.f1_score,
                                M.confusion_matrix, M.mean_squared_error, M.r2_score,
                                M.mean_absolute_error, M.roc_curve, M.roc_auc_score,
                                M.average_precision_score, M.precision_recall_curve,
                                M.classification_report])
def test_bad_lengths_and_empty(fn):
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[3, 4\\]"):
        fn([0, 1, 1], [0, 1, 1, 0])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])


def test_bad_average_and_targets():
    for fn in (M.precision_score, M.recall_score, M.f1_score):
        with pytest.raises(ValueError, match="average has to be one of"):
            fn(YT3, YP3, average="mean")
        with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
            fn(YT3, YP3)
    with pytest.raises(ValueError, match="pos_label=2 is not a valid label"):
        M.precision_score([0, 1], [1, 1], pos_label=2)
    with pytest.raises(ValueError, match="average has to be one of"):
        M.roc_auc_score([0, 1], [0.1, 0.2], average="mean")
    with pytest.raises(ValueError, match="continuous"):
        M.accuracy_score([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="Mix of label input types"):
        M.accuracy_score(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="multilabel"):
        M.accuracy_score(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="contains NaN"):
        M.roc_curve([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="pos_label is not specified"):
        M.roc_curve([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="multiclass format is not supported"):
        M.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one score per sample"):
        M.roc_auc_score([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="multioutput"):
        M.mean_squared_error([1, 2], [1, 2], multioutput="variance_weighted")
    with pytest.raises(ValueError, match="different number of output"):
        M.mean_squared_error([[1, 2]], [[1, 2, 3]])
    with pytest.raises(ValueError, match="scalar"):
        M.accuracy_score(1, 1)
    with pytest.raises(ValueError, match="sample_weight has 2 entries"):
        M.accuracy_score([0, 1, 1], [0, 1, 1], sample_weight=[1, 2])


# ----------------------------------------------------------------------------- sklearn parity
def _labels(rng, n, k, strings=False):
    y = rng.integers(0, k, n)
    return np.array(["c%d" % v for v in y]) if strings else y


AVERAGES = [None, "micro", "macro", "weighted"]


@pytest.fixture
def sk():
    return pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("average", AVERAGES + ["binary"])
@pytest.mark.parametrize("weighted", [False, True])
def test_prf_match_sklearn(sk, seed, average, weighted):
    rng = np.random.default_rng(seed)
    k = 2 if average == "binary" else 4
    n = int(rng.integers(5, 60))
    yt, yp = _labels(rng, n, k), _labels(rng, n, k)
    w = rng.random(n) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for zd in ("warn", 0.0, 1.0, np.nan):
            for name in ("precision_score", "recall_score", "f1_score"):
                ours = getattr(M, name)(yt, yp, average=average, sample_weight=w,
                                        zero_division=zd)
                theirs = getattr(sk, name)(yt, yp, average=average, sample_weight=w,
                                           zero_division=zd)
                np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
            for beta in (0.5, 2.0):
                np.testing.assert_allclose(
                    M.fbeta_score(yt, yp, beta=beta, average=average, sample_weight=w,
                                  zero_division=zd),
                    sk.fbeta_score(yt, yp, beta=beta, average=average, sample_weight=w,
                                   zero_division=zd), rtol=1e-12, atol=1e-12)
        if average not in ("binary",):
            labels = [3, 0, 7]
            np.testing.assert_allclose(
                M.f1_score(yt, yp, labels=labels, average=average, sample_weight=w),
                sk.f1_score(yt, yp, labels=labels, average=average, sample_weight=w))
        ours = M.precision_recall_fscore_support(yt, yp, average=average, sample_weight=w)
        theirs = sk.precision_recall_fscore_support(yt, yp, average=average, sample_weight=w)
        for a, b in zip(ours, theirs):
            if b is None:
                assert a is None
            else:
                np.testing.assert_allclose(a, b, rtol=1e-12)


def test_prf_sparse_labels_and_strings_match_sklearn(sk):
    rng = np.random.default_rng(5)
    yt, yp = _labels(rng, 40, 5, strings=True), _labels(rng, 40, 5, strings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for avg in AVERAGES:
            np.testing.assert_allclose(M.f1_score(yt, yp, average=avg),
                                       sk.f1_score(yt, yp, average=avg))
        yt2, yp2 = np.array([0, 0, 0, 0]), np.array([0, 0, 0, 0])   # one class only
        for avg in AVERAGES + ["binary"]:
            np.testing.assert_allclose(M.precision_score(yt2, yp2, average=avg),
                                       sk.precision_score(yt2, yp2, average=avg))


@pytest.mark.parametrize("seed", range(4))
def test_accuracy_confusion_report_match_sklearn(sk, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    yt, yp = _labels(rng, n, 5), _labels(rng, n, 5)
    w = rng.random(n)
    assert M.accuracy_score(yt, yp) == pytest.approx(sk.accuracy_score(yt, yp), abs=1e-15)
    assert M.accuracy_score(yt, yp, sample_weight=w, normalize=False) == \
        pytest.approx(sk.accuracy_score(yt, yp, sample_weight=w, normalize=False))
    for normalize in (None, "true", "pred", "all"):
        for weights in (None, w):
            ours = M.confusion_matrix(yt, yp, normalize=normalize, sample_weight=weights)
            theirs = sk.confusion_matrix(yt, yp, normalize=normalize, sample_weight=weights)
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)
            assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(M.confusion_matrix(yt, yp, labels=[4, 1, 9]),
                                  sk.confusion_matrix(yt, yp, labels=[4, 1, 9]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in ({}, {"digits": 4}, {"labels": [0, 2, 6]},
                       {"target_names": list("abcde")}, {"sample_weight": w}):
            assert M.classification_report(yt, yp, **kwargs) == \
                sk.classification_report(yt, yp, **kwargs)
            ours = M.classification_report(yt, yp, output_dict=True, **kwargs)
            theirs = sk.classification_report(yt, yp, output_dict=True, **kwargs)
            assert ours.keys() == theirs.keys()
            for key in theirs:
                if isinstance(theirs[key], dict):
                    for m in theirs[key]:
                        assert ours[key][m] == pytest.approx(theirs[key][m], rel=1e-12)
                else:
                    assert ours[key] == pytest.approx(theirs[key], rel=1e-12)


def _scores(rng, n, ties):
    s = rng.random(n)
    return np.round(s, 1) if ties else s


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_curves_match_sklearn(sk, seed, ties, weighted):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = _scores(rng, n, ties)
    w = rng.random(n) if weighted else None
    if weighted:
        w[rng.random(n) < 0.1] = 0.0
    for drop in (True, False):
        for a, b in zip(M.roc_curve(y, s, sample_weight=w, drop_intermediate=drop),
                        sk.roc_curve(y, s, sample_weight=w, drop_intermediate=drop)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        for a, b in zip(M.precision_recall_curve(y, s, sample_weight=w, drop_intermediate=drop),
                        sk.precision_recall_curve(y, s, sample_weight=w,
                                                  drop_intermediate=drop)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert M.roc_auc_score(y, s, sample_weight=w) == \
        pytest.approx(sk.roc_auc_score(y, s, sample_weight=w), rel=1e-12)
    assert M.average_precision_score(y, s, sample_weight=w) == \
        pytest.approx(sk.average_precision_score(y, s, sample_weight=w), rel=1e-12)
    for max_fpr in (0.1, 0.5, 1.0):
        assert M.roc_auc_score(y, s, max_fpr=max_fpr) == \
            pytest.approx(sk.roc_auc_score(y, s, max_fpr=max_fpr), rel=1e-12)
    # other label encodings
    ys = np.where(y == 1, "pos", "neg")
    for a, b in zip(M.roc_curve(ys, s, pos_label="neg"), sk.roc_curve(ys, s, pos_label="neg")):
        np.testing.assert_allclose(a, b)
    assert M.roc_auc_score(ys, s) == pytest.approx(sk.roc_auc_score(ys, s))
    ym = np.where(y == 1, 1, -1)
    assert M.roc_auc_score(ym, s) == pytest.approx(sk.roc_auc_score(ym, s))
    yk = y + 2 * (rng.random(n) < 0.3)           # multiclass labels, one class vs the rest
    for a, b in zip(M.roc_curve(yk, s, pos_label=1), sk.roc_curve(yk, s, pos_label=1)):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("seed", range(4))
def test_multiclass_ranking_match_sklearn(sk, seed):
    rng = np.random.default_rng(seed)
    n, k = 60, 4
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    w = rng.random(n)
    for avg in ("macro", "weighted", "micro", None):
        for weights in (None, w):
            np.testing.assert_allclose(
                M.roc_auc_score(y, P, multi_class="ovr", average=avg, sample_weight=weights),
                sk.roc_auc_score(y, P, multi_class="ovr", average=avg, sample_weight=weights),
                rtol=1e-12)
            np.testing.assert_allclose(
                M.average_precision_score(y, P, average=avg, sample_weight=weights),
                sk.average_precision_score(y, P, average=avg, sample_weight=weights),
                rtol=1e-12)
    for avg in ("macro", "weighted"):
        assert M.roc_auc_score(y, P, multi_class="ovo", average=avg) == \
            pytest.approx(sk.roc_auc_score(y, P, multi_class="ovo", average=avg), rel=1e-12)
    assert M.roc_auc_score(y, P, multi_class="ovr", labels=[0, 1, 2, 3]) == \
        pytest.approx(sk.roc_auc_score(y, P, multi_class="ovr", labels=[0, 1, 2, 3]))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("outputs", [0, 1, 3])
def test_regression_match_sklearn(sk, seed, outputs):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 50))
    shape = (n,) if outputs == 0 else (n, outputs)
    yt, yp = rng.normal(size=shape), rng.normal(size=shape)
    w = rng.random(n)
    modes = ["raw_values", "uniform_average"] + ([rng.random(outputs)] if outputs > 1 else [])
    for mo in modes:
        for weights in (None, w):
            for name in ("mean_squared_error", "root_mean_squared_error",
                         "mean_absolute_error", "r2_score"):
                np.testing.assert_allclose(
                    getattr(M, name)(yt, yp, sample_weight=weights, multioutput=mo),
                    getattr(sk, name)(yt, yp, sample_weight=weights, multioutput=mo),
                    rtol=1e-12)
            np.testing.assert_allclose(
                M.r2_score(yt, yp, sample_weight=weights, multioutput="variance_weighted"),
                sk.r2_score(yt, yp, sample_weight=weights, multioutput="variance_weighted"),
                rtol=1e-12)
