"""Recurrent models: a sequence classifier and a (character-level) language model."""
from __future__ import annotations

import numpy as np

import ember
from ember import nn

_CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


def _rnn(kind, input_size, hidden_size, num_layers, dropout, bidirectional):
    if kind not in _CELLS:
        raise ValueError(f"unknown recurrent layer {kind!r}; choose from {sorted(_CELLS)}")
    cls = getattr(nn, _CELLS[kind])
    return cls(input_size, hidden_size, num_layers=num_layers, batch_first=True,
               dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)


class SequenceClassifier(nn.Module):
    """Classify a sequence from its last hidden state (both directions when bidirectional).

    Input: (N, T, input_size) floats, or (N, T) token ids when ``vocab_size`` is given (an
    Embedding of ``input_size`` comes first). Output: (N, num_classes) logits.
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, kind: str = "lstm",
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 vocab_size: int | None = None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, input_size) if vocab_size else None
        self.rnn = _rnn(kind, input_size, hidden_size, num_layers, dropout, bidirectional)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        self.bidirectional = bidirectional

    def forward(self, x):
        if self.embedding is not None:
            x = self.embedding(x)
        out, _ = self.rnn(x)                      # (N, T, H * directions)
        if self.bidirectional:
            h = out.shape[-1] // 2
            # the forward direction ends at the last step, the backward one at the first
            last = ember.cat([out[:, -1, :h], out[:, 0, h:]], dim=1)
        else:
            last = out[:, -1]
        return self.head(last)


class LanguageModel(nn.Module):
    """Next-token model: Embedding -> LSTM/GRU -> Linear over the vocabulary.

    forward(tokens (N, T), state=None) -> (logits (N, T, vocab), state); ``generate`` samples
    a continuation one token at a time with a temperature.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 128,
                 kind: str = "lstm", num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _rnn(kind, embed_dim, hidden_size, num_layers, dropout, False)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens, state=None):
        out, state = self.rnn(self.embedding(tokens), state)
        return self.head(out), state

    def generate(self, prompt, length: int, temperature: float = 1.0, generator=None):
        """Token ids continuing ``prompt`` (a list of ids) by ``length`` sampled tokens."""


        rng = generator if generator is not None else np.random.default_rng()
        was_training = self.training
        self.eval()
        out_ids = list(prompt)
        with ember.no_grad():
            logits, state = self(ember.tensor([out_ids], dtype=ember.int64))
            for _ in range(length):
                z = logits[0, -1].numpy().astype(np.float64) / max(temperature, 1e-6)
                p = np.exp(z - z.max())
                p /= p.sum()
                nxt = int(rng.choice(len(p), p=p))
                out_ids.append(nxt)
                logits, state = self(ember.tensor([[nxt]], dtype=ember.int64), state)
        self.train(was_training)
        return out_ids
