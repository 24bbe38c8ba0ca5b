"""ember.training (fit, evaluate, callbacks, History, search) and ember.utils fine-tuning
helpers."""
from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

import ember
from ember import nn
from ember.training import (Callback, EarlyStopping, History, LearningRateMonitor,
                            ModelCheckpoint, ProgressBar, evaluate, fit, grid_search,
                            loguniform, plot_history, random_search, uniform)
from ember.utils import count_parameters, freeze, freeze_batchnorm, param_groups, unfreeze


def binary_data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = ((x[:, 0] + x[:, 1]) > 0).astype(np.float32)[:, None]
    return x, y


def small_model(seed=0, out=1):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, out))


def test_fit_learns_and_logs_every_epoch():
    x, y = binary_data()
    model = small_model()
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    hist = fit(model, nn.BCEWithLogitsLoss(), opt, (x[:200], y[:200]), epochs=12,
               val_data=(x[200:], y[200:]), progress=False)
    assert isinstance(hist, History) and hist.epoch == list(range(12))
    assert set(hist.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert hist["accuracy"][-1] > 0.9 and hist["val_accuracy"][-1] > 0.85
    ev = evaluate(model, nn.BCEWithLogitsLoss(), (x[200:], y[200:]))
    assert ev["loss"] == pytest.approx(hist["val_loss"][-1], rel=1e-6)
    assert ev["accuracy"] == pytest.approx(hist["val_accuracy"][-1])


def test_fit_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = binary_data(n=50)
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.0)       # lr 0: the model never changes
    hist = fit(model, nn.MSELoss(), opt, (x, y), epochs=1, batch_size=16, shuffle=False,
               metrics=(), progress=False)
    with ember.no_grad():
        expected = float(((model(ember.tensor(x)) - ember.tensor(y)) ** 2).mean().item())
    assert hist["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_evaluate_restores_training_mode_and_builds_no_graph():
    x, y = binary_data(n=20)
    model = small_model()
    model.train()
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append((m.training, o.requires_grad)))
    evaluate(model, nn.BCEWithLogitsLoss(), (x, y))
    assert seen and all(s == (False, False) for s in seen)
    assert model.training


def test_early_stopping_patience_and_restore_best_weights():
    model = small_model()

    class Scripted(Callback):
        """Feeds a fixed val_loss sequence and perturbs the weights each epoch."""

        def __init__(self, values):
            self.values = values

        def on_epoch_end(self, epoch, logs):
            logs["val_loss"] = self.values[epoch]
            with ember.no_grad():
                for p in self.trainer.model.parameters():
                    p.add_(1.0)

    values = [1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6]
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    x, y = binary_data(n=8)
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots.append(model[0].weight.detach().numpy().copy())

    opt = ember.optim.SGD(model.parameters(), lr=0.0)
    hist = fit(model, nn.MSELoss(), opt, (x, y), epochs=7, metrics=(),
               callbacks=[Scripted(values), Snap(), stop], progress=False)
    # best at epoch 1 (0.8); epochs 2 and 3 do not improve -> stop after epoch 3
    assert hist.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert stop.best == 0.8
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), snapshots[1])


def test_early_stopping_min_delta_and_max_mode():
    stop = EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=1)

    class T:
        stop_training = False
        model = None
    stop.on_train_begin(T)
    for epoch, acc in enumerate([0.5, 0.6, 0.62, 0.64]):
        stop.on_epoch_end(epoch, {"val_accuracy": acc})
        if T.stop_training:
            break
    assert stop._m.mode == "max" and stop.stopped_epoch == 2    # 0.62 is not > 0.6 + 0.05
    with pytest.raises(KeyError, match="val_f1"):
        EarlyStopping(monitor="val_f1").on_epoch_end(0, {"val_loss": 1.0})


