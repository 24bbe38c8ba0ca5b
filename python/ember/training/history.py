"""``History``: what ``fit`` returns, one list per logged quantity (Keras's shape)."""
from __future__ import annotations


class History:
    """``history.history['val_loss'][e]`` is the value after epoch ``history.epoch[e]``.

    Keys: ``loss`` and each metric (training, averaged over the epoch's samples), ``val_loss``
    and ``val_<metric>`` when validation data is given, ``lr`` (first parameter group's learning
    rate during the epoch), plus anything callbacks add.
    """

    def __init__(self):
        self.history: dict = {}
        self.epoch: list = []

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def best(self, key: str = "val_loss", mode: str = "min") -> tuple:
        """(epoch, value) of the best value of ``key``."""
        values = self.history[key]
        pick = min if mode == "min" else max
        i = pick(range(len(values)), key=values.__getitem__)
        return self.epoch[i], values[i]

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) if isinstance(v[-1], float) else v[-1]
                for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def plot_history(history, path: str, keys=None, title: str | None = None) -> str:
    """Write the curves of ``history`` (a History or its dict) to a PNG at ``path``.

    Losses share one panel and other metrics (accuracy, ...) another; ``val_x`` is drawn dashed
    beside ``x``. Needs matplotlib (imported only here).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("plot_history needs matplotlib: pip install matplotlib") from exc
    hist = history.history if isinstance(history, History) else dict(history)
    keys = list(keys) if keys is not None else [k for k in hist if k != "lr"]
    bases = []
    for k in keys:
        base = k[4:] if k.startswith("val_") else k
        if base not in bases:
            bases.append(base)
    losses = [b for b in bases if "loss" in b]
    others = [b for b in bases if "loss" not in b]
    panels = [p for p in (losses, others) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, group in zip(axes[0], panels):
        for base in group:
            for key, style in ((base, "-"), (f"val_{base}", "--")):
                if key in hist and key in keys:
                    ax.plot(range(1, len(hist[key]) + 1), hist[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
