"""``RMSprop``: divide the gradient by a running root-mean-square of recent gradients (Hinton).

The update (torch's; gamma = lr, lambda = weight_decay, mu = momentum):

    g <- -g                                   if maximize
    g <- g + lambda * theta                   if lambda != 0
    v <- alpha * v + (1 - alpha) * g^2        running mean of squares
    if centered:                              subtract the squared running mean: a variance
        gbar <- alpha * gbar + (1 - alpha) * g
        r = sqrt(v - gbar^2) + eps
    else:
        r = sqrt(v) + eps
    if mu > 0:
        b <- mu * b + g / r                   b starts at zero
        theta <- theta - gamma * b
    else:
        theta <- theta - gamma * g / r

Unlike Adam there is no bias correction: v starts at zero, so the first steps are large.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _bump, _check_hyper, _check_supported, _float,
                                   _grad_array, _increment, _lerp_, _new_step_counter,
                                   _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop; see the module docstring for the update.

    ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)``.
    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_hyper(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_hyper(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_hyper(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _check_hyper(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_hyper(0.0 <= alpha, f"Invalid alpha value: {alpha}")
        _check_supported(differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("momentum", 0), ("centered", False), ("foreach", None),
                               ("maximize", False), ("differentiable", False),
                               ("capturable", False)):
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _new_step_counter(float(p_state["step"]))

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate_closure(closure)
        with no_grad():
            for group in self.param_groups:
                hyper = dict(lr=_float(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                             weight_decay=_float(group["weight_decay"]),
                             momentum=group["momentum"], centered=group["centered"],
                             maximize=group["maximize"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _new_step_counter()
                        state["square_avg"] = _zeros_like(p)
                        if group["momentum"] > 0:
                            state["momentum_buffer"] = _zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = _zeros_like(p)
                    _rmsprop_update(p, state, **hyper)
        return loss


def _rmsprop_update(p, state, *, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    theta = p._data
    g = _grad_array(p, maximize)
    _increment(state["step"])
    if weight_decay != 0:
        g = g + weight_decay * theta
    v = state["square_avg"]._data
    v *= alpha
    v += (1 - alpha) * g * g
    written = [p, state["square_avg"]]
    if centered:
        g_avg = state["grad_avg"]._data
        _lerp_(g_avg, g, 1 - alpha)
        avg = np.sqrt(v - g_avg * g_avg)
        written.append(state["grad_avg"])
    else:
        avg = np.sqrt(v)
    avg += eps
    if momentum > 0:
        b = state["momentum_buffer"]._data
        b *= momentum
        b += g / avg
        theta -= lr * b
        written.append(state["momentum_buffer"])
    else:
        update = np.divide(g, avg, out=avg)
        update *= -lr
        theta += update
    _bump(*written)
