"""Structured results of the exercise checkers, and the grader's judge (``aigc_course.grade``).

In a notebook a checker prints one ``✓`` line or raises :class:`ExerciseError`; that stays
as it is. :func:`run_checker` calls the same checker and returns a :class:`Verdict` instead:
the exercise id, a status (``passed``, ``failed``, ``not attempted`` or ``error``) and the
checker's feedback (its ``✓`` line or its error message).

Inside the grader's kernel, :func:`arm` runs before any of the student's code. It imports
the chapter's checkers and forks a **judge**: a process that never runs student code. The
judge connects to the grader over a socket that the grader stops listening on before the
student's cells run, so the student's process holds no handle to the grader's verdicts.
Then, for each exercise, the grader tells the judge which checker to call, and runs
:func:`serve` in the kernel:

- a function exercise is judged *outside* the student's process: the judge calls the real
  checker on a :class:`_Proxy` of the learner's function; each call sends its arguments to
  the kernel as plain data (numbers, strings, lists, arrays: JSON, no pickle), the kernel
  calls the learner's function and sends back the result as plain data, rebuilt in the judge
  as exact builtin, numpy, torch or ``aigc_course`` types (an ``int`` subclass whose
  ``__eq__`` always says yes comes back as a plain ``int``);
- a checker with a :class:`~aigc_course.exercises._checking.Protocol` (class exercises) is
  split: the judge draws the inputs (from the run's secret seed, which only the judge holds),
  the kernel runs the protocol's ``run`` on them (:func:`serve`, ``op: run``) and sends back
  plain data, and the judge calls the protocol's ``judge`` on it. The kernel's reply is data,
  never a verdict; a kernel that replaced the protocol's functions is reported (tampering);
- any other class exercise, or a checker that passes the learner's code something that is
  not plain data (a module, a tensor that requires grad), is still judged *inside* the kernel:
  the judge asks the kernel to run the checker there. Those verdicts can be forged by code that
  rewrites the checkers in the kernel; the tamper check below catches the simple cases, and the
  grader marks them "judged inside the submission's kernel".
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import signal
import socket
import struct
import sys
from dataclasses import asdict, dataclass

from . import _checking
from ._checking import ExerciseError, passed, seeded
from ._plain import NotPlain, decode, encode, encode_argument, to_plain

__all__ = ["Verdict", "run_checker", "to_plain"]

PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
#: The marker of the grader's lines (kept for old notebooks; the grader no longer reads stdout).
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


# ------------------------------------------------------------------ plain data on the wire
# (in ._plain, below both this module and ._checking)


def send(sock: socket.socket, message) -> None:
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def recv(sock: socket.socket):
    """One message, or ``None`` at the end of the stream."""
    header = _read(sock, 4)
    if header is None:
        return None
    data = _read(sock, struct.unpack("!I", header)[0])
    return None if data is None else json.loads(data)


def _read(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ------------------------------------------------ the judge (never runs student code)


class _NeedsKernel(BaseException):
    """The checker passed the learner's code something that is not plain data.

    A BaseException, so that no checker's ``except Exception`` turns it into feedback."""


_SAFE_ERRORS = {
    e.__name__: e
    for e in (
        NotImplementedError,
        ValueError,
        TypeError,
        RuntimeError,
        IndexError,
        KeyError,
        ZeroDivisionError,
        AttributeError,
        AssertionError,
        ArithmeticError,
        OverflowError,
        LookupError,
        NameError,
        RecursionError,
        MemoryError,
        StopIteration,
    )
}


class _Proxy:
    """The learner's function, as the judge sees it: each call is a round trip to the kernel."""

    def __init__(self, name: str, channel: socket.socket):
        self.__name__ = self.__qualname__ = name
        self._channel = channel

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        try:
            message = {
                "op": "call",
                "name": self.__name__,
                "args": [encode_argument(a) for a in args],
                "kwargs": {k: encode_argument(v) for k, v in kwargs.items()},
            }
        except NotPlain as e:
            raise _NeedsKernel(str(e)) from None
        send(self._channel, message)
        reply = recv(self._channel)
        if reply is None:
            raise _KernelGone
        if "raise" in reply:
            error = _SAFE_ERRORS.get(str(reply["raise"]), RuntimeError)
            message = str(reply.get("message", ""))[:2000]
            if error is RuntimeError and reply["raise"] != "RuntimeError":
                message = f"{str(reply['raise'])[:100]}: {message}"
            raise error(message)
        result = decode(reply["result"])
        # arguments changed in place by the learner's function are changed here too
        for mine, theirs in zip(args, reply.get("args", [])):
            _copy_back(mine, decode(theirs))
        return result


class _KernelGone(BaseException):
    """The kernel stopped answering (it was interrupted, or it died)."""


