"""Softmax, log-softmax, softmin, fused cross-entropy and NLL loss on NumPy arrays (C++ kernels).

Along the class axis ``dim`` (C entries), with m = max_c x_c:

    softmax(x)_c     = exp(x_c - m) / sum_k exp(x_k - m)
    log_softmax(x)_c = (x_c - m) - log sum_k exp(x_k - m)          (exact for logits like 1e4)
    softmin(x)       = softmax(-x)

Backward, from the forward's output y and the upstream gradient g = dL/dy:

    softmax:      dx = y * (g - sum_c g_c y_c)
    log_softmax:  dx = g - exp(y) * sum_c g_c
    softmin:      dx = -y * (g - sum_c g_c y_c)

Cross-entropy takes logits ``input`` of shape (C,), (N, C) or (N, C, d1, ...) (classes on axis
1, or 0 for 1-D input) and either class-index targets of shape (), (N,) or (N, d1, ...) or class
probabilities of input's shape. With lse = log sum_c exp(x_c), weights w (1 if None) and label
smoothing eps, the loss of one position is PyTorch's

    class index t:  (1 - eps) w_t (lse - x_t) + eps/C sum_c w_c (lse - x_c)   (0 if t == ignore_index)
    probabilities:  sum_c w_c q_c (lse - x_c),   q = (1 - eps) p + eps/C

and 'mean' divides the sum by sum_t w_t over non-ignored targets (class indices; nan if there
are none) or by the number of positions (probabilities). The kernel is fused: it reads each logit
once, keeps only lse per position (float64), and its backward writes
dx = g * (a softmax - b) in one more pass, never forming a log-softmax or one-hot matrix.

Errors follow PyTorch: IndexError for a target out of range or a dim out of range, ValueError
for a bad reduction or batch-size mismatch, RuntimeError for other target/weight shape errors,
TypeError for non-float input.
"""
from __future__ import annotations

import operator
import warnings

import numpy as np

from ember import _C
from ember._dtype import legacy_name

__all__ = ["softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "softmin",
           "softmin_backward", "cross_entropy", "cross_entropy_backward", "nll_loss",
           "nll_loss_backward"]

_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _array(x) -> np.ndarray:
    """``x`` as an ndarray the kernels may read: any strides, but aligned (a misaligned view is
    copied; the kernels load whole elements)."""
    a = x if type(x) is np.ndarray else np.asarray(x)
    return a if a.flags.aligned else np.array(a, copy=True)


def _dim(dim, x: np.ndarray) -> int:
    """``dim`` checked against x's rank in Python: an int too large for the binding's int64
    would otherwise fail pybind11's conversion with a message that names nothing."""
    if isinstance(dim, (bool, np.bool_)) or not hasattr(dim, "__index__"):
        raise TypeError(f"dim must be an int, got {dim!r}")
    d, n = int(dim), max(x.ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {d})")
    return d


def _grad_like(grad, y: np.ndarray) -> np.ndarray:
    """``grad`` as an array of ``y``'s dtype (the kernels take matching dtypes)."""
    g = _array(grad)
    return g if g.dtype == y.dtype or g.dtype not in _FLOATS else g.astype(y.dtype)


# ----------------------------------------------------------------------------------------------
# softmax family
# ----------------------------------------------------------------------------------------------
def softmax(x, dim: int = -1) -> np.ndarray:
    """softmax along ``dim`` (default the last axis): a new array of x's shape and dtype.

    float32/float64, any shape (0-d gives 1), any strides: a slice along the last axis is a
    contiguous row, other axes are walked with their stride (no transposing copy).
    A row containing +inf, or only -inf, gives nan (as PyTorch); -inf entries give 0.
    """
    x = _array(x)
    return _C.softmax(x, _dim(dim, x))


def softmax_backward(y, grad, dim: int = -1) -> np.ndarray:
    """dL/dx = y * (grad - sum(grad * y, dim)) from the output ``y = softmax(x, dim)``."""
    y = _array(y)
    return _C.softmax_backward(y, _grad_like(grad, y), _dim(dim, y))


