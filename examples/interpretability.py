"""Interpretability and uncertainty for the digits CNN: saliency, Grad-CAM and MC dropout.

Saliency (Simonyan et al., 2014): how much does each pixel move the class score s_c?
    S_ij = |d s_c / d x_ij|                                  (one backward pass to the input)
Grad-CAM (Selvaraju et al., 2017): weight the last conv layer's maps A^k (here 64 x 4x4) by
their average gradient, keep the positive part, upsample to the image:
    alpha_k = mean_ij d s_c / d A^k_ij,   CAM = relu(sum_k alpha_k A^k)
MC dropout (Gal & Ghahramani, 2016): keep dropout on at test time, run T stochastic passes:
    mean p = 1/T sum_t softmax(f_t(x)),  variance = sum_c 1/T sum_t (p_tc - mean p_c)^2
and the predictive entropy H(mean p). Both are higher on out-of-distribution inputs (random
noise images) than on test digits: the model knows what it does not know (somewhat).
Figures: saliency and Grad-CAM mass per pixel is higher on the digit's ink than on background.
"""
from __future__ import annotations

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn
from ember.training import evaluate

from _common import save_figure, seed_everything
from digits_cnn import make_cnn, train_cnn
from digits_mlp import load_split

INK = 0.25          # pixels above this (of 1) are ink


def saliency(model, x, target):
    """|d s_target / d x| per pixel: (N, 8, 8)."""
    x = ember.from_numpy(x).requires_grad_(True)
    onehot = ember.from_numpy(np.eye(10, dtype=np.float32)[target])
    (model(x) * onehot).sum().backward()
    return np.abs(x.grad.numpy()[:, 0])


def grad_cam(model, x, target):
    """Grad-CAM on the last ReLU of the features (before the last pooling), upsampled to 8x8."""
    maps = model.features[:-1](ember.from_numpy(x))                 # (N, 64, 4, 4)
    scores = model.classifier(model.features[-1](maps))
    onehot = ember.from_numpy(np.eye(10, dtype=np.float32)[target])
    (grads,) = ember.autograd.grad((scores * onehot).sum(), [maps])
    alpha = grads.mean(dim=(2, 3), keepdim=True)                     # (N, 64, 1, 1)
    cam = F.relu((alpha * maps).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=(8, 8), mode="bilinear", align_corners=False)
    return cam.detach().numpy()[:, 0]


def ink_ratio(maps, x):
    """Mean map value on ink pixels over mean value on background pixels."""
    ink = x[:, 0] > INK
    return float(maps[ink].mean() / maps[~ink].mean())


def mc_dropout(model, x, passes):
    """(mean probabilities (N, 10), predictive variance (N,), entropy (N,)) from ``passes``
    forward passes with dropout on and everything else in eval mode."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with ember.no_grad():
        xt = ember.from_numpy(x)
        probs = np.stack([F.softmax(model(xt), dim=1).numpy() for _ in range(passes)])
    model.eval()
    mean = probs.mean(0)
    variance = probs.var(0).sum(1)
    entropy = -(mean * np.log(mean + 1e-12)).sum(1)
    return mean, variance, entropy


def main(fast: bool = False, out_dir="example_output") -> dict:
    rng = seed_everything(0)
    x_tr, x_te, y_tr, y_te = load_split(images=True)
    epochs, passes = (6, 20) if fast else (20, 50)
    model = make_cnn(dropout=0.3)
    train_cnn(model, x_tr, y_tr, epochs)
    acc = evaluate(model, nn.CrossEntropyLoss(), (x_te, y_te))["accuracy"]
    model.eval()
    sal = saliency(model, x_te, y_te)
    cam = grad_cam(model, x_te, y_te)
    sal_ratio, cam_ratio = ink_ratio(sal, x_te), ink_ratio(cam, x_te)
    print(f"CNN test accuracy {acc:.4f}; per-pixel mass on ink vs background: saliency "
          f"{sal_ratio:.2f}x, Grad-CAM {cam_ratio:.2f}x")

    noise = rng.random((200, 1, 8, 8)).astype(np.float32)          # out-of-distribution
    _, var_in, ent_in = mc_dropout(model, x_te, passes)
    _, var_out, ent_out = mc_dropout(model, noise, passes)
    print(f"MC dropout ({passes} passes): predictive variance {var_in.mean():.4f} on test "
          f"digits vs {var_out.mean():.4f} on noise images; entropy {ent_in.mean():.3f} vs "
          f"{ent_out.mean():.3f} nats")

    def draw(plt):
        fig, axes = plt.subplots(3, 7, figsize=(11, 5))
        for c in range(6):
            for r, (img, title) in enumerate(((x_te[c, 0], f"label {y_te[c]}"),
                                              (sal[c], "saliency"), (cam[c], "Grad-CAM"))):
                axes[r, c].imshow(img, cmap="gray_r" if r == 0 else "hot")
                axes[r, c].set_title(title, fontsize=8), axes[r, c].axis("off")
        gs = axes[0, 6].get_gridspec()
        for ax in axes[:, 6]:
            ax.remove()
        ax = fig.add_subplot(gs[:, 6])
        bins = np.linspace(0, max(var_in.max(), var_out.max()), 30)
        ax.hist(var_in, bins, alpha=0.6, label="test digits", density=True)
        ax.hist(var_out, bins, alpha=0.6, label="noise (OOD)", density=True)
        ax.set_xlabel("MC-dropout variance"), ax.legend(fontsize=7)

    path = save_figure(draw, out_dir, "interpretability.png")
    return {"test_accuracy": acc, "saliency_ink_ratio": sal_ratio, "gradcam_ink_ratio": cam_ratio,
            "variance_in": float(var_in.mean()), "variance_ood": float(var_out.mean()),
            "entropy_in": float(ent_in.mean()), "entropy_ood": float(ent_out.mean()),
            "figure": path}


if __name__ == "__main__":
    main()
