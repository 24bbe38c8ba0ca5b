"""Word embeddings: skip-gram with negative sampling (Mikolov et al., 2013).

Words that occur in the same contexts get similar vectors. Each word w has an input vector
v_w (the embedding we keep) and an output vector u_w. For a centre word c and a word o seen
within a window around it, and k "negative" words n_1..n_k drawn from the unigram
distribution raised to 3/4, skip-gram minimises

    L = -log sigmoid(u_o . v_c) - sum_j log sigmoid(-u_{n_j} . v_c)

i.e. a logistic classifier telling true context pairs from random ones. The corpus here is
synthetic with a known structure: each sentence talks about one topic (animals, food,
vehicles, weather) and mixes in shared function words. After training, a word's nearest
neighbour by cosine similarity should be a word of the same topic.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn, optim

from _common import save_figure, seed_everything

TOPICS = {
    "animals": "cat dog horse cow sheep goat lion tiger".split(),
    "food": "bread cheese apple rice soup pasta salad cake".split(),
    "vehicles": "car bus train truck bike plane boat tram".split(),
    "weather": "rain snow wind storm sun fog cloud frost".split(),
}
FUNCTION_WORDS = "the a is and of with in on".split()


def make_corpus(rng, n_sentences: int, length: int = 10, p_function: float = 0.3):
    """Token ids (n_sentences, length): each sentence draws from one topic plus function words."""
    vocab = FUNCTION_WORDS + [w for words in TOPICS.values() for w in words]
    n_f, per = len(FUNCTION_WORDS), len(next(iter(TOPICS.values())))
    topic = rng.integers(0, len(TOPICS), size=(n_sentences, 1))
    content = n_f + topic * per + rng.integers(0, per, size=(n_sentences, length))
    function = rng.integers(0, n_f, size=(n_sentences, length))
    corpus = np.where(rng.random((n_sentences, length)) < p_function, function, content)
    return corpus, vocab


def skipgram_pairs(corpus, window: int):
    """All (centre, context) pairs within ``window`` positions, as two int64 arrays."""
    centres, contexts = [], []
    for off in range(1, window + 1):
        for a, b in ((corpus[:, :-off], corpus[:, off:]), (corpus[:, off:], corpus[:, :-off])):
            centres.append(a.ravel())
            contexts.append(b.ravel())
    return np.concatenate(centres), np.concatenate(contexts)


class SkipGram(nn.Module):
    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.inp = nn.Embedding(vocab_size, dim)    # v_w: the word vectors we keep
        self.out = nn.Embedding(vocab_size, dim)    # u_w: context vectors
        with ember.no_grad():
            self.inp.weight.mul_(0.1)
            self.out.weight.zero_()

    def forward(self, centre, context, negatives):
        v = self.inp(centre).unsqueeze(2)                       # (B, D, 1)
        pos = (self.out(context).unsqueeze(1) @ v).reshape(-1)   # (B,)   u_o . v_c
        neg = (self.out(negatives) @ v).squeeze(2)              # (B, k) u_n . v_c
        return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(dim=1)).mean()


def neighbour_topic_accuracy(vectors, n_function: int, per_topic: int):
    """Fraction of topic words whose nearest other word (cosine) is in the same topic."""
    w = vectors[n_function:]
    w = w / np.linalg.norm(w, axis=1, keepdims=True)
    sim = w @ w.T
    np.fill_diagonal(sim, -np.inf)
    nearest = sim.argmax(axis=1)
    topic = np.arange(len(w)) // per_topic
    return float(np.mean(topic[nearest] == topic)), nearest


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    corpus, vocab = make_corpus(rng, 300 if fast else 2000)
    centres, contexts = skipgram_pairs(corpus, window=2)
    counts = np.bincount(corpus.ravel(), minlength=len(vocab)).astype(np.float64)
    noise = counts ** 0.75 / np.sum(counts ** 0.75)            # negative-sampling distribution
    k, batch, epochs = 5, 512, (3 if fast else 5)

    model = SkipGram(len(vocab), 16)
    opt = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(centres))
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            neg = rng.choice(len(vocab), size=(len(idx), k), p=noise)
            loss = model(ember.tensor(centres[idx]), ember.tensor(contexts[idx]),
                         ember.tensor(neg))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(order))
        print(f"epoch {epoch + 1}: loss {losses[-1]:.4f}")

    vectors = model.inp.weight.detach().numpy().astype(np.float64)
    n_f, per = len(FUNCTION_WORDS), len(TOPICS["animals"])
    acc, nearest = neighbour_topic_accuracy(vectors, n_f, per)
    for word in ("cat", "bread", "train", "snow"):
        i = vocab.index(word) - n_f
        print(f"nearest to {word!r}: {vocab[n_f + nearest[i]]!r}")
    print(f"nearest neighbour shares the topic for {acc:.1%} of topic words")

    def draw(plt):
        w = vectors[n_f:] - vectors[n_f:].mean(axis=0)
        xy = w @ np.linalg.svd(w, full_matrices=False)[2][:2].T   # PCA to 2-D
        plt.figure(figsize=(6, 5))
        for t, name in enumerate(TOPICS):
            part = xy[t * per:(t + 1) * per]
            plt.scatter(part[:, 0], part[:, 1], label=name)
            for j, (x, y) in enumerate(part):
                plt.annotate(TOPICS[name][j], (x, y), fontsize=7)
        plt.legend()
        plt.title("skip-gram word vectors (PCA)")

    save_figure(draw, out_dir, "word_embeddings.png")
    return {"neighbour_topic_accuracy": acc, "first_loss": losses[0], "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
