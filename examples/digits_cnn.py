"""A small LeNet-style convolutional network classifies the 8x8 handwritten digits.

A convolution slides small learned filters over the image, so every position is processed by
the same weights (translation equivariance, few parameters):

    y[o, i, j] = b[o] + sum_c sum_{u,v} w[o, c, u, v] * x[c, i + u - p, j + v - p]

Like LeNet-5 the net alternates convolutions (3x3, ReLU) and 2x2 max-pooling (8x8 -> 4x4 ->
2x2, 32 then 64 channels), then classifies with a fully connected head (256 -> 128 -> 10);
cross-entropy and Adam train it. It uses the 2-D structure the MLP ignores and reaches >= 98%
test accuracy. (ember.models.LeNet5 itself, 6 and 16 channels of 5x5, reaches about 96% on
these tiny images, as the same net does in PyTorch.)
"""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.metrics import confusion_matrix
from ember.training import evaluate, fit

from _common import save_figure, seed_everything
from digits_mlp import load_split


class DigitsCNN(nn.Module):
    """features: conv 32 -> conv 32 -> pool -> conv 64 -> pool, (N, 1, 8, 8) -> (N, 64, 2, 2);
    classifier: flatten -> dropout -> 256 -> 128 -> dropout -> num_classes logits."""

    def __init__(self, dropout: float = 0.0, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(256, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def make_cnn(dropout: float = 0.0, num_classes: int = 10) -> DigitsCNN:
    """The digits CNN the other examples reuse."""
    return DigitsCNN(dropout, num_classes)


def train_cnn(model, x_tr, y_tr, epochs: int, x_val=None, y_val=None, lr: float = 1e-3,
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
    epochs = 6 if fast else 20
    model = make_cnn()
    n_params = sum(p.numel() for p in model.parameters())
    history = train_cnn(model, x_tr, y_tr, epochs, x_te, y_te)
    test = evaluate(model, nn.CrossEntropyLoss(), (x_te, y_te))
    cm = confusion(model, x_te, y_te)
    print(f"CNN ({n_params} parameters) on digits, {epochs} epochs: test accuracy "
          f"{test['accuracy']:.4f} ({int(cm.sum() - np.trace(cm))} of {len(y_te)} wrong)")

    filters = model.features[0].weight.detach().numpy()[:, 0]     # (32, 3, 3)

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
        for i in range(6):  # the first six of 32
            ax = fig.add_subplot(grid[i // 3, 6 + i % 3])
            ax.imshow(filters[i], cmap="RdBu")
            ax.set_title(f"conv1 filter {i}", fontsize=7), ax.axis("off")

    path = save_figure(draw, out_dir, "digits_cnn.png")
    return {"test_accuracy": test["accuracy"], "train_accuracy": history["accuracy"][-1],
            "parameters": n_params, "epochs": epochs, "figure": path}


if __name__ == "__main__":
    main()
