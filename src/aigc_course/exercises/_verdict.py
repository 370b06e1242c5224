"""Structured results of the exercise checkers, for the grader (``python -m aigc_course.grade``).

In a notebook a checker prints one ``✓`` line or raises :class:`ExerciseError`; that stays
as it is. :func:`run_checker` calls the same checker and returns a :class:`Verdict` instead:
the exercise id, a status (``passed``, ``failed``, ``not attempted`` or ``error``) and the
checker's feedback (its ``✓`` line or its error message).

The grader runs a submission in a fresh kernel and then, in that kernel, calls the *real*
checkers through :func:`arm` and :func:`grade_calls`: the checker functions are looked up
before any of the student's code runs, and every function, class and module that the
checkers rely on (``aigc_course``, ``torch``, ``numpy``) is remembered, so that a
submission which replaces one of them (a monkeypatched checker) is reported as an error
instead of passing.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import signal
import sys
from dataclasses import asdict, dataclass

from ._checking import ExerciseError

__all__ = ["Verdict", "run_checker"]

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
#: The marker that starts the grader's JSON line in the kernel's output.
MARKER = "@@aigc_course.grade@@"


@dataclass(frozen=True)
class Verdict:
    """What a checker said about one exercise."""

    exercise: str
    status: str
    feedback: str


def run_checker(exercise: str, checker, *args, **kwargs) -> Verdict:
    """Call ``checker(*args, **kwargs)`` and return its verdict instead of printing it.

    >>> from aigc_course.exercises import ch01
    >>> def offset(index, stride, storage_offset=0):
    ...     raise NotImplementedError
    >>> run_checker("01.offset", ch01.check_offset, offset).status
    'not attempted'
    """
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            checker(*args, **kwargs)
    except NotImplementedError:
        return Verdict(exercise, NOT_ATTEMPTED, "not implemented yet")
    except ExerciseError as e:
        status = NOT_ATTEMPTED if "is not implemented yet" in str(e) else FAILED
        return Verdict(exercise, status, str(e))
    except Exception as e:  # the checker itself could not run the learner's code
        return Verdict(exercise, ERROR, f"{type(e).__name__}: {e}")
    lines = [line for line in out.getvalue().splitlines() if line.startswith("✓")]
    return Verdict(exercise, PASSED, lines[-1] if lines else "✓")


# ------------------------------------------------------------------ inside the grader's kernel

_WATCHED = ("aigc_course", "torch", "numpy", "builtins", "json", "ipykernel")
_armed: dict = {}
#: rebound by ipykernel itself before every cell
_REBOUND = {"builtins.input", "builtins.raw_input", "builtins.getpass"}


def _snapshot() -> dict:
    """Every function, class and module attribute of the watched modules, by identity."""
    snap = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _WATCHED:
            continue
        if name.startswith("torch.") and name.count(".") > 2:
            continue  # torch's deep internals: many, and never what a checker calls directly
        attrs = getattr(module, "__dict__", {})
        snap[name] = {
            k: v for k, v in list(attrs.items()) if callable(v) or type(v).__name__ == "module"
        }
        code = {k: (v, v.__code__) for k, v in snap[name].items() if hasattr(v, "__code__")}
        snap[name + ":code"] = code
    return snap


def _library_wrapper(now, before, module: str) -> bool:
    """Whether a library wrapped one of its own functions (torch's dynamo wraps
    ``torch.manual_seed`` when it is first imported): allowed outside ``aigc_course``."""
    if module.startswith("aigc_course") or module.endswith(":code"):
        return False
    filename = getattr(getattr(now, "__code__", None), "co_filename", "")
    in_library = "site-packages" in filename or "dist-packages" in filename
    return getattr(now, "__wrapped__", None) is before and in_library


def _tampered(before: dict) -> list[str]:
    changed = []
    for name, attrs in before.items():
        module = sys.modules.get(name.removesuffix(":code"))
        for k, v in attrs.items():
            if name.endswith(":code"):  # the same function, with its code swapped
                function, v = v
                if getattr(module, k, None) is not function:
                    continue  # replaced as a whole: judged by the identity check
                now = getattr(function, "__code__", None)
            else:
                now = getattr(module, k, None)
            qualname = f"{name.removesuffix(':code')}.{k}"
            if now is not v and qualname not in _REBOUND and not _library_wrapper(now, v, name):
                changed.append(qualname)
    return sorted(set(changed))


def arm(chapter: str) -> None:
    """Import chapter ``chapter``'s checkers and remember them, before any student code runs."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    module = importlib.import_module(f"aigc_course.exercises.ch{chapter}")
    _armed["checkers"] = {k: getattr(module, k) for k in dir(module) if k.startswith("check_")}
    _armed["stdout"] = sys.stdout  # the kernel's stream, kept in case it is replaced later
    _armed["snapshot"] = _snapshot()


class _Timeout(BaseException):
    """Not an Exception: the checkers' ``except Exception`` must not turn it into feedback."""


def _alarm(signum, frame):
    raise _Timeout


def grade_calls(calls: list[dict], namespace: dict, timeout: float = 60.0, nonce: str = "") -> None:
    """Run each checker call on the student's objects in ``namespace``; print one JSON line.

    ``calls`` come from the reference notebook: ``{"exercise", "checker", "args", "kwargs"}``,
    with the arguments as source text evaluated in ``namespace`` (the student's functions).
    """
    before = _armed["snapshot"]
    verdicts = []
    for call in calls:
        checker = _armed["checkers"].get(call["checker"])
        exercise = call["exercise"]
        tampered = _tampered(before)
        if tampered:
            message = "the submission replaced what the checker uses: " + ", ".join(tampered[:5])
            verdicts.append(Verdict(exercise, ERROR, message))
            continue
        try:
            args = [eval(a, namespace) for a in call["args"]]  # noqa: S307 (the student's names)
            kwargs = {k: eval(v, namespace) for k, v in call["kwargs"].items()}  # noqa: S307
        except Exception as e:
            verdicts.append(Verdict(exercise, ERROR, f"{type(e).__name__}: {e}"))
            continue
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            verdict = run_checker(exercise, checker, *args, **kwargs)
        except _Timeout:
            verdict = Verdict(exercise, ERROR, f"timed out after {timeout:g} s")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        tampered = _tampered(before)
        if tampered:
            message = "the submission replaced what the checker uses: " + ", ".join(tampered[:5])
            verdict = Verdict(exercise, ERROR, message)
        verdicts.append(verdict)
    _armed["stdout"].write(MARKER + nonce + json.dumps([asdict(v) for v in verdicts]) + "\n")
    _armed["stdout"].flush()
