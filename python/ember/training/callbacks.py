"""Callbacks for ``fit`` (Keras's names and arguments).

A callback sees the trainer's events: ``on_train_begin(trainer)``, ``on_epoch_begin(epoch)``,
``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)`` (logs: the epoch's loss, metrics,
val_ values and lr; a callback may add keys) and ``on_train_end(logs)``. Setting
``trainer.stop_training = True`` ends training after the current epoch.
"""
from __future__ import annotations

import copy
import math
import sys

import numpy as np


class Callback:
    trainer = None

    def on_train_begin(self, trainer) -> None:
        self.trainer = trainer

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


def _mode_for(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "auc", "f1", "precision", "recall", "r2")) \
        else "min"


class _Monitor:
    """Tracks the best value of a logged quantity."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        self.monitor = monitor
        self.mode = _mode_for(monitor, mode)
        self.min_delta = abs(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf

    def current(self, logs: dict):
        if self.monitor not in logs:
            raise KeyError(f"{type(self).__name__}: monitored quantity {self.monitor!r} is not "
                           f"logged; available: {sorted(logs)}")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best_weights`` the model gets back its weights from the best epoch."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False, baseline=None):
        self._m = _Monitor(monitor, mode, min_delta)
        self.monitor, self.patience = monitor, int(patience)
        self.restore_best_weights = restore_best_weights
        self.baseline = baseline
        self.stopped_epoch = None
        self.best_epoch = None
        self.wait = 0
        self._best_state = None

    @property
    def best(self):
        return self._m.best

    def on_train_begin(self, trainer) -> None:
        super().on_train_begin(trainer)
        self.wait, self.stopped_epoch, self.best_epoch, self._best_state = 0, None, None, None
        self._m.best = math.inf if self._m.mode == "min" else -math.inf
        if self.baseline is not None:
            self._m.best = float(self.baseline)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        value = self._m.current(logs)
        if self._m.improved(value):
            self._m.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = copy.deepcopy(
                    {k: v.detach().numpy().copy() for k, v in self.trainer.model.state_dict().items()})
            return
        self.wait += 1
        if self.wait >= self.patience:   # Keras: stop after `patience` epochs without improvement
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict) -> None:
        if self.restore_best_weights and self._best_state is not None:
            import ember

            self.trainer.model.load_state_dict(
                {k: ember.from_numpy(v) for k, v in self._best_state.items()})


class ModelCheckpoint(Callback):
    """Save the model's state dict (``ember.save``) after each epoch to ``filepath`` (which may
    contain ``{epoch}`` and logged names, e.g. ``'ck-{epoch:02d}-{val_loss:.3f}.pt'``); with
    ``save_best_only`` only when ``monitor`` improved."""

    def __init__(self, filepath: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = True):
        self.filepath = str(filepath)
        self._m = _Monitor(monitor, mode, 0.0)
        self.monitor, self.save_best_only = monitor, save_best_only
        self.saved: list = []

    @property
    def best(self):
        return self._m.best

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        import ember

        if self.save_best_only:
            value = self._m.current(logs)
            if not self._m.improved(value):
                return
            self._m.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        ember.save(self.trainer.model.state_dict(), path)
        self.saved.append(path)


class LearningRateMonitor(Callback):
    """Log the learning rate every parameter group used during each epoch (``lr``, or
    ``lr/group<i>`` when there are several groups)."""

    def on_epoch_begin(self, epoch: int) -> None:
        self._lrs = [float(g["lr"]) for g in self.trainer.optimizer.param_groups]

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if len(self._lrs) == 1:
            logs["lr"] = self._lrs[0]
        else:
            for i, lr in enumerate(self._lrs):
                logs[f"lr/group{i}"] = lr


class ProgressBar(Callback):
    """Per-epoch progress: tqdm when installed, a plain one-line counter otherwise, and silent
    when the output is not a terminal (unless ``force=True``)."""

    def __init__(self, stream=None, force: bool = False):
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self._bar = None

    def _tqdm(self):
        try:
            from tqdm import tqdm
            return tqdm
        except ImportError:
            return None

    def on_epoch_begin(self, epoch: int) -> None:
        if not self.enabled:
            return
        total = self.trainer.batches_per_epoch
        tqdm = self._tqdm()
        self._epoch = epoch
        if tqdm is not None:
            self._bar = tqdm(total=total, file=self.stream, leave=False,
                             desc=f"epoch {epoch + 1}/{self.trainer.epochs}")

    def on_batch_end(self, batch: int, logs: dict) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)
        else:
            total = self.trainer.batches_per_epoch
            self.stream.write(f"\repoch {self._epoch + 1}/{self.trainer.epochs} "
                              f"batch {batch + 1}/{total if total else '?'} "
                              f"loss {logs['loss']:.4f}   ")
            self.stream.flush()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        shown = "  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in logs.items())
        self.stream.write(f"\repoch {epoch + 1}/{self.trainer.epochs}  {shown}\n")
        self.stream.flush()


def _as_float(x) -> float:
    return float(np.asarray(x))