def test_model_checkpoint_save_best_only(tmp_path):
    x, y = binary_data(n=40)
    model = small_model()

    class Scripted(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["val_loss"] = [3.0, 2.0, 2.5, 1.0][epoch]
    ck = ModelCheckpoint(str(tmp_path / "ck-{epoch}.pt"), monitor="val_loss", save_best_only=True)
    fit(model, nn.MSELoss(), ember.optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=4,
        metrics=(), callbacks=[Scripted(), ck], progress=False)
    assert sorted(os.listdir(tmp_path)) == ["ck-1.pt", "ck-2.pt", "ck-4.pt"]
    sd = ember.load(tmp_path / "ck-4.pt")
    np.testing.assert_array_equal(sd["0.weight"].numpy(), model[0].weight.detach().numpy())


def test_schedulers_step_per_epoch_and_per_batch():
    x, y = binary_data(n=64)
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    hist = fit(model, nn.MSELoss(), opt, (x, y), epochs=5, scheduler=sched, metrics=(),
               callbacks=[LearningRateMonitor()], progress=False)
    assert hist["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])

    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    one = ember.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=8)
    lrs = []

    class Watch(Callback):
        def on_batch_end(self, batch, logs):
            lrs.append(opt.param_groups[0]["lr"])
    fit(model, nn.MSELoss(), opt, (x, y), epochs=2, batch_size=16, scheduler=one, metrics=(),
        callbacks=[Watch()], progress=False)
    # the same schedule computed on its own
    ref_opt = ember.optim.SGD(small_model().parameters(), lr=0.1, momentum=0.9)
    ref = ember.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=1.0, total_steps=8)
    expected = []
    for _ in range(8):
        ref_opt.step()
        ref.step()
        expected.append(ref_opt.param_groups[0]["lr"])
    assert lrs == pytest.approx(expected)


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    x, y = binary_data(n=32)
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.0)        # loss never changes: a plateau
    plateau = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    opt.param_groups[0]["lr"] = 0.0
    hist = fit(model, nn.MSELoss(), opt, (x, y), epochs=3, val_data=(x, y), scheduler=plateau,
               metrics=(), progress=False)
    assert plateau.best == pytest.approx(hist["val_loss"][0])


def test_grad_clip_bounds_the_update():
    x, y = binary_data(n=32)
    y = y * 1000.0                                           # huge gradients
    model = small_model()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    fit(model, nn.MSELoss(), ember.optim.SGD(model.parameters(), lr=1.0), (x, y), epochs=1,
        batch_size=32, grad_clip=0.01, metrics=(), progress=False)
    step = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum()
                       for p, b in zip(model.parameters(), before)))
    assert step == pytest.approx(0.01, rel=1e-3)             # one step of lr * clipped norm


def test_class_weight_is_keras_weighted_mean():
    x, y = binary_data(n=16)
    model = small_model()
    loss_fn = nn.BCEWithLogitsLoss()
    opt = ember.optim.SGD(model.parameters(), lr=0.0)
    hist = fit(model, loss_fn, opt, (x, y), epochs=1, batch_size=16, class_weight={0: 1.0, 1: 5.0},
               metrics=(), progress=False)
    with ember.no_grad():
        per = nn.BCEWithLogitsLoss(reduction="none")(model(ember.tensor(x)), ember.tensor(y))
    w = np.where(y[:, 0] > 0.5, 5.0, 1.0)
    assert hist["loss"][0] == pytest.approx(float((per.numpy()[:, 0] * w).mean()), rel=1e-5)
    assert loss_fn.reduction == "mean"                        # restored
    with pytest.raises(TypeError, match="reduction"):
        fit(model, lambda o, t: ((o - t) ** 2).mean(), opt, (x, y), class_weight={0: 1.0},
            progress=False)


def test_progress_bar_is_silent_off_a_terminal_and_prints_when_forced():
    x, y = binary_data(n=16)
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, force in ((quiet, False), (loud, True)):
        model = small_model()
        fit(model, nn.MSELoss(), ember.optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=2,
            metrics=(), callbacks=[ProgressBar(stream=stream, force=force)], progress=False)
    assert quiet.getvalue() == ""
    assert "epoch 2/2" in loud.getvalue() and "loss" in loud.getvalue()


