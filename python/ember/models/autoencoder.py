"""Autoencoders: plain, denoising, sparse and variational (Kingma & Welling, 2014).

All take flat inputs (N, in_features) with values in [0, 1] (e.g. 8x8 digits / 16) and decode
through a sigmoid, so binary cross-entropy or MSE are both sensible reconstruction losses.
"""
from __future__ import annotations

import ember
from ember import nn


def _mlp(sizes, last_activation=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class AutoEncoder(nn.Module):
    """x -> encoder -> code (latent_dim) -> decoder -> reconstruction in [0, 1]."""

    def __init__(self, in_features: int = 64, hidden=(32,), latent_dim: int = 8):
        super().__init__()
        self.encoder = _mlp([in_features, *hidden, latent_dim])
        self.decoder = _mlp([latent_dim, *reversed(hidden), in_features], nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class DenoisingAutoEncoder(AutoEncoder):
    """Trained to reconstruct the clean x from a corrupted copy: in training mode the input is
    corrupted with Gaussian noise (``noise_std``) and/or masking noise (each input set to 0 with
    probability ``mask_prob``); in eval mode the input passes unchanged."""

    def __init__(self, in_features: int = 64, hidden=(32,), latent_dim: int = 8,
                 noise_std: float = 0.3, mask_prob: float = 0.0):
        super().__init__(in_features, hidden, latent_dim)
        self.noise_std, self.mask_prob = noise_std, mask_prob

    def corrupt(self, x):
        if self.noise_std > 0:
            x = x + ember.randn_like(x) * self.noise_std
        if self.mask_prob > 0:
            x = x * (ember.rand_like(x) >= self.mask_prob).to(x.dtype)
        return x

    def forward(self, x):
        return super().forward(self.corrupt(x) if self.training else x)


class SparseAutoEncoder(AutoEncoder):
    """An autoencoder whose code is pushed towards sparsity: ``sparsity_penalty(code)`` is the
    KL divergence between a target mean activation rho and each unit's mean activation rho_hat
    (sigmoid codes), sum_j rho log(rho/rho_hat_j) + (1-rho) log((1-rho)/(1-rho_hat_j)), to be
    added to the reconstruction loss times ``beta``; or an L1 penalty on the code."""

    def __init__(self, in_features: int = 64, hidden=(32,), latent_dim: int = 32,
                 rho: float = 0.05, beta: float = 1.0, kind: str = "kl"):
        super().__init__(in_features, hidden, latent_dim)
        self.encoder.append(nn.Sigmoid())
        self.rho, self.beta, self.kind = rho, beta, kind
        self.last_code = None

    def forward(self, x):
        self.last_code = self.encoder(x)
        return self.decoder(self.last_code)

    def sparsity_penalty(self, code=None):
        code = self.last_code if code is None else code
        if self.kind == "l1":
            return self.beta * code.abs().mean()
        rho_hat = code.mean(dim=0).clamp(1e-6, 1 - 1e-6)
        rho = self.rho
        kl = rho * (rho / rho_hat).log() + (1 - rho) * ((1 - rho) / (1 - rho_hat)).log()
        return self.beta * kl.sum()


class VAE(nn.Module):
    """Variational autoencoder. encoder -> (mu, logvar); z = mu + exp(logvar/2) * eps (the
    reparameterisation trick); decoder(z) -> Bernoulli means. ``loss(x, recon, mu, logvar)`` is
    the negative ELBO per sample: BCE(recon, x) summed over features + KL(q(z|x) || N(0, I)),
    KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar)). ``sample(n)`` decodes z ~ N(0, I)."""

    def __init__(self, in_features: int = 64, hidden: int = 64, latent_dim: int = 4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = _mlp([latent_dim, hidden, in_features], nn.Sigmoid())
        self.latent_dim = latent_dim

    def encode(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)

    def reparameterize(self, mu, logvar):
        if not self.training:
            return mu
        return mu + (0.5 * logvar).exp() * ember.randn_like(mu)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decoder(self.reparameterize(mu, logvar)), mu, logvar

    @staticmethod
    def loss(x, recon, mu, logvar):
        import ember.nn.functional as F

        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum()
        return (bce + kl) / x.shape[0]

    def sample(self, n: int):
        with ember.no_grad():
            return self.decoder(ember.randn(n, self.latent_dim))