def log_softmax(x, dim: int = -1) -> np.ndarray:
    """log(softmax(x)) along ``dim``, computed as (x - max) - log(sum(exp(x - max)))."""
    x = _array(x)
    return _C.softmax(x, _dim(dim, x), True)


def log_softmax_backward(y, grad, dim: int = -1) -> np.ndarray:
    """dL/dx = grad - exp(y) * sum(grad, dim) from the output ``y = log_softmax(x, dim)``."""
    y = _array(y)
    return _C.softmax_backward(y, _grad_like(grad, y), _dim(dim, y), True)


def softmin(x, dim: int = -1) -> np.ndarray:
    """softmax(-x) along ``dim``; the negation is folded into the kernel (no extra pass)."""
    x = _array(x)
    return _C.softmax(x, _dim(dim, x), False, True)


def softmin_backward(y, grad, dim: int = -1) -> np.ndarray:
    """dL/dx = -y * (grad - sum(grad * y, dim)) from the output ``y = softmin(x, dim)``."""
    y = _array(y)
    return _C.softmax_backward(y, _grad_like(grad, y), _dim(dim, y), False, True)


# ----------------------------------------------------------------------------------------------
# argument checks shared by the losses (and by ember.ops.reference and ember._functions)
# ----------------------------------------------------------------------------------------------
def reduction_code(reduction) -> int:
    """'none' -> 0, 'mean' -> 1, 'sum' -> 2; PyTorch's ValueError for anything else."""
    code = _REDUCTIONS.get(reduction) if isinstance(reduction, str) else None
    if code is None:
        if reduction == "elementwise_mean":
            warnings.warn("reduction='elementwise_mean' is deprecated. Please use "
                          "reduction='mean' instead.", stacklevel=3)
            return 1
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return code


def _float_input(x, op: str) -> np.ndarray:
    x = _array(x)
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: input must be a float32 or float64 array, got dtype {x.dtype}")
    return x


def _weight_error(weight: np.ndarray, classes: int, prefix: str = "") -> RuntimeError:
    return RuntimeError(f"{prefix}weight tensor should be defined either for all {classes} "
                        f"classes or no classes but got weight tensor of shape: "
                        f"{list(weight.shape)}")


def check_nll_target(x: np.ndarray, target: np.ndarray) -> None:
    """PyTorch's shape checks of nll_loss_nd for class-index targets (same order and messages)."""
    nd = x.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1 and x.shape[0] != (target.shape[0] if target.ndim else 0):
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    if nd <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and target.ndim == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
    elif nd == 4:
        if target.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.ndim}")
        if target.shape[1:] != x.shape[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: "
                               f"{list(target.shape)}")
    elif target.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"Expected target size {[x.shape[0], *x.shape[2:]]}, got "
                           f"{list(target.shape)}")


def prepare_class_target(x: np.ndarray, target: np.ndarray, weight):
    """Checked (target as int64 of the positions' shape, weight or None) for class indices."""
    check_nll_target(x, target)
    classes = x.shape[0 if x.ndim == 1 else 1]
    if weight is not None:
        weight = _array(weight)
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise _weight_error(weight, classes)
        if weight.dtype != x.dtype:
            raise RuntimeError(f"expected scalar type {legacy_name(x.dtype)} but found "
                               f"{legacy_name(weight.dtype)}")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{legacy_name(target.dtype)}")
    if target.dtype != np.int64:
        target = target.astype(np.int64)
    if x.ndim == 1 and target.ndim == 1:
        target = target.reshape(())      # (C,) input with a (1,) target: one position
    return target, weight


