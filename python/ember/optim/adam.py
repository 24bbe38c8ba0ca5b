"""``Adam``: adaptive moment estimation (Kingma & Ba), with AMSGrad and decoupled decay options.

The update (torch's; gamma = lr, lambda = weight_decay, t = 1, 2, ...) for every parameter
theta with gradient g:

    g <- -g                                       if maximize
    theta <- theta * (1 - gamma * lambda)         if decoupled_weight_decay (AdamW)
    g <- g + lambda * theta                       otherwise, if lambda != 0 (L2 penalty)
    m <- beta1 * m + (1 - beta1) * g              first moment
    v <- beta2 * v + (1 - beta2) * g^2            second moment
    v_max <- max(v_max, v); use v_max for v       if amsgrad
    theta <- theta - gamma / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

eps is added after the bias-corrected square root, so it acts on the scale of the gradient.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _bump, _check_hyper, _check_supported, _float,
                                   _grad_array, _increment, _lerp_, _new_step_counter,
                                   _zeros_like)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam; see the module docstring for the update.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``. State per parameter: ``step`` (a 0-d tensor),
    ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_hyper(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_hyper(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_hyper(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check_hyper(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        _check_hyper(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        both_float = isinstance(betas[0], float) and isinstance(betas[1], float)
        both_tensor = isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)
        _check_hyper(both_float or both_tensor,
                     "betas must be either both floats or both Tensors")
        _check_supported(differentiable)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("amsgrad", False), ("maximize", False), ("foreach", None),
                               ("capturable", False), ("differentiable", False),
                               ("decoupled_weight_decay", False), ("fused", None)):
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state and not isinstance(p_state["step"], Tensor):
                    p_state["step"] = _new_step_counter(float(p_state["step"]))

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate_closure(closure)
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = (_float(b) for b in group["betas"])
                hyper = dict(lr=_float(group["lr"]), beta1=beta1, beta2=beta2,
                             eps=group["eps"], weight_decay=_float(group["weight_decay"]),
                             amsgrad=group["amsgrad"], maximize=group["maximize"],
                             decoupled=group["decoupled_weight_decay"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _new_step_counter()
                        state["exp_avg"] = _zeros_like(p)
                        state["exp_avg_sq"] = _zeros_like(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = _zeros_like(p)
                    _adam_update(p, state, **hyper)
        return loss


def _adam_update(p, state, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                 decoupled):
    theta = p._data
    g = _grad_array(p, maximize)
    step = _increment(state["step"])
    if weight_decay != 0:
        if decoupled:
            theta *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * theta
    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
    _lerp_(m, g, 1 - beta1)
    v *= beta2
    v += (1 - beta2) * g * g
    tensors = [p, state["exp_avg"], state["exp_avg_sq"]]

    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    if amsgrad:
        v_max = state["max_exp_avg_sq"]._data
        np.maximum(v_max, v, out=v_max)
        v = v_max
        tensors.append(state["max_exp_avg_sq"])
    denom = np.sqrt(v)
    denom /= bias_correction2_sqrt
    denom += eps
    update = np.divide(m, denom, out=denom)
    update *= -step_size
    theta += update
    _bump(*tensors)
