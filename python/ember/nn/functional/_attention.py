"""Attention with torch.nn.functional's names, signatures, defaults, masks and errors.

``scaled_dot_product_attention`` (the building block)::

    S = Q K^T * scale + M          Q (..., L, E), K (..., S, E), V (..., S, Ev)
    P = softmax(S, dim=-1)         scale = 1 / sqrt(E) unless given
    out = dropout(P) V             out (..., L, Ev)

M is the mask: a bool mask keeps the positions that are True (False -> -inf), a float mask
is added; both broadcast against (..., L, S). ``is_causal`` keeps only j <= i (top-left
aligned, like torch). A query row whose every key is masked gives zeros (torch's "safe"
softmax), not NaN, and passes no gradient.

``multi_head_attention_forward`` is torch's functional MultiheadAttention (sequence-first
layout (L, N, E), or unbatched (L, E)), with the *opposite* bool convention of MHA masks:
True means "may not attend".

SDPA runs as one autograd node computed in L2-sized blocks (``ember._functions.attention``:
batched C++ GEMM and the C++ softmax kernel per block, dropout drawn per block). When the
mask itself needs a gradient, and for MHA's ``need_weights=True`` path (which returns the
weights), it is composed from differentiable Tensor ops instead.
"""
from __future__ import annotations

import math

import numpy as np

from ember import _creation
from ember._functions.attention import BlockedAttention
from ember._dtype import bool_, float32
from ember._functions.shape import cat
from ember._tensor import Tensor
from ember.nn.functional._dropout import dropout
from ember.nn.functional._linear import linear
from ember.nn.functional._softmax import softmax

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def _torch_dtype_name(t: Tensor) -> str:
    # torch's spelling in these messages: float, double, long int, bool, ...
    names = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool"}
    key = str(t.dtype).replace("ember.", "")
    return names.get(key, key)


def _is_bool(t: Tensor) -> bool:
    return t._data.dtype.kind == "b"


