"""Regularisation: dropout, L2 weight decay, data augmentation and early stopping shrink the
gap between training and test performance (overfitting).

With only 20 digits per class the CNN of digits_cnn.py memorises its training set: training
loss -> 0 while the test loss stalls or rises. Four standard remedies, used together:
  dropout        h <- h * m / (1 - p),  m ~ Bernoulli(1 - p)  (only while training)
  L2 / decay     L + lambda/2 ||w||^2, i.e. g <- g + lambda w  (optimizer weight_decay)
  augmentation   train on random label-preserving changes of x (small rotations)
  early stopping stop when the validation loss has not improved for `patience` epochs and
                 restore the best weights
The overfitting gap is measured on clean data after training: gap = L_test - L_train (and the
accuracy gap acc_train - acc_test); the regularised net's gap is smaller.
"""
from __future__ import annotations

import ember
from ember import nn
from ember.data import train_test_split, transforms
from ember.training import EarlyStopping, evaluate, fit
from ember.utils.data import DataLoader, Dataset

from _common import save_figure, seed_everything
from digits_cnn import make_cnn
from digits_mlp import load_split


class Augmented(Dataset):
    """(image, label) pairs with a fresh random transform drawn for every sample."""

    def __init__(self, x, y, transform):
        self.x, self.y, self.transform = x, y, transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.transform(ember.from_numpy(self.x[i])), int(self.y[i])


def run(x_tr, y_tr, val, epochs, regularised: bool):
    """Train the digits CNN plainly or with all four remedies; returns (model, history)."""
    model = make_cnn(dropout=0.5 if regularised else 0.0)
    opt = ember.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3 if regularised else 0)
    if regularised:
        augment = transforms.RandomRotation(10)   # (1-pixel shifts lose ink at 8x8: no)
        data = DataLoader(Augmented(x_tr, y_tr, augment), batch_size=32, shuffle=True)
        callbacks = [EarlyStopping("val_loss", patience=8, restore_best_weights=True)]
    else:
        data, callbacks = (x_tr, y_tr), []
    history = fit(model, nn.CrossEntropyLoss(), opt, data, epochs=epochs, val_data=val,
                  batch_size=32, callbacks=callbacks, progress=False)
    return model, history


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    x_pool, x_te, y_pool, y_te = load_split(images=True)
    # a small training set makes overfitting visible; a separate validation set drives
    # early stopping; the test set measures the gap
    x_tr, x_rest, y_tr, y_rest = train_test_split(x_pool, y_pool, train_size=200,
                                                  random_state=0, stratify=y_pool)
    x_val, y_val = x_rest[:300], y_rest[:300]
    epochs = 25 if fast else 60
    loss_fn = nn.CrossEntropyLoss()
    results, histories = {}, {}
    for name, reg in (("plain", False), ("regularised", True)):
        ember.manual_seed(1)
        model, histories[name] = run(x_tr, y_tr, (x_val, y_val), epochs, reg)
        train = evaluate(model, loss_fn, (x_tr, y_tr))           # clean images, eval mode
        test = evaluate(model, loss_fn, (x_te, y_te))
        results[name] = {"train_loss": train["loss"], "test_loss": test["loss"],
                         "train_accuracy": train["accuracy"], "test_accuracy": test["accuracy"],
                         "loss_gap": test["loss"] - train["loss"],
                         "accuracy_gap": train["accuracy"] - test["accuracy"],
                         "epochs_run": len(histories[name]["loss"])}
        r = results[name]
        print(f"{name:12s} {r['epochs_run']:3d} epochs  train/test loss {r['train_loss']:.3f} / "
              f"{r['test_loss']:.3f} (gap {r['loss_gap']:.3f})  accuracy "
              f"{r['train_accuracy']:.3f} / {r['test_accuracy']:.3f} "
              f"(gap {r['accuracy_gap']:.3f})")

    def draw(plt):
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
        for ax, (name, h) in zip(axes, histories.items()):
            ax.plot(h["loss"], label="train loss")
            ax.plot(h["val_loss"], label="validation loss")
            ax.set_yscale("log"), ax.set_xlabel("epoch"), ax.legend()
            ax.set_title(f"{name}: test-train loss gap {results[name]['loss_gap']:.3f}")
        axes[0].set_ylabel("cross-entropy")

    path = save_figure(draw, out_dir, "regularization.png")
    return {"plain": results["plain"], "regularised": results["regularised"],
            "gap_plain": results["plain"]["loss_gap"],
            "gap_regularized": results["regularised"]["loss_gap"], "figure": path}


if __name__ == "__main__":
    main()
