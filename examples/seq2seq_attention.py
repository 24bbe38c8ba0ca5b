"""Sequence-to-sequence with attention: learn to reverse variable-length sequences.

An encoder GRU reads the source x_1..x_S into states e_1..e_S. A decoder GRU writes the
output one token at a time; at each step it compares its state d_t with every encoder state
and reads a weighted average of them (Luong-style attention, ember.models.Seq2Seq):

    score_{t,s} = d_t . W_a e_s,   a_t = softmax_s(score_t),   c_t = sum_s a_{t,s} e_s
    p(y_t | y_<t, x) = softmax(W_o [d_t ; c_t])

Training uses teacher forcing (the decoder sees the true previous token) and cross-entropy;
at test time the decoder is greedy, feeding back its own argmax. Without attention the whole
source must pass through one fixed vector; with it, the model learns to look at position
S + 1 - t when writing token t: the attention map is an anti-diagonal.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

import ember
import ember.nn.functional as F
from ember import optim
from ember.models import Seq2Seq

from _common import save_figure, seed_everything

PAD, BOS, EOS, FIRST = 0, 1, 2, 3          # symbols are FIRST .. FIRST + n_symbols - 1


def make_reversal(rng, n: int, n_symbols: int, min_len: int, max_len: int):
    """src (n, max_len) padded; tgt_in = [BOS, reversed]; tgt_out = [reversed, EOS] (padded)."""
    lengths = rng.integers(min_len, max_len + 1, size=n)
    src = np.full((n, max_len), PAD, np.int64)
    tgt_in = np.full((n, max_len + 1), PAD, np.int64)
    tgt_out = np.full((n, max_len + 1), PAD, np.int64)
    for i, L in enumerate(lengths):
        seq = rng.integers(FIRST, FIRST + n_symbols, size=L)
        src[i, :L] = seq
        tgt_in[i, 0], tgt_in[i, 1:L + 1] = BOS, seq[::-1]
        tgt_out[i, :L], tgt_out[i, L] = seq[::-1], EOS
    return src, tgt_in, tgt_out


def exact_match(model, src, tgt_out):
    """Fraction of sequences decoded exactly (every token up to and including EOS)."""
    pred, attn = model.greedy_decode(ember.tensor(src), tgt_out.shape[1], BOS)
    pred = pred.numpy()
    keep = tgt_out != PAD
    return float(np.mean(np.all((pred == tgt_out) | ~keep, axis=1))), pred, attn.numpy()


@contextmanager
def one_thread():
    """A small model: one thread beats synchronising two at every time step."""
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
    n_symbols, min_len, max_len = (6, 3, 6) if fast else (8, 4, 10)
    n_train, epochs = (1200, 5) if fast else (6000, 12)
    src, tgt_in, tgt_out = make_reversal(rng, n_train, n_symbols, min_len, max_len)
    te_src, _, te_out = make_reversal(rng, 500, n_symbols, min_len, max_len)
    V = FIRST + n_symbols

    model = Seq2Seq(V, V, embed_dim=32, hidden=64, pad_id=PAD)
    opt = optim.Adam(model.parameters(), lr=0.005)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)   # settle at the end
    curve = []
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        total = 0.0
        for s in range(0, n_train, 64):
            idx = order[s:s + 64]
            logits = model(ember.tensor(src[idx]), ember.tensor(tgt_in[idx]))
            loss = F.cross_entropy(logits.reshape(-1, V), ember.tensor(tgt_out[idx].ravel()),
                                   ignore_index=PAD)
            opt.zero_grad()
            loss.backward()
            ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        curve.append(exact_match(model, te_src, te_out)[0])
        print(f"epoch {epoch + 1}: loss {total / n_train:.4f}, test exact match {curve[-1]:.1%}")

    acc, pred, attn = exact_match(model, te_src, te_out)
    i = int(np.argmax((te_src != PAD).sum(axis=1)))          # a longest test sequence
    L = int((te_src[i] != PAD).sum())
    show = lambda ids: " ".join(str(t - FIRST) for t in ids)  # noqa: E731
    print(f"source   {show(te_src[i, :L])}\ndecoded  {show(pred[i, :L])}")
    print(f"test exact match {acc:.1%}")

    def draw(plt):
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.8))
        ax[0].plot(range(1, len(curve) + 1), curve, marker="o")
        ax[0].set(xlabel="epoch", ylabel="test exact match", title="reversal task", ylim=(0, 1))
        ax[1].imshow(attn[i, :L + 1, :L], cmap="viridis")
        ax[1].set(xlabel="source position", ylabel="output step",
                  title="attention weights (one test sequence)")

    save_figure(draw, out_dir, "seq2seq_attention.png")
    return {"exact_match": acc, "first_epoch_exact_match": curve[0]}


if __name__ == "__main__":
    main()
