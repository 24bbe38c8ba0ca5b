"""A small Transformer-encoder sequence classifier (Vaswani et al., 2017)."""
from __future__ import annotations

import math

import numpy as np

import ember
from ember import nn


def sinusoidal_positions(length: int, dim: int) -> np.ndarray:
    """PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(same): (length, dim) float32."""
    pos = np.arange(length)[:, None]
    freq = np.exp(-math.log(10000.0) * np.arange(0, dim, 2) / dim)
    pe = np.zeros((length, dim), np.float32)
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)[:, : dim // 2]
    return pe


class TransformerClassifier(nn.Module):
    """tokens (N, T) -> Embedding * sqrt(d) + sinusoidal positions -> TransformerEncoder
    (batch_first) -> mean over non-padding positions -> Linear -> (N, num_classes) logits."""

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 32, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int = 64, dropout: float = 0.1,
                 max_len: int = 512, pad_id: int | None = None):
        super().__init__()
        self.pad_id = pad_id
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        # N(0, 1/d) so that embed * sqrt(d) has unit scale like the positions; with
        # Embedding's N(0, 1) the tokens would drown the position signal (5.7x at d = 32)
        nn.init.normal_(self.embed.weight, std=d_model ** -0.5)
        self.embed._fill_padding_idx_with_zero()
        self.register_buffer("positions", ember.from_numpy(sinusoidal_positions(max_len, d_model)),
                             persistent=False)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.embed(tokens) * math.sqrt(self.d_model) + self.positions[:T]
        pad = (tokens == self.pad_id) if self.pad_id is not None else None
        h = self.encoder(x, src_key_padding_mask=pad)
        if pad is None:
            pooled = h.mean(dim=1)
        else:
            keep = (~pad).to(h.dtype).unsqueeze(2)
            pooled = (h * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
        return self.head(pooled)
