"""Scaled dot-product attention as one autograd node, computed block by block.

Shapes: q (B, L, E), k (B, S, E), v (B, S, Ev) -> out (B, L, Ev), with an optional additive
mask M broadcastable to (B, L, S) (rows that are -inf everywhere already replaced by 0 and
flagged in ``keep``, so they give zeros, not NaN).

    forward, per block of (batch, query) rows, with qs = q * scale:
        S = qs k^T + M,   P = softmax(S) * keep,   out = (P * D) v
    backward, per block (P kept from the forward when small, else recomputed):
        dV += (P * D)^T dO,   dP = (dO v^T) * D,   dS = P * (dP - rowsum(dP * P)),
        dQ = dS k * scale,   dK += dS^T qs
    D is the dropout multiplier (0 or 1 / (1 - p), drawn per block, kept for the backward);
    D = 1 without dropout.

Why blocks: composing the ops materialises S and P for the whole batch, (B, L, S) floats each,
fresh pages every call; a block of about 1 MiB stays in L2 (2 MiB per core) and is reused, and
large problems never store P (flash-attention's memory trade: one extra q k^T product). The
products are ember's batched C++ GEMM and the softmax its C++ kernel; dK/dV are accumulated in
a fixed block order, so results are deterministic for a fixed thread count.
"""
from __future__ import annotations

import numpy as np

from ember import _C
from ember import ops
from ember.autograd.function import ArrayFunction
from ember.nn.functional._dropout import _keep_mask

_BLOCK_BYTES = 1024 * 1024
# P is kept for the backward when all of it fits in this many bytes (no second q k^T product);
# larger problems recompute it block by block instead of holding B x L x S values
_KEEP_P_BYTES = 16 * 1024 * 1024


