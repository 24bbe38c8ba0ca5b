"""Sequence-to-sequence with attention (Bahdanau et al., 2015; Luong et al., 2015).

An encoder GRU reads the source; a decoder GRU writes the target one token at a time, each step
attending over all encoder outputs:

    scores_t = dec_h_t . W_a enc_s        (Luong's "general" score), over source positions s
    a_t      = softmax(scores_t)           (masked where the source is padding)
    context  = sum_s a_t[s] enc_s
    logits_t = W_o [dec_h_t ; context]
"""
from __future__ import annotations

import ember
import ember.nn.functional as F
from ember import nn


class Seq2Seq(nn.Module):
    """forward(src (N, S), tgt_in (N, T)) -> logits (N, T, tgt_vocab) with teacher forcing;
    ``greedy_decode(src, max_len, bos)`` -> ((N, max_len) token ids, (N, max_len, S) attention
    weights). Sources are padded with ``pad_id`` at the end."""

    def __init__(self, src_vocab: int, tgt_vocab: int, embed_dim: int = 32, hidden: int = 64,
                 pad_id: int = 0):
        super().__init__()
        self.pad_id = pad_id
        self.src_embed = nn.Embedding(src_vocab, embed_dim, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed_dim, padding_idx=pad_id)
        self.encoder = nn.GRU(embed_dim, hidden, batch_first=True)
        self.decoder = nn.GRUCell(embed_dim + hidden, hidden)
        self.attn = nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(2 * hidden, tgt_vocab)

    def encode(self, src):
        """Encoder outputs (N, S, H), the decoder's initial state (N, H) and the padding mask
        (N, S). Sources are padded at the end; the initial state is the encoder's state at
        each sequence's last real token, so trailing padding changes nothing."""
        enc, _ = self.encoder(self.src_embed(src))           # (N, S, H)
        mask = src == self.pad_id                             # (N, S) True where padding
        last = ((~mask).sum(dim=1) - 1).clamp(min=0)          # index of the last real token
        return enc, enc[ember.arange(src.shape[0]), last], mask

    def step(self, token, h, context, enc, keys, mask):
        """One decoder step: (logits (N, V), new h, new context, attention (N, S))."""
        h = self.decoder(ember.cat([self.tgt_embed(token), context], dim=1), h)
        scores = (keys @ h.unsqueeze(2)).squeeze(2)          # (N, S)
        scores = scores.masked_fill(mask, float("-inf"))
        weights = F.softmax(scores, dim=1)
        context = (weights.unsqueeze(1) @ enc).squeeze(1)    # (N, H)
        return self.out(ember.cat([h, context], dim=1)), h, context, weights

    def forward(self, src, tgt_in):
        enc, h, mask = self.encode(src)
        keys = self.attn(enc)
        context = ember.zeros(src.shape[0], enc.shape[2], dtype=enc.dtype)
        logits = []
        for t in range(tgt_in.shape[1]):
            step_logits, h, context, _ = self.step(tgt_in[:, t], h, context, enc, keys, mask)
            logits.append(step_logits)
        return ember.stack(logits, dim=1)

    def greedy_decode(self, src, max_len: int, bos: int):
        with ember.no_grad():
            enc, h, mask = self.encode(src)
            keys = self.attn(enc)
            context = ember.zeros(src.shape[0], enc.shape[2], dtype=enc.dtype)
            token = ember.full((src.shape[0],), bos, dtype=ember.int64)
            out, attn = [], []
            for _ in range(max_len):
                logits, h, context, w = self.step(token, h, context, enc, keys, mask)
                token = logits.argmax(dim=1)
                out.append(token)
                attn.append(w)
            return ember.stack(out, dim=1), ember.stack(attn, dim=1)
