"""What tensor functions accept, checked the way torch checks it: shapes (``Size`` and size
arguments), dimensions, devices, and which shapes broadcast together.

Each check raises torch's exception type with a message that names the offending value
(chapter 1).
"""

from __future__ import annotations

import math

import numpy as np


class Size(tuple):
    """A tensor's shape: a tuple that prints like torch's ``torch.Size([5, 3])``."""

    def __repr__(self) -> str:
        return f"aigc_course.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class device:
    """Where a tensor lives: ``device('cpu')``, ``device('cuda')``, ``device('cuda:0')`` or
    ``device('cuda', 1)``, with ``.type`` and ``.index`` as in torch.

    Any device torch knows can be *named*, as in a CPU-only torch build; aigc_course is numpy,
    so only the CPU can hold a tensor, and moving one elsewhere raises what such a build raises
    (see :func:`check_device`).

    >>> import aigc_course as ac
    >>> ac.device("cuda:0"), ac.device("cuda:0").index, str(ac.device("cuda", 1))
    (device(type='cuda', index=0), 0, 'cuda:1')
    """

    def __init__(self, type="cpu", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(
                f"device(): argument 'type' must be str, not {builtins_type(type).__name__}"
            )
        name, _, number = type.partition(":")
        if name not in _KNOWN_DEVICES:
            raise RuntimeError(
                f"Expected one of {', '.join(_KNOWN_DEVICES)} device type at start of device "
                f"string: {type}"
            )
        if number:
            if index is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = name
        self.index = None if index is None else int(index)

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):  # a convenience torch does not offer: x.device == "cpu"
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))


builtins_type = type

#: The device types a torch build knows, as torch lists them in its error message.
_KNOWN_DEVICES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip
#: Backends a CPU-only torch build "was not compiled with" (AssertionError); the others it
#: "is not linked with" (RuntimeError).
_NOT_COMPILED = {"cuda": "CUDA", "xpu": "XPU", "mtia": "MTIA"}


def check_device(d) -> str:
    """Accept ``None``, ``"cpu"`` (or ``"cpu:0"``) or a cpu device object; refuse the rest as a
    CPU-only torch build does: ``AssertionError: Torch not compiled with CUDA enabled`` for
    CUDA (and XPU, MTIA), ``RuntimeError: PyTorch is not linked with support for mps devices``
    for the other accelerators, and ``RuntimeError`` naming an unknown device string.

    >>> import aigc_course as ac
    >>> ac.ones(2).to("cuda")
    Traceback (most recent call last):
    ...
    AssertionError: Torch not compiled with CUDA enabled
    """
    if d is None:
        return "cpu"
    if not isinstance(d, device):
        if not isinstance(d, str) and not hasattr(d, "type"):
            raise TypeError(f"device must be a string or a device, not {type(d).__name__}")
        d = device(d if isinstance(d, str) else str(d))
    if d.type == "cpu":
        return "cpu"
    if d.type in _NOT_COMPILED:
        raise AssertionError(f"Torch not compiled with {_NOT_COMPILED[d.type]} enabled")
    raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices")


_default_device = device("cpu")


def set_default_device(d) -> None:
    """Where new tensors are created when a creation function gets no ``device``, as
    ``torch.set_default_device``. Naming ``"cuda"`` is allowed, as in a CPU-only torch build;
    creating a tensor there then raises its ``AssertionError``. ``None`` means the CPU."""
    global _default_device
    _default_device = device("cpu") if d is None else device(d)


def get_default_device() -> device:
    """The device that creation functions use when given none (the CPU unless changed)."""
    return _default_device


def check_new_device(d) -> str:
    """:func:`check_device` for a creation function: ``None`` means the default device."""
    return check_device(_default_device if d is None else d)


# ---------------------------------------------------------------- argument checking helpers


def _check_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative ``dim``; torch's IndexError names the allowed range."""
    if type(dim) is int and 0 <= dim < ndim:  # the common case, checked first
        return dim
    n = ndim if ndim > 1 else 1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n if ndim else 0


def _check_dims(dim, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(_check_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out} appears multiple times in the list of dims")
    return out if ndim else None


def _size_args(size, name: str = "size") -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{name} must be a tuple of ints, but got {list(size)}")
    return tuple(int(n) for n in size)


def broadcast_shapes(*shapes: tuple) -> tuple[int, ...]:
    """The shape that all ``shapes`` broadcast to, or torch's RuntimeError naming the two sizes
    that clash (``a``: the size so far, ``b``: the next shape's)."""
    n = max([len(s) for s in shapes], default=0)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    out = []
    for i in reversed(range(n)):  # from the last dimension, so errors name the one torch names
        size = 1
        for p in padded:
            y = p[i]
            if y != size and size != 1 and y != 1:
                raise RuntimeError(
                    f"The size of tensor a ({size}) must match the size of tensor b ({y}) "
                    f"at non-singleton dimension {i}"
                )
            if y != 1:
                size = y
        out.append(size)
    return tuple(reversed(out))