def _blocks(B: int, L: int, S: int, itemsize: int):
    """(b0, b1, l0, l1) blocks whose score tile (b1 - b0, l1 - l0, S) is about _BLOCK_BYTES."""
    row = max(S, 1) * itemsize
    per_batch = L * row
    if per_batch <= _BLOCK_BYTES:
        nb = max(1, _BLOCK_BYTES // max(per_batch, 1))
        for b0 in range(0, B, nb):
            yield b0, min(B, b0 + nb), 0, L
    else:
        nl = max(1, _BLOCK_BYTES // row)
        for b0 in range(B):
            for l0 in range(0, L, nl):
                yield b0, b0 + 1, l0, min(L, l0 + nl)


def _tile(arr: np.ndarray | None, b0: int, b1: int, l0: int, l1: int):
    """The (batch, query) block of a mask/keep array whose dims 0 and 1 may be 1 (broadcast)."""
    if arr is None:
        return None
    bs = slice(b0, b1) if arr.shape[0] != 1 else slice(None)
    ls = slice(l0, l1) if arr.shape[1] != 1 else slice(None)
    return arr[bs, ls]


class BlockedAttention(ArrayFunction):
    """out = softmax(q k^T * scale + mask) v with q (B, L, E), k (B, S, E), v (B, S, Ev);
    mask (Bm, Lm, S) additive with Bm in {1, B} and Lm in {1, L}, or None; keep (Bk, Lk, 1)
    0/1 multipliers for the rows (fully masked rows are 0), or None. Differentiable in q, k
    and v only (callers use the composed path when the mask needs a gradient)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, scale, dropout_p=0.0):
        B, L, _ = q.shape
        S, Ev = k.shape[1], v.shape[2]
        qs = q * q.dtype.type(scale)          # scaling q is cheaper than scaling L x S scores
        out = np.empty((B, L, Ev), dtype=q.dtype)
        grads = any(ctx.needs_input_grad[:3])
        keep_p = grads and B * L * S * q.itemsize <= _KEEP_P_BYTES
        ctx.p_blocks = [] if keep_p else None
        ctx.drop_blocks = [] if grads and dropout_p > 0.0 else None
        for b0, b1, l0, l1 in _blocks(B, L, S, q.itemsize):
            p = _probabilities(qs, k, mask, keep, b0, b1, l0, l1)
            if keep_p:
                ctx.p_blocks.append(p)
            if dropout_p > 0.0:
                d = _dropout_scale(p.shape, dropout_p, p.dtype)
                if ctx.drop_blocks is not None:
                    ctx.drop_blocks.append(d)
                p = p * d
            if l0 == 0 and l1 == L:
                ops.matmul(p, v[b0:b1], out=out[b0:b1])
            else:
                out[b0:b1, l0:l1] = ops.matmul(p, v[b0:b1])
        # everything goes through save_for_backward, which the engine frees after a backward
        # without retain_graph (and keeps for a second one with it)
        ctx.save_for_backward(qs, k, v, ctx.p_blocks, ctx.drop_blocks)
        ctx.p_blocks = ctx.drop_blocks = None
        ctx.mask, ctx.keep, ctx.scale = mask, keep, scale
        return out

    @staticmethod
    def backward(ctx, grad):
        qs, k, v, stored, drops = ctx.saved_tensors
        mask, keep, scale = ctx.mask, ctx.keep, ctx.scale
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        B, L, _ = qs.shape
        S = k.shape[1]
        grad = np.ascontiguousarray(grad, dtype=qs.dtype)
        # C-contiguous whatever the inputs' layout (blocks are written through out=)
        dq = np.empty(qs.shape, qs.dtype) if need_q else None
        dk = np.zeros(k.shape, k.dtype) if need_k else None
        dv = np.zeros(v.shape, v.dtype) if need_v else None
        for i, (b0, b1, l0, l1) in enumerate(_blocks(B, L, S, qs.itemsize)):
            p = stored[i] if stored is not None else \
                _probabilities(qs, k, mask, keep, b0, b1, l0, l1)
            g = grad[b0:b1, l0:l1]
            d = drops[i] if drops is not None else None
            pd = p if d is None else p * d          # the weights that multiplied v
            whole = l0 == 0 and l1 == L     # this block owns dk/dv[b0:b1]: write, not add
            if need_v:
                if whole:
                    ops.matmul(pd.swapaxes(-1, -2), g, out=dv[b0:b1])
                else:
                    dv[b0:b1] += ops.matmul(pd.swapaxes(-1, -2), g)
            if need_q or need_k:
                dp = ops.matmul(g, v[b0:b1].swapaxes(-1, -2))
                if d is not None:
                    dp *= d
                ds = _C.softmax_backward(p, dp, 2, False, False)   # dL/d(scores)
                if need_q:
                    dq_blk = ops.matmul(ds, k[b0:b1])
                    dq_blk *= scale
                    dq[b0:b1, l0:l1] = dq_blk
                if need_k:
                    if whole:
                        ops.matmul(ds.swapaxes(-1, -2), qs[b0:b1], out=dk[b0:b1])
                    else:
                        dk[b0:b1] += ops.matmul(ds.swapaxes(-1, -2), qs[b0:b1, l0:l1])
        return dq, dk, dv, None, None, None, None


def _dropout_scale(shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    """Dropout multipliers for one block: 0 with probability p, else 1 / (1 - p); drawn from
    ember's generator exactly as F.dropout draws its masks."""
    if p >= 1.0:
        return np.zeros(shape, dtype)
    d = _keep_mask(shape, p, dtype)
    d *= dtype.type(1.0 / (1.0 - p))
    return d


def _probabilities(qs, k, mask, keep, b0, b1, l0, l1) -> np.ndarray:
    """P for one block: softmax(qs k^T + mask) (qs = q * scale), fully masked rows zeroed."""
    s = ops.matmul(qs[b0:b1, l0:l1], k[b0:b1].swapaxes(-1, -2))
    m = _tile(mask, b0, b1, l0, l1)
    if m is not None:
        s += m
    p = _C.softmax(s, 2, False, False)
    kp = _tile(keep, b0, b1, l0, l1)
    if kp is not None:
        p *= kp
    return p
