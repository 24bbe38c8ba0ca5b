"""Exploding gradients in a vanilla RNN, fixed by gradient-norm clipping.

An Elman RNN, h_t = tanh(W_x x_t + W_h h_{t-1} + b), backpropagates through time by
multiplying one Jacobian per step:

    dL/dh_k = dL/dh_T * prod_{t=k+1..T} diag(1 - h_t^2) W_h

With a large recurrent matrix (here W_h ~ N(0, g^2 / H), g = 2, spectral radius ~ 2) the product
grows exponentially with the sequence length, so an occasional gradient is 10^8 times the usual
one; one SGD step with it throws the weights far away and the loss becomes inf/nan. Clipping
rescales the whole gradient when its global norm exceeds c,

    g <- g * min(1, c / ||g||)        (ember.nn.utils.clip_grad_norm_)

which keeps its direction but bounds the step, and the same network then trains. The task:
read a sequence of T numbers and output x_T + 0.5 x_{T-1}.
"""
from __future__ import annotations

import math

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from _common import save_figure, seed_everything


class ElmanRNN(nn.Module):
    """A hand-unrolled tanh RNN (Linear + tanh per step) with a linear read-out of h_T."""

    def __init__(self, hidden: int = 32, gain: float = 2.0):
        super().__init__()
        self.inp = nn.Linear(1, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, 1)
        nn.init.normal_(self.rec.weight, 0.0, gain / math.sqrt(hidden))   # spectral radius ~ gain

    def forward(self, x):                      # x: (N, T, 1) -> (N, 1)
        h = ember.zeros(x.shape[0], self.rec.weight.shape[0])
        for t in range(x.shape[1]):
            h = ember.tanh(self.inp(x[:, t]) + self.rec(h))
        return self.out(h)


def train(X, Y, clip, steps, lr=0.1, batch=32, seed=0):
    """SGD on MSE; returns per-step losses and (pre-clipping) global gradient norms."""
    ember.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = ElmanRNN()
    opt = ember.optim.SGD(model.parameters(), lr=lr)
    losses, norms = [], []
    for _ in range(steps):
        idx = ember.from_numpy(rng.integers(0, len(X), batch))
        opt.zero_grad()
        loss = F.mse_loss(model(X[idx]), Y[idx])
        loss.backward()
        # clip_grad_norm_ returns the norm before clipping; max_norm=inf only measures it.
        norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip else math.inf)
        opt.step()
        losses.append(float(loss.item()))
        norms.append(float(norm))
        if not math.isfinite(losses[-1]):      # diverged: nothing left to learn
            break
    return losses, norms


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    T, n, steps = 30, 512, (70 if fast else 300)
    X = rng.standard_normal((n, T, 1)).astype(np.float32)
    Y = X[:, -1] + 0.5 * X[:, -2]
    X, Y = ember.from_numpy(X), ember.from_numpy(Y.astype(np.float32))
    baseline = float(Y.var().item())            # MSE of always predicting the mean

    runs = {}
    with np.errstate(all="ignore"):             # the unclipped run overflows on purpose
        for name, clip in (("no clipping", None), ("clip_grad_norm_(1.0)", 1.0)):
            losses, norms = train(X, Y, clip, steps)
            runs[name] = (losses, norms)
            tail = losses[-10:]
            print(f"{name:22s} max grad norm {np.nanmax(norms):.2e}, steps run {len(losses)}, "
                  f"final loss {np.mean(tail):.4g} (predict-the-mean baseline {baseline:.3f})")
    plain, clipped = runs["no clipping"], runs["clip_grad_norm_(1.0)"]
    plain_final = float(np.mean(plain[0][-10:]))
    clipped_final = float(np.mean(clipped[0][-10:]))

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name, (losses, norms) in runs.items():
            axes[0].semilogy(losses, label=name)
            axes[1].semilogy(norms, label=name)
        axes[0].axhline(baseline, color="gray", ls=":", label="predict the mean")
        axes[0].set(title="training loss (MSE)", xlabel="step")
        axes[1].set(title="global gradient norm before clipping", xlabel="step")
        axes[0].legend()

    png = save_figure(draw, out_dir, "exploding_gradients.png")
    return {"baseline_loss": baseline, "max_grad_norm_unclipped": float(np.nanmax(plain[1])),
            "unclipped_final_loss": plain_final, "unclipped_diverged":
                not math.isfinite(plain_final) or plain_final > 10 * baseline,
            "clipped_final_loss": clipped_final, "figure": png}


if __name__ == "__main__":
    main()
