"""Transfer-learning helpers: freeze and unfreeze parts of a model, keep batch-norm statistics
fixed while fine-tuning, and give parts of a model their own learning rates.

A typical fine-tune::

    freeze(model.features)                      # no gradients into the pre-trained body
    freeze_batchnorm(model.features)            # its BN layers keep their running statistics
    opt = ember.optim.SGD(param_groups(model, {"features": 1e-4, "classifier": 1e-2}), lr=1e-2,
                          momentum=0.9)
"""
from __future__ import annotations

__all__ = ["freeze", "unfreeze", "freeze_batchnorm", "param_groups", "count_parameters"]


def _modules(module):
    if not hasattr(module, "modules"):
        raise TypeError(f"expected an nn.Module, got {type(module).__name__}")
    return module.modules()


def freeze(module, batchnorm: bool = False):
    """Stop gradients into every parameter of ``module`` (``requires_grad = False``); with
    ``batchnorm=True`` also fix its batch-norm running statistics (see freeze_batchnorm).
    Returns the module."""
    for p in module.parameters():
        p.requires_grad_(False)
    if batchnorm:
        freeze_batchnorm(module)
    return module


def unfreeze(module):
    """Undo ``freeze``: every parameter trains again and batch-norm layers follow ``train()``
    again. Returns the module."""
    for p in module.parameters():
        p.requires_grad_(True)
    for m in _modules(module):
        if "train" in vars(m):          # the override installed by freeze_batchnorm
            del m.train
            m.train(module.training)
    return module


def _is_batchnorm(m) -> bool:
    return any(cls.__name__ == "_BatchNorm" for cls in type(m).__mro__)


def freeze_batchnorm(module):
    """Put every batch-norm layer inside ``module`` in eval mode for good: ``model.train()`` no
    longer switches them back, so their running mean/variance stay those of pre-training while
    the rest of the model fine-tunes (the usual choice with small fine-tuning batches). Returns
    the number of layers frozen."""
    count = 0
    for m in _modules(module):
        if _is_batchnorm(m):
            m.training = False

            def stay_in_eval(mode: bool = True, _m=m):
                _m.training = False
                return _m
            m.train = stay_in_eval
            count += 1
    return count


def param_groups(model, lrs: dict, default_lr=None, trainable_only: bool = True) -> list:
    """Optimizer parameter groups by name prefix: ``{"features": 1e-4, "classifier": 1e-2}``
    gives each parameter whose qualified name starts with a prefix (longest match wins) that
    learning rate; the rest get ``default_lr``, or are left out when it is None. Frozen
    parameters are skipped unless ``trainable_only=False``."""
    prefixes = sorted(lrs, key=len, reverse=True)
    groups = {p: [] for p in prefixes}
    rest = []
    for name, param in model.named_parameters():
        if trainable_only and not param.requires_grad:
            continue
        match = next((p for p in prefixes if name == p or name.startswith(p + ".")), None)
        (groups[match] if match is not None else rest).append(param)
    out = [{"params": params, "lr": lrs[p]} for p, params in groups.items() if params]
    if default_lr is not None and rest:
        out.append({"params": rest, "lr": default_lr})
    if not out:
        raise ValueError("param_groups: no parameters matched "
                         f"{list(lrs)} (and default_lr is None)")
    return out


def count_parameters(model, trainable_only: bool = False) -> int:
    """Number of scalar parameters (only the trainable ones if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
