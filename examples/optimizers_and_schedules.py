"""Optimisers and learning-rate schedules on one task (a two-arm spiral, one MLP, one budget).

With gradient g_t = dL/dw at step t (ember.optim names):
    SGD        w -= lr * g
    momentum   v = mu v + g;  w -= lr * v                      (heavy ball, mu = 0.9)
    Nesterov   v = mu v + g;  w -= lr * (g + mu v)             (looks one step ahead)
    Adagrad    G += g^2;      w -= lr * g / (sqrt(G) + eps)    (per-weight rates that only shrink)
    RMSprop    s = a s + (1-a) g^2;  w -= lr * g / (sqrt(s) + eps)   (forgetting average)
    Adam       m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
               w -= lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1-b1^t), v_hat = v / (1-b2^t)
Schedules (ember.optim.lr_scheduler) multiply the base rate lr_0 by a factor per step t:
    StepLR       gamma^floor(t / step_size)       ExponentialLR   gamma^t
    CosineAnnealingLR   eta_min + (lr_0 - eta_min)(1 + cos(pi t / T)) / 2
    warm-up      SequentialLR(LinearLR from 0.1 to 1 over W steps, then cosine)
Every run starts from the same initial weights and takes the same number of full-batch steps.
"""
from __future__ import annotations

import copy

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.data import make_spirals
from ember.optim import lr_scheduler as sched
from _common import save_figure, seed_everything

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.05),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.003),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
}


def schedules(steps: int) -> dict:
    """Schedules for Adam(lr=0.02), each a function optimizer -> scheduler (or None)."""
    warm = max(steps // 10, 1)
    return {
        "constant": lambda o: None,
        "step": lambda o: sched.StepLR(o, step_size=steps // 3, gamma=0.3),
        "exponential": lambda o: sched.ExponentialLR(o, gamma=0.05 ** (1 / steps)),
        "cosine": lambda o: sched.CosineAnnealingLR(o, T_max=steps),
        "warm-up + cosine": lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, start_factor=0.1, total_iters=warm),
                sched.CosineAnnealingLR(o, T_max=steps - warm)], milestones=[warm]),
    }


def run(model, make_opt, X, y, steps, make_sched=lambda o: None):
    """Full-batch training of a copy of ``model``; returns (losses, learning rates)."""
    model = copy.deepcopy(model)
    opt = make_opt(model.parameters())
    scheduler = make_sched(opt)
    losses, lrs = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        losses.append(float(loss.item()))
    with ember.no_grad():
        acc = float((model(X).argmax(1) == y).float().mean().item())
    return losses, lrs, acc


def main(fast: bool = False, out_dir="example_output") -> dict:
    seed_everything(0)
    n, steps = (128, 120) if fast else (512, 400)
    X, y = make_spirals(n, n_turns=1.0, noise=0.03, seed=0, return_tensors=True)
    X = X.float()
    model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 2))     # one initialisation shared by every run

    final, curves = {}, {}
    for name, make_opt in OPTIMIZERS.items():
        losses, _, acc = run(model, make_opt, X, y, steps)
        curves[name], final[name] = losses, losses[-1]
        print(f"{name:9s} final loss {losses[-1]:.4f}  train accuracy {acc:.1%}")

    sched_final, sched_curves = {}, {}
    for name, make_sched in schedules(steps).items():
        losses, lrs, acc = run(model, lambda p: optim.Adam(p, lr=0.02), X, y, steps, make_sched)
        sched_curves[name], sched_final[name] = (losses, lrs), losses[-1]
        print(f"Adam + {name:16s} final loss {losses[-1]:.4f}  train accuracy {acc:.1%}")

    def draw(plt):
        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        for name, losses in curves.items():
            axes[0].semilogy(losses, label=name)
        axes[0].set(title=f"optimisers ({steps} full-batch steps)", xlabel="step",
                    ylabel="cross-entropy")
        for name, (losses, lrs) in sched_curves.items():
            axes[1].semilogy(losses, label=name)
            axes[2].plot(lrs, label=name)
        axes[1].set(title="Adam(lr=0.02) with schedules", xlabel="step")
        axes[2].set(title="learning rate", xlabel="step")
        for ax in axes:
            ax.legend(fontsize=8)

    png = save_figure(draw, out_dir, "optimizers_and_schedules.png")
    return {"final_loss": final, "schedule_final_loss": sched_final, "figure": png}


if __name__ == "__main__":
    main()
