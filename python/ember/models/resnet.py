"""A ResNet with basic blocks (He et al., 2016): residual connections y = relu(F(x) + x)."""
from __future__ import annotations

from ember import nn


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a skip connection: y = relu(bn2(conv2(relu(bn1(conv1 x)))) +
    shortcut(x)). The shortcut is the identity, or a 1x1 strided conv + BN when the shape
    changes (stride > 1 or a different channel count)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A small ResNet: a 3x3 stem, then stages of ``blocks[i]`` basic blocks with ``widths[i]``
    channels (stride 2 at the start of every stage but the first), global average pooling and
    a linear classifier. ``ResNet(blocks=(2, 2, 2, 2), widths=(64, 128, 256, 512))`` is
    ResNet-18's body (with a CIFAR-style stem)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, blocks=(2, 2, 2),
                 widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, c = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            layers = []
            for j in range(n):
                layers.append(BasicBlock(c, w, stride=2 if (i > 0 and j == 0) else 1))
                c = w
            stages.append(nn.Sequential(*layers))
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(x.flatten(1))
