"""Shared pieces of the exercise checkers: specific feedback, never just "False"."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..testing import difference
from ._plain import to_plain


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


# ------------------------------------------------------------------ seeds and protocols

#: The run's secret seed. ``None`` in a notebook (the checkers' fixed seeds); set only in the
#: grader's judge (``aigc_course.grade``), a process that never runs the learner's code, so
#: the inputs the learner's code is given cannot be known in advance.
_SECRET: list[int | None] = [None]


def seeded(n: int) -> int:
    """The seed a checker draws its inputs from: ``n`` itself in a notebook; in the grader,
    ``n`` mixed with the run's secret seed (63 bits).

    >>> seeded(3)
    3
    """
    secret = _SECRET[0]
    if secret is None:
        return n
    digest = hashlib.blake2b(f"{secret}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


NOT_PLAIN = "your code gave something that is not plain data (numbers, lists, arrays, tensors)"


@dataclass(frozen=True)
class Protocol:
    """The one definition of an exercise whose answer is an object (a class, an optimizer, a
    sampler...), or whose checker must hand the learner's code objects (a model, a config).

    - ``inputs(seed)``: plain data (numbers, strings, lists, numpy arrays) drawn from ``seed``;
    - ``run(inputs, *learner_objects)``: the fixed protocol, run where the learner's code
      lives (in the grader: the submission's kernel). It builds what it needs from the
      inputs, calls the learner's code, and returns only plain data (a trajectory, a list of
      batches...). It may raise :class:`ExerciseError` (the learner's code failed);
    - ``judge(inputs, outputs)``: compares the outputs with the reference and returns the
      ``✓`` message, or raises :class:`ExerciseError` with a hint. In the grader it runs in the
      judge, never where the learner's code runs.

    In a notebook, the checker runs all three in turn with a fixed seed; outputs go through
    the same plain-data wire as in the grader. A checker declares its protocol with
    :func:`uses`, which is where the grader finds it.
    """

    inputs: Callable[[int], object]
    run: Callable[..., object]
    judge: Callable[[object, object], str]

    def check(self, *objects) -> None:
        data = self.inputs(seeded(0))
        result = self.run(to_plain(data), *objects)
        try:
            outputs = to_plain(result)
        except TypeError as e:  # the learner's objects gave something that is not plain data
            raise ExerciseError(f"{NOT_PLAIN}: {e}") from None
        passed(self.judge(data, outputs))


def uses(protocol: Protocol):
    """Decorate a checker that is ``protocol.check``: the grader runs the protocol instead,
    split between the submission's kernel (``run``) and its judge (``inputs``, ``judge``)."""

    def mark(checker):
        checker.protocol = protocol
        return checker

    return mark
