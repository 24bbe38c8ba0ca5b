"""``fit`` and ``evaluate``: the training loop every example would otherwise rewrite.

One epoch of ``fit``::

    model.train()
    for inputs, targets in train_data:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)        # class-weighted if class_weight is given
        loss.backward()
        clip_grad_norm_(model.parameters(), grad_clip) # if grad_clip
        optimizer.step()
        scheduler.step()                               # per-batch schedules (OneCycleLR, CyclicLR)
    scheduler.step()                                   # per-epoch schedules (ReduceLROnPlateau
                                                       # gets the monitored loss)
    logs = {loss, metrics..., val_loss, val_metrics..., lr}  -> callbacks, History
"""
from __future__ import annotations

import numpy as np

import ember
from ember.training.callbacks import Callback, ProgressBar
from ember.training.history import History

_PER_BATCH_SCHEDULERS = ("OneCycleLR", "CyclicLR")


def _as_loader(data, batch_size: int, shuffle: bool):
    """A DataLoader, any re-iterable of batches, or an (inputs, targets) pair of arrays/tensors
    (batched here)."""
    if isinstance(data, tuple) and len(data) == 2 and all(
            isinstance(d, (np.ndarray, ember.Tensor)) for d in data):
        from ember.utils.data import DataLoader, TensorDataset

        x, y = (ember.as_tensor(d) if isinstance(d, np.ndarray) else d for d in data)
        if len(x) != len(y):
            raise ValueError(f"fit: inputs and targets differ in length: {len(x)} and {len(y)}")
        return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)
    if not hasattr(data, "__iter__"):
        raise TypeError(f"fit: data must be a DataLoader, an iterable of (inputs, targets) "
                        f"batches or an (inputs, targets) pair, got {type(data).__name__}")
    return data


def _split_batch(batch):
    if isinstance(batch, dict):
        raise TypeError("fit: dict batches are not supported; yield (inputs, targets)")
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise TypeError("fit: each batch must be an (inputs, targets) pair (or (x1, ..., "
                        f"targets)), got {type(batch).__name__}")
    *inputs, targets = batch
    inputs = [ember.as_tensor(x) if isinstance(x, np.ndarray) else x for x in inputs]
    if isinstance(targets, np.ndarray):
        targets = ember.as_tensor(targets)
    return inputs, targets


def _accuracy(outputs, targets, loss_fn) -> tuple:
    """(number correct, number counted): argmax over classes for (N, C) outputs, otherwise a
    threshold (0 for logits of BCEWithLogitsLoss, 0.5 for probabilities)."""
    out = outputs.detach().numpy()
    tgt = targets.detach().numpy() if isinstance(targets, ember.Tensor) else np.asarray(targets)
    if out.ndim >= 2 and out.shape[1] > 1 and tgt.ndim == out.ndim - 1:
        pred = out.argmax(axis=1)
        valid = tgt != getattr(loss_fn, "ignore_index", -100)
        return int(((pred == tgt) & valid).sum()), int(valid.sum())
    threshold = 0.0 if type(loss_fn).__name__ == "BCEWithLogitsLoss" else 0.5
    pred = (out.reshape(tgt.shape) > threshold) if out.size == tgt.size else None
    if pred is None:
        return 0, 0
    return int((pred == (tgt > 0.5)).sum()), int(tgt.size)


def _metric_fns(metrics):
    fns = {}
    for m in metrics or ():
        if m == "accuracy":
            fns["accuracy"] = None                   # counted exactly, see _accuracy
        elif callable(m):
            fns[getattr(m, "__name__", "metric")] = m
        elif isinstance(m, tuple) and len(m) == 2 and callable(m[1]):
            fns[m[0]] = m[1]
        else:
            raise ValueError(f"unknown metric {m!r}: use 'accuracy', a callable "
                             "f(outputs, targets) -> float, or a (name, callable) pair")
    return fns


def _class_weighted_loss(loss_fn, outputs, targets, class_weight):
    """Keras's class_weight: each sample's loss times the weight of its class, averaged over
    the batch (sum(w_i * l_i) / N). Needs a loss with a ``reduction`` attribute."""
    if not hasattr(loss_fn, "reduction"):
        raise TypeError("class_weight needs a loss module with a 'reduction' attribute "
                        f"(e.g. nn.CrossEntropyLoss), got {type(loss_fn).__name__}")
    saved = loss_fn.reduction
    loss_fn.reduction = "none"
    try:
        per = loss_fn(outputs, targets)
    finally:
        loss_fn.reduction = saved
    if per.dim() > 1:
        per = per.reshape(per.shape[0], -1).mean(dim=1)
    tgt = targets.detach().numpy()
    cls = tgt.reshape(tgt.shape[0], -1)[:, 0] if tgt.ndim > 1 else tgt
    cls = np.rint(cls).astype(np.int64) if cls.dtype.kind == "f" else cls.astype(np.int64)
    table = class_weight
    if isinstance(class_weight, dict):
        table = np.ones(max(max(class_weight) + 1, int(cls.max()) + 1))
        for k, v in class_weight.items():
            table[int(k)] = v
    w = np.asarray(table, dtype=per.detach().numpy().dtype)[cls]
    return (per * ember.from_numpy(w)).mean()


class Trainer:
    """The state callbacks see: model, optimizer, epochs, batches_per_epoch, stop_training."""

    def __init__(self, model, optimizer, epochs, batches_per_epoch):
        self.model, self.optimizer = model, optimizer
        self.epochs, self.batches_per_epoch = epochs, batches_per_epoch
        self.stop_training = False


