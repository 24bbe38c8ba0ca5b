"""Transfer learning: features learnt on digits 0-4 help to learn digits 5-9 from 10 labels each.

Pre-train the digits CNN on the source task (digits 0-4, all labels). Its convolutional
features (strokes, curves) are not specific to those classes, so for the target task (digits
5-9, only 10 labelled images per class) we follow the usual two-phase recipe:

    1. freeze the features     theta_f fixed (requires_grad = False), a fresh head g trained:
                               min_g sum_i CE(g(f(x_i; theta_f)), y_i)
    2. unfreeze and fine-tune  everything, at a lower learning rate (3e-4 instead of 1e-3)

and compare with the same network trained from scratch on the same images for as many epochs.
Few labels make single runs noisy, so both are averaged over three random draws of the labels.
"""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.training import evaluate
from ember.utils.finetune import count_parameters, freeze, unfreeze

from _common import save_figure, seed_everything
from digits_cnn import make_cnn, train_cnn
from digits_mlp import load_split

PER_CLASS = 10


def few_labels(x, y, classes, per_class, rng):
    """``per_class`` random examples of each class, labels renumbered 0..len(classes)-1."""
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                          for c in classes])
    return x[idx], np.searchsorted(classes, y[idx])


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split(images=True)
    src, tgt = np.arange(5), np.arange(5, 10)
    src_tr, src_te, tgt_te = np.isin(y_tr, src), np.isin(y_te, src), np.isin(y_te, tgt)
    xt_te, yt_te = x_te[tgt_te], y_te[tgt_te] - 5
    pre_epochs, ft_epochs, draws = (5, 15, 1) if fast else (15, 30, 3)
    loss_fn = nn.CrossEntropyLoss()

    # pre-train on the source digits 0-4
    base = make_cnn(dropout=0.2, num_classes=5)
    train_cnn(base, x_tr[src_tr], y_tr[src_tr], pre_epochs)
    src_acc = evaluate(base, loss_fn, (x_te[src_te], y_te[src_te]))["accuracy"]
    print(f"pre-trained on digits 0-4: test accuracy {src_acc:.3f}")

    acc_t, acc_s, curves_t, curves_s = [], [], [], []
    for draw_seed in range(draws):
        x_few, y_few = few_labels(x_tr, y_tr, tgt, PER_CLASS, np.random.default_rng(draw_seed))
        val = (xt_te, yt_te)
        ember.manual_seed(1)
        transfer = make_cnn(dropout=0.2, num_classes=5)
        transfer.features.load_state_dict(base.features.state_dict())
        freeze(transfer.features)                                  # phase 1: head only
        trainable = count_parameters(transfer, trainable_only=True)
        h1 = train_cnn(transfer, x_few, y_few, ft_epochs, *val, batch_size=16)
        unfreeze(transfer.features)                                # phase 2: everything
        h2 = train_cnn(transfer, x_few, y_few, ft_epochs, *val, batch_size=16, lr=3e-4)
        ember.manual_seed(1)
        scratch = make_cnn(dropout=0.2, num_classes=5)
        hs = train_cnn(scratch, x_few, y_few, 2 * ft_epochs, *val, batch_size=16)
        acc_t.append(evaluate(transfer, loss_fn, val)["accuracy"])
        acc_s.append(evaluate(scratch, loss_fn, val)["accuracy"])
        curves_t.append(h1["val_accuracy"] + h2["val_accuracy"])
        curves_s.append(hs["val_accuracy"])
        print(f"  labels draw {draw_seed}: transfer {acc_t[-1]:.3f}  scratch {acc_s[-1]:.3f}")
    print(f"digits 5-9 from {PER_CLASS} labels per class, mean test accuracy over {draws} "
          f"draws: transfer {np.mean(acc_t):.3f} (phase 1 trains {trainable} of "
          f"{count_parameters(transfer)} parameters) vs from scratch {np.mean(acc_s):.3f}")

    def draw(plt):
        fig, ax = plt.subplots(figsize=(6, 3.8))
        ax.plot(np.mean(curves_t, axis=0), label="transfer (frozen, then fine-tuned)")
        ax.plot(np.mean(curves_s, axis=0), label="from scratch")
        ax.axvline(ft_epochs - 0.5, color="gray", lw=0.8, ls="--")
        ax.set_xlabel("fine-tuning epoch"), ax.set_ylabel("test accuracy on digits 5-9")
        ax.set_title(f"{PER_CLASS} labelled images per class"), ax.legend()

    path = save_figure(draw, out_dir, "transfer_learning.png")
    return {"source_accuracy": src_acc, "transfer_accuracy": float(np.mean(acc_t)),
            "scratch_accuracy": float(np.mean(acc_s)), "transfer_runs": acc_t, "scratch_runs": acc_s,
            "trainable_parameters": trainable, "figure": path}


if __name__ == "__main__":
    main()
