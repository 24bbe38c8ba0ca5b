"""Character-level language model: an LSTM learns to predict the next character, then writes.

A language model factorises the probability of a text into next-token predictions,

    p(c_1 .. c_n) = prod_t p(c_t | c_1 .. c_{t-1}),

here with an Embedding -> LSTM -> Linear network (ember.models.LanguageModel) whose hidden
state summarises the prefix. Training minimises the cross-entropy -1/n sum_t log p(c_t | ...)
(teacher forcing: the true previous characters are the inputs). Perplexity exp(cross-entropy)
is the effective number of choices per character: a uniform guess over V characters scores V.
Generation samples one character at a time from softmax(logits / temperature) and feeds it
back in; a low temperature picks likelier characters.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

import ember
import ember.nn.functional as F
from ember import optim
from ember.models import LanguageModel

from _common import save_figure, seed_everything

# Public-domain sentences: Lewis Carroll (1865) and Charles Dickens (1859).
TEXT = (
    "alice was beginning to get very tired of sitting by her sister on the bank, and of "
    "having nothing to do: once or twice she had peeped into the book her sister was reading, "
    "but it had no pictures or conversations in it, and what is the use of a book, thought "
    "alice, without pictures or conversations? so she was considering in her own mind whether "
    "the pleasure of making a daisy-chain would be worth the trouble of getting up and picking "
    "the daisies, when suddenly a white rabbit with pink eyes ran close by her. "
    "it was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was "
    "the season of light, it was the season of darkness, it was the spring of hope, it was the "
    "winter of despair. "
)


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
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in TEXT], dtype=np.int64)
    V, T, batch = len(chars), 48, 32
    steps, hidden = (80, 64) if fast else (600, 128)
    print(f"{len(TEXT)} characters, vocabulary {V}: uniform perplexity {V}")

    model = LanguageModel(V, embed_dim=24, hidden_size=hidden)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    losses = []
    for step in range(steps):
        start = rng.integers(0, len(data) - T - 1, size=batch)
        window = data[start[:, None] + np.arange(T + 1)]          # (batch, T + 1)
        logits, _ = model(ember.tensor(window[:, :-1]))
        loss = F.cross_entropy(logits.reshape(-1, V), ember.tensor(window[:, 1:].ravel()))
        opt.zero_grad()
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % 100 == 99 or step == steps - 1:
            print(f"step {step + 1}: loss {loss.item():.3f} nats, perplexity "
                  f"{math.exp(loss.item()):.2f}")

    # final loss over the whole text (one pass, teacher forcing)
    with ember.no_grad():
        logits, _ = model(ember.tensor(data[None, :-1]))
        final = F.cross_entropy(logits.reshape(-1, V), ember.tensor(data[1:])).item()
    perplexity = math.exp(final)
    print(f"whole-text loss {final:.3f} nats, perplexity {perplexity:.2f} (uniform {V})")

    prompt = "it was the "
    ids = model.generate([stoi[c] for c in prompt], 160, temperature=0.5, generator=rng)
    sample = "".join(chars[i] for i in ids)
    print(f"sample: {sample!r}")

    def draw(plt):
        plt.figure(figsize=(6, 3.5))
        plt.plot(np.exp(losses), lw=0.8, label="training batch")
        plt.axhline(V, color="gray", ls="--", label=f"uniform ({V})")
        plt.yscale("log")
        plt.xlabel("step")
        plt.ylabel("perplexity")
        plt.title("character-level LSTM language model")
        plt.legend()

    save_figure(draw, out_dir, "char_language_model.png")
    return {"initial_loss": losses[0], "final_loss": final, "perplexity": perplexity,
            "uniform_perplexity": float(V), "sample": sample}


if __name__ == "__main__":
    main()
