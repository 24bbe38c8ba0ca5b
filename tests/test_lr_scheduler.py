"""ember.optim.lr_scheduler: every schedule's learning-rate (and momentum) sequence against
PyTorch's over 50 steps, hand-computed values, state_dict round trips, warnings and torch's
errors for bad input. PyTorch is the oracle where it is installed.
"""
from __future__ import annotations

import math
import pickle
import re
import warnings

import numpy as np
import pytest

import ember
from ember.optim import lr_scheduler as sched

try:
    import torch
except ImportError:
    torch = None

N = 50


def need_torch():
    return pytest.importorskip("torch")


def make_optimizer(lib, name="SGD", two_groups=True, **kwargs):
    ps = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = ([dict(params=[ps[0]]), dict(params=[ps[1]], lr=0.05)] if two_groups
              else [dict(params=ps)])
    kwargs.setdefault("lr", 0.1)
    return getattr(lib.optim, name)(groups, **kwargs)


def record(opt, scheduler):
    """lrs from get_last_lr() and from the groups, plus momentum / beta1 when present."""
    row = list(scheduler.get_last_lr()) + [g["lr"] for g in opt.param_groups]
    for key in ("momentum", "betas"):
        if key in opt.param_groups[0]:
            row += [g[key] if key == "momentum" else g[key][0] for g in opt.param_groups]
    return row


def lr_sequence(lib, make, n=N, optimizer="SGD", steps=None, **opt_kwargs):
    """Build ``make(lib.optim.lr_scheduler, optimizer)`` and record n scheduler steps (each
    after an optimizer step). ``steps[i]`` is passed to scheduler.step when given."""
    opt = make_optimizer(lib, optimizer, **opt_kwargs)
    scheduler = make(lib.optim.lr_scheduler, opt)
    rows = [record(opt, scheduler)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # step(epoch) is deprecated in both libraries
        for i in range(n):
            opt.step()
            if steps is None:
                scheduler.step()
            else:
                scheduler.step(steps[i])
            rows.append(record(opt, scheduler))
    return np.array(rows, dtype=np.float64)


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 10, 10, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=50),
    "CosineAnnealingWarmRestarts-Tmult2": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=1e-4),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=8),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                              total_iters=30),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=30, power=2.0),
    "LambdaLR": lambda m, o: m.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 / (1 + e)]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "SequentialLR-warmup-cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=5), m.CosineAnnealingLR(o, T_max=45)],
        milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, 0.9),
            m.StepLR(o, 5)], milestones=[4, 20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=6), m.ExponentialLR(o, 0.95)]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=N),
    "OneCycleLR-three-phase-linear": lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, epochs=5, steps_per_epoch=10, three_phase=True,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, pct_start=0.25),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=60, cycle_momentum=False),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                     step_size_down=7, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=5,
                                                   mode="exp_range", gamma=0.97),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sequence_matches_torch(name):
    need_torch()
    momentum = {"momentum": 0.9} if "OneCycle" in name or "Cyclic" in name else {}
    expected = lr_sequence(torch, SCHEDULES[name], **momentum)
    actual = lr_sequence(ember, SCHEDULES[name], **momentum)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    assert len(np.unique(actual[:, 0])) > 1            # the schedule really moves


@pytest.mark.parametrize("name", ["OneCycleLR", "OneCycleLR-three-phase-linear",
                                  "CyclicLR-triangular2"])
def test_momentum_cycles_adam_betas_like_torch(name):
    need_torch()
    expected = lr_sequence(torch, SCHEDULES[name], optimizer="Adam")
    actual = lr_sequence(ember, SCHEDULES[name], optimizer="Adam")
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    beta1 = actual[:, -1]
    assert beta1.min() < beta1.max() <= 0.95


CLOSED_FORM = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
               "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts-Tmult2"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_uses_torch_closed_form(name):
    need_torch()
    epochs = [1, 2, 3, 5, 8, 13, 21, 22, 30, 29, 40, 7, 45, 46, 47]
    expected = lr_sequence(torch, SCHEDULES[name], n=len(epochs), steps=epochs)
    actual = lr_sequence(ember, SCHEDULES[name], n=len(epochs), steps=epochs)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


