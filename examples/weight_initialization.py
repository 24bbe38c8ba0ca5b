"""Weight initialisation: zeros, too small, Xavier/Glorot and He/Kaiming on a deep network.

For z = W h with fan_in inputs, Var(z) = fan_in * Var(W) * E[h^2]. Through L layers the
signal (and, backwards, the gradient) is multiplied by fan_in * Var(W) * gain per layer:
    zeros           W = 0: every hidden unit computes the same thing and gets the same gradient
                    (here exactly zero), so the symmetry is never broken: nothing learns
    too small       W ~ N(0, 0.01^2): the factor is 64 * 1e-4 << 1, activations shrink towards 0
                    geometrically with depth and the gradients of the early layers vanish
    Xavier/Glorot   Var(W) = 2 / (fan_in + fan_out): factor ~1 for tanh (slope 1 at 0)
    He/Kaiming      Var(W) = 2 / fan_in: factor ~1 for ReLU, which zeroes half its inputs
The same 10-layer network (tanh; ReLU for He) is trained with SGD + momentum from each
initialisation on two interleaved moons; biases start at zero.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.data import make_moons
from _common import save_figure, seed_everything

SCHEMES = {   # name: (initialiser of a weight tensor, activation)
    "zeros": (nn.init.zeros_, nn.Tanh),
    "too small N(0, 0.01)": (lambda w: nn.init.normal_(w, 0.0, 0.01), nn.Tanh),
    "Xavier (tanh)": (lambda w: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh")),
                      nn.Tanh),
    "He (ReLU)": (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), nn.ReLU),
}


def deep_net(init, act, depth=10, width=64):
    layers, w = [], 2
    for _ in range(depth):
        layers += [nn.Linear(w, width), act()]
        w = width
    layers.append(nn.Linear(w, 2))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            init(m.weight)
            nn.init.zeros_(m.bias)
    return model


def activation_stds(model, X) -> list:
    """Standard deviation of each hidden layer's output at initialisation."""
    stds, h = [], X
    with ember.no_grad():
        for m in list(model)[:-1]:
            h = m(h)
            if not isinstance(m, nn.Linear):
                stds.append(float(h.std().item()))
    return stds


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    n, steps = (128, 100) if fast else (1024, 400)
    X, y = make_moons(n, noise=0.1, random_state=0, return_tensors=True)
    X = X.float()
    results, curves, stds = {}, {}, {}
    for name, (init, act) in SCHEMES.items():
        ember.manual_seed(1)
        model = deep_net(init, act)
        stds[name] = activation_stds(model, X)
        opt = ember.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        with ember.no_grad():
            acc = float((model(X).argmax(1) == y).float().mean().item())
        curves[name] = losses
        results[name] = {"final_loss": losses[-1], "accuracy": acc,
                         "last_layer_std": stds[name][-1]}
        print(f"{name:22s} activation std at layer 10: {stds[name][-1]:.1e}   "
              f"final loss {losses[-1]:.4f}   train accuracy {acc:.1%}")

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name in SCHEMES:
            axes[0].semilogy(range(1, len(stds[name]) + 1), np.maximum(stds[name], 1e-30),
                             marker="o", label=name)
            axes[1].plot(curves[name], label=name)
        axes[0].set(title="std of activations at initialisation", xlabel="layer")
        axes[1].set(title="training loss (SGD + momentum)", xlabel="step")
        axes[1].axhline(np.log(2), color="gray", ls=":")
        axes[1].legend()

    png = save_figure(draw, out_dir, "weight_initialization.png")
    return {"results": results, "figure": png}


if __name__ == "__main__":
    main()
