"""``Adagrad``: per-coordinate learning rates from the accumulated squared gradients (Duchi et al.).

The update (torch's; gamma = lr, eta = lr_decay, lambda = weight_decay, t = 1, 2, ...):

    g <- -g                                   if maximize
    g <- g + lambda * theta                   if lambda != 0
    gamma_t = gamma / (1 + (t - 1) * eta)
    s <- s + g^2                              s starts at initial_accumulator_value
    theta <- theta - gamma_t * g / (sqrt(s) + eps)

Coordinates that saw large gradients take ever smaller steps; the sum never decays, so the
effective learning rate only shrinks.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor, _new_tensor
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _bump, _check_hyper, _check_supported, _float,
                                   _grad_array, _increment, _new_step_counter)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad; see the module docstring for the update.

    ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``.
    State per parameter (created by the constructor, as in torch): ``step`` and ``sum``.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_hyper(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_hyper(0.0 <= lr_decay, f"Invalid lr_decay value: {lr_decay}")
        _check_hyper(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_hyper(0.0 <= initial_accumulator_value,
                     f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_hyper(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_supported(differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p, initial_accumulator_value) -> None:
        state = self.state[p]
        state["step"] = _new_step_counter()
        state["sum"] = _new_tensor(np.full_like(p._data, initial_accumulator_value))

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("foreach", None), ("maximize", False),
                               ("differentiable", False), ("fused", None)):
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _new_step_counter(float(p_state["step"]))

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate_closure(closure)
        with no_grad():
            for group in self.param_groups:
                hyper = dict(lr=_float(group["lr"]), lr_decay=group["lr_decay"],
                             weight_decay=_float(group["weight_decay"]), eps=group["eps"],
                             maximize=group["maximize"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:     # a group added after construction
                        self._init_state(p, self.defaults["initial_accumulator_value"])
                    _adagrad_update(p, state, **hyper)
        return loss


def _adagrad_update(p, state, *, lr, lr_decay, weight_decay, eps, maximize):
    theta = p._data
    g = _grad_array(p, maximize)
    step = _increment(state["step"])
    if weight_decay != 0:
        g = g + weight_decay * theta
    clr = lr / (1 + (step - 1) * lr_decay)
    s = state["sum"]._data
    s += g * g
    std = np.sqrt(s)
    std += eps
    update = np.divide(g, std, out=std)
    update *= -clr
    theta += update
    _bump(p, state["sum"])
