"""Activation functions, their derivatives, and vanishing gradients in a deep sigmoid net.

Backpropagation multiplies one factor per layer: for h_l = f(W_l h_{l-1} + b_l),

    dL/dh_{l-1} = W_l^T (f'(z_l) * dL/dh_l)

The sigmoid's slope is sigma'(z) = sigma(z)(1 - sigma(z)) <= 1/4, so through ten sigmoid layers
the gradient shrinks by roughly (1/4 * ||W||)^10: the first layers barely learn. Two remedies:
ReLU (slope 1 where active) with He initialisation (W ~ N(0, 2 / fan_in), which keeps the
variance of activations and gradients constant through depth), or batch normalisation
(z_hat = (z - mean) / std keeps every sigmoid in its steep middle, slope near 1/4, and rescales
the backward signal). The derivatives in the plot come from ember's autograd, not formulas.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from _common import save_figure, seed_everything

ACTIVATIONS = {"sigmoid": ember.sigmoid, "tanh": ember.tanh, "relu": F.relu,
               "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "elu": F.elu, "gelu": F.gelu,
               "silu": F.silu, "softplus": F.softplus}
SETUPS = ("sigmoid", "relu_he", "sigmoid_batchnorm")


def derivative(fn, x: np.ndarray):
    """f(x) and f'(x) elementwise, by backpropagating sum(f(x)) through ember's autograd."""
    t = ember.from_numpy(x).requires_grad_()
    y = fn(t)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def deep_net(setup: str, depth: int, width: int, in_features: int) -> nn.Sequential:
    layers, w = [], in_features
    for _ in range(depth):
        lin = nn.Linear(w, width)
        w = width
        if setup == "relu_he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")   # var 2 / fan_in
            nn.init.zeros_(lin.bias)
            layers += [lin, nn.ReLU()]
        elif setup == "sigmoid":
            layers += [lin, nn.Sigmoid()]                              # default init
        else:
            layers += [lin, nn.BatchNorm1d(width), nn.Sigmoid()]
    layers.append(nn.Linear(w, 2))
    return nn.Sequential(*layers)


def layer_grad_norms(model, X, y) -> list:
    """||dL/dW_l|| for every hidden Linear layer, first to last, after one backward pass."""
    model.zero_grad()
    F.cross_entropy(model(X), y).backward()
    linears = [m for m in model if isinstance(m, nn.Linear)][:-1]   # leave out the output layer
    return [float(np.linalg.norm(m.weight.grad.numpy())) for m in linears]


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    x = np.linspace(-4, 4, 401).astype(np.float32)
    curves = {name: derivative(fn, x) for name, fn in ACTIVATIONS.items()}
    max_slope = {name: float(d.max()) for name, (_, d) in curves.items()}
    print("largest slope:", ", ".join(f"{k} {v:.3f}" for k, v in max_slope.items()))

    depth, width, n = (10, 32, 128) if fast else (10, 64, 512)
    X = rng.standard_normal((n, 16)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    X, y = ember.from_numpy(X), ember.from_numpy(y)
    norms, ratio = {}, {}
    for setup in SETUPS:
        ember.manual_seed(1)
        norms[setup] = layer_grad_norms(deep_net(setup, depth, width, 16), X, y)
        ratio[setup] = norms[setup][0] / norms[setup][-1]   # first / last hidden layer
        print(f"{setup:18s} grad norm layer 1 {norms[setup][0]:.2e}, layer {depth} "
              f"{norms[setup][-1]:.2e}, ratio {ratio[setup]:.2e}")

    def draw(plt):
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        for name, (fx, dfx) in curves.items():
            axes[0].plot(x, fx, label=name)
            axes[1].plot(x, dfx, label=name)
        axes[0].set(title="activations f(x)", ylim=(-1.5, 4))
        axes[1].set(title="derivatives f'(x) (autograd)", ylim=(-0.2, 1.3))
        axes[0].legend(fontsize=8)
        for setup in SETUPS:
            axes[2].semilogy(range(1, depth + 1), norms[setup], marker="o", label=setup)
        axes[2].set(title=f"{depth}-layer net: ||dL/dW|| per layer", xlabel="layer")
        axes[2].legend()

    png = save_figure(draw, out_dir, "activations_and_gradients.png")
    return {"max_slope": max_slope, "grad_norms": norms, "first_last_ratio": ratio,
            "figure": png}


if __name__ == "__main__":
    main()
