"""``out=``: the namespace functions (``aigc_course.add(x, y, out=r)``) write their result into
a given tensor, as torch's do.

The ops themselves never see ``out``: :func:`with_out` wraps the public function once, at
import time, in ``aigc_course/__init__.py``. Tensor methods and operators call the ops
directly, so the wrapper costs nothing on their path.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import _dtypes
from .._tensor import Tensor
from ..autograd import grad_mode


def _can_cast(src: _dtypes.dtype, dst: _dtypes.dtype) -> bool:
    """torch's rule for out=: no float into an integer, nothing else into a bool."""
    return src.category <= dst.category


def write_out(name: str, result, out):
    """Copy ``result`` (a tensor, or a tuple of them) into ``out``, resizing ``out`` if its shape
    differs (with torch's warning when it was not empty), and return ``out``."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
        items = [write_out(name, r, o) for r, o in zip(result, out)]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if grad_mode._enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    if not _can_cast(result.dtype, out.dtype):
        raise RuntimeError(
            f"result type {result.dtype.scalar_name} can't be cast to the desired output "
            f"type {out.dtype.scalar_name}"
        )
    if out._data.shape != result._data.shape:
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(result._data.shape)}. This behavior is deprecated, and in a future "
                "PyTorch release outputs will not be resized unless they have zero elements. "
                "You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                "elements with t.resize_(0).",
                UserWarning,
                stacklevel=3,
            )
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._bump_version()
    return out


def with_out(fn):
    """``fn`` with torch's keyword-only ``out=`` argument."""

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else write_out(fn.__name__, result, out)

    return wrapper
