"""Every ``OpInfo`` of the harness in one list, and the coverage check: each public op of
aigc_course must be reached by some entry.

The public ops are the functions of ``aigc_course``, ``aigc_course.nn.functional`` and
``aigc_course.linalg``, and the public methods of ``Tensor``, less :data:`NOT_OPS`. An op
counts as covered when a registry entry calls it directly, at the outermost level: the call
whose result the checks compare with torch's. :func:`covered` finds those calls by wrapping
every public function for the duration of one run of the registry's samples (a call made
inside another public function or a Tensor operator is not counted), so an entry that only
reaches an op through another one does not count for it.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator

import aigc_course as ac
import aigc_course.linalg
import aigc_course.nn.functional

from .core import OpInfo, quiet

NAMESPACES = {
    "aigc_course": ac,
    "aigc_course.nn.functional": aigc_course.nn.functional,
    "aigc_course.linalg": aigc_course.linalg,
}

# Public callables that are not ops: nothing to compare value for value with a torch op.
NOT_OPS = {
    # interop with torch itself
    "aigc_course.from_torch",
    "aigc_course.to_torch",
    # devices: a CPU-only build (tests/test_torch_compat_api.py)
    "aigc_course.get_default_device",
    "aigc_course.set_default_device",
    "Tensor.cpu",
    "Tensor.cuda",
    # files (tests/test_serialization.py)
    "aigc_course.save",
    "aigc_course.load",
    # the global random generator (tests/test_ops_creation.py)
    "aigc_course.manual_seed",
    # autograd plumbing (tests/test_autograd*.py)
    "aigc_course.is_grad_enabled",
    "Tensor.retain_grad",
    # numpy's BLAS thread count, a process setting (tests/test_ops_added.py)
    "aigc_course.set_num_threads",
    "aigc_course.get_num_threads",
    # memory addresses
    "Tensor.data_ptr",
}

# Tensor's own machinery: wrapped only so that calls made inside them do not count as
# outermost; never public ops themselves.
_DUNDERS_KEPT = {"__init__", "__new__", "__getattr__", "__getattribute__", "__setattr__"}
_DUNDERS_KEPT |= {"__delattr__", "__repr__", "__str__", "__hash__", "__del__", "__init_subclass__"}


def all_ops() -> list[OpInfo]:
    """Every OpInfo in the package's modules (any module-level list or tuple of them), each
    once; a new topic file is picked up without being named here."""
    import opinfo

    seen: set[int] = set()
    ops: list[OpInfo] = []
    for module in pkgutil.iter_modules(opinfo.__path__):
        values = vars(importlib.import_module(f"opinfo.{module.name}")).values()
        for value in values:
            if not isinstance(value, (list, tuple)):
                continue
            for op in value:
                if isinstance(op, OpInfo) and id(op) not in seen:
                    seen.add(id(op))
                    ops.append(op)
    return ops


def _is_function(value) -> bool:
    return callable(value) and not inspect.isclass(value) and not inspect.ismodule(value)


def public_ops() -> dict[str, Callable]:
    """``{"aigc_course.add": add, ..., "Tensor.add": Tensor.add}``, less NOT_OPS.

    A namespace's public names are its ``__all__`` where it has one; otherwise every name
    without a leading underscore, except, in a submodule, the names it imports from elsewhere
    that torch's counterpart does not have (``nn.functional`` uses ``where``, which is
    ``aigc_course.where``).
    """
    import torch

    found: dict[str, Callable] = {}
    for label, ns in NAMESPACES.items():
        names = getattr(ns, "__all__", None) or [n for n in dir(ns) if not n.startswith("_")]
        theirs = torch
        for part in label.split(".")[1:]:
            theirs = getattr(theirs, part)
        for name in names:
            value = getattr(ns, name)
            if not _is_function(value):
                continue
            imported = getattr(value, "__module__", label) != label
            if ns is not ac and imported and not hasattr(theirs, name):
                continue
            found[f"{label}.{name}"] = value
    for name in dir(ac.Tensor):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(ac.Tensor, name)
        if isinstance(static, property) or not _is_function(getattr(ac.Tensor, name)):
            continue
        found[f"Tensor.{name}"] = static
    return {k: v for k, v in found.items() if k not in NOT_OPS}


@contextlib.contextmanager
def _tracing(ops: dict[str, Callable]) -> Iterator[tuple[set[str], dict, list]]:
    """Wrap each op (and Tensor's operators, for depth only) so that a call records its name
    when it is the outermost one while ``state[0]`` (recording) is on. Also yields, for an
    entry that holds an op's function object itself, ``{id(function): (names, wrapper)}``."""
    called: set[str] = set()
    state = [False, 0]  # recording, depth
    by_id: dict[int, tuple[list[str], Callable]] = {}
    patched: list[tuple[object, str, object]] = []

    def wrap(key, f):
        def traced(*args, **kwargs):
            if state[0] and state[1] == 0 and key is not None:
                called.add(key)
            state[1] += 1
            try:
                return f(*args, **kwargs)
            finally:
                state[1] -= 1

        return traced

    def patch(owner, name, key):
        static = inspect.getattr_static(owner, name)
        if isinstance(static, staticmethod):
            new = staticmethod(wrap(key, static.__func__))
        elif isinstance(static, classmethod):
            new = classmethod(wrap(key, static.__func__))
        elif callable(static):
            new = wrap(key, static)
        else:
            return
        patched.append((owner, name, static))
        setattr(owner, name, new)
        if key is not None:
            function = getattr(static, "__func__", static)
            names, _ = by_id.setdefault(id(function), ([], getattr(owner, name)))
            names.append(key)

    try:
        for key in ops:
            owner_label, name = key.rsplit(".", 1)
            owner = ac.Tensor if owner_label == "Tensor" else NAMESPACES[owner_label]
            patch(owner, name, key)
        for name in dir(ac.Tensor):
            static = inspect.getattr_static(ac.Tensor, name)
            own = getattr(static, "__module__", "") or ""
            if name.startswith("__") and name not in _DUNDERS_KEPT and own.startswith("aigc"):
                patch(ac.Tensor, name, None)
        yield called, by_id, state
    finally:
        for owner, name, static in reversed(patched):
            setattr(owner, name, static)


def covered(ops: list[OpInfo] | None = None, public: dict[str, Callable] | None = None) -> set:
    """The public ops that some entry of ``ops`` (default: the whole registry) calls at the
    outermost level, on its samples and its error inputs."""
    ops = all_ops() if ops is None else ops
    public = public_ops() if public is None else public
    with _tracing(public) as (called, by_id, state):
        for op in ops:
            calls = [s for dt in op.dtypes for s in op.sample_list(dt)]
            calls += [e.sample for e in op.error_list()]
            for sample in calls:
                for _, fn in op.variants(ac):
                    args, kwargs, _ = sample.build(ac)
                    if id(fn) in by_id:  # an entry that holds the function itself (fn=...):
                        names, fn = by_id[id(fn)]  # every name it has, and called traced
                        called.update(names)
                    state[0], state[1] = True, 0
                    try:
                        with quiet():
                            fn(*args, **kwargs)
                    except Exception:
                        pass
                    finally:
                        state[0] = False
    return called


def uncovered() -> list[str]:
    """The public ops no registry entry calls: each needs an OpInfo (or, if it is not an op,
    a commented line in NOT_OPS)."""
    public = public_ops()
    return sorted(set(public) - covered(public=public))
