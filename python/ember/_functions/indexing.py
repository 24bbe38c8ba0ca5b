"""Indexing: ``x[key]``, ``x[key] = v``, gather, masked_fill, tril/triu.

Keys follow NumPy/torch: ints, slices, None, Ellipsis, bool masks, integer arrays/tensors/lists.
Basic keys (ints, slices, None, ...) give views of the input; advanced keys give copies.

Backward of y = x[key] scatters the gradient into zeros shaped like x. With integer-array keys
the same element can be selected twice (``x[[0, 0]]``), so the scatter must *add*
(``np.add.at``); plain assignment would keep only one of the contributions.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import LEAF_INPLACE_MSG, Tensor
from ember.autograd.grad_mode import _state as _grad_state
from ember.autograd.function import ArrayFunction
from ember._functions._util import wrap_dim


def _index_error(e: IndexError) -> IndexError:
    return IndexError(str(e).replace("for axis", "for dimension"))


def _convert_one(k):
    """One key element as NumPy understands it; returns (element, kind) with kind in
    'basic', 'mask' (bool array) or 'int' (integer array: may repeat positions)."""
    if isinstance(k, Tensor):
        k = k._data
    elif isinstance(k, list):
        k = np.asarray(k) if k else np.zeros(0, np.int64)
    if isinstance(k, np.ndarray):
        if k.dtype.kind == "b":
            return k, "mask"
        if k.dtype.kind not in "iu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return k, "int"
    if isinstance(k, (bool, np.bool_)):
        return np.asarray(k), "mask"
    if isinstance(k, float):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got float)")
    return k, "basic"


def convert_key(key):
    """``key`` as a tuple for NumPy, and its kind: 'basic', 'mask' or 'int' (see above)."""
    items = key if isinstance(key, tuple) else (key,)
    out, kind = [], "basic"
    for k in items:
        k, kk = _convert_one(k)
        out.append(k)
        if kk == "int" or (kk == "mask" and kind == "basic"):
            kind = kk
    if kind == "basic" and not any(k is Ellipsis for k in out):
        out.append(Ellipsis)      # makes x[0] on a 1-d array a 0-d *view*, not a NumPy scalar
    return tuple(out), kind


class GetItem(ArrayFunction):
    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, key, kind):
        ctx.shape, ctx.key, ctx.kind = x.shape, key, kind
        try:
            return np.asarray(x[key])
        except IndexError as e:
            raise _index_error(e) from None

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.shape, grad.dtype)
        if ctx.kind == "int":
            np.add.at(g, ctx.key, grad)     # repeated indices accumulate
        else:
            g[ctx.key] = grad
        return g


class SetItem(ArrayFunction):
    """``x[key] = v`` as an op: x's overwritten elements get no gradient, v gets the gradient
    of the positions it was written to (summed back to v's shape by the engine)."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, v, key):
        ctx.key = key
        out = x.copy()
        _assign(out, key, v)
        return out

    @staticmethod
    def backward(ctx, grad):
        nx, nv = ctx.needs_input_grad[:2]
        gx = gv = None
        if nx:
            gx = grad.copy()
            gx[ctx.key] = 0
        if nv:
            gv = grad[ctx.key]
        return gx, gv, None


def _assign(out: np.ndarray, key, v) -> None:
    try:
        out[key] = v
    except IndexError as e:
        raise _index_error(e) from None
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be "
                           f"broadcast to indexing result of shape {list(out[key].shape)}") \
            from None


