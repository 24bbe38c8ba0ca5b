"""``SGD``: stochastic gradient descent with optional momentum, Nesterov momentum and L2 decay.

The update (torch's, step t = 1, 2, ...; gamma = lr, mu = momentum, tau = dampening,
lambda = weight_decay) for every parameter theta with gradient g:

    g <- -g                               if maximize
    g <- g + lambda * theta               if lambda != 0
    if mu != 0:
        b <- g                            at the first step (not dampened)
        b <- mu * b + (1 - tau) * g       afterwards
        g <- g + mu * b  if nesterov  else  b
    theta <- theta - gamma * g

Note the learning rate multiplies the whole velocity (some texts fold lr into b instead).
"""
from __future__ import annotations

from ember._tensor import _new_tensor
from ember.autograd.grad_mode import no_grad
from ember.optim.optimizer import (Optimizer, _bump, _check_hyper, _check_supported, _float,
                                   _grad_array)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum); see the module docstring.

    ``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``. State per parameter:
    ``momentum_buffer`` (when momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_hyper(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check_hyper(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check_hyper(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_supported(differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate_closure(closure)
        with no_grad():
            for group in self.param_groups:
                lr, momentum = _float(group["lr"]), group["momentum"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p] if momentum != 0 else None
                    _sgd_update(p, state, lr=lr, momentum=momentum,
                                dampening=group["dampening"],
                                weight_decay=_float(group["weight_decay"]),
                                nesterov=group["nesterov"], maximize=group["maximize"])
        return loss


def _sgd_update(p, state, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    theta = p._data
    g = _grad_array(p, maximize)
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = _new_tensor(g.copy())
        else:
            b = buf._data
            b *= momentum
            b += g if dampening == 0 else (1 - dampening) * g
            _bump(buf)
        g = g + momentum * buf._data if nesterov else buf._data
    theta -= lr * g
    _bump(p)
