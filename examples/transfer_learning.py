"""Transfer learning: features learnt on digits 0-4 help to learn digits 5-9 from one label each.

Pre-train the digits CNN on the source task (digits 0-4, all labels, each image also seen in a
few randomly rotated and shifted copies from ember.data.transforms). Its first two convolutions
detect strokes and curves that are not specific to those classes, and the augmentation makes
them robust to small shifts and rotations. For the target task (digits 5-9, ONE labelled image
per class) the transfer network keeps those two layers frozen (requires_grad = False) and learns
the rest (last convolution and classifier, freshly initialised):

    min_{theta_3, g}  sum_i CE(g(conv_3(f_12(x_i; theta_12 fixed); theta_3)), y_i)

The same network trained from scratch on the same five images, with the same optimiser, learning
rate (Adam 1e-3, fixed a priori; 3e-3 and 3e-4 are worse for both arms) and budget (60 epochs,
each one full-batch step) is the baseline. One-shot results vary a lot with the labels drawn, so
both arms are compared on many draws with the same images and the same initial weights for the
layers they both learn. Part of the gain is speed: given twice the steps, scratch closes most of
the gap (mean ahead by only about 0.01 over 30 draws, and behind on one of five seeds).
"""
from __future__ import annotations

import numpy as np

import ember
from ember import nn
from ember.data import transforms as T
from ember.training import evaluate
from ember.utils.finetune import count_parameters, freeze

from _common import save_figure, seed_everything
from digits_cnn import make_cnn, train_cnn
from digits_mlp import load_split

PER_CLASS = 1
FROZEN = (0, 2)          # indices of the two transferred convolutions in DigitsCNN.features


def few_labels(x, y, classes, per_class, rng):
    """``per_class`` random examples of each class, labels renumbered 0..len(classes)-1."""
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                          for c in classes])
    return x[idx], np.searchsorted(classes, y[idx])


def augmented(x, y, copies):
    """x plus ``copies`` randomly rotated (+-12 degrees) and shifted (+-1 pixel) versions."""
    tf = T.Compose([T.RandomRotation(12, T.InterpolationMode.BILINEAR), T.RandomCrop(8, padding=1)])
    xs = [x] + [np.stack([tf(img) for img in x]) for _ in range(copies)]
    return np.concatenate(xs), np.tile(y, copies + 1)


def main(fast: bool = False, out_dir="example_output", seed: int = 0) -> dict:
    """``seed`` sets the pre-training, the label draws and the initial weights."""
    seed_everything(seed)
    x_tr, x_te, y_tr, y_te = load_split(images=True)
    src, tgt = np.arange(5), np.arange(5, 10)
    src_tr, src_te, tgt_te = np.isin(y_tr, src), np.isin(y_te, src), np.isin(y_te, tgt)
    test = (x_te[tgt_te], y_te[tgt_te] - 5)                      # digits 5-9, never trained on
    pre_epochs, copies, ft_epochs, draws = (8, 1, 60, 20) if fast else (30, 3, 60, 30)
    loss_fn = nn.CrossEntropyLoss()

    # pre-train on the source digits 0-4 (with augmented copies)
    base = make_cnn(dropout=0.2, num_classes=5)
    train_cnn(base, *augmented(x_tr[src_tr], y_tr[src_tr], copies), pre_epochs)
    src_acc = evaluate(base, loss_fn, (x_te[src_te], y_te[src_te]))["accuracy"]
    print(f"pre-trained on digits 0-4: test accuracy {src_acc:.3f}")
    pretrained = base.features.state_dict()

    acc_t, acc_s = [], []
    for d in range(draws):
        x_few, y_few = few_labels(x_tr, y_tr, tgt, PER_CLASS, np.random.default_rng([seed, d]))
        ember.manual_seed(1000 * seed + d)
        transfer = make_cnn(dropout=0.2, num_classes=5)
        state = transfer.features.state_dict()
        state.update({k: v for k, v in pretrained.items() if int(k.split(".")[0]) in FROZEN})
        transfer.features.load_state_dict(state)
        for i in FROZEN:
            freeze(transfer.features[i])
        trainable = count_parameters(transfer, trainable_only=True)
        train_cnn(transfer, x_few, y_few, ft_epochs, batch_size=16)
        ember.manual_seed(1000 * seed + d)                  # same initial weights as above
        scratch = make_cnn(dropout=0.2, num_classes=5)
        train_cnn(scratch, x_few, y_few, ft_epochs, batch_size=16)
        acc_t.append(evaluate(transfer, loss_fn, test)["accuracy"])
        acc_s.append(evaluate(scratch, loss_fn, test)["accuracy"])
        print(f"  labels draw {d}: transfer {acc_t[-1]:.3f}  scratch {acc_s[-1]:.3f}")
    wins = int(np.sum(np.array(acc_t) > np.array(acc_s)))
    print(f"digits 5-9 from {PER_CLASS} label per class, mean test accuracy over {draws} draws: "
          f"transfer {np.mean(acc_t):.3f} (learns {trainable} of {count_parameters(transfer)} "
          f"parameters) vs from scratch {np.mean(acc_s):.3f}; transfer ahead on {wins} draws")

    def draw(plt):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
        means = [np.mean(acc_t), np.mean(acc_s)]
        errs = [np.std(a) / np.sqrt(draws) for a in (acc_t, acc_s)]
        ax.bar(["transfer\n(conv 1-2 frozen)", "from scratch"], means, yerr=errs, capsize=4,
               color=["C0", "C1"])
        ax.set_ylim(0.5, 1.0), ax.set_ylabel("test accuracy on digits 5-9")
        ax.set_title(f"{PER_CLASS} labelled image per class: mean ± s.e. of {draws} draws")
        bx.scatter(acc_s, acc_t, s=12)
        lo, hi = min(acc_s + acc_t) - 0.02, max(acc_s + acc_t) + 0.02
        bx.plot([lo, hi], [lo, hi], color="gray", lw=0.8, ls="--")
        bx.set_xlabel("from scratch"), bx.set_ylabel("transfer"), bx.set_title("each label draw")

    path = save_figure(draw, out_dir, "transfer_learning.png")
    return {"source_accuracy": src_acc, "transfer_accuracy": float(np.mean(acc_t)),
            "scratch_accuracy": float(np.mean(acc_s)), "transfer_runs": acc_t, "scratch_runs": acc_s,
            "trainable_parameters": trainable, "figure": path}


if __name__ == "__main__":
    main()