def test_warm_restarts_with_fractional_epochs_matches_torch():
    need_torch()
    iters = 4
    epochs = [e + i / iters for e in range(12) for i in range(iters)]
    for T_mult in (1, 2):
        make = lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=T_mult,  # noqa
                                                          eta_min=0.01)
        expected = lr_sequence(torch, make, n=len(epochs), steps=epochs)
        actual = lr_sequence(ember, make, n=len(epochs), steps=epochs)
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)


# jumps, plateaus, and slow drifts smaller than the thresholds (which must not count)
PLATEAU_METRICS = ([0.3 - 1e-6 * i for i in range(12)] + [2.0 + 1e-5 * i for i in range(12)]
                   + [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9,
                      0.5, 0.6, 0.6, 0.6, 0.49, 0.495, 0.6, 0.7] * 2)
PLATEAU = {
    "min-rel-cooldown": lambda m, o: m.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1,
                                                          threshold=0.01),
    "min-abs": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="abs", threshold=0.02,
                                                patience=1),
    "max-rel-min_lr-list": lambda m, o: m.ReduceLROnPlateau(o, mode="max", patience=2,
                                                            factor=0.8, min_lr=[0.01, 0.002]),
    "max-abs-eps": lambda m, o: m.ReduceLROnPlateau(o, mode="max", threshold_mode="abs",
                                                    threshold=0.1, patience=0, factor=0.9,
                                                    eps=0.004),
    "defaults": lambda m, o: m.ReduceLROnPlateau(o),
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_on_plateau_matches_torch(name):
    need_torch()
    expected = lr_sequence(torch, PLATEAU[name], n=len(PLATEAU_METRICS), steps=PLATEAU_METRICS)
    actual = lr_sequence(ember, PLATEAU[name], n=len(PLATEAU_METRICS), steps=PLATEAU_METRICS)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
    if name != "defaults":
        assert actual[-1, 0] < actual[0, 0]


def test_plateau_accepts_a_tensor_metric():
    opt = make_optimizer(ember)
    s = sched.ReduceLROnPlateau(opt, patience=0)
    s.step(ember.tensor(1.0))
    s.step(ember.tensor(2.0))
    assert s.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


# ----------------------------------------------------------------------------- hand-computed
def ember_sequence(make, n=N, **kwargs):
    return lr_sequence(ember, make, n=n, **kwargs)[:, 0]


def test_step_lr_by_hand():
    lrs = ember_sequence(lambda m, o: m.StepLR(o, step_size=3, gamma=0.1), n=7)
    np.testing.assert_allclose(lrs, [0.1] * 3 + [0.01] * 3 + [0.001] * 2, rtol=1e-15)


def test_multistep_lr_repeated_milestone_by_hand():
    lrs = ember_sequence(lambda m, o: m.MultiStepLR(o, [2, 4, 4], gamma=0.5), n=5)
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.05, 0.05, 0.0125, 0.0125], rtol=1e-15)


def test_cosine_annealing_by_hand():
    T, eta_min = 10, 0.01
    lrs = ember_sequence(lambda m, o: m.CosineAnnealingLR(o, T_max=T, eta_min=eta_min), n=20)
    closed = [eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * e / T)) / 2
              for e in range(21)]
    np.testing.assert_allclose(lrs, closed, rtol=1e-13)
    assert abs(lrs[T] - eta_min) < 1e-15 and abs(lrs[2 * T] - 0.1) < 1e-13


def test_warm_restarts_restart_points_by_hand():
    lrs = ember_sequence(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), n=25)
    restarts = [e for e in range(1, 26) if lrs[e] > lrs[e - 1]]
    assert restarts == [3, 9, 21]           # periods 3, 6, 12
    assert all(lrs[e] == 0.1 for e in [0, 3, 9, 21])
    # the middle of each period is half-way down
    np.testing.assert_allclose([lrs[3 + 3], lrs[9 + 6]], [0.05, 0.05], rtol=1e-14)


