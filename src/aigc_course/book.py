"""Helpers for the book's notebooks: show the package's real source, so that the book and the
code cannot drift apart."""

from __future__ import annotations

import inspect
import textwrap


def source(obj, start: str | None = None, stop: str | None = None) -> str:
    """The source of ``obj`` (a class, function or method), optionally cut to the lines from the
    first one containing ``start`` up to (not including) the first one after it containing ``stop``.

    >>> from aigc_course.ops.elementwise import Exp
    >>> print(source(Exp, start="def backward"))
    @staticmethod
    def backward(ctx, dz):
        (z,) = ctx.saved_tensors
        return dz * z
    """
    lines = inspect.getsource(obj).splitlines()
    if start is not None:
        i = next(k for k, line in enumerate(lines) if start in line)
        # keep decorators directly above the starting line
        while i > 0 and lines[i - 1].strip().startswith("@"):
            i -= 1
        lines = lines[i:]
    if stop is not None:
        j = next((k for k, line in enumerate(lines) if k > 0 and stop in line), len(lines))
        lines = lines[:j]
    return textwrap.dedent("\n".join(lines)).rstrip()


def show_source(obj, start: str | None = None, stop: str | None = None):
    """Display :func:`source` with syntax highlighting in a notebook (plain text elsewhere)."""
    text = source(obj, start, stop)
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover
        return text
    return Code(text, language="python")


class expect_error:
    """Show an error that is meant to happen, without stopping the notebook.

    Colab's and Jupyter's "Run all" stop at the first cell that raises, whatever its tags, so
    the book never lets a cell raise. Instead, code that should fail runs inside this context
    manager: the expected exception is caught and printed the way Python prints it (its type
    and message), and anything else is an error of the book itself: a different exception
    type propagates, and no exception at all raises ``AssertionError``.

    >>> import aigc_course as ac
    >>> with expect_error(RuntimeError):
    ...     ac.zeros(5, 3).view(-1, 12)
    RuntimeError: shape '[-1, 12]' is invalid for input of size 15
    >>> with expect_error(ValueError):
    ...     x = 1 + 1
    Traceback (most recent call last):
    ...
    AssertionError: expected ValueError, but no error was raised

    With ``traceback=True`` the last line of the call stack that raised is printed too, when
    it teaches where the error comes from. ``match`` (a substring) makes the check stricter.
    """

    def __init__(
        self, *types: type[BaseException], match: str | None = None, traceback: bool = False
    ):
        self.types = types or (Exception,)
        self.match = match
        self.traceback = traceback
        self.exception: BaseException | None = None

    def __enter__(self) -> expect_error:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        names = " or ".join(t.__name__ for t in self.types)
        if exc_type is None:
            raise AssertionError(f"expected {names}, but no error was raised")
        if not issubclass(exc_type, self.types):
            return False  # not the error we meant to show: let it propagate
        if self.match is not None and self.match not in str(exc):
            raise AssertionError(f"expected {names} mentioning {self.match!r}, got: {exc}") from exc
        self.exception = exc
        if self.traceback:
            import traceback as tb_module

            frame = tb_module.extract_tb(tb)[-1]
            print("Traceback (most recent call last, innermost frame only):")
            print(f'  File "{_short_path(frame.filename)}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                print(f"    {frame.line}")
        message = str(exc)
        print(f"{exc_type.__qualname__}: {message}" if message else exc_type.__qualname__)
        for note in getattr(exc, "__notes__", ()):
            print(note)
        return True


def _short_path(filename: str) -> str:
    """``.../aigc_course/ops/shape.py`` rather than a machine-specific absolute path."""
    parts = filename.replace("\\", "/").split("/")
    for anchor in ("aigc_course", "torch"):
        if anchor in parts:
            return "/".join(parts[len(parts) - 1 - parts[::-1].index(anchor) :])
    return parts[-1]