def _copy_back(mine, theirs) -> None:
    import numpy as np

    if (
        hasattr(mine, "shape")
        and hasattr(theirs, "shape")
        and tuple(mine.shape) == tuple(theirs.shape)
    ):
        if type(mine) is np.ndarray:
            mine[...] = theirs
        elif hasattr(mine, "copy_") and "torch" in type(mine).__module__:
            import torch

            with torch.no_grad():
                mine.copy_(torch.as_tensor(np.asarray(theirs)))
        elif hasattr(mine, "__setitem__") and hasattr(theirs, "numpy"):
            mine[...] = theirs
    elif isinstance(mine, list) and isinstance(theirs, list):
        if len(mine) != len(theirs):
            mine[:] = theirs
            return
        for i, (a, b) in enumerate(zip(mine, theirs)):
            if hasattr(a, "shape") or isinstance(a, (list, dict)):
                _copy_back(a, b)
            else:
                mine[i] = b  # words[i] = merged: the learner's list was changed in place
    elif isinstance(mine, dict) and isinstance(theirs, dict):
        for k in [k for k in mine if k not in theirs]:
            del mine[k]
        for k, b in theirs.items():
            if k in mine and (hasattr(mine[k], "shape") or isinstance(mine[k], (list, dict))):
                _copy_back(mine[k], b)
            else:
                mine[k] = b


def _raise_reply(reply: dict):
    """Raise, in the judge, the exception the kernel reported (as a safe builtin type)."""
    name, message = str(reply["raise"])[:100], str(reply.get("message", ""))[:4000]
    if name == "ExerciseError":  # the learner's code failed: feedback, never a pass
        raise ExerciseError(message)
    error = _SAFE_ERRORS.get(name, RuntimeError)
    if error is RuntimeError and name != "RuntimeError":
        message = f"{name}: {message}"
    raise error(message)


def _remote(checker: str, protocol, names: list[str], kernel: socket.socket):
    """The checker as the judge runs it: the inputs drawn here (from the run's secret seed),
    the protocol run in the kernel on them, its plain-data outputs judged here."""

    def check() -> None:
        data = protocol.inputs(seeded(0))
        message = {"op": "run", "checker": checker, "args": names, "inputs": encode(data)}
        send(kernel, message)
        reply = recv(kernel)
        if reply is None:
            raise _KernelGone
        if "raise" in reply:
            _raise_reply(reply)
        passed(protocol.judge(data, decode(reply["result"])))

    return check


def _judge(grader: socket.socket, kernel: socket.socket, checkers: dict) -> None:
    """The judge's loop: one job per exercise from the grader, one verdict back."""
    while True:
        job = recv(grader)
        if job is None:
            return
        if job.get("seed") is not None:  # the run's secret: it never leaves this process
            _checking._SECRET[0] = int(job["seed"])
        exercise, checker = job["exercise"], checkers.get(job["checker"])
        where = "judge"
        try:
            if checker is None:
                verdict = Verdict(exercise, ERROR, f"no checker {job['checker']}")
            elif getattr(checker, "protocol", None) is not None:
                where = "protocol"
                remote = _remote(job["checker"], checker.protocol, list(job["args"]), kernel)
                verdict = run_checker(exercise, remote)
            elif job["mode"] != "proxy":
                raise _NeedsKernel(job["mode"])
            else:
                proxies = [_Proxy(name, kernel) for name in job["args"]]
                verdict = run_checker(exercise, checker, *proxies)
        except _NeedsKernel:
            where = "kernel"
            send(
                kernel,
                {
                    "op": "check",
                    "exercise": exercise,
                    "checker": job["checker"],
                    "args": job["args"],
                    "timeout": job.get("timeout", 60),
                },
            )
            reply = recv(kernel)
            verdict = (
                Verdict(exercise, ERROR, "the kernel stopped")
                if reply is None
                else Verdict(exercise, str(reply["status"]), str(reply["feedback"]))
            )
        except _KernelGone:
            verdict = Verdict(exercise, ERROR, "the kernel stopped answering")
        with contextlib.suppress(OSError):
            send(kernel, {"op": "done"})
        send(grader, {**asdict(verdict), "judged": where})


