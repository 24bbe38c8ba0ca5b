"""train: one whole training step (forward, cross-entropy loss, backward, SGD update) of three
models, each written three ways from the same starting weights:

  MLP      784 -> 256 -> 128 -> 10, ReLU, batch 64
  LeNet-5  1x28x28: conv 6@5x5 (pad 2), ReLU, max-pool 2 -> conv 16@5x5, ReLU, max-pool 2
           -> 400 -> 120 -> 84 -> 10, batch 32
  LSTM     2 layers, input 32, hidden 128, 35 steps, batch 32; a linear head on the last step

ember: ember.nn modules + ember.optim.SGD, as a PyTorch user writes it. torch: the same script.
numpy: a hand-written step in plain NumPy (the NumPy twins of ember.ops for conv, pool, LSTM).
The check compares the parameter updates of one step from identical weights and batch.
"""
from __future__ import annotations

import numpy as np

import ember
from ember.bench.cases import Case, Prepared

R = ember.ops.reference
LR = 0.01


# ----------------------------------------------------------------------------------------------
# Plain NumPy pieces
# ----------------------------------------------------------------------------------------------
def _linear(x, w, b):
    return x @ w.T + b


def _linear_backward(g, x, w):
    return g @ w, g.T @ x, g.sum(axis=0)


def _cross_entropy(z, y):
    """Mean softmax cross-entropy over the batch and its gradient."""
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    n = z.shape[0]
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[np.arange(n), y]))
    dz = e / s
    dz[np.arange(n), y] -= 1
    return loss, dz / n


def _sgd(params, grads):
    for p, g in zip(params, grads):
        p -= LR * g


def mlp_numpy_step(p, x, y):
    w1, b1, w2, b2, w3, b3 = p
    h1 = _linear(x, w1, b1)
    a1 = np.maximum(h1, 0)
    h2 = _linear(a1, w2, b2)
    a2 = np.maximum(h2, 0)
    loss, dz = _cross_entropy(_linear(a2, w3, b3), y)
    da2, dw3, db3 = _linear_backward(dz, a2, w3)
    da1, dw2, db2 = _linear_backward(da2 * (h2 > 0), a1, w2)
    _, dw1, db1 = _linear_backward(da1 * (h1 > 0), x, w1)
    _sgd(p, (dw1, db1, dw2, db2, dw3, db3))
    return loss


def lenet_numpy_step(p, x, y):
    c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b = p
    h1 = R.conv2d(x, c1w, c1b, 1, 2)
    a1 = np.maximum(h1, 0)
    p1, i1 = R.max_pool2d(a1, 2)
    h2 = R.conv2d(p1, c2w, c2b)
    a2 = np.maximum(h2, 0)
    p2, i2 = R.max_pool2d(a2, 2)
    f = p2.reshape(len(x), -1)
    g1 = _linear(f, f1w, f1b)
    r1 = np.maximum(g1, 0)
    g2 = _linear(r1, f2w, f2b)
    r2 = np.maximum(g2, 0)
    loss, dz = _cross_entropy(_linear(r2, f3w, f3b), y)
    dr2, df3w, df3b = _linear_backward(dz, r2, f3w)
    dr1, df2w, df2b = _linear_backward(dr2 * (g2 > 0), r1, f2w)
    df, df1w, df1b = _linear_backward(dr1 * (g1 > 0), f, f1w)
    da2 = R.max_pool2d_backward(df.reshape(p2.shape), i2, a2.shape) * (h2 > 0)
    dp1, dc2w, dc2b = R.conv2d_backward(da2, p1, c2w)
    da1 = R.max_pool2d_backward(dp1, i1, a1.shape) * (h1 > 0)
    _, dc1w, dc1b = R.conv2d_backward(da1, x, c1w, 1, 2, output_mask=(False, True, True))
    _sgd(p, (dc1w, dc1b, dc2w, dc2b, df1w, df1b, df2w, df2b, df3w, df3b))
    return loss


