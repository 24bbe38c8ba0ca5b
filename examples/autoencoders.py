"""Four autoencoders on the 8x8 digits: plain, denoising, sparse and variational.

An autoencoder squeezes x through a code h = enc(x) and rebuilds x_hat = dec(h) in [0, 1]:
  plain      min ||x_hat - x||^2                          (learns a compressed code)
  denoising  min ||dec(enc(x + noise)) - x||^2            (must undo the corruption)
  sparse     min ||x_hat - x||^2 + beta sum_j KL(rho || rho_hat_j),  rho_hat_j = mean_i h_ij
             (sigmoid codes pushed to a small mean activation rho: few units fire per input)
  VAE        max ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),  q = N(mu(x), diag(exp(logvar)))
             sampled with the reparameterisation z = mu + exp(logvar / 2) * eps; decoding
             z ~ N(0, I) draws new digits.
Figures: the denoising AE rebuilds noisy test digits closer to the clean ones than the plain AE
of the same shape; the sparse code's mean activation is far below the unpenalised one; VAE
samples from the prior are recognisable digits of many classes (an MLP trained here labels them).
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember.models import MLP, VAE, AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder
from ember.training import fit
from ember.utils.data import DataLoader, TensorDataset

from _common import save_figure, seed_everything
from digits_mlp import load_split

NOISE = 0.3                      # std of the Gaussian corruption, pixels are in [0, 1]


def train(model, x, epochs, loss_of, lr=3e-3):
    """Adam on mini-batches of 64; ``loss_of(model, batch)`` gives the loss. Returns its
    per-epoch means."""
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(ember.from_numpy(x)), batch_size=64, shuffle=True)
    curve = []
    for _ in range(epochs):
        total = 0.0
        for (xb,) in loader:
            opt.zero_grad()
            loss = loss_of(model, xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        curve.append(total / len(x))
    return curve



def sparse_loss(model, xb):
    return F.mse_loss(model(xb), xb) + model.sparsity_penalty()


def vae_loss(model, xb):
    recon, mu, logvar = model(xb)
    return VAE.loss(xb, recon, mu, logvar)


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split()
    epochs = 10 if fast else 60
    mse = lambda m, xb: F.mse_loss(m(xb), xb)      # noqa: E731

    # plain and denoising AE: same shape, different training input
    plain = AutoEncoder(64, hidden=(64,), latent_dim=16)
    train(plain, x_tr, epochs, mse)
    denoise = DenoisingAutoEncoder(64, hidden=(64,), latent_dim=16, noise_std=NOISE)
    train(denoise, x_tr, epochs, mse)              # corrupts its input itself in train mode
    noisy = (x_te + NOISE * rng.standard_normal(x_te.shape)).astype(np.float32)
    clean, noisy_t = ember.from_numpy(x_te), ember.from_numpy(noisy)
    with ember.no_grad():
        plain.eval(), denoise.eval()
        mse_plain = F.mse_loss(plain(noisy_t), clean).item()
        mse_denoise = F.mse_loss(denoise(noisy_t), clean).item()
        recon_plain, recon_denoise = plain(noisy_t).numpy(), denoise(noisy_t).numpy()
        mse_clean = F.mse_loss(plain(clean), clean).item()
    print(f"plain AE: test MSE {mse_clean:.4f} on clean input, {mse_plain:.4f} on noisy input "
          f"(std {NOISE}); denoising AE on noisy input: {mse_denoise:.4f}")

    # sparse AE against the same net without the penalty (beta = 0)
    acts = {}
    for beta in (0.0, 0.1):
        sparse = SparseAutoEncoder(64, hidden=(64,), latent_dim=32, rho=0.05, beta=beta)
        train(sparse, x_tr, epochs, sparse_loss)
        with ember.no_grad():
            sparse.eval()
            recon = sparse(clean)
            acts[beta] = (sparse.last_code.mean().item(), F.mse_loss(recon, clean).item())
    print(f"sparse AE: mean code activation {acts[0.1][0]:.3f} with the KL penalty (rho 0.05) "
          f"vs {acts[0.0][0]:.3f} without; test MSE {acts[0.1][1]:.4f} vs {acts[0.0][1]:.4f}")

    # VAE: train, then decode z ~ N(0, I); an MLP classifier tells which digits came out
    vae = VAE(64, hidden=128, latent_dim=8)
    vae_curve = train(vae, x_tr, 2 * epochs, vae_loss)
    vae.eval()
    samples = vae.sample(64).numpy()
    clf = MLP(64, hidden=(128,), out_features=10)
    fit(clf, ember.nn.CrossEntropyLoss(), ember.optim.Adam(clf.parameters(), lr=2e-3),
        (x_tr, y_tr), epochs=15, progress=False)
    clf.eval()
    with ember.no_grad():
        probs = F.softmax(clf(ember.from_numpy(samples)), dim=1).numpy()
    classes = np.bincount(probs.argmax(1), minlength=10)
    confident = float((probs.max(1) > 0.8).mean())
    print(f"VAE: negative ELBO {vae_curve[0]:.1f} -> {vae_curve[-1]:.1f} nats per digit; 64 "
          f"prior samples classified as {np.count_nonzero(classes)} different digits "
          f"{classes.tolist()}, {confident:.0%} of them with confidence > 0.8")

    def draw(plt):
        fig, axes = plt.subplots(4, 16, figsize=(12, 3.6))
        rows = [(x_te, "clean"), (noisy, "noisy"), (recon_plain, "plain AE"),
                (recon_denoise, "denoising AE")]
        for r, (imgs, label) in enumerate(rows):
            for c in range(8):
                ax = axes[r, c]
                ax.imshow(np.clip(imgs[c], 0, 1).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                ax.set_xticks([]), ax.set_yticks([])
            axes[r, 0].set_ylabel(label, fontsize=7)
            for c in range(8, 16):
                ax = axes[r, c]
                ax.imshow(samples[8 * r + c - 8].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                ax.axis("off")
        axes[0, 8].set_title("VAE samples from N(0, I)", fontsize=8, loc="left")

    path = save_figure(draw, out_dir, "autoencoders.png")
    return {"mse_plain_clean": mse_clean, "mse_plain_noisy": mse_plain,
            "mse_denoise_noisy": mse_denoise, "sparse_mean_activation": acts[0.1][0],
            "dense_mean_activation": acts[0.0][0], "sparse_mse": acts[0.1][1],
            "vae_nelbo_first": vae_curve[0], "vae_nelbo_last": vae_curve[-1],
            "vae_sample_classes": int(np.count_nonzero(classes)),
            "vae_sample_confident": confident, "figure": path}


if __name__ == "__main__":
    main()
