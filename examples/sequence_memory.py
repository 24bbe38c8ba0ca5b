"""Sequence memory: a plain RNN against LSTM, GRU and a bidirectional LSTM on the copy task.

The copy task shows L random symbols, a delimiter, then L blanks, during which the model must
output the symbols again: each one L + 1 steps after it saw it. A plain (Elman) RNN,
h_t = tanh(W_ih x_t + W_hh h_{t-1} + b), must squeeze everything through one repeated
multiplication; its gradients shrink (or blow up) like a power of W_hh. Gated cells keep an
additive memory path instead:

    LSTM  c_t = f_t * c_{t-1} + i_t * g_t,   h_t = o_t * tanh(c_t)
    GRU   h_t = (1 - z_t) * n_t + z_t * h_{t-1}

with sigmoid gates f, i, o, z deciding what to keep, write and read, so information (and the
gradient) can pass many steps unchanged. A bidirectional LSTM runs a second LSTM from the end
backwards and concatenates both outputs. The script trains each model with the same budget
and reports the per-symbol and whole-sequence accuracy on held-out sequences.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn, optim
from ember.data import make_copy_task

from _common import save_figure, seed_everything

MODELS = {"RNN": ("RNN", False), "GRU": ("GRU", False), "LSTM": ("LSTM", False),
          "BiLSTM": ("LSTM", True)}


class Tagger(nn.Module):
    """tokens (N, T) -> Embedding -> recurrent layer -> Linear: logits (N, T, vocab) per step."""

    def __init__(self, kind: str, vocab: int, hidden: int, bidirectional: bool):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.rnn = getattr(nn, kind)(16, hidden, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), vocab)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out)


def accuracy(model, X, y, L):
    """(per-symbol accuracy, exact-sequence accuracy) over the L answer positions."""
    with ember.no_grad():
        pred = model(ember.tensor(X)).argmax(dim=2).numpy()[:, -L:]
    hit = pred == y[:, -L:]
    return float(hit.mean()), float(hit.all(axis=1).mean())


def train(name, X, y, Xte, yte, L, vocab, epochs, hidden=64, batch=64, rng=None):
    kind, bidir = MODELS[name]
    model = Tagger(kind, vocab, hidden, bidir)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    curve = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch):
            idx = order[s:s + batch]
            logits = model(ember.tensor(X[idx]))
            loss = F.cross_entropy(logits.reshape(-1, vocab), ember.tensor(y[idx].ravel()))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        sched.step()
        curve.append(accuracy(model, Xte, yte, L)[0])
    return model, curve


@contextmanager
def one_thread():
    """These models are tiny: one thread beats synchronising two threads at every time step
    (dramatically so on a busy machine)."""
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
    L, n_symbols = (4, 4) if fast else (6, 6)
    n_train, epochs = (1600, 6) if fast else (4000, 16)
    X, y = make_copy_task(n_train, L, n_symbols=n_symbols, seed=1)
    Xte, yte = make_copy_task(500, L, n_symbols=n_symbols, seed=2)
    vocab = n_symbols + 2
    print(f"copy task: {L} symbols of {n_symbols}, chance accuracy {1 / n_symbols:.1%}")

    results, curves = {}, {}
    for name in MODELS:
        model, curves[name] = train(name, X, y, Xte, yte, L, vocab, epochs, rng=rng)
        sym, seq = accuracy(model, Xte, yte, L)
        results[f"{name}_accuracy"] = sym
        results[f"{name}_sequence_accuracy"] = seq
        print(f"{name:7s} symbol accuracy {sym:6.1%}   whole sequence {seq:6.1%}")

    def draw(plt):
        plt.figure(figsize=(6, 4))
        for name, curve in curves.items():
            plt.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
        plt.axhline(1 / n_symbols, color="gray", ls="--", label="chance")
        plt.xlabel("epoch")
        plt.ylabel("held-out symbol accuracy")
        plt.title(f"copy task, {L} symbols")
        plt.legend()

    save_figure(draw, out_dir, "sequence_memory.png")
    results["chance"] = 1 / n_symbols
    return results


if __name__ == "__main__":
    main()
