"""Type promotion: which dtype ``a + b`` has, and how binary operators bring their operands to
it (chapter 1). Shared by the ops files; each op decides what to do with the promoted dtype.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import broadcast_shapes
from .._dtypes import bool_, default_float, dtype, int64
from .._tensor import Tensor


def result_type(*operands) -> dtype:
    """torch's type promotion. Tensors with dimensions decide, then 0-d tensors, then Python
    numbers, and a later tier only matters if it is of a higher category (bool < int < float).
    So ``int_tensor * 2.5`` is float32, and ``float32_tensor * 2.5`` stays float32.
    """
    tiers: list[dtype | None] = [None, None, None]
    for v in operands:
        if isinstance(v, Tensor):
            tier, d = (0 if v.ndim else 1), v.dtype
        elif isinstance(v, bool):
            tier, d = 2, bool_
        elif isinstance(v, (int, np.integer)):
            tier, d = 2, int64
        elif isinstance(v, (float, np.floating)):
            tier, d = 2, default_float
        else:
            raise TypeError(f"unsupported operand type for a tensor operation: {type(v).__name__}")
        tiers[tier] = d if tiers[tier] is None else _dtypes.promote_types(tiers[tier], d)
    result = None
    for d in tiers:
        if d is not None and (result is None or d.category > result.category):
            result = d if result is None else _dtypes.promote_types(result, d)
    return result


def _as_tensor(v, dt: dtype) -> Tensor:
    if isinstance(v, Tensor):
        return v if v.dtype is dt else v.to(dt)
    if type(v) is int and dt.category == 1:  # a Python int wraps into the dtype, as in torch
        info = np.iinfo(dt.numpy_dtype)
        if not info.min <= v <= info.max:
            v = np.asarray(v % 2**64 if v < 2**64 else v % 2**64).astype(np.uint64)
            return Tensor._make(v.astype(dt.numpy_dtype))
    return Tensor._make(np.asarray(v, dtype=dt.numpy_dtype))


def _promote_operands(a, b, float_result: bool = False) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of their promoted dtype, checked to broadcast.

    The common cases take a shortcut: a float tensor with a Python number, or two tensors of
    one dtype; then promotion has nothing to do.
    """
    if isinstance(a, Tensor):
        kind = a._data.dtype.kind
        if isinstance(b, Tensor):
            if b._data.dtype is a._data.dtype and (kind == "f" or not float_result):
                if b._data.shape != a._data.shape:
                    broadcast_shapes(a._data.shape, b._data.shape)
                return a, b
        elif kind == "f" and type(b) in (float, int):
            return a, Tensor._make(np.asarray(b, dtype=a._data.dtype))
    elif isinstance(b, Tensor) and b._data.dtype.kind == "f" and type(a) in (float, int):
        return Tensor._make(np.asarray(a, dtype=b._data.dtype)), b
    dt = result_type(a, b)
    if float_result and not dt.is_floating_point:
        dt = default_float
    ta, tb = _as_tensor(a, dt), _as_tensor(b, dt)
    if ta._data.shape != tb._data.shape:
        broadcast_shapes(ta._data.shape, tb._data.shape)
    return ta, tb