class MaskedFill(ArrayFunction):
    """Positions where ``mask`` is True take ``value``; the gradient flows elsewhere."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, mask, value):
        if np.asarray(mask).dtype != np.bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                               f"dtype {np.asarray(mask).dtype}")
        ctx.save_for_backward(mask)
        try:
            return np.where(mask, value, x).astype(x.dtype, copy=False)
        except ValueError:
            raise RuntimeError(f"The size of mask {list(np.shape(mask))} must be broadcastable "
                               f"to the tensor of shape {list(x.shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        mask, = ctx.saved_tensors
        nx, _, nv = ctx.needs_input_grad
        return (np.where(mask, 0, grad) if nx else None), None, \
            (np.where(mask, grad, 0) if nv else None)


class Gather(ArrayFunction):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (torch.gather)."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, dim, index):
        grid = list(np.indices(index.shape, sparse=True))
        grid[dim] = index
        ctx.shape, ctx.key = x.shape, tuple(grid)
        try:
            return x[ctx.key]
        except IndexError as e:
            raise RuntimeError(f"gather(): {_index_error(e)}") from None

    @staticmethod
    def backward(ctx, grad):
        g = np.zeros(ctx.shape, grad.dtype)
        np.add.at(g, ctx.key, grad)
        return g


class Tri(ArrayFunction):
    """tril/triu: keep the lower/upper triangle (offset ``k``) of the last two dims."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, grad):
        return np.triu(grad, ctx.k) if ctx.upper else np.tril(grad, ctx.k)


# ------------------------------------------------------------------------- public functions
def getitem(x: Tensor, key):
    key, kind = convert_key(key)
    if x._data.ndim == 0 and kind == "basic" and any(isinstance(k, (int, np.integer))
                                                     for k in key):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    return GetItem.apply(x, key, kind)


def setitem(x: Tensor, key, value) -> None:
    """``x[key] = value``: recorded in the graph when x or value requires grad (and grad mode
    is on); refused for a leaf that requires grad, like torch."""
    key, _ = convert_key(key)
    v_grad = isinstance(value, Tensor) and value._requires_grad
    if _grad_state.enabled and (x._requires_grad or v_grad):
        if x._requires_grad and x.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE_MSG)
        x._inplace_graph(SetItem, value, key)
        return
    _assign(x._data, key, value._data if isinstance(value, Tensor) else value)
    x._version[0] += 1


def masked_fill(input, mask, value):
    m = mask._data if isinstance(mask, Tensor) else mask
    return MaskedFill.apply(input, m, value)


def masked_fill_(input, mask, value):
    m = mask._data if isinstance(mask, Tensor) else mask
    if isinstance(value, Tensor) and not value._requires_grad:
        value = value._data
    if _grad_state.enabled and (input._requires_grad or isinstance(value, Tensor)):
        return input._inplace_graph(MaskedFill, m, value)
    try:
        np.copyto(input._data, value, where=np.broadcast_to(m, input._data.shape),
                  casting="unsafe")
    except ValueError:
        raise RuntimeError(f"The size of mask {list(np.shape(m))} must be broadcastable to the "
                           f"tensor of shape {list(input._data.shape)}") from None
    input._version[0] += 1
    return input


def masked_select(input, mask):
    m = mask._data if isinstance(mask, Tensor) else mask
    if np.shape(m) != input._data.shape:
        shape = np.broadcast_shapes(np.shape(m), input._data.shape)
        input, m = input.expand(shape), np.broadcast_to(m, shape)
    return getitem(input, m)


def gather(input, dim: int, index):
    """Pick ``input`` values along ``dim`` at ``index`` (an int64 tensor of input's ndim)."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if idx.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    d = wrap_dim(dim, input._data.ndim)
    for k, (si, sx) in enumerate(zip(idx.shape, input._data.shape)):
        if k != d and si > sx:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be smaller than self "
                               f"{list(input._data.shape)} apart from dimension {d}")
    return Gather.apply(input, d, idx)


def index_select(input, dim: int, index):
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    return getitem(input, (slice(None),) * d + (idx.reshape(-1),))


def tril(input, diagonal: int = 0):
    return Tri.apply(input, diagonal, False)


def triu(input, diagonal: int = 0):
    return Tri.apply(input, diagonal, True)


def take(input, index):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    return getitem(input.reshape(-1), idx)
