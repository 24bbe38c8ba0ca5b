"""ember.autograd: reverse-mode automatic differentiation.

- ``Function`` (function.py): forward/backward pairs; every ember op is one.
- engine.py: the iterative backward pass.
- grad_mode.py: ``no_grad`` and friends.
- gradcheck.py: finite-difference checking of analytical gradients.
"""
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)
from ember.autograd.function import ArrayFunction, Function, FunctionCtx
from ember.autograd.api import backward, grad
from ember.autograd.gradcheck import GradcheckError, gradcheck

__all__ = ["Function", "ArrayFunction", "FunctionCtx", "backward", "grad", "gradcheck",
           "GradcheckError", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "inference_mode"]