def test_linear_warmup_by_hand():
    lrs = ember_sequence(lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=3), n=5)
    np.testing.assert_allclose(lrs, [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-14)


def test_sequential_warmup_then_step_by_hand():
    make = lambda m, o: m.SequentialLR(  # noqa: E731
        o, [m.ConstantLR(o, factor=0.1, total_iters=2), m.StepLR(o, step_size=2, gamma=0.5)],
        milestones=[2])
    lrs = ember_sequence(make, n=6)
    np.testing.assert_allclose(lrs, [0.01, 0.01, 0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-14)


def test_one_cycle_end_points_by_hand():
    total, max_lr = 40, 2.0
    opt = make_optimizer(ember, momentum=0.9, two_groups=False)
    s = sched.OneCycleLR(opt, max_lr=max_lr, total_steps=total, pct_start=0.25)
    lrs, moms = [s.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(total - 1):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
    peak = int(0.25 * total) - 1
    assert lrs[0] == pytest.approx(max_lr / 25.0, rel=1e-14) and moms[0] == 0.95
    assert lrs[peak] == max_lr and moms[peak] == 0.85
    np.testing.assert_allclose(lrs[-1], max_lr / 25.0 / 1e4, rtol=1e-12)
    assert moms[-1] == 0.95
    assert int(np.argmax(lrs)) == peak and int(np.argmin(moms)) == peak
    opt.step()
    s.step()                # step number total is still allowed, as in torch
    with pytest.raises(ValueError, match=re.escape(
            f"Tried to step {total + 1} times. The specified number of total steps is {total}")):
        s.step()


def test_one_cycle_too_many_steps_matches_torch():
    need_torch()
    messages = []
    for lib in (torch, ember):
        opt = make_optimizer(lib, momentum=0.9)
        s = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=3)
        count = 0
        with pytest.raises(ValueError) as info:
            while True:
                opt.step()
                s.step()
                count += 1
        messages.append((count, str(info.value)))
    assert messages[0] == messages[1] == (6, "Tried to step 7 times. The specified number of "
                                             "total steps is 6")


def test_reduce_on_plateau_by_hand():
    opt = make_optimizer(ember, two_groups=False)
    s = sched.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, cooldown=1,
                                min_lr=0.02)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3]:
        s.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs 2 > patience 1 -> halve, one epoch of cooldown, then two bad ones again
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02]


def test_plateau_mode_max_by_hand():
    opt = make_optimizer(ember, two_groups=False)
    s = sched.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.5,
                                threshold_mode="abs")
    for metric in [1.0, 1.4, 2.0]:   # 1.4 is not better than 1.0 + 0.5; 2.0 is
        s.step(metric)
    assert s.best == 2.0 and opt.param_groups[0]["lr"] == pytest.approx(0.01, rel=1e-15)


# ----------------------------------------------------------------------------- protocol
def test_optimizer_uses_the_scheduled_lr():
    p = ember.tensor([0.0], dtype=ember.float64, requires_grad=True)
    opt = ember.optim.SGD([p], lr=1.0)
    s = sched.StepLR(opt, step_size=1, gamma=0.5)
    for expected in [1.0, 0.5, 0.25]:
        before = p.item()
        p.grad = ember.tensor([1.0], dtype=ember.float64)
        opt.step()
        assert before - p.item() == expected
        s.step()


def test_initial_lr_and_base_lrs():
    opt = make_optimizer(ember)
    s = sched.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05] == s.base_lrs
    assert s.last_epoch == 0 and s.get_last_lr() == [0.1, 0.05]
    opt.step()
    s.step()
    assert s.last_epoch == 1 and s.get_last_lr() == [0.05, 0.025]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]


SAVE = ["StepLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts-Tmult2", "OneCycleLR",
        "SequentialLR-warmup-cosine", "ChainedScheduler", "CyclicLR-exp_range", "PolynomialLR",
        "LinearLR"]


@pytest.mark.parametrize("name", SAVE)
def test_state_dict_round_trip_resumes_the_sequence(name):
    make = SCHEDULES[name]
    kwargs = {"momentum": 0.9}
    straight = lr_sequence(ember, make, n=N, **kwargs)

    opt = make_optimizer(ember, **kwargs)
    s = make(ember.optim.lr_scheduler, opt)
    for _ in range(20):
        opt.step()
        s.step()
    saved_opt = pickle.loads(pickle.dumps(opt.state_dict()))
    saved_s = pickle.loads(pickle.dumps(s.state_dict()))

    opt2 = make_optimizer(ember, **kwargs)
    s2 = make(ember.optim.lr_scheduler, opt2)
    s2.load_state_dict(saved_s)          # scheduler first, then optimizer (torch's advice)
    opt2.load_state_dict(saved_opt)
    rows = [record(opt2, s2)]
    for _ in range(N - 20):
        opt2.step()
        s2.step()
        rows.append(record(opt2, s2))
    np.testing.assert_array_equal(np.array(rows), straight[20:])