def lstm_numpy_step(p, x, y):
    """x: (T, B, I). Two stacked LSTM layers, zero initial states, head on the last output."""
    wi0, wh0, bi0, bh0, wi1, wh1, bi1, bh1, hw, hb = p
    out0, _, _, cs0, g0 = R.lstm_sequence_forward(x, None, None, wi0, wh0, bi0, bh0)
    out1, _, _, cs1, g1 = R.lstm_sequence_forward(out0, None, None, wi1, wh1, bi1, bh1)
    loss, dz = _cross_entropy(_linear(out1[-1], hw, hb), y)
    dlast, dhw, dhb = _linear_backward(dz, out1[-1], hw)
    dout1 = np.zeros_like(out1)
    dout1[-1] = dlast
    d1 = R.lstm_sequence_backward(dout1, None, None, out0, None, None, wi1, wh1, out1, cs1, g1)
    d0 = R.lstm_sequence_backward(d1[0], None, None, x, None, None, wi0, wh0, out0, cs0, g0,
                                  input_grad=False)
    _sgd(p, (d0[3], d0[4], d0[5], d0[6], d1[3], d1[4], d1[5], d1[6], dhw, dhb))
    return loss


# ----------------------------------------------------------------------------------------------
# The same models as nn modules (ember and torch share the code: `lib` is ember or torch)
# ----------------------------------------------------------------------------------------------
def mlp_module(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def lenet_module(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def lstm_module(lib):
    nn = lib.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 128, num_layers=2)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[-1])
    return LSTMClassifier()


MODELS = {
    # name: (module builder, numpy step, input shape, batch)
    "MLP 784-256-128-10 B64": (mlp_module, mlp_numpy_step, (64, 784), 64),
    "LeNet-5 1x28x28 B32": (lenet_module, lenet_numpy_step, (32, 1, 28, 28), 32),
    "LSTM 2x128 T35 B32": (lstm_module, lstm_numpy_step, (35, 32, 32), 32),
}
QUICK = ["MLP 784-256-128-10 B64"]


def _module_step(lib, model, loss_fn, opt, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _case(name, dtype, torch):
    build, numpy_step, shape, batch = MODELS[name]

    def fresh():
        """Identical starting points: ember model, its weights as NumPy, a torch copy."""
        ember.manual_seed(0)
        model = build(ember)
        if dtype == "float64":
            model = model.double()
        weights = [p.detach().numpy().copy() for p in model.parameters()]
        tmodel = None
        if torch is not None:
            tmodel = build(torch).to(getattr(torch, dtype))
            with torch.no_grad():
                for tp, w in zip(tmodel.parameters(), weights):
                    tp.copy_(torch.from_numpy(w))
        return model, weights, tmodel

    def prepare():
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(dtype)
        y = rng.integers(0, 10, batch).astype(np.int64)
        model, weights, tmodel = fresh()
        ex, ey = ember.from_numpy(x), ember.from_numpy(y)
        impls = {"ember": _module_step(ember, model, ember.nn.CrossEntropyLoss(),
                                       ember.optim.SGD(model.parameters(), lr=LR), ex, ey),
                 "numpy": lambda: numpy_step(weights, x, y)}
        if tmodel is not None:
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)
            impls["torch"] = _module_step(torch, tmodel, torch.nn.CrossEntropyLoss(),
                                          torch.optim.SGD(tmodel.parameters(), lr=LR), tx, ty)

        def check():
            """The parameter updates of one step (new - old: LR times the gradients), so a
            wrong gradient cannot hide behind the size of the weights."""
            model2, weights2, _ = fresh()
            start = [w.copy() for w in weights2]
            _module_step(ember, model2, ember.nn.CrossEntropyLoss(),
                         ember.optim.SGD(model2.parameters(), lr=LR), ex, ey)()
            numpy_step(weights2, x, y)
            return (tuple(p.detach().numpy() - s0 for p, s0 in zip(model2.parameters(), start)),
                    tuple(w - s0 for w, s0 in zip(weights2, start)))
        return Prepared(impls, check=check)

    return Case("train", f"{name} step", dtype, prepare)


def cases(dtype: str, quick: bool, torch):
    for name in (QUICK if quick else MODELS):
        yield _case(name, dtype, torch)
