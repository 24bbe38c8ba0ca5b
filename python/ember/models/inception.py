"""An Inception block (Szegedy et al., 2015): parallel 1x1, 3x3, 5x5 and pooling branches
whose outputs are concatenated along channels."""
from __future__ import annotations

import ember
from ember import nn


def _conv_bn(cin, cout, k):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class InceptionBlock(nn.Module):
    """Branches on (N, C, H, W), all keeping H x W:
      b1: 1x1 conv (c1)
      b3: 1x1 conv (c3_reduce) -> 3x3 conv (c3)
      b5: 1x1 conv (c5_reduce) -> 5x5 conv (c5)
      bp: 3x3 max-pool (stride 1, padding 1) -> 1x1 conv (pool_proj)
    Output (N, c1 + c3 + c5 + pool_proj, H, W). The 1x1 "reduce" convolutions cut the cost of
    the larger kernels."""

    def __init__(self, in_channels, c1=16, c3_reduce=16, c3=24, c5_reduce=4, c5=8, pool_proj=8):
        super().__init__()
        self.branch1 = _conv_bn(in_channels, c1, 1)
        self.branch3 = nn.Sequential(_conv_bn(in_channels, c3_reduce, 1), _conv_bn(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(_conv_bn(in_channels, c5_reduce, 1), _conv_bn(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         _conv_bn(in_channels, pool_proj, 1))
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x):
        return ember.cat([self.branch1(x), self.branch3(x), self.branch5(x),
                          self.branch_pool(x)], dim=1)


class InceptionNet(nn.Module):
    """A tiny classifier around two Inception blocks (for 8x8 or 28x28 images)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.stem = _conv_bn(in_channels, 32, 3)
        self.block1 = InceptionBlock(32)
        self.pool = nn.MaxPool2d(2)
        self.block2 = InceptionBlock(self.block1.out_channels, 32, 32, 48, 8, 16, 16)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(self.block2.out_channels, num_classes))

    def forward(self, x):
        return self.head(self.block2(self.pool(self.block1(self.stem(x)))))
