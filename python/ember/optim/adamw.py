"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter).

Identical to ``Adam(..., decoupled_weight_decay=True)``: the decay shrinks the parameter
directly, ``theta <- theta * (1 - lr * weight_decay)``, before the Adam step, instead of being
added to the gradient (where the adaptive scaling would weaken it for large-gradient weights).
The default weight_decay is 1e-2.
"""
from __future__ import annotations

from ember.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False,
    fused=None)``; see ``ember.optim.adam`` for the update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
