"""A Q-network for deep Q-learning (Mnih et al., 2015): state -> one value per action."""
from __future__ import annotations

from ember import nn


class QNetwork(nn.Sequential):
    """state (N, state_dim) -> Q(s, a) for every action (N, num_actions); ReLU hidden layers."""

    def __init__(self, state_dim: int, num_actions: int, hidden=(64, 64)):
        layers, width = [], state_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, num_actions))
        super().__init__(*layers)
