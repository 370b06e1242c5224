"""Type promotion: which dtype ``a + b`` has, and how binary operators bring their operands to
it (chapter 1).
"""

from __future__ import annotations

import numpy as np

from . import _dtypes
from ._checks import broadcast_shapes
from ._dtypes import bool_, default_float, dtype, int64


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
    return Tensor._make(np.asarray(v, dtype=dt.numpy_dtype))


def _binary(fn, a, b, float_result: bool = False) -> Tensor:
    # Fast path for the common cases, a float tensor with a Python float or with a tensor of
    # the same dtype and shape: promotion and broadcasting have nothing to do.
    if isinstance(a, Tensor) and a._data.dtype.kind == "f":
        if type(b) is float:
            return fn.apply(a, Tensor._make(np.asarray(b, dtype=a._data.dtype)))
        if isinstance(b, Tensor) and b._data.dtype == a._data.dtype and b.shape == a.shape:
            return fn.apply(a, b)
    dt = result_type(a, b)
    if float_result and not dt.is_floating_point:
        dt = default_float
    ta, tb = _as_tensor(a, dt), _as_tensor(b, dt)
    broadcast_shapes(ta.shape, tb.shape)
    return fn.apply(ta, tb)


def _compare(op, a, b) -> Tensor:
    dt = result_type(a, b)
    ta, tb = _as_tensor(a, dt), _as_tensor(b, dt)
    broadcast_shapes(ta.shape, tb.shape)
    return Tensor._make(op(ta._data, tb._data))


# Last, because _tensor imports this module (at its end) and Tensor is only needed when the
# functions above run: this way either module may be imported first.
from ._tensor import Tensor  # noqa: E402