def test_fit_bad_arguments():
    x, y = binary_data(n=8)
    model = small_model()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.MSELoss(), opt, (x, y), epochs=-1)
    with pytest.raises(ValueError, match="grad_clip"):
        fit(model, nn.MSELoss(), opt, (x, y), grad_clip=0)
    with pytest.raises(ValueError, match="differ in length"):
        fit(model, nn.MSELoss(), opt, (x, y[:5]))
    with pytest.raises(TypeError, match="Callback"):
        fit(model, nn.MSELoss(), opt, (x, y), callbacks=[object()])
    with pytest.raises(TypeError, match="DataLoader"):
        fit(model, nn.MSELoss(), opt, 42)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, nn.MSELoss(), opt, (x, y), metrics=("auc",))


def test_plot_history_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    hist = History()
    for e in range(3):
        hist.append(e, {"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1), "accuracy": 0.5 + e / 10})
    path = plot_history(hist, str(tmp_path / "h.png"))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert hist.best("val_loss") == (2, pytest.approx(0.4))


def _build(params):
    model = small_model(seed=1)
    return model, nn.BCEWithLogitsLoss(), ember.optim.SGD(model.parameters(), lr=params["lr"])


def test_grid_search_ranks_every_setting():
    x, y = binary_data()
    res = grid_search(_build, {"lr": [0.0, 0.5]}, (x[:200], y[:200]), (x[200:], y[200:]),
                      epochs=3)
    assert [r["params"]["lr"] for r in res.results] == [0.5, 0.0]   # training beats lr=0
    assert res.best_params == {"lr": 0.5}
    assert res.results[0]["score"] < res.results[1]["score"]
    table = res.table()
    assert "val_loss" in table and table.count("\n") == 3


def test_random_search_is_seeded_and_samples_the_distributions():
    x, y = binary_data(n=64)
    dists = {"lr": loguniform(1e-3, 1e-1), "unused": [1, 2, 3], "u": uniform(0, 1)}
    a = random_search(_build, dists, 3, (x, y), (x, y), epochs=1, seed=7)
    b = random_search(_build, dists, 3, (x, y), (x, y), epochs=1, seed=7)
    assert [r["params"] for r in a.results] == [r["params"] for r in b.results]
    for r in a.results:
        assert 1e-3 <= r["params"]["lr"] < 1e-1 and r["params"]["unused"] in (1, 2, 3)
    with pytest.raises(ValueError):
        loguniform(0, 1)
    with pytest.raises(KeyError, match="val_loss"):
        grid_search(_build, {"lr": [0.1]}, (x, y), None, epochs=1)


def test_freeze_unfreeze_and_param_groups():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    total = count_parameters(model)
    freeze(model[0])
    assert count_parameters(model, trainable_only=True) == total - 40
    x = ember.randn(6, 4)
    model(x).sum().backward()
    assert model[0].weight.grad is None and model[2].weight.grad is not None
    groups = param_groups(model, {"2": 1e-2}, default_lr=1e-4)
    assert [g["lr"] for g in groups] == [1e-2, 1e-4]
    assert len(groups[0]["params"]) == 2 and len(groups[1]["params"]) == 2   # BN weight, bias
    opt = ember.optim.SGD(groups, lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-4]
    with pytest.raises(ValueError, match="no parameters"):
        param_groups(model, {"nope": 0.1})
    unfreeze(model)
    assert count_parameters(model, trainable_only=True) == total


def test_freeze_batchnorm_keeps_running_statistics():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
    assert freeze_batchnorm(model) == 1
    model.train()
    bn = model[1]
    assert model.training and not bn.training
    mean = bn.running_mean.numpy().copy()
    model(ember.randn(16, 4) * 5 + 3)
    np.testing.assert_array_equal(bn.running_mean.numpy(), mean)
    unfreeze(model)
    model.train()
    assert bn.training
    model(ember.randn(16, 4) * 5 + 3)
    assert not np.array_equal(bn.running_mean.numpy(), mean)
