"""Classic convolutional classifiers: LeNet-5 and a small VGG."""
from __future__ import annotations

from ember import nn


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) with ReLU and max-pooling, for (N, C, H, W) images.

    conv 6@5x5 (padding 2) -> ReLU -> max-pool 2 -> conv 16@5x5 -> ReLU -> max-pool 2 ->
    flatten -> 120 -> 84 -> num_classes. For 28x28 input the flattened size is 16*5*5 = 400;
    it is computed for any input size (``image_size``). For small inputs like 8x8 digits use
    ``padding=2`` on both convolutions (``small=True``).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28,
                 small: bool = False, dropout: float = 0.0):
        super().__init__()
        pad2 = 2 if small else 0
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=pad2), nn.ReLU(), nn.MaxPool2d(2))
        size = image_size // 2
        size = (size + 2 * pad2 - 4) // 2
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * size * size, 120), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Dropout(dropout), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class SmallVGG(nn.Module):
    """A VGG-style network (Simonyan & Zisserman, 2014): stages of two 3x3 convolutions (same
    padding, batch norm, ReLU) followed by 2x2 max-pooling; channels double per stage. Global
    average pooling and a linear classifier end it, so any input size >= 2**len(widths) works.
    ``batch_norm=False`` leaves the batch-norm layers out (the convolutions then get biases).
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, widths=(16, 32, 64),
                 dropout: float = 0.0, batch_norm: bool = True):
        super().__init__()
        layers, c = [], in_channels
        for w in widths:
            for cin in (c, w):
                layers.append(nn.Conv2d(cin, w, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(w))
                layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(2))
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))
