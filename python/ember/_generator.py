"""``ember.Generator``: a seedable random-number generator object, the shape of ``torch.Generator``.

A Generator wraps a NumPy ``np.random.Generator`` (PCG64). Every ember function that takes
``generator=`` (``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, samplers,
``random_split``, ``DataLoader``) draws from it instead of ember's global generator, so::

    g = ember.Generator().manual_seed(0)
    ember.randperm(5, generator=g)          # the same permutation on every run

The streams are NumPy's, not PyTorch's (the same seed gives different numbers than torch), but
they are fully determined by the seed. Attribute look-ups that a Generator does not define
(``random``, ``integers``, ``permutation``, ``standard_normal`` ...) go to the wrapped NumPy
generator, which is what ember's creation functions call.

``default_generator`` stands for ember's global generator (``ember.manual_seed``): seeding it
reseeds the global stream, like ``torch.default_generator``.
"""
from __future__ import annotations

import json

import numpy as np

from ember import _random
from ember._tensor import Tensor, _new_tensor, check_device

# torch.Generator().initial_seed() on a fresh generator
DEFAULT_SEED = 67280421310721


class Generator:
    """A random-number generator with its own state: ``Generator(device='cpu')``."""

    def __init__(self, device="cpu"):
        check_device(device)
        self._seed = DEFAULT_SEED
        self._np = np.random.default_rng(DEFAULT_SEED)

    @property
    def _rng(self) -> np.random.Generator:
        return self._np

    @property
    def device(self):
        from ember._tensor import CPU
        return CPU

    def manual_seed(self, seed) -> "Generator":
        """Reset the state from ``seed`` (an int); returns the generator itself, like torch."""
        seed = _as_seed(seed)
        self._seed = seed
        self._np = np.random.default_rng(seed)
        return self

    def seed(self) -> int:
        """Reseed from OS entropy; returns the new seed."""
        new = int(np.random.SeedSequence().entropy % (2 ** 64))
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        """The seed last given to ``manual_seed`` (or the default seed)."""
        return self._seed

    def get_state(self) -> Tensor:
        """The full generator state as a uint8 tensor (pass it to ``set_state`` to rewind)."""
        text = json.dumps({"seed": self.initial_seed(), "state": self._rng.bit_generator.state})
        return _new_tensor(np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Restore a state returned by ``get_state``."""
        data = new_state._data if isinstance(new_state, Tensor) else np.asarray(new_state)
        if data.dtype != np.uint8 or data.ndim != 1:
            raise TypeError("set_state expects the uint8 tensor returned by get_state(), got "
                            f"dtype {data.dtype} and shape {data.shape}")
        try:
            saved = json.loads(data.tobytes().decode("ascii"))
            bit_gen = np.random.PCG64()
            bit_gen.state = saved["state"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"set_state: not a state returned by Generator.get_state() "
                               f"({exc})") from None
        self._set(int(saved["seed"]), np.random.Generator(bit_gen))
        return self

    def _set(self, seed: int, rng: np.random.Generator) -> None:
        self._seed = seed
        self._np = rng

    def __getattr__(self, name):
        # Only called for names the class does not define: NumPy Generator methods.
        if name.startswith("_"):
            raise AttributeError(f"'Generator' object has no attribute {name!r}")
        return getattr(self._rng, name)

    def __repr__(self) -> str:
        return f"<ember.Generator object (initial_seed={self._seed})>"


class _DefaultGenerator(Generator):
    """A view of ember's global generator (``ember.manual_seed`` / ``ember.initial_seed``)."""

    def __init__(self):
        pass

    @property
    def _rng(self) -> np.random.Generator:
        return _random.get_rng()

    def manual_seed(self, seed) -> "Generator":
        _random.manual_seed(_as_seed(seed))
        return self

    def seed(self) -> int:
        return _random.seed()

    def initial_seed(self) -> int:
        return _random.initial_seed()

    def _set(self, seed: int, rng: np.random.Generator) -> None:
        _random.manual_seed(seed)
        _random.get_rng().bit_generator.state = rng.bit_generator.state

    def __repr__(self) -> str:
        return "<ember default Generator (the global generator of ember.manual_seed)>"


default_generator = _DefaultGenerator()


def _as_seed(seed) -> int:
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -(2 ** 63) <= seed < 2 ** 64:
        raise RuntimeError(f"Overflow when unpacking long long: seed={seed} does not fit "
                           "in 64 bits")
    return seed % (2 ** 64)


def rng_of(generator) -> np.random.Generator:
    """The NumPy generator behind ``generator``: None means ember's global generator.

    Accepts an ``ember.Generator`` or a NumPy ``np.random.Generator``.
    """
    if generator is None:
        return _random.get_rng()
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be an ember.Generator (or a NumPy Generator), got "
                    f"{type(generator).__name__}")


def fresh_rng(generator=None) -> np.random.Generator:
    """A new NumPy generator seeded by one draw from ``generator`` (the global one if None).

    This is how torch's samplers use the global generator: one number per epoch, so the amount
    of randomness an epoch consumes does not depend on the dataset's size.
    """
    seed = int(rng_of(generator).integers(0, 2 ** 63, dtype=np.int64))
    return np.random.default_rng(seed)
