r"""``launch``: run a function in ``world_size`` processes joined by a gloo process group.

A small, safe stand-in for ``torchrun`` (or ``torch.multiprocessing.spawn``) for one machine:

- every rank is a fresh *spawned* process (never forked: a forked torch is unsafe), which
  imports ``fn`` by name, so ``fn`` must live in an importable module or in a script's
  ``__main__`` (as with ``torch.multiprocessing.spawn``), not in a notebook;
- the ranks meet through a ``FileStore`` in a fresh temporary directory, so two launches at the
  same time never collide on a port, and gloo talks over the loopback interface only;
- each rank uses one thread (``torch.set_num_threads(1)``), the honest setting when ranks share
  the cores of one machine;
- a rank that raises makes :func:`launch` raise in the parent within seconds, naming the rank
  and its message; the other ranks are terminated, and nothing is left running;
- the ranks' stdout and stderr go to log files, so only the parent prints.

See chapter 11.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

__all__ = ["launch"]

#: How long ``init_process_group`` waits for the other ranks before giving up.
INIT_TIMEOUT_S = 30.0
#: How often the parent looks at its children.
POLL_S = 0.05


def _worker(fn, rank: int, world_size: int, args: tuple, store_dir: str, results) -> None:
    """The body of rank ``rank``: join the group, call ``fn``, report, leave the group."""
    log = os.open(os.path.join(store_dir, f"rank{rank}.log"), os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(log, 1)  # only the parent prints: C++ warnings (fd 2) and print() go to the log
    os.dup2(log, 2)
    os.environ["GLOO_SOCKET_IFNAME"] = _loopback_interface()  # never the machine's network
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    try:  # numpy's BLAS too (it may have started before OMP_NUM_THREADS was set)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover
        pass
    try:
        dist.init_process_group(
            "gloo",
            init_method="file://" + os.path.join(store_dir, "store"),
            rank=rank,
            world_size=world_size,
            timeout=timedelta(seconds=INIT_TIMEOUT_S),
        )
        value = fn(rank, world_size, *args)
        results.put((rank, "ok", value))
    except BaseException as e:
        message = f"{type(e).__name__}: {e}"
        results.put((rank, "error", (message, traceback.format_exc())))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _loopback_interface() -> str:
    """The loopback interface's name: ``lo`` on Linux, ``lo0`` on macOS."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):  # pragma: no cover
        return "lo"
    return next((name for name in names if name.startswith("lo")), "lo")


def _main_is_importable() -> bool:
    """Whether spawned processes can re-import ``__main__``, as ``multiprocessing`` does: a
    script run as ``python script.py`` (it has a ``__file__``) or a module run with ``-m`` (it
    has a ``__spec__``). A notebook's kernel or an interactive session has neither."""
    main = sys.modules.get("__main__")
    if getattr(main, "__spec__", None) is not None and getattr(main.__spec__, "name", None):
        return True
    path = getattr(main, "__file__", None)
    return isinstance(path, str) and os.path.isfile(path)


def _check_importable(fn: Callable) -> None:
    """Refuse only what spawned processes cannot import: closures and lambdas (their names hold
    ``<locals>`` or ``<lambda>``) and a function of a notebook's or interactive ``__main__``.
    A worker in a script's ``__main__`` is fine, as with ``torch.multiprocessing.spawn``; the
    script must then start the launch under ``if __name__ == "__main__":``."""
    where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
    if not callable(fn):
        raise TypeError(f"launch() needs a function, got {fn!r}")
    if "<" in getattr(fn, "__qualname__", "<"):
        raise ValueError(
            f"launch() runs fn in spawned processes, which import it by name, but {where} is a "
            "lambda or is defined inside a function; define it at the top level of a module "
            "or script"
        )
    if getattr(fn, "__module__", None) == "__main__" and not _main_is_importable():
        raise ValueError(
            f"launch() runs fn in spawned processes, which import it by name, but {where} is "
            "defined in a notebook or an interactive session, which they cannot import; put it "
            "in a module (a .py file) or a script"
        )
    try:
        pickle.dumps(fn)
    except Exception as e:
        raise ValueError(f"launch() cannot send {where} to a spawned process: {e}") from None


def _stop(processes: Sequence) -> None:
    """Terminate, then kill, every process still alive; reap them all."""
    processes = [p for p in processes if p.pid is not None]  # started ones only
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 2.0
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def launch(
    fn: Callable[..., Any], world_size: int = 2, args: tuple = (), timeout: float = 300.0
) -> list[Any]:
    r"""Run ``fn(rank, world_size, *args)`` in ``world_size`` processes and return the list of
    their return values, in rank order.

    Each process has joined the default gloo process group before ``fn`` starts, so ``fn`` can
    call ``torch.distributed.all_reduce`` and friends. Return values must be picklable (numpy
    arrays, numbers, dicts of them). Raises ``RuntimeError`` naming the rank and its message
    when a rank fails, and ``TimeoutError`` after ``timeout`` seconds.

    See chapter 11.
    """
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    if not isinstance(args, tuple):
        raise TypeError(f"args must be a tuple, got {type(args).__name__}")
    _check_importable(fn)
    ctx = mp.get_context("spawn")
    store_dir = tempfile.mkdtemp(prefix="aigc_launch_")
    results = ctx.SimpleQueue()
    processes = [
        ctx.Process(
            target=_worker,
            args=(fn, rank, world_size, args, store_dir, results),
            daemon=True,  # dies with the parent, whatever happens
            name=f"aigc_course rank {rank}",
        )
        for rank in range(world_size)
    ]
    values: dict[int, Any] = {}
    try:
        for p in processes:
            p.start()
        deadline = time.monotonic() + timeout
        while len(values) < world_size:
            while not results.empty():
                rank, status, value = results.get()
                if status == "error":
                    message, trace = value
                    raise RuntimeError(f"rank {rank} raised {message}\n\n{trace}")
                values[rank] = value
            for rank, p in enumerate(processes):
                if rank not in values and p.exitcode is not None and results.empty():
                    time.sleep(POLL_S)  # its message may still be in flight
                    if results.empty():
                        raise RuntimeError(
                            f"rank {rank} exited with code {p.exitcode} without a result"
                            f"{_log_tail(store_dir, rank)}"
                        )
            if time.monotonic() > deadline:
                missing = sorted(set(range(world_size)) - set(values))
                raise TimeoutError(
                    f"launch() timed out after {timeout:g} s waiting for ranks {missing}"
                )
            time.sleep(POLL_S)
        for p in processes:
            p.join(5.0)
    finally:
        try:
            _stop(processes)
            results.close()
        finally:
            shutil.rmtree(store_dir, ignore_errors=True)
    return [values[rank] for rank in range(world_size)]


def _log_tail(store_dir: str, rank: int, chars: int = 2000) -> str:
    try:
        with open(os.path.join(store_dir, f"rank{rank}.log"), errors="replace") as f:
            text = f.read()[-chars:]
    except OSError:
        # it died before reaching _worker, e.g. re-importing a script's unguarded launch()
        return (
            " before running fn (a script that calls launch() must do so under "
            '`if __name__ == "__main__":`, because spawned processes import the main module)'
        )
    return f"; its output ended with:\n{text}" if text.strip() else ""
