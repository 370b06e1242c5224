"""Switching gradient tracking off and on: ``no_grad`` and ``enable_grad``.

Both work as context managers and as decorators, like torch's. See chapter 2.
"""

from __future__ import annotations

import functools

_enabled = True


def is_grad_enabled() -> bool:
    """Whether new operations are being recorded for autograd.

    >>> import aigc_course as ac
    >>> with ac.no_grad():
    ...     ac.is_grad_enabled()
    False
    >>> ac.is_grad_enabled()
    True
    """
    return _enabled


def set_grad_enabled(mode: bool) -> None:
    global _enabled
    _enabled = bool(mode)


class _GradMode:
    mode: bool

    def __enter__(self):
        self.prev = is_grad_enabled()
        set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self.prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Do not record operations: results have ``requires_grad=False`` and no ``grad_fn``.

    >>> import aigc_course as ac
    >>> w = ac.ones(2, requires_grad=True)
    >>> with ac.no_grad():
    ...     (w * 2).requires_grad
    False
    >>> @ac.no_grad()
    ... def evaluate(x):
    ...     return x * 2
    >>> evaluate(w).grad_fn is None
    True
    """

    mode = False


class enable_grad(_GradMode):
    """Record operations again, for example inside a ``no_grad`` block."""

    mode = True


class _GradModeAs(_GradMode):
    """Set grad mode to a given value (the engine records backward ops only for create_graph)."""

    def __init__(self, mode: bool = True):
        self.mode = mode
