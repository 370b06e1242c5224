r"""Integer arithmetic: floor division ``//``, remainder ``%``, and the bitwise operators
``&``, ``|``, ``^``, ``~``.

``//`` and ``%`` round towards $-\infty$, as Python does (C and numpy's ``fmod`` round
towards 0), so that for every $x$ and $y \ne 0$

$$x = y \left\lfloor x / y \right\rfloor + (x \bmod y), \qquad
x \bmod y \text{ has the sign of } y.$$

So ``-7 // 2 == -4`` and ``-7 % 2 == 1``. An integer division by zero raises, as in torch; a
floating one gives inf or nan. The bitwise operators work on integers and, as logical
and/or/xor/not, on bools. Operands are promoted the way ``+`` promotes them (chapter 1).
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import broadcast_shapes
from .._tensor import Tensor
from ..autograd.function import Function
from ._promotion import _as_tensor, result_type


class FloorDivide(Function):
    r"""$z = \lfloor x / y \rfloor$. A step function: its derivative is 0 almost everywhere and
    undefined at the steps, and torch does not implement it, so backward raises, as torch's.
    """

    @staticmethod
    def forward(ctx, x, y):
        return np.floor_divide(x, y)

    @staticmethod
    def backward(ctx, dz):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


class Remainder(Function):
    r"""$z = x - y \lfloor x / y \rfloor$, so $dx = dz$ and $dy = -dz \lfloor x / y \rfloor$
    (the floor is piecewise constant, so it is not differentiated further).

    For floats, it is computed as torch computes it: $r = \operatorname{fmod}(x, y)$, plus $y$
    where $r \ne 0$ and the signs of $r$ and $y$ differ.
    """

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype.kind != "f":
            return np.remainder(x, y)
        if ctx.needs_input_grad[1]:
            ctx.quotient = np.floor_divide(x, y)  # the constant that backward needs
        r = np.fmod(x, y)
        wrong_sign = (r != 0) & ((r < 0) != (y < 0))
        return np.where(wrong_sign, r + y, r)

    @staticmethod
    def backward(ctx, dz):
        dy = -dz * Tensor._make(ctx.quotient) if ctx.needs_input_grad[1] else None
        return dz, dy


# ---------------------------------------------------------------- public functions


def _promote(input, other) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of their promoted dtype (torch's rule, as for ``+``)."""
    dt = result_type(input, other)
    a, b = _as_tensor_wrapping(input, dt), _as_tensor_wrapping(other, dt)
    broadcast_shapes(a.shape, b.shape)
    return a, b


def _as_tensor_wrapping(v, dt) -> Tensor:
    """Like torch, a Python number that does not fit the dtype wraps around (``uint8`` and
    ``-2`` give 254) instead of raising."""
    if isinstance(v, Tensor):
        return _as_tensor(v, dt)
    return Tensor._make(np.array(v).astype(dt.numpy_dtype))


def _not_for(kernel: str, dt) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{dt.scalar_name}'")


def _check_integer_divisor(b: Tensor) -> None:
    """torch refuses an integer division by zero (there is no integer inf or nan)."""
    if b.dtype.category < 2 and not b._data.all():
        where = tuple(int(i) for i in np.argwhere(b._data == 0)[0])
        raise RuntimeError(
            f"ZeroDivisionError: integer division by zero (the divisor is 0 at index {where})"
        )


def floor_divide(input: Tensor | int | float, other: Tensor | int | float) -> Tensor:
    r"""$\lfloor x / y \rfloor$, rounded towards $-\infty$ (``x // y``).

    >>> import aigc_course as ac
    >>> ac.tensor([7, -7]) // 2
    tensor([ 3, -4])
    """
    a, b = _promote(input, other)
    if a.dtype is _dtypes.bool_:
        raise _not_for("div_floor", a.dtype)
    _check_integer_divisor(b)
    return FloorDivide.apply(a, b)


def remainder(input: Tensor | int | float, other: Tensor | int | float) -> Tensor:
    r"""$x - y \lfloor x / y \rfloor$, with the sign of $y$ (``x % y``), as Python's ``%``.

    >>> import aigc_course as ac
    >>> ac.tensor([7, -7]) % 3
    tensor([1, 2])
    """
    a, b = _promote(input, other)
    if a.dtype is _dtypes.bool_:
        raise _not_for("remainder", a.dtype)
    _check_integer_divisor(b)
    return Remainder.apply(a, b)


def _bitwise(kernel: str, ufunc, input, other) -> Tensor:
    a, b = _promote(input, other)
    if a.dtype.is_floating_point:
        raise _not_for(kernel, a.dtype)
    # for bools, numpy's bitwise ufuncs are the logical ones and return bools, as torch does
    return Tensor._make(np.asarray(ufunc(a._data, b._data)))


def bitwise_and(input: Tensor | int | bool, other: Tensor | int | bool) -> Tensor:
    """``x & y``: bitwise and of integers, logical and of bools (no gradient: not differentiable).

    >>> import aigc_course as ac
    >>> ac.tensor([True, True]) & ac.tensor([True, False])
    tensor([ True, False])
    """
    return _bitwise("bitwise_and", np.bitwise_and, input, other)


def bitwise_or(input: Tensor | int | bool, other: Tensor | int | bool) -> Tensor:
    """``x | y``: bitwise or of integers, logical or of bools.

    >>> import aigc_course as ac
    >>> ac.tensor([12]) | 3
    tensor([15])
    """
    return _bitwise("bitwise_or", np.bitwise_or, input, other)


def bitwise_xor(input: Tensor | int | bool, other: Tensor | int | bool) -> Tensor:
    """``x ^ y``: bitwise exclusive or of integers, logical xor of bools.

    >>> import aigc_course as ac
    >>> ac.tensor([True, False]) ^ True
    tensor([False,  True])
    """
    return _bitwise("bitwise_xor", np.bitwise_xor, input, other)


def bitwise_not(input: Tensor) -> Tensor:
    """``~x``: every bit flipped for integers (``~x == -x - 1``), logical not for bools.

    >>> import aigc_course as ac
    >>> ~ac.tensor([0, 5])
    tensor([-1, -6])
    """
    if input.dtype.is_floating_point:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors, "
            f"but got a tensor of dtype {input.dtype}"
        )
    return Tensor._make(np.invert(input._data))
