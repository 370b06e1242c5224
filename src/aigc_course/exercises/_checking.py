"""Shared pieces of the exercise checkers: specific feedback, never just "False"."""

from __future__ import annotations

import numpy as np

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


def run_learner(fn, *args, what: str = "your function", broadcast_hint: str = ""):
    """Call the learner's code and turn its failures into feedback that names the input.

    ``NotImplementedError`` means "not written yet"; any other exception is reported with the
    shapes of the inputs, plus ``broadcast_hint`` when it is a broadcasting error.
    """
    try:
        return fn(*args)
    except NotImplementedError:
        raise ExerciseError(
            f"{what} is not implemented yet: replace `raise NotImplementedError` with your code"
        ) from None
    except ExerciseError:
        raise
    except Exception as e:
        shapes = ", ".join(str(tuple(a.shape)) if hasattr(a, "shape") else repr(a) for a in args)
        extra = f" ({broadcast_hint})" if broadcast_hint and "must match the size" in str(e) else ""
        raise ExerciseError(
            f"{what} raised {type(e).__name__} on input(s) {shapes}: {e}{extra}"
        ) from None


def as_numpy(value) -> np.ndarray:
    """The learner's answer as a numpy array, whether it is ours, torch's, numpy's or a list."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def passed(message: str) -> None:
    print(f"✓ {message}")