def prepare_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """Validate cross-entropy arguments in PyTorch's order.

    Returns (input, target, weight, prob, reduction_code, eps, ignore_index): ``prob`` tells
    class-probability targets (same shape as input, float) from class indices (int64);
    ``eps`` is the label smoothing actually applied (PyTorch ignores values <= 0).
    """
    red = reduction_code(reduction)
    x = _float_input(input, "cross_entropy")
    t = _array(target)
    ignore_index = operator.index(ignore_index)
    eps = float(label_smoothing)
    if eps > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {eps}")
    eps = max(eps, 0.0)
    if x.shape == t.shape:                              # class probabilities
        if t.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {legacy_name(t.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if x.ndim < 1:
            raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
        classes = x.shape[0 if x.ndim == 1 else 1]
        dtype = np.result_type(x, t)
        if weight is not None:
            weight = _array(weight)
            if weight.ndim != 1 or weight.shape[0] != classes:
                raise _weight_error(weight, classes, "cross_entropy: ")
            dtype = np.result_type(dtype, weight)
            weight = weight.astype(dtype, copy=False)
        if dtype not in _FLOATS:
            dtype = np.dtype(np.float32)
        return (x.astype(dtype, copy=False), t.astype(dtype, copy=False), weight, True, red,
                eps, ignore_index)
    t, weight = prepare_class_target(x, t, weight)
    return x, t, weight, False, red, eps, ignore_index


def prepare_nll_loss(input, target, weight, ignore_index, reduction):
    """Validate nll_loss arguments: (input, int64 target, weight, reduction_code, ignore_index)."""
    red = reduction_code(reduction)
    x = _float_input(input, "nll_loss")
    t, weight = prepare_class_target(x, _array(target), weight)
    return x, t, weight, red, operator.index(ignore_index)


# ----------------------------------------------------------------------------------------------
# losses
# ----------------------------------------------------------------------------------------------
def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, return_lse: bool = False):
    """Cross-entropy of logits ``input`` against class indices or probabilities (see module doc).

    Returns the loss: a 0-d array for 'mean'/'sum', one value per position for 'none' (the
    target's shape for class indices, input's shape without the class axis for probabilities).
    With ``return_lse=True`` returns ``(loss, lse)``, lse being the float64 log-sum-exp of every
    position (0 at positions whose target is ignore_index: their rows are never read), which
    ``cross_entropy_backward`` reuses to skip a pass.
    """
    x, t, w, prob, red, eps, ignore = prepare_cross_entropy(input, target, weight, ignore_index,
                                                            reduction, label_smoothing)
    if prob:
        return _C.cross_entropy_prob(x, t, w, red, eps, return_lse)
    return _C.cross_entropy(x, t, w, ignore, red, eps, return_lse)


def cross_entropy_backward(input, target, grad=1.0, weight=None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0, lse=None):
    """dL/d input of ``cross_entropy`` (same arguments), for upstream gradient ``grad``.

    ``grad`` is a scalar for 'mean'/'sum' and has the loss's shape for 'none'. ``lse`` is the
    forward's log-sum-exp (``return_lse=True``); without it one extra pass recomputes it. The
    result, for class index t of each position, is
    g * (((1-eps) w_t + eps/C sum(w)) softmax(x) - eps/C w - (1-eps) w_t onehot(t)),
    and for probabilities g * (sum(w q) softmax(x) - w q); zero for ignored positions.
    """
    x, t, w, prob, red, eps, ignore = prepare_cross_entropy(input, target, weight, ignore_index,
                                                            reduction, label_smoothing)
    g = _array(np.asarray(grad, dtype=x.dtype))
    if prob:
        return _C.cross_entropy_prob_backward(x, t, g, w, red, eps, lse)
    return _C.cross_entropy_backward(x, t, g, w, ignore, red, eps, lse)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` at class-index ``target``.

    Per position -w_t input[t] (0 where target == ignore_index); 'mean' divides the sum by the
    sum of w_t over non-ignored targets (nan if all are ignored). Shapes as cross_entropy.
    """
    x, t, w, red, ignore = prepare_nll_loss(input, target, weight, ignore_index, reduction)
    return _C.nll_loss(x, t, w, ignore, red)


def nll_loss_backward(input, target, grad=1.0, weight=None, ignore_index: int = -100,
                      reduction: str = "mean"):
    """dL/d input of ``nll_loss``: zeros except -w_t * g (/ sum of w_t for 'mean') at targets."""
    x, t, w, red, ignore = prepare_nll_loss(input, target, weight, ignore_index, reduction)
    return _C.nll_loss_backward(x, t, _array(np.asarray(grad, dtype=x.dtype)), w, ignore, red)
