"""ember.metrics: evaluation metrics with scikit-learn's names, arguments and definitions.

Inputs may be NumPy arrays, lists or ember Tensors; results are Python floats (or NumPy arrays
for per-label / per-output values and curves). Classification metrics take 1-d labels (binary
or multiclass, numbers or strings); ranking metrics take labels and scores.

    classification  accuracy_score, precision_score, recall_score, f1_score, fbeta_score,
                    precision_recall_fscore_support, confusion_matrix, classification_report
    ranking         roc_curve, roc_auc_score, precision_recall_curve,
                    average_precision_score (the PR-AUC), auc
    regression      mean_squared_error, root_mean_squared_error, mean_absolute_error, r2_score

Undefined values (0/0) follow scikit-learn: ``zero_division`` for precision/recall/F, nan with
an ``UndefinedMetricWarning`` for an ROC AUC with one class present.
"""
from ember.metrics._classification import (accuracy_score, classification_report,
                                           confusion_matrix, f1_score, fbeta_score,
                                           precision_recall_fscore_support, precision_score,
                                           recall_score)
from ember.metrics._ranking import (auc, average_precision_score, precision_recall_curve,
                                    roc_auc_score, roc_curve)
from ember.metrics._regression import (mean_absolute_error, mean_squared_error, r2_score,
                                       root_mean_squared_error)
from ember.metrics._validation import UndefinedMetricWarning

__all__ = ["UndefinedMetricWarning", "accuracy_score", "auc", "average_precision_score",
           "classification_report", "confusion_matrix", "f1_score", "fbeta_score",
           "mean_absolute_error", "mean_squared_error", "precision_recall_curve",
           "precision_recall_fscore_support", "precision_score", "r2_score", "recall_score",
           "roc_auc_score", "roc_curve", "root_mean_squared_error"]
