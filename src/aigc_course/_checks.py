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
    """Where a tensor lives. aigc_course is numpy, so that is always the CPU."""

    def __init__(self, type: str = "cpu"):
        self.type = check_device(type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __eq__(self, other) -> bool:
        return str(other) == self.type or getattr(other, "type", None) == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type


_KNOWN_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia")


def check_device(d) -> str:
    """Accept ``None``, ``"cpu"`` or a cpu device object; refuse the rest the way a CPU-only
    torch build does (``AssertionError`` for real accelerators, ``RuntimeError`` for typos)."""
    if d is None:
        return "cpu"
    name = getattr(d, "type", d)
    if not isinstance(name, str):
        raise TypeError(f"device must be a string or a device, not {type(d).__name__}")
    kind = name.split(":")[0]
    if kind == "cpu":
        return "cpu"
    if kind in _KNOWN_DEVICES:
        raise AssertionError(
            f"aigc_course is CPU-only (numpy arrays): device '{name}' is not available. "
            "Use device='cpu'; the torch half of each notebook is the one that uses the GPU."
        )
    raise RuntimeError(
        f"Expected one of {', '.join(_KNOWN_DEVICES)} device type at start of device string: {name}"
    )


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
