"""A generative adversarial network learns a 2-D mixture of 8 Gaussians.

A generator G maps noise z ~ N(0, I) to points G(z); a discriminator D outputs the logit of
"this point is real". They play the minimax game

    min_G max_D  E_x[log sigmoid(D(x))] + E_z[log(1 - sigmoid(D(G(z))))]

alternating one Adam step each: D minimises the binary cross-entropy with labels real=1 /
fake=0, and G the "non-saturating" loss -log sigmoid(D(G(z))) (strong gradients early on).
The target is 8 tight Gaussians on a circle; a failing GAN collapses onto a few of them
("mode collapse"). The figure: every mode receives a fair share of the generated points.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember.models import MLPDiscriminator, MLPGenerator

from _common import save_figure, seed_everything

MODES = 8
RADIUS, STD = 2.0, 0.05
LATENT = 8


def centres() -> np.ndarray:
    angles = 2 * np.pi * np.arange(MODES) / MODES
    return RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_mixture(rng, n: int) -> np.ndarray:
    """n points: a random mode each, plus isotropic Gaussian noise of std STD."""
    modes = rng.integers(0, MODES, n)
    return (centres()[modes] + STD * rng.standard_normal((n, 2))).astype(np.float32)


def mode_shares(points: np.ndarray, within: float = 4 * STD) -> np.ndarray:
    """Fraction of the points lying within ``within`` of each mode's centre."""
    d = np.linalg.norm(points[:, None, :] - centres()[None], axis=2)
    return (d < within).mean(axis=0)


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    steps, batch, lr = (600, 128, 2e-3) if fast else (4000, 256, 1e-3)
    gen = MLPGenerator(latent_dim=LATENT, hidden=128, out_features=2)
    disc = MLPDiscriminator(in_features=2, hidden=128)
    opt_g = ember.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = ember.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))
    ones, zeros = ember.ones(batch, 1), ember.zeros(batch, 1)
    snapshots, d_losses, g_losses = {}, [], []
    z_fixed = ember.randn(2000, LATENT)
    for step in range(1, steps + 1):
        real = ember.from_numpy(sample_mixture(rng, batch))
        fake = gen(ember.randn(batch, LATENT))
        # discriminator step: real -> 1, fake -> 0 (fake detached: G is not updated here)
        opt_d.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(disc(real), ones) +
                  F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros))
        d_loss.backward()
        opt_d.step()
        # generator step: make D call the fakes real
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
        g_loss.backward()
        opt_g.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())
        if step in (steps // 8, steps // 2, steps):
            with ember.no_grad():
                snapshots[step] = gen(z_fixed).numpy()

    final = snapshots[steps]
    shares = mode_shares(final)
    coarse = mode_shares(final, within=0.5)       # half the gap between neighbouring modes
    print(f"GAN on {MODES} Gaussians, {steps} steps: share of samples near each mode "
          f"{np.round(shares, 3).tolist()} (ideal {1 / MODES:.3f}); "
          f"{shares.sum():.1%} of samples within {4 * STD} of a mode centre; "
          f"modes with >= 5%: {int((shares >= 0.05).sum())}/{MODES}; within 0.5: min share "
          f"{coarse.min():.3f}, total {coarse.sum():.1%}")

    def draw(plt):
        fig, axes = plt.subplots(1, len(snapshots) + 1, figsize=(4 * (len(snapshots) + 1), 4))
        real = sample_mixture(np.random.default_rng(1), 2000)
        for ax, (step, pts) in zip(axes, snapshots.items()):
            ax.scatter(real[:, 0], real[:, 1], s=2, c="lightgray", label="data")
            ax.scatter(pts[:, 0], pts[:, 1], s=2, c="C3", alpha=0.5, label="G(z)")
            ax.set_title(f"step {step}"), ax.set_xlim(-3, 3), ax.set_ylim(-3, 3)
            ax.set_aspect("equal")
        axes[0].legend(loc="upper right", markerscale=4)
        k = max(1, steps // 100)
        smooth = lambda v: np.convolve(v, np.ones(k) / k, mode="valid")    # noqa: E731
        axes[-1].plot(smooth(d_losses), label="D loss")
        axes[-1].plot(smooth(g_losses), label="G loss")
        axes[-1].set_xlabel("step"), axes[-1].legend(), axes[-1].set_title("losses")

    path = save_figure(draw, out_dir, "gan_mixture.png")
    return {"mode_shares": shares.tolist(), "min_mode_share": float(shares.min()),
            "share_near_modes": float(shares.sum()),
            "modes_covered": int((shares >= 0.05).sum()), "coarse_shares": coarse.tolist(),
            "min_coarse_share": float(coarse.min()), "share_near_modes_coarse": float(coarse.sum()),
            "final_d_loss": float(np.mean(d_losses[-100:])),
            "final_g_loss": float(np.mean(g_losses[-100:])), "figure": path}


if __name__ == "__main__":
    main()
