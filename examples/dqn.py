"""Deep Q-learning (DQN) on a grid world written in NumPy.

Q(s, a) estimates the return of taking action a in state s and acting greedily afterwards. It
satisfies the Bellman optimality equation Q(s, a) = E[r + gamma max_a' Q(s', a')]. DQN
(Mnih et al., 2015) fits a network Q_theta to it by minimising the Huber loss between Q_theta(s, a)
and the target

    y = r + gamma (1 - done) max_a' Q_target(s', a')

with three stabilisers: a replay buffer (minibatches drawn uniformly from past transitions, which
breaks their correlation), a target network (a copy of Q_theta refreshed every C steps, so the
target does not chase itself), and epsilon-greedy exploration (random actions with probability
epsilon, decayed linearly). The grid: start top-left, goal (+1) bottom-right, pits (-1) ending the
episode, -0.01 per move, walls block; episodes start in a random free cell (exploring starts),
so that every state is visited. Solved = the greedy policy reaches the goal by a shortest
path from every free cell.
"""
from __future__ import annotations

import copy
from collections import deque

import numpy as np

import ember
import ember.nn as nn
from ember.models import QNetwork
from _common import save_figure, seed_everything

MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])     # up, down, left, right
LAYOUTS = {"small": ["S...", ".#P.", "....", "P..G"],
           "large": ["S.....", ".##.P.", "...#..", ".P....", "..#.#.", "P....G"]}


class GridWorld:
    def __init__(self, layout):
        self.grid = np.array([list(row) for row in layout])
        self.shape = self.grid.shape
        self.start = tuple(np.argwhere(self.grid == "S")[0])
        self.n_states = self.grid.size

    def encode(self, pos) -> np.ndarray:                  # one-hot state
        x = np.zeros(self.n_states, np.float32)
        x[pos[0] * self.shape[1] + pos[1]] = 1.0
        return x

    def step(self, pos, action):
        """(next position, reward, done)."""
        r, c = pos[0] + MOVES[action][0], pos[1] + MOVES[action][1]
        if not (0 <= r < self.shape[0] and 0 <= c < self.shape[1]) or self.grid[r, c] == "#":
            r, c = pos                                    # bumped into a wall: stay
        cell = str(self.grid[r, c])
        return (r, c), {"G": 1.0, "P": -1.0}.get(cell, -0.01), cell in ("G", "P")

    def free_cells(self):
        return [tuple(p) for p in np.argwhere(np.isin(self.grid, ["S", "."]))]

    def shortest(self, pos):
        """Fewest moves from pos to the goal avoiding pits (breadth-first search)."""
        seen, frontier, d = {pos}, [pos], 0
        while frontier:
            if any(self.grid[p] == "G" for p in frontier):
                return d
            nxt = []
            for p in frontier:
                for a in range(4):
                    q, _, done = self.step(p, a)
                    if q not in seen and (not done or self.grid[q] == "G"):
                        seen.add(q)
                        nxt.append(q)
            frontier, d = nxt, d + 1
        return None


def greedy_path_length(env, q, pos, limit=50):
    for n in range(1, limit + 1):
        pos, reward, done = env.step(pos, q.act(env.encode(pos)))
        if done:
            return n if reward > 0 else None
    return None


def train_dqn(env, episodes, gamma=0.95, batch=64, sync_every=100, max_steps=60, rng=None):
    q = QNetwork(env.n_states, 4, hidden=(64,))
    target = copy.deepcopy(q)
    opt = ember.optim.Adam(q.parameters(), lr=1e-3)
    loss_fn = nn.SmoothL1Loss()
    buffer, returns, step = deque(maxlen=20000), [], 0
    for ep in range(episodes):
        epsilon = max(0.05, 1.0 - ep / (0.6 * episodes))          # linear decay to 0.05
        cells = env.free_cells()                       # exploring starts: visit every cell
        pos, total = cells[rng.integers(len(cells))], 0.0
        for _ in range(max_steps):
            a = q.act(env.encode(pos), epsilon, rng)
            nxt, r, done = env.step(pos, a)
            buffer.append((env.encode(pos), a, r, env.encode(nxt), float(done)))
            pos, total, step = nxt, total + r, step + 1
            if len(buffer) >= batch:
                idx = rng.integers(len(buffer), size=batch)
                s, a_b, r_b, s2, d = (np.array(v) for v in zip(*(buffer[i] for i in idx)))
                with ember.no_grad():
                    best_next = target(ember.from_numpy(s2)).numpy().max(1)
                y = (r_b + gamma * (1 - d) * best_next).astype(np.float32)
                q_sa = q(ember.from_numpy(s)).gather(1, ember.from_numpy(a_b.reshape(-1, 1)))
                opt.zero_grad()
                loss = loss_fn(q_sa, ember.from_numpy(y.reshape(-1, 1)))
                loss.backward()
                opt.step()
            if step % sync_every == 0:
                target.load_state_dict(q.state_dict())              # refresh the target net
            if done:
                break
        returns.append(total)
    return q, returns


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    env = GridWorld(LAYOUTS["small" if fast else "large"])
    q, returns = train_dqn(env, episodes=200 if fast else 400, rng=rng)
    cells = env.free_cells()
    optimal = sum(greedy_path_length(env, q, p) == env.shortest(p) for p in cells)
    n_start = greedy_path_length(env, q, env.start)
    avg_return = float(np.mean(returns[-20:]))
    print(f"grid {env.shape}, {len(returns)} episodes; average return of the last 20: "
          f"{avg_return:.3f}; greedy path from start {n_start} moves (shortest "
          f"{env.shortest(env.start)}); optimal from {optimal}/{len(cells)} free cells")

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        axes[0].plot(returns, alpha=0.4)
        axes[0].plot(np.arange(19, len(returns)), np.convolve(returns, np.ones(20) / 20, "valid"))
        axes[0].set(title="episode return (and its mean over 20)", xlabel="episode")
        with ember.no_grad():
            values = q(ember.from_numpy(np.eye(env.n_states, dtype=np.float32))).numpy()
        v = values.max(1).reshape(env.shape)
        v[np.isin(env.grid, ["#", "P", "G"])] = np.nan
        axes[1].imshow(v, cmap="viridis")
        for (r, c), ch in np.ndenumerate(env.grid):
            text = ch if ch in "#PG" else "^v<>"[int(values[r * env.shape[1] + c].argmax())]
            axes[1].text(c, r, text, ha="center", va="center", fontsize=14,
                         color="k" if ch in "#PG" else "w")
        axes[1].set(title="max_a Q(s, a) and greedy action", xticks=[], yticks=[])

    png = save_figure(draw, out_dir, "dqn.png")
    return {"average_return": avg_return, "optimal_cells": optimal, "free_cells": len(cells),
            "start_path_length": n_start, "start_shortest": env.shortest(env.start),
            "figure": png}


if __name__ == "__main__":
    main()
