"""Transformer encoder: classify whether a sequence contains the bigram "A B" (in that order).

Self-attention lets every position look at every other one. For queries, keys and values
Q = X W_q, K = X W_k, V = X W_v (split into h heads),

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V,

then a residual connection and layer norm, a position-wise feed-forward net, and again
(ember.models.TransformerClassifier: TransformerEncoder layers, mean pooling, a linear head).
Attention itself ignores order, so sinusoidal position encodings are added to the token
embeddings: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).

The task needs order: negative sequences often contain both tokens, just never A directly
followed by B (e.g. "B A" or "A x B"), so counting tokens is not enough.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

import ember
import ember.nn.functional as F
from ember import optim
from ember.models import TransformerClassifier

from _common import save_figure, seed_everything

A, B = 1, 2


def contains_bigram(seq) -> bool:
    return bool(np.any((seq[:-1] == A) & (seq[1:] == B)))


def make_data(rng, n: int, length: int, vocab: int):
    """Half the sequences contain "A B"; the rest contain A and B but never adjacent in order."""
    X = np.empty((n, length), np.int64)
    y = np.arange(n) % 2
    for i in range(n):
        while True:
            seq = rng.integers(0, vocab, size=length)
            if y[i]:
                p = rng.integers(0, length - 1)
                seq[p], seq[p + 1] = A, B
            else:                                   # plant A and B separately or reversed
                p, q = rng.choice(length, size=2, replace=False)
                seq[p], seq[q] = A, B
            if contains_bigram(seq) == bool(y[i]):
                break
        X[i] = seq
    order = rng.permutation(n)
    return X[order], y[order]


@contextmanager
def one_thread():
    """A small model: one thread beats synchronising two on a busy machine."""
    previous = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        yield
    finally:
        ember.set_num_threads(previous)


def main(fast: bool = False, out_dir="example_output") -> dict:
    with one_thread():
        return run(fast, out_dir)


def run(fast: bool, out_dir) -> dict:
    rng = seed_everything(0)
    length, vocab = 12, 8
    n_train, epochs = (2000, 10) if fast else (4000, 16)
    X, y = make_data(rng, n_train, length, vocab)
    Xte, yte = make_data(rng, 1000, length, vocab)

    model = TransformerClassifier(vocab, 2, d_model=32, nhead=4, num_layers=2,
                                  dim_feedforward=64, dropout=0.0)
    opt = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    history = []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(n_train)
        total = 0.0
        for s in range(0, n_train, 64):
            idx = order[s:s + 64]
            loss = F.cross_entropy(model(ember.tensor(X[idx])), ember.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        model.eval()
        with ember.no_grad():
            acc = float(np.mean(model(ember.tensor(Xte)).argmax(dim=1).numpy() == yte))
        history.append((total / n_train, acc))
        print(f"epoch {epoch + 1}: loss {total / n_train:.4f}, test accuracy {acc:.1%}")

    def draw(plt):
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        ax[0].plot([h[0] for h in history], marker="o")
        ax[0].set(xlabel="epoch", ylabel="training loss", title="Transformer encoder")
        ax[1].plot([h[1] for h in history], marker="o")
        ax[1].axhline(0.5, color="gray", ls="--")
        ax[1].set(xlabel="epoch", ylabel="test accuracy", title='contains "A B"?', ylim=(0.4, 1))

    save_figure(draw, out_dir, "transformer_classifier.png")
    return {"test_accuracy": history[-1][1], "first_loss": history[0][0],
            "final_loss": history[-1][0]}


if __name__ == "__main__":
    main()
