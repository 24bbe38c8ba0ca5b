"""Imbalanced binary classification (1:20): plain training vs class weights, over- and
under-sampling.

With 20 negatives per positive, a classifier that minimises the mean cross-entropy learns that
"negative" is almost always right: accuracy ~95% while it misses most positives. Remedies:
    class weights   loss = sum_i w_{y_i} l_i / N with w_c = N / (C * count_c)  ('balanced')
    oversampling    duplicate random minority samples until the classes are equal
    undersampling   keep a random majority subset as large as the minority
All three make the positives count as much as the negatives, which moves the decision
threshold towards the minority: recall rises and precision falls (so F1 at the 0.5 threshold
may go either way), while the ROC-AUC, which ignores the threshold, hardly moves: the remedies
mostly re-rank nothing, they re-place the threshold. On the minority class:
    precision = TP / (TP + FP),  recall = TP / (TP + FN),  F1 = 2 P R / (P + R)
    ROC-AUC = P(score of a random positive > score of a random negative), threshold-free
Every model gets about the same number of SGD steps; scores are on a held-out 1:20 test split.
"""
from __future__ import annotations

import math

import numpy as np

import ember
import ember.nn as nn
from ember import metrics
from ember.data import class_weights, random_oversample, random_undersample, train_test_split
from ember.models import MLP
from ember.training import fit
from _common import save_figure, seed_everything


def make_imbalanced(rng, n_major, ratio=20, dim=4, shift=1.0):
    """Negatives ~ N(0, I), positives ~ N(shift * 1, I): overlapping, 1:ratio."""
    n_minor = n_major // ratio
    X = np.vstack([rng.standard_normal((n_major, dim)),
                   rng.standard_normal((n_minor, dim)) + shift]).astype(np.float32)
    y = np.r_[np.zeros(n_major, np.int64), np.ones(n_minor, np.int64)]
    return X, y


def train(X, y, steps, batch=64, class_weight=None, seed=1):
    ember.manual_seed(seed)
    model = MLP(X.shape[1], hidden=(32,), out_features=2)
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    epochs = max(1, math.ceil(steps * batch / len(y)))     # same step budget for every set
    fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=epochs, batch_size=batch,
        class_weight=class_weight, metrics=(), progress=False)
    return model


def evaluate(model, X, y) -> dict:
    model.eval()
    with ember.no_grad():
        logits = model(ember.from_numpy(X))
        p = nn.functional.softmax(logits, dim=1).numpy()[:, 1]     # P(positive)
    pred = (p > 0.5).astype(np.int64)
    return {"precision": metrics.precision_score(y, pred, zero_division=0),
            "recall": metrics.recall_score(y, pred), "f1": metrics.f1_score(y, pred),
            "roc_auc": metrics.roc_auc_score(y, p), "accuracy": metrics.accuracy_score(y, pred),
            "confusion_matrix": metrics.confusion_matrix(y, pred).tolist()}


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    n_major, steps = (2000, 300) if fast else (8000, 1500)
    X, y = make_imbalanced(rng, n_major)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    print(f"train: {np.bincount(y_tr)} (neg, pos), test: {np.bincount(y_te)}")

    X_over, y_over = random_oversample(X_tr, y_tr, shuffle=True, seed=0)
    X_under, y_under = random_undersample(X_tr, y_tr, shuffle=True, seed=0)
    weights = class_weights(y_tr, as_dict=True)
    print(f"balanced class weights {weights}; oversampled {len(y_over)}, undersampled "
          f"{len(y_under)} samples")
    models = {"plain": train(X_tr, y_tr, steps),
              "class weights": train(X_tr, y_tr, steps, class_weight=weights),
              "oversampling": train(X_over, y_over, steps),
              "undersampling": train(X_under, y_under, steps)}
    scores = {name: evaluate(m, X_te, y_te) for name, m in models.items()}
    print(f"{'':14s} precision recall   F1  ROC-AUC accuracy  confusion [[TN FP] [FN TP]]")
    for name, s in scores.items():
        print(f"{name:14s} {s['precision']:8.3f} {s['recall']:6.3f} {s['f1']:5.3f} "
              f"{s['roc_auc']:7.3f} {s['accuracy']:7.3f}   {s['confusion_matrix']}")

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        names = list(scores)
        keys = ["precision", "recall", "f1", "roc_auc"]
        for i, k in enumerate(keys):
            axes[0].bar(np.arange(len(names)) + 0.2 * i - 0.3, [scores[n][k] for n in names],
                        width=0.2, label=k)
        axes[0].set_xticks(range(len(names)), names)
        axes[0].set(title="minority-class scores (1:20 test set)", ylim=(0, 1.05))
        axes[0].legend()
        for name, model in models.items():
            model.eval()
            with ember.no_grad():
                logit = model(ember.from_numpy(X_te)).numpy()
            fpr, tpr, _ = metrics.roc_curve(y_te, logit[:, 1] - logit[:, 0])
            axes[1].plot(fpr, tpr, label=f"{name} (AUC {scores[name]['roc_auc']:.3f})")
        axes[1].plot([0, 1], [0, 1], "k:")
        axes[1].set(title="ROC curves", xlabel="false positive rate", ylabel="true positive rate")
        axes[1].legend()

    png = save_figure(draw, out_dir, "imbalanced_classes.png")
    return {"scores": scores, "figure": png}


if __name__ == "__main__":
    main()
