"""``ember-demo``: train a tiny two-layer network with ember's autograd and print its loss.

The data are two interleaved half-moons (a classic non-linearly-separable problem); the model is
``logits = relu(x @ W1 + b1) @ W2 + b2``, trained by plain gradient descent on the logistic loss
``mean(log(1 + exp(-y * logits)))`` with y in {-1, +1}. Everything (matmul through the C++ GEMM,
the backward pass) is ember; NumPy only makes the data.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

import ember


def two_moons(n: int, noise: float, rng: np.random.Generator):
    """n points on two interleaved half circles; labels -1 / +1 as float32 column."""
    t = rng.uniform(0, math.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    labels = np.where(upper, 1.0, -1.0)[:, None]
    return points.astype(np.float32), labels.astype(np.float32)


def train(argv=None) -> float:
    """Train the demo model; returns the final loss."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args(argv)

    info = ember.backend_info()
    print(f"ember {ember.__version__}: simd={info['simd']} threads={info['num_threads']} "
          f"openmp={info['openmp']}")
    rng = np.random.default_rng(0)
    ember.manual_seed(0)
    x_np, y_np = two_moons(512, 0.1, rng)
    x, y = ember.from_numpy(x_np), ember.from_numpy(y_np)

    # He initialisation for the ReLU layer, small weights for the output.
    w1 = (ember.randn(2, args.hidden) * math.sqrt(2 / 2)).requires_grad_()
    b1 = ember.zeros(args.hidden, requires_grad=True)
    w2 = (ember.randn(args.hidden, 1) * math.sqrt(1 / args.hidden)).requires_grad_()
    b2 = ember.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    loss_value = float("nan")
    for step in range(args.steps + 1):
        logits = (x @ w1 + b1).relu() @ w2 + b2
        loss = ember.log(1 + ember.exp(-y * logits)).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= args.lr * p.grad
        loss_value = loss.item()
        if step % (args.steps // 6 or 1) == 0:
            accuracy = ((logits.detach() * y) > 0).float().mean().item()
            print(f"step {step:4d}  loss {loss_value:.4f}  accuracy {accuracy:.3f}")
    return loss_value


def main(argv=None) -> None:
    """Console entry point (``ember-demo``): exit status 0 on success."""
    train(argv)


if __name__ == "__main__":
    main()
