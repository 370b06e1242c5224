"""Switching gradient tracking off and on: ``no_grad``, ``enable_grad``, ``set_grad_enabled``
and ``inference_mode``, as in torch.

Each works as a context manager and as a decorator; ``no_grad`` and ``enable_grad`` also bare
(``@no_grad``), and ``set_grad_enabled(False)`` also as a plain call. See chapter 2.

The mode is one module-level flag, ``_enabled``, read by :meth:`Function.apply` on every
operation (a global read, the cheapest check Python has).
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


def _set_enabled(mode: bool) -> None:
    global _enabled
    _enabled = bool(mode)


class _GradMode:
    """A context manager that sets grad mode to ``self.mode`` and restores it on exit; called
    on a function, it wraps it in that context."""

    mode: bool

    def __enter__(self):
        self.prev = _enabled
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc) -> bool:
        _set_enabled(self.prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class _BareDecorator(_GradMode):
    """Also usable bare: ``@no_grad`` means ``@no_grad()``, as in torch."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecorator):
    """Do not record operations: results have ``requires_grad=False`` and no ``grad_fn``.

    >>> import aigc_course as ac
    >>> w = ac.ones(2, requires_grad=True)
    >>> with ac.no_grad():
    ...     (w * 2).requires_grad
    False
    >>> @ac.no_grad
    ... def evaluate(x):
    ...     return x * 2
    >>> evaluate(w).grad_fn is None
    True
    """

    mode = False


class enable_grad(_BareDecorator):
    """Record operations again, for example inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Switch recording on or off: at once as a call (``set_grad_enabled(False)``), or for a
    block as a context manager, after which the previous mode comes back.

    >>> import aigc_course as ac
    >>> with ac.set_grad_enabled(False):
    ...     ac.is_grad_enabled()
    False
    >>> ac.is_grad_enabled()
    True
    """

    def __init__(self, mode: bool):
        self.prev = _enabled
        self.mode = bool(mode)
        _set_enabled(self.mode)  # takes effect now, as torch's does; __exit__ restores prev

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set_enabled(self.prev)  # as a decorator it changes nothing until `fn` runs
        return super().__call__(fn)

    def clone(self):
        return _GradModeAs(self.mode)


class inference_mode(_BareDecorator):
    """Like :class:`no_grad`, for code that only evaluates.

    Note: torch's results are "inference tensors" that autograd later refuses to save for
    backward, and torch skips version counting inside; here they are ordinary tensors that do
    not require grad.
    """

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = not mode

    def clone(self):
        return _GradModeAs(self.mode)


class _GradModeAs(_GradMode):
    """Set grad mode to a given value (the engine records backward ops only for create_graph)."""

    def __init__(self, mode: bool = True):
        self.mode = mode

    def clone(self):
        return _GradModeAs(self.mode)
