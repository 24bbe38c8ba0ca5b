"""``Optimizer``: the base class of every optimiser (``torch.optim.Optimizer``).

An optimiser holds
  defaults      the hyperparameters given to the constructor (``lr``, ``momentum``, ...)
  param_groups  a list of dicts, each ``{'params': [tensors], <hyperparameters>}``; a group's own
                values override ``defaults``, so layers can train with different learning rates
  state         per-parameter buffers (momentum, running averages, step counts), keyed by the
                parameter tensor itself and created lazily on the first step that sees a gradient

``state_dict()`` replaces every parameter by its position (0, 1, ... in group order), so the
result can be saved and loaded into a fresh optimiser built over the same parameters in the
same order; training then resumes exactly where it stopped.

Subclasses implement ``step(closure=None)``: for every parameter whose ``.grad`` is set, update
``param`` in place (on its NumPy array, under ``no_grad``, in the parameter's dtype) and bump its
version counter, so a graph that saved the old values refuses to backpropagate through them.
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from ember import _dtype
from ember._tensor import Tensor, _new_tensor
from ember.autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """The default of a hyperparameter every group must give (old-style custom optimisers)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class _HookHandle:
    """Returned by the ``register_*_hook`` methods; ``.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


_global_step_pre_hooks: dict = OrderedDict()
_global_step_post_hooks: dict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> _HookHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimiser's ``step``; it may return
    a new ``(args, kwargs)``."""
    handle = _HookHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> _HookHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimiser's ``step``."""
    handle = _HookHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _with_step_hooks(step):
    """Wrap a subclass's ``step``: run the step hooks around it and note that it ran (the
    learning-rate schedulers warn when they are stepped before the optimiser)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in chain(_global_step_pre_hooks.values(),
                          getattr(self, "_optimizer_step_pre_hooks", {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(self, *args, **kwargs)
        self._opt_called = True
        for hook in chain(getattr(self, "_optimizer_step_post_hooks", {}).values(),
                          _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._ember_step_hooks = True
    return wrapper


def _typename(obj) -> str:
    """torch.typename: ``ember.FloatTensor`` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", None) else f"{module}.{cls.__qualname__}"


class Optimizer:
    """Base class for all optimisers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (``named_parameters()``),
    or of dicts ``{'params': ..., <hyperparameter>: value}`` that define parameter groups.
    ``defaults`` holds the hyperparameters a group does not set itself. Give parameters as an
    ordered collection (a list, not a set): ``state_dict`` identifies them by position.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_step_hooks", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: dict = OrderedDict()
        self._optimizer_step_post_hooks: dict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------------- pickling, repr
    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own hyperparameters, defaults filling the rest);
        useful to unfreeze layers during fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)

        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):          # ("layer.weight", tensor) from named_parameters
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and \
                    not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (the default; parameters without a
        gradient are then skipped by ``step``), or to zeros when ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad = p.grad
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss
        (which ``step`` returns)."""
        raise NotImplementedError

    def register_step_pre_hook(self, hook) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` before this optimiser's ``step``."""
        handle = _HookHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> _HookHandle:
        """Call ``hook(optimizer, args, kwargs)`` after this optimiser's ``step``."""
        handle = _HookHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------------- state dict
    def state_dict(self) -> dict:
        """``{'state': {index: {buffer name: value}}, 'param_groups': [{..., 'params':
        [indices]}]}``: parameters numbered in group order. The state tensors are not copied."""
        index: dict[int, int] = {}
        start = 0

        def pack(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and buffers saved by ``state_dict`` (from an optimiser over
        the same parameters, in the same order). Buffers are copied and cast to the dtype of
        their parameter (the ``step`` counters keep theirs)."""
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast_state(param, v)
            else:
                state[k] = v

        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})

    # ------------------------------------------------------------------------- for subclasses
    @staticmethod
    def _evaluate_closure(closure):
        """Run ``closure`` with gradient recording on (``step`` itself runs without it)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()


def _cast_state(param: Tensor, value, key=None):
    """A copy of a saved state value, tensors cast to ``param``'s dtype except step counters."""
    if isinstance(value, Tensor):
        data = value._data
        if key != "step" and param.is_floating_point():
            data = data.astype(param._data.dtype)
        return _new_tensor(np.array(data, copy=True))
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


# ----------------------------------------------------------------------------- shared helpers
def _scalar_dtype():
    """The dtype of ``state['step']`` counters: float64 when that is the default, else float32."""
    return _dtype.float64 if _dtype.get_default_dtype() == _dtype.float64 else _dtype.float32


def _new_step_counter(value: float = 0.0) -> Tensor:
    return _new_tensor(np.array(value, dtype=_scalar_dtype().np))


def _increment(step_t: Tensor) -> float:
    """``step_t += 1`` (a 0-d tensor, as torch keeps it); returns the new count as a float."""
    step_t._data += 1
    step_t._version[0] += 1
    return float(step_t._data)


def _zeros_like(p: Tensor) -> Tensor:
    return _new_tensor(np.zeros_like(p._data))


def _grad_array(p: Tensor, maximize: bool) -> np.ndarray:
    """The gradient of ``p`` as an array of ``p``'s dtype, negated to maximise. Never written
    to by the update rules (it may be the gradient tensor's own storage)."""
    g = p.grad._data
    if g.dtype != p._data.dtype:
        g = g.astype(p._data.dtype)
    return -g if maximize else g


def _lerp_(a: np.ndarray, b: np.ndarray, weight: float) -> None:
    """``a += weight * (b - a)`` in place, with torch's two-sided formula (exact at both ends)."""
    w = a.dtype.type(weight)
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)


def _bump(*tensors: Tensor) -> None:
    """Record an in-place write (autograd's saved-tensor checks read the version counters)."""
    for t in tensors:
        t._version[0] += 1


def _check_hyper(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check_supported(differentiable: bool) -> None:
    """``foreach``, ``fused`` and ``capturable`` choose among torch's implementations of the
    same update and are accepted as no-ops; a differentiable step (autograd through the
    update) is not implemented."""
    if differentiable:
        raise NotImplementedError("ember's optimizers do not support differentiable=True")


def _float(x) -> float:
    """A hyperparameter that may be a one-element tensor, as a Python float."""
    return float(x.item()) if isinstance(x, Tensor) else float(x)
