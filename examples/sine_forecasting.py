"""Time-series forecasting: an LSTM predicts the next value of a noisy sine wave.

Each training sample is a window x_1..x_T of s_t = A sin(2 pi f t + phi) + noise, with a
random amplitude, frequency and phase, and the target is the next value x_{T+1}. The LSTM
reads the window, and a linear head maps its last hidden state to the forecast:

    h_T = LSTM(x_1..x_T),   x_hat_{T+1} = w . h_T + b,   loss = mean (x_hat - x)^2

To forecast further ahead the model feeds its own prediction back in as the next input
(autoregressive roll-out), carrying its (h, c) state forward. The naive forecast
"x_hat_{T+1} = x_T" is the baseline to beat; the noise variance is the floor.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

import ember
import ember.nn.functional as F
from ember import nn, optim
from ember.data import make_sine_sequences

from _common import save_figure, seed_everything

NOISE = 0.05


class Forecaster(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        """x (N, T, 1) -> (forecast of the next value (N, 1), state)."""
        out, state = self.lstm(x, state)
        return self.head(out[:, -1]), state

    def roll_out(self, window, steps: int):
        """Forecast ``steps`` values after ``window`` (T,) by feeding predictions back in."""
        with ember.no_grad():
            pred, state = self(ember.tensor(window, dtype=ember.float32).reshape(1, -1, 1))
            out = [pred.item()]
            for _ in range(steps - 1):
                pred, state = self(pred.reshape(1, 1, 1), state)
                out.append(pred.item())
        return np.array(out)


@contextmanager
def one_thread():
    """A tiny model: one thread beats synchronising two at every time step."""
    previous = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        yield
    finally:
        ember.set_num_threads(previous)


def main(fast: bool = False, out_dir="example_output") -> dict:
    with one_thread():
        return run(fast, out_dir)


def run(fast: bool, out_dir) -> dict:
    rng = seed_everything(0)
    T = 30
    n_train, epochs = (600, 8) if fast else (3000, 25)
    X, y = make_sine_sequences(n_train, T, noise=NOISE, seed=1)
    Xte, yte = make_sine_sequences(500, T, noise=NOISE, seed=2)
    X, y = X.astype(np.float32), y.astype(np.float32)

    model = Forecaster()
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        for s in range(0, n_train, 32):
            idx = order[s:s + 32]
            pred, _ = model(ember.tensor(X[idx]))
            loss = F.mse_loss(pred, ember.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f"epoch {epoch + 1}: train batch MSE {loss.item():.5f}")

    with ember.no_grad():
        pred, _ = model(ember.tensor(Xte.astype(np.float32)))
    mse = float(np.mean((pred.numpy().astype(np.float64) - yte) ** 2))
    naive = float(np.mean((Xte[:, -1, 0] - yte[:, 0]) ** 2))
    print(f"test MSE {mse:.5f}  (naive 'repeat last value' {naive:.5f}, noise floor "
          f"{NOISE ** 2:.5f})")

    # a clean sine the model never saw: given T values, roll out the next 50
    t = np.arange(80)
    series = np.sin(2 * np.pi * 0.05 * t + 0.3)
    roll = model.roll_out(series[:T], 80 - T)
    roll_mse = float(np.mean((roll[:20] - series[T:T + 20]) ** 2))
    print(f"20-step autoregressive roll-out MSE on a clean sine: {roll_mse:.5f}")

    def draw(plt):
        plt.figure(figsize=(7, 3.5))
        plt.plot(t, series, "k-", lw=1, label="truth")
        plt.plot(t[:T], series[:T], "k.", label="given window")
        plt.plot(t[T:], roll, "r--", label="LSTM roll-out")
        plt.axvline(T - 0.5, color="gray", lw=0.5)
        plt.xlabel("t")
        plt.legend(loc="lower left")
        plt.title(f"sine forecasting: one-step test MSE {mse:.4f}")

    save_figure(draw, out_dir, "sine_forecasting.png")
    return {"test_mse": mse, "naive_mse": naive, "rollout_mse_20": roll_mse,
            "noise_floor": NOISE ** 2}


if __name__ == "__main__":
    main()