@pytest.mark.parametrize("name", ["StepLR", "OneCycleLR", "SequentialLR-warmup-cosine",
                                  "CosineAnnealingWarmRestarts-Tmult2", "ChainedScheduler",
                                  "LambdaLR", "CyclicLR-triangular2"])
def test_state_dict_keys_match_torch(name):
    need_torch()

    def keys(lib):
        opt = make_optimizer(lib, momentum=0.9)
        s = SCHEDULES[name](lib.optim.lr_scheduler, opt)
        opt.step()
        s.step()
        sd = s.state_dict()
        nested = [sorted(c) for c in sd.get("_schedulers", [])]
        return sorted(sd), nested, sorted(opt.param_groups[0])

    assert keys(ember) == keys(torch)


def test_plateau_state_dict_round_trip_and_keys():
    opt = make_optimizer(ember)
    s = sched.ReduceLROnPlateau(opt, patience=1, cooldown=2)
    for m in PLATEAU_METRICS[:9]:
        s.step(m)
    s2 = sched.ReduceLROnPlateau(make_optimizer(ember))
    s2.load_state_dict(pickle.loads(pickle.dumps(s.state_dict())))
    for attr in ("best", "num_bad_epochs", "cooldown_counter", "patience", "last_epoch",
                 "mode", "threshold"):
        assert getattr(s2, attr) == getattr(s, attr)
    if torch is not None:
        t = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(torch))
        assert sorted(t.state_dict()) == sorted(s.state_dict())


def test_lambda_state_dict_saves_callable_objects_only():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_optimizer(ember)
    s = sched.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None]
    other = Decay(0.9)
    s2 = sched.LambdaLR(make_optimizer(ember), [other, lambda e: 1.0])
    s2.load_state_dict(sd)
    assert other.rate == 0.5 and "lr_lambdas" in sd


def test_resume_with_last_epoch_requires_initial_lr():
    opt = make_optimizer(ember)
    with pytest.raises(KeyError, match=re.escape("param 'initial_lr' is not specified in "
                                                 "param_groups[0] when resuming scheduler")):
        sched.StepLR(opt, step_size=2, last_epoch=5)
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    s = sched.StepLR(opt, step_size=2, last_epoch=5)
    assert s.last_epoch == 6


# ----------------------------------------------------------------------------- warnings
def test_warns_when_stepped_before_the_optimizer():
    opt = make_optimizer(ember)
    s = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=re.escape("Detected call of `lr_scheduler.step()` "
                                                   "before `optimizer.step()`")):
        s.step()
    opt2 = make_optimizer(ember)
    s2 = sched.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_get_lr_outside_step_warns():
    s = sched.StepLR(make_optimizer(ember), step_size=2)
    with pytest.warns(UserWarning, match=re.escape("please use `get_last_lr()`")):
        s.get_lr()


def test_verbose_argument_of_older_torch_is_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="verbose parameter is deprecated"):
        sched.ReduceLROnPlateau(make_optimizer(ember), verbose=True)
    with pytest.warns(UserWarning, match="verbose parameter is deprecated"):
        sched.StepLR(make_optimizer(ember), 3, verbose=False)


def test_step_with_epoch_warns_deprecation():
    opt = make_optimizer(ember)
    s = sched.StepLR(opt, step_size=2)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
        s.step(4)
    assert s.get_last_lr() == [0.1 * 0.1 ** 2, 0.05 * 0.1 ** 2]


def test_old_style_subclass_of_private_base():
    class Halving(sched._LRScheduler):
        def get_lr(self):
            return [base * 0.5 ** self.last_epoch for base in self.base_lrs]

    opt = make_optimizer(ember)
    s = Halving(opt)
    opt.step()
    s.step()
    s.step()
    assert s.get_last_lr() == [0.025, 0.0125]
    assert isinstance(s, sched.LRScheduler)