def _start_judge(address: str, hello: str, checkers: dict) -> socket.socket:
    """Fork the judge; return the kernel's end of the judge-kernel channel."""
    kernel_end, judge_end = socket.socketpair()
    pid = os.fork()
    if pid:
        judge_end.close()
        return kernel_end
    # the judge: a copy of the kernel taken before any student code ran
    code = 0
    try:
        kernel_end.close()
        _harden()
        sys.stdout = sys.stderr = open(os.devnull, "w")
        grader = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        grader.connect(address)
        send(grader, {"hello": hello, "pid": os.getpid()})
        _judge(grader, judge_end, checkers)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _harden() -> None:
    """Not dumpable (so no other process of this user can ptrace it or read its memory or
    file descriptors through /proc), and killed with the kernel."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)


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


def arm(chapter: str, address: str | None = None, hello: str = "") -> None:
    """Import chapter ``chapter``'s checkers and remember them, before any student code runs;
    with ``address``, fork the judge, which connects to the grader there."""
    import numpy  # noqa: F401
    import torch  # noqa: F401

    module = importlib.import_module(f"aigc_course.exercises.ch{chapter}")
    _armed["checkers"] = {k: getattr(module, k) for k in dir(module) if k.startswith("check_")}
    _armed["module"] = module
    _armed["runs"] = {
        k: (c.protocol.run, c.protocol.run.__code__)
        for k, c in _armed["checkers"].items()
        if getattr(c, "protocol", None) is not None
    }
    _armed["snapshot"] = _snapshot()
    if address:
        _armed["channel"] = _start_judge(address, hello, dict(_armed["checkers"]))


class _Timeout(BaseException):
    """Not an Exception: the checkers' ``except Exception`` must not turn it into feedback."""


def _alarm(signum, frame):
    raise _Timeout


def _check_here(request: dict, namespace: dict) -> Verdict:
    """Run a checker in this kernel (a class exercise): the old, forgeable way."""
    exercise, timeout = request["exercise"], float(request.get("timeout", 60))
    before = _armed["snapshot"]
    tampered = _tampered(before)
    if not tampered:
        try:
            args = [eval(a, namespace) for a in request["args"]]
        except Exception as e:
            return Verdict(exercise, ERROR, f"{type(e).__name__}: {e}")
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            verdict = run_checker(exercise, _armed["checkers"][request["checker"]], *args)
        except _Timeout:
            verdict = Verdict(exercise, ERROR, f"timed out after {timeout:g} s")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        tampered = _tampered(before)
    if tampered:
        message = "the submission replaced what the checker uses: " + ", ".join(tampered[:5])
        return Verdict(exercise, ERROR, message)
    return verdict


def serve(namespace: dict) -> None:
    """Answer the judge's requests for one exercise: call the learner's function on the
    arguments it sends, or run a checker here; return when the judge is done."""
    channel = _armed["channel"]
    while True:
        request = recv(channel)
        if request is None or request["op"] == "done":
            return
        if request["op"] == "check":
            send(channel, asdict(_check_here(request, namespace)))
            continue
        if request["op"] == "run":
            send(channel, _run_protocol(request, namespace))
            continue
        try:
            args = [decode(a) for a in request["args"]]
            kwargs = {k: decode(v) for k, v in request["kwargs"].items()}
            result = namespace[request["name"]](*args, **kwargs)
        except BaseException as e:
            send(channel, {"raise": type(e).__name__, "message": str(e)})
            continue
        try:
            reply = {"result": encode(result), "args": [_encode_or_none(a) for a in args]}
        except NotPlain as e:
            reply = {"raise": "TypeError", "message": f"it returned {e}, which is not plain data"}
        send(channel, reply)


def _run_protocol(request: dict, namespace: dict) -> dict:
    """Run an exercise's protocol (its kernel half) on the judge's inputs; plain data back.

    What this returns is only ever *compared* by the judge: a reply that claims a pass does
    not exist. Replacing the protocol (or what it calls in ``aigc_course``, ``torch``,
    ``numpy``) with code that computes the reference's answer is caught here as tampering,
    when it is done in the plain way; it is not prevented (this is the submission's process)."""
    name = str(request["checker"])
    run, code = _armed["runs"].get(name, (None, None))
    try:
        if run is None:
            raise RuntimeError(f"no protocol for {name}")
        objects = [eval(a, namespace) for a in request["args"]]
        reply = {"result": encode(run(decode(request["inputs"]), *objects))}
    except ExerciseError as e:
        reply = {"raise": "ExerciseError", "message": str(e)}
    except NotPlain as e:
        reply = {"raise": "ExerciseError", "message": f"{_checking.NOT_PLAIN}: {e}"}
    except BaseException as e:
        reply = {"raise": type(e).__name__, "message": str(e)}
    tampered = _tampered(_armed["snapshot"])
    current = getattr(getattr(_armed["module"], name, None), "protocol", None)
    if run is not None and (getattr(current, "run", None) is not run or run.__code__ is not code):
        tampered.append(f"{_armed['module'].__name__}.{name}.protocol.run")
    if tampered:
        message = "the submission replaced what the protocol uses: " + ", ".join(tampered[:5])
        reply = {"raise": "Tampered", "message": message}
    return reply


def _encode_or_none(value):
    try:
        return encode(value)
    except NotPlain:
        return {"none": 1}
