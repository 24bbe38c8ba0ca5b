"""A small convolutional network (LeNet's conv-pool stages, VGG's 3x3 filters) classifies digits.

A convolution slides small learned filters over the image, so every position is processed by
the same weights (translation equivariance, few parameters):

    y[o, i, j] = b[o] + sum_c sum_{u,v} w[o, c, u, v] * x[c, i + u - p, j + v - p]

Like LeNet-5, the net alternates convolutions and 2x2 max-pooling, then classifies; like VGG it
uses pairs of 3x3 convolutions with batch norm (16 then 32 channels: 8x8 -> 4x4 -> 2x2), then
global average pooling and one linear layer (ember.models.SmallVGG). Cross-entropy and Adam train
it. It uses the 2-D structure the MLP ignores and reaches >= 98% test accuracy. (ember.models.
LeNet5 itself, 6 and 16 channels of 5x5, reaches about 96% on these tiny images, as in PyTorch.)
"""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.metrics import confusion_matrix
from ember.models import SmallVGG
from ember.training import evaluate, fit

from _common import save_figure, seed_everything
from digits_mlp import load_split


def make_cnn(dropout: float = 0.0, num_classes: int = 10) -> SmallVGG:
    """The digits CNN the other examples reuse: two VGG stages, 16 and 32 channels."""
    return SmallVGG(in_channels=1, num_classes=num_classes, widths=(16, 32), dropout=dropout)


def train_cnn(model, x_tr, y_tr, epochs: int, x_val=None, y_val=None, lr: float = 2e-3,
              weight_decay: float = 0.0, callbacks=(), batch_size: int = 32):
    """Adam + cross-entropy through ``ember.training.fit``; returns the History."""
    opt = ember.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    val = None if x_val is None else (x_val, y_val)
    return fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=epochs, val_data=val,
               batch_size=batch_size, callbacks=callbacks, progress=False)


def confusion(model, x, y) -> np.ndarray:
    model.eval()
    with ember.no_grad():
        pred = model(ember.from_numpy(x)).argmax(dim=1).numpy()
    return confusion_matrix(y, pred, labels=list(range(10)))


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split(images=True)           # (N, 1, 8, 8) in [0, 1]
    epochs = 4 if fast else 30
    model = make_cnn()
    n_params = sum(p.numel() for p in model.parameters())
    history = train_cnn(model, x_tr, y_tr, epochs, x_te, y_te)
    test = evaluate(model, nn.CrossEntropyLoss(), (x_te, y_te))
    cm = confusion(model, x_te, y_te)
    print(f"CNN ({n_params} parameters) on digits, {epochs} epochs: test accuracy "
          f"{test['accuracy']:.4f} ({int(cm.sum() - np.trace(cm))} of {len(y_te)} wrong)")

    filters = model.features[0].weight.detach().numpy()[:, 0]     # (16, 3, 3)

    def draw(plt):
        fig = plt.figure(figsize=(11, 3.6))
        grid = fig.add_gridspec(2, 9)
        ax = fig.add_subplot(grid[:, 0:3])
        ax.plot(history["accuracy"], label="train")
        ax.plot(history["val_accuracy"], label="test")
        ax.set_xlabel("epoch"), ax.set_ylabel("accuracy"), ax.set_ylim(0.8, 1.0), ax.legend()
        ax = fig.add_subplot(grid[:, 3:6])
        ax.imshow(cm, cmap="Blues")
        ax.set_xlabel("predicted"), ax.set_ylabel("true"), ax.set_title("test confusion")
        ax.set_xticks(range(10)), ax.set_yticks(range(10))
        for i in range(6):
            ax = fig.add_subplot(grid[i // 3, 6 + i % 3])
            ax.imshow(filters[i], cmap="RdBu")
            ax.set_title(f"conv1 filter {i}", fontsize=7), ax.axis("off")

    path = save_figure(draw, out_dir, "digits_cnn.png")
    return {"test_accuracy": test["accuracy"], "train_accuracy": history["accuracy"][-1],
            "parameters": n_params, "epochs": epochs, "figure": path}


if __name__ == "__main__":
    main()