def evaluate(model, loss_fn, data, metrics=("accuracy",), batch_size: int = 256) -> dict:
    """Mean loss (weighted by batch size) and metrics of ``model`` over ``data``, in eval mode
    and without building a graph; the model's previous mode is restored."""
    loader = _as_loader(data, batch_size, shuffle=False)
    fns = _metric_fns(metrics)
    was_training = model.training
    model.eval()
    total, n, correct, counted = 0.0, 0, 0, 0
    custom = {name: 0.0 for name, fn in fns.items() if fn is not None}
    try:
        with ember.no_grad():
            for batch in loader:
                inputs, targets = _split_batch(batch)
                outputs = model(*inputs)
                size = len(targets)
                total += float(loss_fn(outputs, targets).item()) * size
                n += size
                if "accuracy" in fns:
                    c, k = _accuracy(outputs, targets, loss_fn)
                    correct, counted = correct + c, counted + k
                for name in custom:
                    custom[name] += float(fns[name](outputs, targets)) * size
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluate: the data yielded no samples")
    logs = {"loss": total / n}
    if "accuracy" in fns:
        logs["accuracy"] = correct / counted if counted else float("nan")
    logs.update({name: v / n for name, v in custom.items()})
    return logs


def fit(model, loss_fn, optimizer, train_data, epochs: int = 1, val_data=None, scheduler=None,
        callbacks=(), class_weight=None, grad_clip=None, metrics=("accuracy",),
        batch_size: int = 32, shuffle: bool = True, scheduler_interval=None,
        progress: bool = True) -> History:
    """Train ``model`` for ``epochs`` epochs and return the ``History``.

    train_data / val_data: a DataLoader, any re-iterable of (inputs, targets) batches, or an
        (inputs, targets) pair of arrays/tensors (batched with ``batch_size``, shuffled).
    scheduler: stepped once per epoch (ReduceLROnPlateau with val_loss, or loss without
        validation data), or per batch for OneCycleLR/CyclicLR (override: scheduler_interval).
    callbacks: e.g. EarlyStopping, ModelCheckpoint, LearningRateMonitor; a ProgressBar is added
        when ``progress`` (it is silent unless output is a terminal).
    class_weight: {class: weight} or a sequence, Keras's semantics (see _class_weighted_loss).
    grad_clip: max global L2 norm of the gradients (clip_grad_norm_) before each step.
    metrics: 'accuracy' and/or callables f(outputs, targets) -> float (batch means).
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if grad_clip is not None and grad_clip <= 0:
        raise ValueError(f"fit: grad_clip must be positive, got {grad_clip}")
    if scheduler_interval not in (None, "epoch", "batch"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got "
                         f"{scheduler_interval!r}")
    loader = _as_loader(train_data, batch_size, shuffle)
    val_loader = _as_loader(val_data, batch_size, False) if val_data is not None else None
    fns = _metric_fns(metrics)
    interval = scheduler_interval or (
        "batch" if type(scheduler).__name__ in _PER_BATCH_SCHEDULERS else "epoch")
    cbs = list(callbacks)
    for cb in cbs:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be ember.training.Callback objects, got "
                            f"{type(cb).__name__}")
    if progress and not any(isinstance(cb, ProgressBar) for cb in cbs):
        cbs.append(ProgressBar())
    try:
        per_epoch = len(loader)
    except TypeError:
        per_epoch = None
    trainer = Trainer(model, optimizer, epochs, per_epoch)
    history = History()
    for cb in cbs:
        cb.on_train_begin(trainer)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    logs = {}
    for epoch in range(epochs):
        for cb in cbs:
            cb.on_epoch_begin(epoch)
        model.train()
        lr = float(optimizer.param_groups[0]["lr"])
        total, n, correct, counted = 0.0, 0, 0, 0
        custom = {name: 0.0 for name, fn in fns.items() if fn is not None}
        for b, batch in enumerate(loader):
            inputs, targets = _split_batch(batch)
            optimizer.zero_grad()
            outputs = model(*inputs)
            if class_weight is not None:
                loss = _class_weighted_loss(loss_fn, outputs, targets, class_weight)
            else:
                loss = loss_fn(outputs, targets)
            loss.backward()
            if grad_clip is not None:
                ember.nn.utils.clip_grad_norm_(params, grad_clip)
            optimizer.step()
            if scheduler is not None and interval == "batch":
                scheduler.step()
            size = len(targets)
            value = float(loss.item())
            total, n = total + value * size, n + size
            if "accuracy" in fns:
                c, k = _accuracy(outputs, targets, loss_fn)
                correct, counted = correct + c, counted + k
            for name in custom:
                custom[name] += float(fns[name](outputs.detach(), targets)) * size
            for cb in cbs:
                cb.on_batch_end(b, {"loss": value})
        if n == 0:
            raise ValueError("fit: the training data yielded no samples")
        logs = {"loss": total / n}
        if "accuracy" in fns:
            logs["accuracy"] = correct / counted if counted else float("nan")
        logs.update({name: v / n for name, v in custom.items()})
        if val_loader is not None:
            val = evaluate(model, loss_fn, val_loader, metrics)
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["lr"] = lr
        if scheduler is not None and interval == "epoch":
            if type(scheduler).__name__ == "ReduceLROnPlateau":
                scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                scheduler.step()
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)
        history.append(epoch, logs)
        if trainer.stop_training:
            break
    for cb in cbs:
        cb.on_train_end(logs)
    return history
