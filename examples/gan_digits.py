"""A GAN generates 8x8 handwritten digits.

Same game as gan_mixture.py, now in 64 dimensions: the generator G maps z ~ N(0, I_16) through
an MLP and a tanh to an image in [-1, 1]^64 (the digits are rescaled to that range); the
discriminator D (LeakyReLU MLP) scores real against generated images,

    L_D = -E_x[log sigmoid(D(x))] - E_z[log(1 - sigmoid(D(G(z))))],
    L_G = -E_z[log sigmoid(D(G(z)))]                    (non-saturating generator loss)

with Adam(lr 2e-4, beta1 0.5) on both, one step each in turn. How good are the samples? An MLP
classifier trained here on the real digits labels them: good samples are classified
confidently, and a generator that has not collapsed produces many different digits.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.models import MLP, MLPDiscriminator, MLPGenerator
from ember.training import fit

from _common import save_figure, seed_everything
from digits_mlp import load_split

LATENT = 16
CONFIG = {False: (4000, 64, 256, 2e-4), True: (800, 64, 128, 1e-3)}  # steps, batch, width, lr


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split()
    real_all = (2 * x_tr - 1).astype(np.float32)                    # [0, 1] -> [-1, 1]
    steps, batch, hidden, lr = CONFIG[fast]
    gen = nn.Sequential(MLPGenerator(LATENT, hidden=hidden, out_features=64), nn.Tanh())
    disc = MLPDiscriminator(64, hidden=hidden)
    opt_g = ember.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = ember.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    ones, zeros = ember.ones(batch, 1), ember.zeros(batch, 1)
    d_losses, g_losses = [], []
    for step in range(steps):
        real = ember.from_numpy(real_all[rng.integers(0, len(real_all), batch)])
        fake = gen(ember.randn(batch, LATENT))
        opt_d.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(disc(real), ones) +
                  F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
        g_loss.backward()
        opt_g.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())

    gen.eval()
    with ember.no_grad():
        samples = (gen(ember.randn(500, LATENT)).numpy() + 1) / 2        # back to [0, 1]

    # judge the samples with a classifier trained on the real digits
    clf = MLP(64, hidden=(128,), out_features=10)
    fit(clf, nn.CrossEntropyLoss(), ember.optim.Adam(clf.parameters(), lr=2e-3), (x_tr, y_tr),
        epochs=15, progress=False)
    clf.eval()
    with ember.no_grad():
        probs = F.softmax(clf(ember.from_numpy(samples.astype(np.float32))), dim=1).numpy()
    counts = np.bincount(probs.argmax(1), minlength=10)
    confident = float((probs.max(1) > 0.9).mean())
    tail = slice(-max(1, steps // 10), None)
    d_end, g_end = float(np.mean(d_losses[tail])), float(np.mean(g_losses[tail]))
    print(f"GAN on digits, {steps} steps: final D loss {d_end:.3f}, G loss {g_end:.3f}; "
          f"500 samples classified as {np.count_nonzero(counts >= 5)} digits (>= 5 samples "
          f"each) {counts.tolist()}; {confident:.0%} classified with confidence > 0.9")

    order = np.argsort(probs.argmax(1), kind="stable")[::500 // 64][:64]
    tiles = np.pad(samples[order].reshape(64, 8, 8), ((0, 0), (0, 1), (0, 1)))  # 1-px gaps
    mosaic = tiles.reshape(8, 8, 9, 9).transpose(0, 2, 1, 3).reshape(72, 72)

    def draw(plt):
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.5))
        ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1)
        ax.set_title("64 generated digits (sorted by predicted class)"), ax.axis("off")
        w = max(1, steps // 100)
        for losses, label in ((d_losses, "D loss"), (g_losses, "G loss")):
            ax2.plot(np.convolve(losses, np.ones(w) / w, mode="valid"), label=label)
        ax2.set_xlabel("step"), ax2.legend(), ax2.set_title("losses")

    path = save_figure(draw, out_dir, "gan_digits.png")
    return {"sample_classes": int(np.count_nonzero(counts >= 5)), "class_counts": counts.tolist(),
            "confident_share": confident, "final_d_loss": d_end, "final_g_loss": g_end,
            "figure": path}


if __name__ == "__main__":
    main()
