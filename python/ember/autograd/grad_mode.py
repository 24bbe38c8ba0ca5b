"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is thread-local like PyTorch's, so a data-loading thread cannot switch off recording
for the training thread. Each switch works as a context manager and as a decorator.
"""
from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    enabled = True


_state = _GradState()   # read directly by Function.apply on every op (cheap attribute lookup)


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record a graph for ``backward``."""
    return _state.enabled


class _DecoratorContextManager:
    """A context manager that can also decorate a function (each call runs inside a fresh copy)."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disable graph recording: results of ops never require grad. ``with ember.no_grad(): ...``
    or ``@ember.no_grad()`` (the bare ``@ember.no_grad`` works too)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)        # used as a bare decorator

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc) -> None:
        _state.enabled = self.prev


class enable_grad(no_grad):
    """Re-enable graph recording inside a ``no_grad`` region."""

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = True


class inference_mode(no_grad):
    """ember has no separate inference mode: this is ``no_grad`` (accepts ``mode`` like torch)."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = not self.mode and self.prev

    def clone(self):
        return self.__class__(self.mode)


class set_grad_enabled(_DecoratorContextManager):
    """``set_grad_enabled(False)`` switches recording off at once (like torch); as a context
    manager or decorator it restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __call__(self, func):
        _state.enabled = self.prev   # used as a decorator: do not change the mode now
        return super().__call__(func)

    def __enter__(self) -> None:
        _state.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _state.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)
