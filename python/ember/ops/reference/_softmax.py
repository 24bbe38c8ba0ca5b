"""Plain-NumPy twins of the ``ember.ops`` softmax family, with the same signatures and semantics.

They are the oracle of the tests and the NumPy baseline of the benchmarks, so they are written
as the fastest NumPy found: in-place ``out=`` ufuncs instead of temporaries, the row maximum
subtracted once, the target logits gathered before the exp overwrites them, and no one-hot
matrix. Argument checking is shared with ``ember.ops.softmax`` (PyTorch's rules and messages).
NaN/inf follow IEEE (NumPy may warn where PyTorch is silent).
"""
from __future__ import annotations

import numpy as np

from ember.ops.softmax import prepare_cross_entropy, prepare_nll_loss

__all__ = ["softmax", "softmax_backward", "log_softmax", "log_softmax_backward", "softmin",
           "softmin_backward", "cross_entropy", "cross_entropy_backward", "nll_loss",
           "nll_loss_backward"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _float(x, op: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype not in _FLOATS:
        raise TypeError(f"{op}: input must be a float32 or float64 array, got dtype {x.dtype}")
    return x


def _axis(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _shifted(x: np.ndarray, dim: int):
    """(x - max(x, dim), axis) as a new array; 0-d input is treated as one element."""
    axis = _axis(dim, x.ndim)
    if x.ndim == 0:
        return np.zeros_like(x), None       # (x - x) of a 0-d array is a NumPy scalar
    return np.subtract(x, x.max(axis=axis, keepdims=True)), axis


def softmax(x, dim: int = -1) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along ``dim``."""
    x = _float(x, "softmax")
    if x.size == 0:
        _axis(dim, x.ndim)
        return x.copy()
    y, axis = _shifted(x, dim)
    np.exp(y, out=y)
    y *= np.reciprocal(y.sum(axis=axis, keepdims=True))
    return y


def softmax_backward(y, grad, dim: int = -1) -> np.ndarray:
    """y * (grad - sum(grad * y, dim))."""
    y, g = _float(y, "softmax_backward"), np.asarray(grad, dtype=np.asarray(y).dtype)
    axis = _axis(dim, y.ndim) if y.ndim else None
    t = np.multiply(g, y)
    np.subtract(g, t.sum(axis=axis, keepdims=True), out=t)
    t *= y
    return t


def log_softmax(x, dim: int = -1) -> np.ndarray:
    """(x - max) - log(sum(exp(x - max)))."""
    x = _float(x, "log_softmax")
    if x.size == 0:
        _axis(dim, x.ndim)
        return x.copy()
    d, axis = _shifted(x, dim)
    e = np.exp(d)
    d -= np.log(e.sum(axis=axis, keepdims=True))
    return d


def log_softmax_backward(y, grad, dim: int = -1) -> np.ndarray:
    """grad - exp(y) * sum(grad, dim)."""
    y, g = _float(y, "log_softmax_backward"), np.asarray(grad, dtype=np.asarray(y).dtype)
    axis = _axis(dim, y.ndim) if y.ndim else None
    e = np.exp(y)
    e *= g.sum(axis=axis, keepdims=True)
    return np.subtract(g, e, out=e)


def softmin(x, dim: int = -1) -> np.ndarray:
    """softmax(-x)."""
    return softmax(np.negative(_float(x, "softmin")), dim)


def softmin_backward(y, grad, dim: int = -1) -> np.ndarray:
    """-(y * (grad - sum(grad * y, dim)))."""
    return np.negative(softmax_backward(y, grad, dim))


# ----------------------------------------------------------------------------------------------
# losses: work on rows of classes, (P, C) with P positions
# ----------------------------------------------------------------------------------------------
def _rows(x: np.ndarray) -> np.ndarray:
    """(P, C) view (or copy) of x with the class axis (1, or 0 for 1-D) last."""
    axis = 0 if x.ndim == 1 else 1
    return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])


def _unrows(r: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of _rows for an array of x's shape."""
    if len(shape) <= 2:
        return r.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(r.reshape(moved), -1, 1)


def _positions_shape(x: np.ndarray) -> tuple:
    return x.shape[1:] if x.ndim == 1 else x.shape[:1] + x.shape[2:]


def _reduce(loss: np.ndarray, red: int, denom, shape: tuple, dtype) -> np.ndarray:
    if red == 0:
        return loss.reshape(shape).astype(dtype, copy=False)
    total = loss.sum(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(total / denom if red == 1 else total, dtype=dtype)


def _class_weights(t, keep, w, dtype, classes: int):
    """(index used for gathering, w_t with 0 at ignored positions).

    A kept target outside [0, classes) raises PyTorch's IndexError, naming the first one."""
    bad = np.flatnonzero(keep & ((t < 0) | (t >= classes)))
    if bad.size:
        raise IndexError(f"Target {int(t[bad[0]])} is out of bounds.")
    ts = np.where(keep, t, 0)
    wt = (w[ts] if w is not None else np.ones(t.shape, dtype)) * keep
    return ts, wt


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, return_lse: bool = False):
    """PyTorch's cross-entropy (see ember.ops.cross_entropy) from log-softmax, in NumPy."""
    x, t, w, prob, red, eps, ignore = prepare_cross_entropy(input, target, weight, ignore_index,
                                                            reduction, label_smoothing)
    xr = _rows(x)
    n_pos, classes = xr.shape
    if classes == 0:                        # only possible when every target is ignored
        d = xr
        ls = m = np.zeros((n_pos, 1), x.dtype)
    else:
        m = xr.max(axis=1, keepdims=True)
        d = np.subtract(xr, m)
    pos_shape = _positions_shape(x)
    if prob:
        q = _rows(t)
        if eps > 0:
            q = q * (1 - eps) + eps / classes
        if w is not None:
            q = q * w
        e = np.exp(d)
        ls = np.log(e.sum(axis=1, keepdims=True))
        d -= ls                             # log-softmax
        loss = -np.einsum("pc,pc->p", d, q)
        denom = n_pos
    else:
        tt = t.reshape(-1)
        keep = tt != ignore
        ts, wt = _class_weights(tt, keep, w, x.dtype, xr.shape[1])
        picked = d[np.arange(n_pos), ts] if classes else np.zeros(n_pos, x.dtype)
        if eps > 0:
            smooth = d @ w if w is not None else d.sum(axis=1)
        if classes:
            np.exp(d, out=d)
            ls = np.log(d.sum(axis=1, keepdims=True))
        loss = (ls[:, 0] - picked) * wt
        if eps > 0:
            wsum = w.sum() if w is not None else classes
            loss = (1 - eps) * loss + eps / classes * (wsum * ls[:, 0] - smooth)
        loss = np.where(keep, loss, 0)
        denom = wt.sum(dtype=np.float64)
    out = _reduce(loss, red, denom, t.shape if not prob else pos_shape, x.dtype)
    if return_lse:
        lse = (m.astype(np.float64) + ls.astype(np.float64)).reshape(-1)
        if not prob:
            lse[~keep] = 0                  # ignored positions are skipped (see ember.ops)
        return out, lse.reshape(pos_shape)
    return out


def _softmax_rows(xr: np.ndarray, lse) -> np.ndarray:
    """exp(x - lse) per row, with lse split into two x-dtype parts so big logits stay exact."""
    if lse is None:
        d = np.subtract(xr, xr.max(axis=1, keepdims=True))
        np.exp(d, out=d)
        d *= np.reciprocal(d.sum(axis=1, keepdims=True))
        return d
    lse = np.asarray(lse, np.float64).reshape(-1, 1)
    hi = lse.astype(xr.dtype)
    lo = (lse - hi).astype(xr.dtype)
    p = np.subtract(xr, hi)
    p -= lo
    return np.exp(p, out=p)


def cross_entropy_backward(input, target, grad=1.0, weight=None, ignore_index: int = -100,
                           reduction: str = "mean", label_smoothing: float = 0.0, lse=None):
    """dL/d input of cross_entropy: g * (a softmax - b) per position, zero where ignored."""
    x, t, w, prob, red, eps, ignore = prepare_cross_entropy(input, target, weight, ignore_index,
                                                            reduction, label_smoothing)
    xr = _rows(x)
    n_pos, classes = xr.shape
    g = np.asarray(grad, dtype=x.dtype).reshape(-1)
    if classes == 0:
        return np.zeros_like(x)
    p = _softmax_rows(xr, lse)
    if prob:
        q = _rows(t)
        if eps > 0:
            q = q * (1 - eps) + eps / classes
        if w is not None:
            q = q * w
        if red == 1:
            g = g / n_pos
        g = np.broadcast_to(g, (n_pos,))[:, None]
        p *= q.sum(axis=1, keepdims=True)
        p -= q
        p *= g
        return _unrows(p, x.shape)
    tt = t.reshape(-1)
    keep = tt != ignore
    ts, wt = _class_weights(tt, keep, w, x.dtype, xr.shape[1])
    if red == 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            g = g / wt.sum(dtype=np.float64)
    g = np.broadcast_to(g, (n_pos,)).astype(x.dtype) * keep
    wsum = w.sum() if w is not None else classes
    p *= (g * ((1 - eps) * wt + eps / classes * wsum))[:, None]
    if eps > 0:
        p -= (g * eps / classes)[:, None] * (w if w is not None else 1)
    p[np.arange(n_pos), ts] -= g * (1 - eps) * wt
    p[~keep] = 0
    return _unrows(p, x.shape)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """-w_t input[t] per position, reduced like PyTorch."""
    x, t, w, red, ignore = prepare_nll_loss(input, target, weight, ignore_index, reduction)
    xr = _rows(x)
    tt = t.reshape(-1)
    keep = tt != ignore
    ts, wt = _class_weights(tt, keep, w, x.dtype, xr.shape[1])
    picked = xr[np.arange(xr.shape[0]), ts] if xr.shape[1] else np.zeros(tt.shape, x.dtype)
    loss = -picked * wt
    return _reduce(loss, red, wt.sum(dtype=np.float64), t.shape, x.dtype)


def nll_loss_backward(input, target, grad=1.0, weight=None, ignore_index: int = -100,
                      reduction: str = "mean"):
    """Zeros except -w_t g (/ sum of w_t for 'mean') at each non-ignored target."""
    x, t, w, red, ignore = prepare_nll_loss(input, target, weight, ignore_index, reduction)
    xr = _rows(x)
    n_pos = xr.shape[0]
    tt = t.reshape(-1)
    keep = tt != ignore
    ts, wt = _class_weights(tt, keep, w, x.dtype, xr.shape[1])
    g = np.broadcast_to(np.asarray(grad, dtype=x.dtype).reshape(-1), (n_pos,))
    if red == 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            g = g / wt.sum(dtype=np.float64)
    dx = np.zeros_like(xr)
    rows = np.nonzero(keep)[0]
    dx[rows, ts[rows]] = -(wt * g)[rows]
    return _unrows(dx, x.shape)
