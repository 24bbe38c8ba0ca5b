"""Autograd Functions of the softmax family, forward and backward through ember's C++ kernels.

    Softmax     y = softmax(x, dim)        dx = y * (g - sum(g * y, dim))         saves y
    LogSoftmax  y = log_softmax(x, dim)    dx = g - exp(y) * sum(g, dim)          saves y
    Softmin     y = softmax(-x, dim)       dx = -y * (g - sum(g * y, dim))        saves y
    CrossEntropy  fused log-softmax + NLL  dx = g * (a softmax(x) - b)            saves x, lse
    NllLoss     loss = -w_t x_t            dx = -w_t g at the targets, else 0     saves targets

CrossEntropy saves the logits and one float64 log-sum-exp per position (not the N x C
log-softmax), so its backward is a single read of x and write of dx. With probability targets it
also differentiates with respect to the targets and the weights (as PyTorch does):
dL/dp_c = -g (1 - eps) w_c log_softmax(x)_c and dL/dw_c = -sum_positions g q_c log_softmax(x)_c.
float16 tensors are computed in float32 and rounded back, like PyTorch's CPU kernels.
"""
from __future__ import annotations

import numpy as np

from ember import _C
from ember._dtype import legacy_name
from ember.autograd import grad_mode
from ember.autograd.function import ArrayFunction
from ember.ops.softmax import prepare_cross_entropy, prepare_nll_loss

_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)


def _kernel_input(x: np.ndarray, name: str) -> np.ndarray:
    """x for the float32/float64 kernels; PyTorch's NotImplementedError for integer tensors."""
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{legacy_name(x.dtype)}'")
    return x.astype(_F32) if x.dtype == _F16 else x


class _SoftmaxBase(ArrayFunction):
    _log = False
    _negate = False
    _name = "softmax"

    @classmethod
    def forward(cls, ctx, x, dim):
        y = _C.softmax(_kernel_input(x, cls._name), dim, cls._log, cls._negate)
        if x.dtype == _F16:
            y = y.astype(_F16)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @classmethod
    def backward(cls, ctx, grad):
        y, = ctx.saved_tensors
        half = y.dtype == _F16
        if half:
            y = y.astype(_F32)
        if grad.dtype != y.dtype:
            grad = grad.astype(y.dtype)
        dx = _C.softmax_backward(y, grad, ctx.dim, cls._log, cls._negate)
        return (dx.astype(_F16) if half else dx), None


class Softmax(_SoftmaxBase):
    pass


class LogSoftmax(_SoftmaxBase):
    _log = True
    _name = "log_softmax"


class Softmin(_SoftmaxBase):
    _negate = True


class CrossEntropy(ArrayFunction):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
        half = input.dtype == _F16
        x = _kernel_input(input, "log_softmax")
        x, t, w, prob, red, eps, ignore = prepare_cross_entropy(
            x, target, weight, ignore_index, reduction, label_smoothing)
        if not prob and ctx.needs_input_grad[2] and grad_mode.is_grad_enabled():
            raise RuntimeError("The function 'nll_loss_forward' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
        if prob:
            loss, lse = _C.cross_entropy_prob(x, t, w, red, eps, True)
        else:
            loss, lse = _C.cross_entropy(x, t, w, ignore, red, eps, True)
        ctx.save_for_backward(input, target, weight)
        ctx.args = (x, t, w, prob, red, eps, ignore, lse)
        return loss.astype(_F16) if half else loss

    @staticmethod
    def backward(ctx, grad):
        ctx.saved_tensors                   # raises if the graph was freed or inputs changed
        x, t, w, prob, red, eps, ignore, lse = ctx.args
        g = grad if grad.dtype == x.dtype else grad.astype(x.dtype)
        need_x, need_t, need_w = ctx.needs_input_grad[:3]
        dx = dt = dw = None
        if need_x:
            if prob:
                dx = _C.cross_entropy_prob_backward(x, t, g, w, red, eps, lse)
            else:
                dx = _C.cross_entropy_backward(x, t, g, w, ignore, red, eps, lse)
        if prob and (need_t or need_w):
            dt, dw = _prob_target_grads(x, t, w, g, red, eps, lse, need_t, need_w)
        return dx, dt, dw


def _prob_target_grads(x, t, w, g, red, eps, lse, need_t, need_w):
    """Gradients w.r.t. probability targets and weights (rarely needed: plain NumPy)."""
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    logp = x - np.expand_dims(lse, axis).astype(x.dtype)
    gp = np.asarray(g, x.dtype)
    if red == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            gp = gp / (x.size // classes if classes else 0)
    gp = np.expand_dims(gp, axis) if gp.ndim else gp
    wshape = [1] * x.ndim
    wshape[axis] = classes
    dt = dw = None
    if need_t:
        dt = -gp * (1 - eps) * logp
        if w is not None:
            dt = dt * w.reshape(wshape)
    if need_w:
        q = t * (1 - eps) + eps / classes if eps > 0 else t
        axes = tuple(a for a in range(x.ndim) if a != axis)
        dw = -(gp * q * logp).sum(axis=axes)
    return dt, dw


class NllLoss(ArrayFunction):
    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        half = input.dtype == _F16
        x = _kernel_input(input, "nll_loss")
        x, t, w, red, ignore = prepare_nll_loss(x, target, weight, ignore_index, reduction)
        if ctx.needs_input_grad[2] and grad_mode.is_grad_enabled():
            raise RuntimeError("The function 'nll_loss_forward' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
        loss = _C.nll_loss(x, t, w, ignore, red)
        ctx.args = (x, t, w, red, ignore)
        return loss.astype(_F16) if half else loss

    @staticmethod
    def backward(ctx, grad):
        x, t, w, red, ignore = ctx.args
        g = grad if grad.dtype == x.dtype else grad.astype(x.dtype)
        return _C.nll_loss_backward(x, t, g, w, ignore, red), None, None
