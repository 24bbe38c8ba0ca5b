"""Weight constraints with Keras's names (``keras.constraints``), applied after each optimiser
step: each constraint is a callable that projects a parameter back onto an allowed set, in
place, outside autograd.

    MaxNorm(max_value=2, axis=0)   rescale w so that ||w|| <= max_value along ``axis``
    UnitNorm(axis=0)               w / ||w|| along ``axis``
    MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)
                                   move ||w|| towards [min_value, max_value] by ``rate``
    NonNeg()                       zero the negative entries

``axis`` follows Keras: it names the axes the norm is *taken over* (reduced), so each remaining
index gets its own norm. Keras stores a Dense kernel as (in, out), hence its default axis=0 means
"one norm per output unit". ember/torch layers store weights the other way round:

    nn.Linear.weight   (out_features, in_features)  per output unit: axis=1
    nn.Conv2d.weight   (out_channels, in_channels, kH, kW)  per filter: axis=(1, 2, 3)

so pass ``axis=1`` (Linear) or ``axis=(1, 2, 3)`` (Conv2d) to constrain each unit's incoming
weight vector, the usual max-norm regularisation of Srebro et al. / Hinton et al.

    opt.step()
    apply_constraints(model, {nn.Linear: MaxNorm(3.0, axis=1)})

Norms get Keras's epsilon (1e-7) added before dividing, so all-zero vectors stay zero.
"""
from __future__ import annotations

import numpy as np

from ember._tensor import Tensor, _new_tensor
from ember.autograd.grad_mode import no_grad

__all__ = ["Constraint", "MaxNorm", "UnitNorm", "MinMaxNorm", "NonNeg", "max_norm",
           "unit_norm", "min_max_norm", "non_neg", "apply_constraints", "get"]

EPSILON = 1e-7


def _axes(axis, ndim: int) -> tuple:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a parameter with {ndim} dimensions")
        out.append(int(a) % ndim)
    return tuple(out)


class Constraint:
    """Base class: ``project(w)`` returns the constrained values (a NumPy array) and
    ``__call__`` writes them into ``w`` (a Tensor, or an iterable of them) in place."""

    def project(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, w):
        if not isinstance(w, Tensor):
            for t in w:
                self(t)
            return w
        with no_grad():
            w.copy_(_new_tensor(self.project(w._data)))
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.sum(w * w, axis=_axes(axis, w.ndim), keepdims=True))


class MaxNorm(Constraint):
    """Scale each slice down to norm ``max_value`` if it is longer (shorter ones are kept)."""

    def __init__(self, max_value: float = 2, axis=0) -> None:
        self.max_value = max_value
        self.axis = axis

    def project(self, w: np.ndarray) -> np.ndarray:
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Scale each slice to unit norm."""

    def __init__(self, axis=0) -> None:
        self.axis = axis

    def project(self, w: np.ndarray) -> np.ndarray:
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norm moved towards [min_value, max_value]: new = rate * clip(norm) + (1 - rate) * norm."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis=0) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def project(self, w: np.ndarray) -> np.ndarray:
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + \
            (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Zero every negative entry."""

    def project(self, w: np.ndarray) -> np.ndarray:
        return w * (w >= 0)


# Keras's lower-case aliases
max_norm = MaxNorm
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg


def get(identifier) -> Constraint | None:
    """A constraint from a name ('max_norm', 'unit_norm', 'min_max_norm', 'non_neg'), an
    instance, a callable or None."""
    if identifier is None or isinstance(identifier, Constraint) or \
            (callable(identifier) and not isinstance(identifier, str)):
        return identifier
    table = {"max_norm": MaxNorm, "maxnorm": MaxNorm, "unit_norm": UnitNorm,
             "unitnorm": UnitNorm, "min_max_norm": MinMaxNorm, "minmaxnorm": MinMaxNorm,
             "non_neg": NonNeg, "nonneg": NonNeg}
    key = str(identifier).lower()
    if key not in table:
        raise ValueError(f"Could not interpret constraint identifier: {identifier}")
    return table[key]()


def apply_constraints(module, constraints: dict) -> list:
    """Apply ``{key: constraint}`` to ``module``'s parameters in place; returns the names of the
    parameters that were constrained.

    A key is either a parameter name (a full dotted name such as ``"fc1.weight"``, or a suffix
    such as ``"weight"``, which matches every ``*.weight``), or a Module class, which selects
    the ``weight`` of every submodule of that class (e.g. ``nn.Linear``)."""
    named = list(module.named_parameters())
    done = []
    for key, constraint in constraints.items():
        if isinstance(key, str):
            chosen = [(n, p) for n, p in named if n == key or n.endswith("." + key)]
        elif isinstance(key, type):
            chosen = []
            for prefix, sub in module.named_modules():
                w = sub._parameters.get("weight") if isinstance(sub, key) else None
                if w is not None:
                    chosen.append((f"{prefix}.weight" if prefix else "weight", w))
        else:
            raise TypeError("apply_constraints keys must be parameter names (str) or Module "
                            f"classes, got {type(key).__name__}")
        if not chosen:
            raise KeyError(f"apply_constraints: no parameter matches {key!r}")
        for name, p in chosen:
            constraint(p)
            done.append(name)
    return done
