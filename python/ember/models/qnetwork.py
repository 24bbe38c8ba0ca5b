"""A Q-network for deep Q-learning (Mnih et al., 2015): state -> one value per action."""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.models.mlp import _positive_int, activation, layer_widths


class QNetwork(nn.Sequential):
    """state (N, state_dim) -> Q(s, a) for every action (N, num_actions).

    Hidden layers are Linear + activation (ReLU by default); the output layer is a bare Linear,
    since Q-values are unbounded. ``act`` picks epsilon-greedy actions for a rollout.
    """

    def __init__(self, state_dim: int, num_actions: int, hidden=(64, 64),
                 activation_fn="relu"):
        width = _positive_int(state_dim, "state_dim")
        _positive_int(num_actions, "num_actions")
        layers = []
        for h in layer_widths(hidden):
            layers += [nn.Linear(width, h), activation(activation_fn)]
            width = h
        layers.append(nn.Linear(width, num_actions))
        super().__init__(*layers)
        self.num_actions = num_actions

    def act(self, state, epsilon: float = 0.0, rng=None) -> int:
        """Epsilon-greedy action for one state (array of shape (state_dim,)): a uniformly
        random action with probability ``epsilon``, else argmax_a Q(state, a)."""
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        rng = np.random.default_rng() if rng is None else rng
        if epsilon > 0 and rng.random() < epsilon:
            return int(rng.integers(self.num_actions))
        x = np.asarray(state, dtype=np.float32).reshape(1, -1)
        with ember.no_grad():
            q = self(ember.from_numpy(x)).numpy()
        return int(np.argmax(q[0]))
