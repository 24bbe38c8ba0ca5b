"""Generative adversarial networks (Goodfellow et al., 2014): MLP generator/discriminator for
2-D toy data, and DCGAN-style convolutional ones (Radford et al., 2016) for small images."""
from __future__ import annotations

from ember import nn


class MLPGenerator(nn.Sequential):
    """z (N, latent_dim) -> (N, out_features): two hidden ReLU layers, linear output."""

    def __init__(self, latent_dim: int = 2, hidden: int = 64, out_features: int = 2):
        super().__init__(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                         nn.ReLU(), nn.Linear(hidden, out_features))


class MLPDiscriminator(nn.Sequential):
    """x (N, in_features) -> (N, 1) logit of "real", LeakyReLU(0.2) hidden layers."""

    def __init__(self, in_features: int = 2, hidden: int = 64):
        super().__init__(nn.Linear(in_features, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> image (N, channels, 4*base_size, 4*base_size) in [-1, 1]:
    Linear to (2*width, base, base), then two stride-2 transposed convolutions (k4 p1) with
    batch norm and ReLU, tanh at the end. base_size=2 gives 8x8 images, 7 gives 28x28."""

    def __init__(self, latent_dim: int = 16, channels: int = 1, width: int = 32,
                 base_size: int = 2):
        super().__init__()
        self.width, self.base = width, base_size
        self.project = nn.Sequential(nn.Linear(latent_dim, 2 * width * base_size * base_size),
                                     nn.BatchNorm1d(2 * width * base_size * base_size), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, z):
        x = self.project(z).reshape(z.shape[0], 2 * self.width, self.base, self.base)
        return self.net(x)


class DCGANDiscriminator(nn.Module):
    """image (N, channels, S, S) -> (N, 1) logit: two stride-2 convolutions (k4 p1) with
    LeakyReLU(0.2) (batch norm on the second), then a linear layer."""

    def __init__(self, channels: int = 1, width: int = 32, image_size: int = 8):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2), nn.Flatten())
        self.fc = nn.Linear(2 * width * (image_size // 4) ** 2, 1)

    def forward(self, x):
        return self.fc(self.net(x))
