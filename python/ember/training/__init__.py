"""ember.training: ``fit``/``evaluate`` with callbacks and a ``History``, plotting, and
hyperparameter search (Keras's names where PyTorch has none)."""
from ember.training.callbacks import (Callback, EarlyStopping, LearningRateMonitor,
                                      ModelCheckpoint, ProgressBar)
from ember.training.history import History, plot_history
from ember.training.loop import evaluate, fit
from ember.training.search import SearchResult, grid_search, loguniform, random_search, uniform

__all__ = ["fit", "evaluate", "History", "plot_history", "Callback", "EarlyStopping",
           "ModelCheckpoint", "LearningRateMonitor", "ProgressBar", "grid_search",
           "random_search", "SearchResult", "uniform", "loguniform"]
