"""``F.embedding`` (a row lookup with a scatter-add backward) and ``F.one_hot``.

embedding: weight (V, D), indices (*) of int64/int32 in [0, V) -> out (*, D),
    out[..., :] = weight[indices[...], :]
Backward: every occurrence of row k adds its output gradient into dW[k] (``np.add.at``, which
accumulates repeated indices, unlike fancy-index assignment); the ``padding_idx`` row gets no
gradient; with ``scale_grad_by_freq`` row k's sum is divided by k's count in the batch. The
indices get no gradient. ``max_norm`` first rescales (in place, like torch) every referenced
row whose ``norm_type``-norm exceeds it to norm ``max_norm``.
"""
from __future__ import annotations

import numpy as np

from ember._dtype import legacy_name
from ember._tensor import Tensor, _new_tensor
from ember.autograd.function import ArrayFunction

__all__ = ["embedding", "one_hot"]


def _index_array(input, fn: str) -> np.ndarray:
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got "
                           f"ember.{legacy_name(idx.dtype)}Tensor instead (while checking "
                           f"arguments for {fn})")
    return idx


class Embedding(ArrayFunction):
    """out = weight[indices]; dW = scatter-add of the output gradient into the used rows."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.indices, ctx.num_weights = indices, weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return np.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        idx = ctx.indices.reshape(-1)
        dim = grad.shape[-1]
        g2 = grad.reshape(-1, dim)
        gw = np.zeros((ctx.num_weights, dim), grad.dtype)
        np.add.at(gw, idx, g2)              # repeated indices accumulate
        if ctx.scale_grad_by_freq:
            counts = np.bincount(idx, minlength=ctx.num_weights)
            gw /= np.maximum(counts, 1)[:, None].astype(grad.dtype)
        if ctx.padding_idx is not None and ctx.padding_idx >= 0:
            gw[ctx.padding_idx] = 0
        return gw, None, None, None


def _normalise_padding_idx(padding_idx, num_embeddings: int):
    """torch's rule: -num_embeddings <= padding_idx < num_embeddings, negatives wrap."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale each referenced row with norm > max_norm to norm max_norm (in place, no grad)."""
    data = weight._data
    rows = np.unique(idx)
    if rows.size == 0:
        return
    sub = data[rows].astype(np.float64)
    if norm_type == np.inf:
        norms = np.abs(sub).max(axis=1)
    elif norm_type == 0:
        norms = (sub != 0).sum(axis=1).astype(np.float64)
    else:
        norms = (np.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        data[rows[over]] = (sub[over] * scale[:, None]).astype(data.dtype)
        weight._version[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (V, D) at ``input`` (int64/int32 indices, any shape):
    returns (*input.shape, D).

    ``padding_idx``: that row receives no gradient (negative values count from the end).
    ``max_norm``: rows used here are first renormalised in place to at most that norm.
    ``scale_grad_by_freq``: each row's gradient is divided by its count in ``input``.
    ``sparse=True`` is accepted, but the gradient is returned dense (same values).
    """
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = _index_array(input, "embedding")
    n = weight.shape[0]
    padding_idx = _normalise_padding_idx(padding_idx, n)
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= n:
            bad = int(lo if lo < 0 else hi)
            raise IndexError(f"index out of range in self: index {bad} is not in [0, {n}) for "
                             f"an embedding with num_embeddings={n}")
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 ``tensor`` (*) of class indices -> int64 (*, num_classes) with a 1 at each index.
    ``num_classes=-1`` uses max(tensor) + 1."""
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size:
        if idx.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if idx.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes < 0:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (idx[..., np.newaxis] == np.arange(num_classes)).astype(np.int64)
    return _new_tensor(out)
