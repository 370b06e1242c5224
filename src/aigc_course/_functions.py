"""Functions on several tensors: ``matmul``, ``where``, ``cat`` and ``stack`` (chapter 1).

Like the methods, they only validate arguments and promote dtypes; the math lives in the ops.
"""

from __future__ import annotations

from ._checks import _check_dim, broadcast_shapes
from ._dtypes import bool_
from .ops import elementwise as E
from .ops import linalg as L
from .ops import shape as S


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and batch broadcasting.

    >>> import aigc_course as ac
    >>> ac.ones(5, 3) @ ac.ones(4, 2)
    Traceback (most recent call last):
    ...
    RuntimeError: mat1 and mat2 shapes cannot be multiplied (5x3 and 4x2)
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(
            f"matmul(): argument 'other' must be Tensor, not "
            f"{type(b if isinstance(a, Tensor) else a).__name__}"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected both matmul operands to have the same dtype, but got: {a.dtype.name} != "
            f"{b.dtype.name}"
        )
    k1, k2 = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k1 != k2:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] to have the "
                f"same number of elements, but got {k1} and {k2} elements respectively"
            )
        if a.ndim <= 2 and b.ndim == 2:  # torch treats a 1-D `a` as one row: (1, k1)
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0] if a.ndim == 2 else 1}"
                f"x{k1} and {k2}x{b.shape[1]})"
            )
        if a.ndim == 2 and b.ndim == 1:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{k1}), vec ({k2})"
            )
        raise RuntimeError(
            f"matmul: inner dimensions differ: {list(a.shape)} @ {list(b.shape)} ({k1} != {k2})"
        )
    if a.ndim > 2 and b.ndim > 2:
        broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return L.Matmul.apply(a, b)


def where(condition: Tensor, input, other) -> Tensor:
    """Elementwise choice: ``input`` where ``condition`` is True, else ``other``."""
    if not isinstance(condition, Tensor) or condition.dtype is not bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{getattr(condition, 'dtype', type(condition).__name__)}"
        )
    dt = result_type(input, other)
    x, y = _as_tensor(input, dt), _as_tensor(other, dt)
    broadcast_shapes(broadcast_shapes(condition.shape, x.shape), y.shape)
    return E.Where.apply(condition, x, y)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    ref = tensors[0]
    d = _check_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for axis in range(ref.ndim):
            if axis != d and t.shape[axis] != ref.shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[axis]} but got size {t.shape[axis]} for tensor number {i} in "
                    "the list."
                )
    dt = result_type(*tensors)
    return S.Cat.apply(*(_as_tensor(t, dt) for t in tensors), dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = _check_dim(dim, tensors[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


# Last, because _tensor imports this module (at its end) and Tensor is only needed when the
# functions above run: this way either module may be imported first.
from ._promotion import _as_tensor, result_type  # noqa: E402
from ._tensor import Tensor  # noqa: E402
