"""Shared pieces of the exercise checkers: specific feedback, never just "False"."""

from __future__ import annotations

from ..testing import difference


class ExerciseError(AssertionError):
    """The learner's answer is wrong; the message says how."""


def check_tensor(
    got, expected, what: str = "your output", rtol=None, atol=None, check_dtype: bool = True
) -> None:
    """Raise :class:`ExerciseError` unless ``got`` matches ``expected`` (a torch tensor)."""
    try:
        difference(got, expected, rtol, atol, check_dtype)
    except AssertionError as e:
        msg = str(e).replace("ours", "yours")
        raise ExerciseError(f"{what}: {msg}") from None


def run_learner(fn, *args, what: str = "your function"):
    """Call the learner's function, turning 'not written yet' into a friendly message."""
    try:
        return fn(*args)
    except NotImplementedError:
        raise ExerciseError(
            f"{what} is not implemented yet: replace `raise NotImplementedError` with your code"
        ) from None


def passed(message: str) -> None:
    print(f"✓ {message}")