def _masked_softmax(scores: Tensor, dead_rows: Tensor | None) -> Tensor:
    """softmax over the last dim; rows flagged in ``dead_rows`` (..., L, 1) (every key masked)
    become zeros. Their scores are replaced by 0 first so that neither the forward nor the
    backward ever sees exp(-inf - -inf) = NaN."""
    if dead_rows is None:
        return softmax(scores, dim=-1)
    p = softmax(scores.masked_fill(dead_rows, 0.0), dim=-1)
    return p.masked_fill(dead_rows, 0.0)


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float,
            scale: float, safe: bool) -> tuple[Tensor, Tensor]:
    """(P v, P) with P = dropout(softmax(q k^T scale + mask)): torch's MHA also returns the
    weights after dropout.

    ``mask`` is None, a bool mask (True = attend) or an additive float mask broadcastable to
    the scores. ``safe`` zeroes rows that are masked everywhere (SDPA); MHA's weight path
    keeps torch's NaN there.
    """
    scores = (q * scale) @ k.transpose(-2, -1)
    dead = None
    if mask is not None:
        if _is_bool(mask):
            scores = scores.masked_fill(~mask, _NEG_INF)
            if safe:
                dead = ~(mask.any(dim=-1, keepdim=True))
        else:
            scores = scores + mask
            if safe:
                dead = (mask == _NEG_INF).all(dim=-1, keepdim=True)
        if dead is not None and not bool(dead.any()):
            dead = None
    if dead is not None:
        dead = dead.expand(*scores.shape[:-1], 1) if dead.dim() < scores.dim() else dead
    weights = _masked_softmax(scores, dead)
    if dropout_p > 0.0:
        weights = dropout(weights, p=dropout_p, training=True)
    return weights @ v, weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims (see the module docstring).

    query (N..., Hq, L, E), key (N..., H, S, E), value (N..., H, S, Ev) -> (N..., Hq, L, Ev).
    With ``enable_gqa`` the key/value heads (dim -3) are repeated to Hq = H * groups (grouped
    query attention). ``dropout_p`` is applied to the attention weights whenever it is > 0
    (call with 0 in evaluation, as torch's modules do).
    """
    for pos, (name, t) in enumerate((("query", query), ("key", key), ("value", value)), 1):
        if not isinstance(t, Tensor):
            kind = type(t)
            kind = kind.__name__ if kind.__module__ == "builtins" else \
                f"{kind.__module__.split('.')[0]}.{kind.__name__}"
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position {pos}) "
                            f"must be Tensor, not {kind}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_torch_dtype_name(query)} key.dtype: {_torch_dtype_name(key)} and value.dtype: "
            f"{_torch_dtype_name(value)} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            f"Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} "
            f"instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point query, key "
                           f"and value, got {query.dtype}")
    if attn_mask is not None and not (_is_bool(attn_mask) or attn_mask.dtype == query.dtype
                                      or attn_mask.dtype == float32):
        raise RuntimeError(
            f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_torch_dtype_name(attn_mask)} and  query.dtype: "
            f"{_torch_dtype_name(query)} instead.")
    if attn_mask is not None and not _is_bool(attn_mask):
        attn_mask = attn_mask.to(query.dtype)    # a float32 mask is accepted for any query
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    L, E = query.shape[-2], query.shape[-1]
    S = key.shape[-2]
    if key.shape[-1] != E:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same "
                           f"embedding size (last dim), got query {list(query.shape)} and key "
                           f"{list(key.shape)}")
    if value.shape[-2] != S:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same "
                           f"sequence length (dim -2), got key {list(key.shape)} and value "
                           f"{list(value.shape)}")
    if enable_gqa and query.dim() >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({hq}) must be a multiple of the key ({hk}) and "
                               f"value ({hv}) heads")
        key = _repeat_heads(key, hq // hk)
        value = _repeat_heads(value, hq // hv)
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E > 0 else 1.0
    if not (attn_mask is not None and attn_mask.requires_grad):
        try:
            return _blocked_sdpa(query, key, value, attn_mask, is_causal, scale, dropout_p)
        except ValueError as e:
            raise RuntimeError(
                f"scaled_dot_product_attention: shapes do not broadcast: query "
                f"{list(query.shape)}, key {list(key.shape)}, value {list(value.shape)}"
                + ("" if attn_mask is None else f", attn_mask {list(attn_mask.shape)}")
                + f" ({e})") from None
    if is_causal:
        attn_mask = _creation.ones((L, S), dtype=bool_).tril()
    try:
        out, _ = _attend(query, key, value, attn_mask, dropout_p, scale, safe=True)
    except (ValueError, RuntimeError) as e:
        raise RuntimeError(
            f"scaled_dot_product_attention: shapes do not broadcast: query {list(query.shape)}, "
            f"key {list(key.shape)}, value {list(value.shape)}"
            + ("" if attn_mask is None else f", attn_mask {list(attn_mask.shape)}")
            + f" ({e})") from None
    return out


def _blocked_sdpa(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None,
                  is_causal: bool, scale: float, dropout_p: float) -> Tensor:
    """SDPA as one autograd node (``ember._functions.attention``): batch dims
    flattened to B, the mask turned into an additive (Bm, Lm, S) array and fully masked rows
    into 0/1 ``keep`` factors. Gradients reach query/key/value through the reshapes."""
    L, S, Ev = query.shape[-2], key.shape[-2], value.shape[-1]
    dtype = query._data.dtype
    mask = None
    if is_causal:
        mask = np.triu(np.full((L, S), -np.inf, dtype), 1)
    elif attn_mask is not None:
        m = attn_mask._data
        mask = np.where(m, dtype.type(0), dtype.type(-np.inf)) if m.dtype == np.bool_ \
            else m.astype(dtype, copy=False)
        mask = mask.reshape((1,) * max(0, 2 - mask.ndim) + mask.shape)
    mask_batch = mask.shape[:-2] if mask is not None else ()
    batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2], mask_batch)
    if mask is not None:
        # validates the trailing dims too (ValueError when they do not broadcast)
        np.broadcast_shapes(mask.shape, batch + (L, S))
    B = int(np.prod(batch, dtype=np.int64))

    def flat(t: Tensor, rows: int, cols: int) -> Tensor:
        if tuple(t.shape[:-2]) != batch:
            t = t.expand(*batch, rows, cols)
        return t.reshape(B, rows, cols)

    q3 = flat(query, L, query.shape[-1])
    k3 = flat(key, S, key.shape[-1])
    v3 = flat(value, S, Ev)
    keep = None
    if mask is not None:
        dead = np.all(mask == -np.inf, axis=-1, keepdims=True) if S > 0 else None
        if dead is not None and dead.any():
            mask = np.where(dead, dtype.type(0), mask)
            keep = (~dead).astype(dtype)
        mask = _batch_rows(np.broadcast_to(mask, mask.shape[:-1] + (S,)), batch, B)
        keep = None if keep is None else _batch_rows(keep, batch, B)
    out = BlockedAttention.apply(q3, k3, v3, mask, keep, scale, dropout_p)
    return out.reshape(*batch, L, Ev)


def _batch_rows(a: np.ndarray, batch: tuple, B: int) -> np.ndarray:
    """(..., R, C) with batch dims broadcastable to ``batch`` -> (1 or B, R, C), copying only
    when the batch dims are neither all 1 nor the full batch."""
    lead = a.shape[:-2]
    if all(d == 1 for d in lead):
        return a.reshape((1,) + a.shape[-2:])
    full = np.broadcast_to(a, batch + a.shape[-2:])
    return full.reshape((B,) + a.shape[-2:])


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated ``groups`` times in a row
    (torch's repeat_interleave on dim -3)."""
    if groups == 1:
        return t
    shape = tuple(t.shape)
    t = t.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return t.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


# ---------------------------------------------------------------- multi-head attention

def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str,
                    target_type, check_other: bool = True) -> Tensor | None:
    """torch's F._canonical_mask: bool masks (True = masked) become additive float masks of
    ``target_type`` (0 / -inf); float masks pass through; anything else is an error."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{mask_name} must be a Tensor, got {type(mask).__name__}")
    if not (_is_bool(mask) or mask.is_floating_point()):
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        import warnings
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      f"Use same type for both instead.", stacklevel=3)
    if _is_bool(mask):
        return _creation.zeros(tuple(mask.shape), dtype=target_type).masked_fill(mask,
                                                                                  _NEG_INF)
    return mask


def _none_or_dtype(t: Tensor | None):
    return None if t is None else t.dtype


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's _mha_shape_check: validates the ranks and returns whether the input is
    batched (3-D query) or unbatched (2-D)."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to "
                                 f"be `None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     f"instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _pad_last(t: Tensor) -> Tensor:
    """Append one zero column on the last dim (torch's pad(mask, (0, 1)))."""
    return cat([t, t.new_zeros(*t.shape[:-1], 1)], dim=-1)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention, sequence-first: query (L, N, E), key (S, N, kdim),
    value (S, N, vdim) (or unbatched (L, E), (S, kdim), (S, vdim)).

    Per head h (head_dim = E / num_heads):
        Q_h = query W_q,h^T + b_q,h   (likewise K_h, V_h)
        A_h = softmax(Q_h K_h^T / sqrt(head_dim) + mask)
        out = concat_h(dropout(A_h) V_h) W_o^T + b_o          -> (L, N, E)
    Returns (out, weights): weights (N, L, S) averaged over heads, (N, num_heads, L, S) with
    ``average_attn_weights=False``, or None when ``need_weights`` is False.
    Masks: key_padding_mask (N, S), attn_mask (L, S) or (N * num_heads, L, S); bool True
    means "may not attend", float masks are added to the scores.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):   # (torch fails later with an AttributeError)
            raise TypeError(f"multi_head_attention_forward(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)

    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # the hint is trusted: SDPA builds the causal mask itself
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    # in-projection
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        w_q, w_k, w_v = in_proj_weight.chunk(3, dim=0)
    else:
        for name, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                        ("v_proj_weight", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name} is None")
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3, dim=0)
    if not use_separate_proj_weight and key is value and query is key:
        # self-attention: one GEMM for all three projections
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    else:
        q = linear(query, w_q, b_q)
        k = linear(key, w_k, b_k)
        v = linear(value, w_v, b_v)

    # attention mask: (L, S) -> (1, L, S); (N * H, L, S) checked
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {_size(attn_mask)}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {_size(attn_mask)}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # (T, N, E) -> (N * H, T, head_dim), batch-major like torch's views
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)

    if add_zero_attn:
        k = cat([k, k.new_zeros(bsz * num_heads, 1, head_dim)], dim=1)
        v = cat([v, v.new_zeros(bsz * num_heads, 1, head_dim)], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0
    scale = 1.0 / math.sqrt(head_dim)

    if need_weights:
        # torch's explicit path: softmax of (masked) scores, NaN for fully masked rows
        out, weights = _attend(q, k, v, attn_mask, dropout_p, scale, safe=False)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.reshape(tgt_len, bsz, out_proj_weight.shape[0])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    # torch's SDPA path: (N, H, L, d) blocks, fully masked rows give zeros
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, attn_mask.shape[-2], src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape(tgt_len, bsz, out_proj_weight.shape[0])
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _heads(t: Tensor, static: Tensor | None, name: str, bh: int, head_dim: int) -> Tensor:
    """(S, N, E) -> (N * H, S, head_dim), or the caller's precomputed ``static`` keys/values
    (already in that layout)."""
    if static is None:
        return t.reshape(t.shape[0], bh, head_dim).transpose(0, 1)
    if static.shape[0] != bh:
        raise AssertionError(f"expecting {name}.size(0) of {bh}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static


def _size(t: Tensor) -> str:
    return repr(t.shape)
