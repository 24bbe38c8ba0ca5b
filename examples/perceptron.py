"""The perceptron learning rule, its failure on XOR, and an MLP that solves XOR.

A perceptron predicts y_hat = step(w . x + b) with labels y in {-1, +1}. Rosenblatt's rule
updates only on a mistake:

    if y * (w . x + b) <= 0:   w <- w + lr * y * x,   b <- b + lr * y

On linearly separable data it converges in a finite number of updates (Novikoff: at most
(R / margin)^2 mistakes, R = max ||x||). XOR is not linearly separable: no line puts (0,0),(1,1)
on one side and (0,1),(1,0) on the other, so the rule keeps cycling and can never exceed 3/4.
One hidden layer fixes it: h = tanh(W1 x + b1), p = sigmoid(w2 . h + b2), trained by gradient
descent on the binary cross-entropy with ember's autograd.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from _common import save_figure, seed_everything

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([-1, 1, 1, -1])


def perceptron(X, y, epochs=100, lr=1.0):
    """Rosenblatt's rule in plain NumPy; returns (w, b, mistakes per epoch)."""
    w, b, history = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            if yi * (xi @ w + b) <= 0:          # wrong (or on the boundary): move towards yi
                w, b = w + lr * yi * xi, b + lr * yi
                mistakes += 1
        history.append(mistakes)
        if mistakes == 0:                       # a full pass without errors: converged
            break
    return w, b, history


def accuracy(X, y, w, b):
    return float(np.mean(np.where(X @ w + b > 0, 1, -1) == y))


def train_xor_mlp(hidden=4, steps=2000, lr=0.5):
    """A 2-4-1 tanh MLP on the four XOR points, full-batch SGD on BCE."""
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    opt = ember.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    x = ember.from_numpy(XOR_X)
    t = ember.from_numpy(((XOR_Y + 1) / 2).astype(np.float32)).reshape(-1, 1)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with ember.no_grad():
        pred = np.where(model(x).numpy().ravel() > 0, 1, -1)
    return model, float(np.mean(pred == XOR_Y)), losses


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    n = 100 if fast else 400
    # Two separable clouds with a guaranteed margin around the line x0 + x1 = 0.
    X = rng.uniform(-1, 1, size=(4 * n, 2))
    X = X[np.abs(X.sum(1)) > 0.2][:n]
    y = np.where(X.sum(1) > 0, 1, -1)
    w, b, mistakes = perceptron(X, y)
    sep_acc = accuracy(X, y, w, b)
    print(f"separable: converged after {len(mistakes)} epochs, accuracy {sep_acc:.0%}")

    wx, bx, xor_mistakes = perceptron(XOR_X, XOR_Y, epochs=50)
    xor_acc = accuracy(XOR_X, XOR_Y, wx, bx)
    print(f"XOR perceptron: still {xor_mistakes[-1]} mistakes per epoch after 50 epochs, "
          f"accuracy {xor_acc:.0%}")

    model, mlp_acc, losses = train_xor_mlp(steps=300 if fast else 2000)
    print(f"XOR MLP (2-4-1 tanh): accuracy {mlp_acc:.0%}, final loss {losses[-1]:.4f}")

    def draw(plt):
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        ax = axes[0]
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=10)
        xs = np.linspace(-1, 1, 2)
        ax.plot(xs, -(w[0] * xs + b) / (w[1] + 1e-12), "k-")
        ax.set(title=f"perceptron, separable: {sep_acc:.0%}", xlim=(-1, 1), ylim=(-1, 1))
        axes[1].plot(np.array(mistakes) / len(y), marker="o", label="separable (converged)")
        axes[1].plot(np.array(xor_mistakes) / 4, marker=".", label="XOR (never converges)")
        axes[1].set(title="perceptron: share of samples causing an update", xlabel="epoch",
                    ylim=(-0.05, 1.05))
        axes[1].legend()
        gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 100), np.linspace(-0.5, 1.5, 100))
        grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
        with ember.no_grad():
            z = model(ember.from_numpy(grid)).numpy().reshape(gx.shape)
        axes[2].contourf(gx, gy, z > 0, cmap="coolwarm", alpha=0.3)
        axes[2].scatter(XOR_X[:, 0], XOR_X[:, 1], c=XOR_Y, cmap="coolwarm", s=80)
        axes[2].set(title=f"MLP on XOR: {mlp_acc:.0%}")

    png = save_figure(draw, out_dir, "perceptron.png")
    return {"separable_accuracy": sep_acc, "separable_epochs": len(mistakes),
            "xor_perceptron_accuracy": xor_acc, "xor_mlp_accuracy": mlp_acc, "figure": png}


if __name__ == "__main__":
    main()
