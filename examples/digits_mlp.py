"""A multi-layer perceptron classifies the 8x8 handwritten digits.

Each image is flattened to a vector x of 64 pixels (scaled to [0, 1]). Two hidden layers
h1 = relu(W1 x + b1), h2 = relu(W2 h1 + b2) feed the logits z = W3 h2 + b3, and training
minimises the cross-entropy of the softmax,

    L = -1/N sum_i log softmax(z_i)[y_i],    softmax(z)_k = exp(z_k) / sum_j exp(z_j),

with Adam. The net sees no image structure at all (pixel order does not matter to it), yet
reaches >= 96% test accuracy on digits it never saw.

Run: python examples/digits_mlp.py   (writes example_output/digits_mlp.png)
"""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.data import load_digits, train_test_split
from ember.models import MLP
from ember.training import evaluate, fit

from _common import save_figure, seed_everything


def load_split(seed: int = 0, test_size: float = 0.25, images: bool = False):
    """Digits scaled to [0, 1], stratified train/test split: (x_tr, x_te, y_tr, y_te) arrays,
    float32 (N, 64), or (N, 1, 8, 8) with ``images``."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    return train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split()
    epochs = 8 if fast else 30
    model = MLP(64, hidden=(128, 64), out_features=10)
    opt = ember.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    history = fit(model, loss_fn, opt, (x_tr, y_tr), epochs=epochs, val_data=(x_te, y_te),
                  batch_size=32, progress=False)
    test = evaluate(model, loss_fn, (x_te, y_te))
    print(f"MLP on digits: {len(x_tr)} train / {len(x_te)} test images, {epochs} epochs, "
          f"test accuracy {test['accuracy']:.4f}")

    with ember.no_grad():
        pred = model(ember.from_numpy(x_te[:16])).argmax(dim=1).numpy()

    def draw(plt):
        fig = plt.figure(figsize=(11, 3.5))
        grid = fig.add_gridspec(4, 11)
        for col, key, label in ((0, "loss", "cross-entropy"), (4, "accuracy", "accuracy")):
            ax = fig.add_subplot(grid[:, col:col + 3])
            ax.plot(history[key], label="train")
            ax.plot(history["val_" + key], label="test")
            ax.set_xlabel("epoch"), ax.set_ylabel(label), ax.legend()
        for i in range(16):
            ax = fig.add_subplot(grid[i // 4, 7 + i % 4])
            ax.imshow(x_te[i].reshape(8, 8), cmap="gray_r")
            ax.set_title(f"pred {pred[i]}", fontsize=8, color="k" if pred[i] == y_te[i] else "r")
            ax.axis("off")

    path = save_figure(draw, out_dir, "digits_mlp.png")
    return {"test_accuracy": test["accuracy"], "train_accuracy": history["accuracy"][-1],
            "epochs": epochs, "figure": path}


if __name__ == "__main__":
    main()
