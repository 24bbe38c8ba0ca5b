"""``LRScheduler``: the base class of the learning-rate schedules (``torch.optim.lr_scheduler``).

A scheduler rewrites ``group['lr']`` of its optimiser's parameter groups each time ``step()`` is
called (usually once per epoch, after ``optimizer.step()``):

  last_epoch   how many times ``step()`` ran; the constructor makes the first call (epoch 0)
  base_lrs     each group's ``initial_lr``, stored in the group by the first scheduler made
  get_lr()     the new learning rates for ``last_epoch``. Most schedules are written
               *chainably*: they scale the group's current lr, so several schedulers can be
               composed on one optimiser, and reproduce torch's floating-point sequences
               exactly. ``step(epoch)`` jumps to an epoch with the *closed form*
               (``_get_closed_form_lr``) where a schedule has one.

``state_dict()`` is every attribute except the optimiser; ``load_state_dict`` restores them.
"""
from __future__ import annotations

import warnings

from ember._tensor import Tensor
from ember.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "_LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")


def _check_verbose_deprecated(verbose) -> None:
    """``verbose`` was removed from the schedulers in torch 2.7; older scripts still pass it."""
    if verbose != "deprecated":
        warnings.warn("The verbose parameter is deprecated. Please use get_last_lr() to access "
                      "the learning rate.", UserWarning, stacklevel=3)


def _format_param(name: str, optimizer: Optimizer, param) -> list:
    """One value per parameter group: a list of the right length, or a scalar repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(param)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
    else:
        param = [param] * len(optimizer.param_groups)
    return [p.clone() if isinstance(p, Tensor) else p for p in param]


def _group_values(optimizer: Optimizer, key: str) -> list:
    """``[group[key] for each group]``, tensors cloned so callers cannot alias them."""
    return [g[key].clone() if isinstance(g[key], Tensor) else g[key]
            for g in optimizer.param_groups]


def _set_group_value(group: dict, key: str, value) -> None:
    """``group[key] = value``, writing into the tensor when the group holds a tensor lr."""
    if isinstance(group[key], Tensor):
        group[key].fill_(value.item() if isinstance(value, Tensor) else value)
    else:
        group[key] = value


class _Flag:
    """``with _Flag(obj, 'attr'):`` sets ``obj.attr`` True for the block (an instance
    attribute, so it shows in ``state_dict`` exactly as torch's does)."""

    def __init__(self, obj, name: str):
        self.obj, self.name = obj, name

    def __enter__(self):
        setattr(self.obj, self.name, True)

    def __exit__(self, *exc):
        setattr(self.obj, self.name, False)


class LRScheduler:
    """Base class of the schedulers: subclasses implement ``get_lr()`` (and optionally
    ``_get_closed_form_lr()``); see the module docstring.

    ``last_epoch=-1`` starts a new schedule; a larger value resumes one, and then every group
    must already hold its ``initial_lr`` (restored with the optimiser's state dict).
    """

    _get_lr_called_within_step: bool = False
    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1,
                 verbose="deprecated") -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        _check_verbose_deprecated(verbose)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming scheduler with last_epoch >= 0.\nThis typically happens "
                        "when:\n1. You're trying to resume training from a checkpoint but "
                        "haven't properly loaded the optimizer state\n2. You're using "
                        "last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step the constructor takes: sets the learning rates of epoch ``last_epoch+1``."""
        self._step_count = 0
        with _Flag(self, "_is_initial"):
            self.step()

    def state_dict(self) -> dict:
        """Every attribute except the optimiser."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list:
        """The learning rates for ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def step(self, epoch=None) -> None:
        """Advance one epoch (or, deprecated, jump to ``epoch``) and set the groups' lrs."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them "
                "in the opposite order: `optimizer.step()` before `lr_scheduler.step()`. "
                "Failure to do this will result in skipping the first value of the learning "
                "rate schedule.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        with _Flag(self, "_get_lr_called_within_step"):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")

    def _warn_if_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)


class _LRScheduler(LRScheduler):
    """The pre-2.0 name of ``LRScheduler``, still subclassed by older code."""