# ----------------------------------------------------------------------------- bad input
def _bad_cases(m, lib):
    def opt(name="SGD", **kw):
        return make_optimizer(lib, name, **kw)

    return [
        (lambda: m.StepLR(3, step_size=2), TypeError, "int is not an Optimizer"),
        (lambda: m.ReduceLROnPlateau(opt(), mode="maximum"), ValueError,
         "mode maximum is unknown!"),
        (lambda: m.ReduceLROnPlateau(opt(), threshold_mode="relative"), ValueError,
         "threshold mode relative is unknown!"),
        (lambda: m.ReduceLROnPlateau(opt(), factor=1.0), ValueError, "Factor should be < 1.0."),
        (lambda: m.ReduceLROnPlateau(opt(), min_lr=[0.1]), ValueError,
         "expected 2 min_lrs, got 1"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=0.1), ValueError,
         "You must define either total_steps OR (epochs AND steps_per_epoch)"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=0.1, total_steps=0), ValueError,
         "Expected positive integer total_steps, but got 0"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=0.1, epochs=2, steps_per_epoch=-1),
         ValueError, "Expected positive integer steps_per_epoch, but got -1"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=0.1, total_steps=10, pct_start=1.5),
         ValueError, "Expected float between 0 and 1 pct_start, but got 1.5"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=0.1, total_steps=10,
                              anneal_strategy="exp"), ValueError,
         "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
        (lambda: m.OneCycleLR(opt("Adagrad"), max_lr=0.1, total_steps=10), ValueError,
         "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
        (lambda: m.OneCycleLR(opt(momentum=0.9), max_lr=[0.1, 0.2, 0.3], total_steps=10),
         ValueError, "max_lr must have the same length as optimizer.param_groups. max_lr has "
                     "3 values, param_groups has 2."),
        (lambda: m.CosineAnnealingWarmRestarts(opt(), T_0=0), ValueError,
         "Expected positive integer T_0, but got 0"),
        (lambda: m.CosineAnnealingWarmRestarts(opt(), T_0=2, T_mult=1.5), ValueError,
         "Expected integer T_mult >= 1, but got 1.5"),
        (lambda: m.LinearLR(opt(), start_factor=0), ValueError,
         "Starting multiplicative factor expected to be greater than 0 and less or equal "
         "to 1."),
        (lambda: m.LinearLR(opt(), end_factor=1.5), ValueError,
         "Ending multiplicative factor expected to be between 0 and 1."),
        (lambda: m.ConstantLR(opt(), factor=2), ValueError,
         "Constant multiplicative factor expected to be between 0 and 1."),
        (lambda: m.LambdaLR(opt(), [lambda e: 1.0]), ValueError,
         "Expected 2 lr_lambdas, but got 1"),
        (lambda: m.MultiplicativeLR(opt(), 0.5), TypeError,
         "lr_lambda should be a function, but got float"),
        (lambda: m.CyclicLR(opt(momentum=0.9), 0.01, 0.1, mode="square"), ValueError,
         "mode is invalid and scale_fn is None"),
        (lambda: m.SequentialLR(opt(), [], milestones=[]), ValueError,
         "SequentialLR expects at least one scheduler, but got no scheduler."),
        (lambda: (lambda o: m.SequentialLR(o, [m.StepLR(o, 2), m.StepLR(o, 3)],
                                           milestones=[2, 4]))(opt()), ValueError,
         "Sequential Schedulers expects number of schedulers provided to be one more than the "
         "number of milestone points, but got number of schedulers 2 and the number of "
         "milestones to be equal to 2"),
        (lambda: (lambda o: m.SequentialLR(o, [m.StepLR(o, 2), m.ReduceLROnPlateau(o)],
                                           milestones=[2]))(opt()), ValueError,
         "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires "
         "additional kwargs to be specified when calling `step`, but got one at index 1 in the "
         "given schedulers sequence."),
        (lambda: m.ChainedScheduler([]), ValueError,
         "ChainedScheduler expects at least one scheduler to be chained, but got no "
         "scheduler."),
    ]


N_BAD = len(_bad_cases(sched, ember))


@pytest.mark.parametrize("case", range(N_BAD))
def test_bad_input(case):
    make, exc, message = _bad_cases(sched, ember)[case]
    with pytest.raises(exc) as info:
        make()
    assert str(info.value) == message
    if torch is not None:       # the same exception and message as torch
        t_make, t_exc, _ = _bad_cases(torch.optim.lr_scheduler, torch)[case]
        with pytest.raises(t_exc) as t_info:
            t_make()
        assert str(t_info.value) == message


def test_chained_scheduler_rejects_another_optimizer():
    a, b = make_optimizer(ember), make_optimizer(ember)
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same "
                                         "optimizer"):
        sched.ChainedScheduler([sched.StepLR(a, 2), sched.StepLR(b, 2)])
