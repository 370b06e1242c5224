"""Helpers for the book's notebooks: show the package's real source, so that the book and the
code cannot drift apart."""

from __future__ import annotations

import inspect
import textwrap


def source(obj, start: str | None = None, stop: str | None = None) -> str:
    """The source of ``obj`` (a class, function or method), optionally cut to the lines from the
    first one containing ``start`` up to (not including) the first one after it containing ``stop``.

    >>> from aigc_course.ops.elementwise import Mul
    >>> print(source(Mul, start="def backward"))
    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        return dz * y, dz * x
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
