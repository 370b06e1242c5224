r"""Arithmetic: ``+ - * / **``, ``maximum``/``minimum``, and the comparisons (chapter 1).

Each public function promotes its operands to one dtype (torch's rule, :func:`result_type`),
checks that their shapes broadcast, and applies a :class:`Function`. Gradients of broadcast
inputs are summed back by ``Function._backward``, so the rules below never deal with shapes.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ._promotion import _promote_operands

Number = int | float | bool


class Add(Function):
    r"""$z = x + y$, so $dx = dz$ and $dy = dz$."""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, dz):
        return dz, dz


class Sub(Function):
    r"""$z = x - y$, so $dx = dz$ and $dy = -dz$."""

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, dz):
        return dz, -dz if ctx.needs_input_grad[1] else None


class Mul(Function):
    r"""$z = x y$, so $dx = dz\,y$ and $dy = dz\,x$. Each input is saved only if the *other*
    one needs a gradient."""

    @staticmethod
    def forward(ctx, x, y):
        needs_x, needs_y = ctx.needs_input_grad
        if needs_x or needs_y:
            ctx.save_for_backward(x if needs_y else None, y if needs_x else None)
        return x * y

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        return dz * y if y is not None else None, dz * x if x is not None else None


class Div(Function):
    r"""$z = x / y$, so $dx = dz / y$ and $dy = -dz\,x / y^2 = -dx\,z$."""

    @staticmethod
    def forward(ctx, x, y):
        z = x / y
        ctx.save_for_backward(y, z if ctx.needs_input_grad[1] else None)
        return z

    @staticmethod
    def backward(ctx, dz):
        y, z = ctx.saved_tensors
        dx = dz / y
        return dx, -dx * z if z is not None else None


class Neg(Function):
    r"""$z = -x$, so $dx = -dz$."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, dz):
        return -dz


class Pow(Function):
    r"""$z = x^y$, so $dx = dz\,y\,x^{y-1}$ and $dy = dz\,z \ln x$.

    Where $y = 0$, $dx = 0$ (also at $x = 0$, where the formula gives $0 \cdot \infty$).
    Note: like torch, the gradient for the exponent uses $\ln x$ only where $x > 0$, and is 0
    where $x = 0$ (so that ``0 ** y`` does not poison the exponent's gradient with nan).
    """

    @staticmethod
    def forward(ctx, x, y):
        z = np.power(x, y)
        ctx.save_for_backward(x, y, z if ctx.needs_input_grad[1] else None)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, y, z = ctx.saved_tensors
        dx = None
        if ctx.needs_input_grad[0]:  # y x^(y-1) is 0 * inf at x = y = 0: torch gives 0 there
            dx = (dz * y * x ** (y - 1)).masked_fill(y == 0, 0.0)
        dy = None
        if ctx.needs_input_grad[1]:
            safe_log = x.masked_fill(x == 0, 1.0).log()
            dy = dz * z * safe_log
        return dx, dy


class Maximum(Function):
    r"""$z = \max(x, y)$: the gradient goes to the larger input, and is split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        share = ((x > y) + (x == y) * 0.5).to(dz.dtype)
        return dz * share, dz * (1 - share)


class Minimum(Function):
    r"""$z = \min(x, y)$: the gradient goes to the smaller input, and is split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.saved_tensors
        share = ((x < y) + (x == y) * 0.5).to(dz.dtype)
        return dz * share, dz * (1 - share)


# ---------------------------------------------------------------- public functions


def add(input: Tensor | Number, other: Tensor | Number, *, alpha: Number = 1) -> Tensor:
    r"""$x + \alpha\,y$, with torch's type promotion and broadcasting.

    >>> import aigc_course as ac
    >>> ac.add(ac.tensor([1, 2]), 0.5)
    tensor([1.5000, 2.5000])
    """
    if alpha == 1 and _float_and_number(input, other):
        return Add.apply(input, other)
    a, b = _promote_operands(input, other)
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(a, b)


def sub(input: Tensor | Number, other: Tensor | Number, *, alpha: Number = 1) -> Tensor:
    r"""$x - \alpha\,y$. Like torch, refused if either operand is bool."""
    if alpha == 1 and _float_and_number(input, other):
        return Sub.apply(input, other)
    a, b = _promote_operands(input, other)
    if a._data.dtype.kind == "b":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(a, b)


def mul(input: Tensor | Number, other: Tensor | Number) -> Tensor:
    r"""$x\,y$ elementwise."""
    if _float_and_number(input, other):
        return Mul.apply(input, other)
    a, b = _promote_operands(input, other)
    return Mul.apply(a, b)


def div(input: Tensor | Number, other: Tensor | Number, *, rounding_mode: str | None = None):
    r"""$x / y$, true division: integers divide into the default float dtype, as in torch.

    ``rounding_mode='trunc'`` rounds the quotient toward zero, ``'floor'`` down (Python's
    ``//``); both keep the operands' promoted dtype.

    Note: the rounded quotients are steps, whose derivative is 0 wherever it exists; unlike
    torch, they are returned outside the graph rather than with a gradient of zeros.
    """
    if rounding_mode is None:
        if _float_and_number(input, other):
            return Div.apply(input, other)
        a, b = _promote_operands(input, other, float_result=True)
        return Div.apply(a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    a, b = _promote_operands(input, other)
    x, y = np.broadcast_arrays(a._data, b._data)
    if x.dtype.kind in "biu":
        if (y == 0).any():
            raise RuntimeError("ZeroDivisionError")
        q = np.floor_divide(x, y)
        if rounding_mode == "trunc":  # floor rounds a negative inexact quotient one too low
            q = q + ((q < 0) & (q * y != x))
    else:
        q = np.floor(x / y) if rounding_mode == "floor" else np.trunc(x / y)
    return Tensor._make(np.asarray(q, dtype=x.dtype))


true_divide = div


def neg(input: Tensor) -> Tensor:
    r"""$-x$. Like torch, refused for bool tensors."""
    if input._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


def pow(input: Tensor | Number, exponent: Tensor | Number) -> Tensor:
    r"""$x^y$ elementwise."""
    a, b = _promote_operands(input, exponent)
    if a._data.dtype.kind == "b" and isinstance(exponent, Tensor):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if a._data.dtype.kind in "iu" and (b._data < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(a, b)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    r"""$\max(x, y)$ elementwise; on ties the gradient is split evenly."""
    _check_tensors("maximum", input, other)
    return Maximum.apply(*_promote_operands(input, other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    r"""$\min(x, y)$ elementwise; on ties the gradient is split evenly."""
    _check_tensors("minimum", input, other)
    return Minimum.apply(*_promote_operands(input, other))


def _float_and_number(a, b) -> bool:
    """The fast path, with nothing to promote or check: a float tensor and a Python number
    (numpy keeps the tensor's dtype then: a Python number is "weak", as in torch, so the number
    goes to the Function as it is), or two float tensors of one dtype and shape."""
    if isinstance(b, Tensor):
        if isinstance(a, Tensor):
            x, y = a._data, b._data
            return x.dtype is y.dtype and x.dtype.kind == "f" and x.shape == y.shape
        return type(a) in (float, int) and b._data.dtype.kind == "f"
    return type(b) in (float, int) and isinstance(a, Tensor) and a._data.dtype.kind == "f"


def _check_tensors(name: str, *values) -> None:
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            which = "input" if i == 0 else "other"
            raise TypeError(
                f"{name}(): argument '{which}' (position {i + 1}) must be Tensor, not "
                f"{type(v).__name__}"
            )


# ---------------------------------------------------------------- comparisons and logic
# Their results are bool tensors: piecewise constant, so nothing to differentiate or record.


def _compare(ufunc, a, b) -> Tensor:
    ta, tb = _promote_operands(a, b)
    return Tensor._make(np.asarray(ufunc(ta._data, tb._data)))


def eq(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input == other`` elementwise, as a bool tensor."""
    return _compare(np.equal, input, other)


def ne(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input != other`` elementwise, as a bool tensor."""
    return _compare(np.not_equal, input, other)


def lt(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input < other`` elementwise, as a bool tensor."""
    return _compare(np.less, input, other)


def le(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input <= other`` elementwise, as a bool tensor."""
    return _compare(np.less_equal, input, other)


def gt(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input > other`` elementwise, as a bool tensor."""
    return _compare(np.greater, input, other)


def ge(input: Tensor, other: Tensor | Number) -> Tensor:
    """``input >= other`` elementwise, as a bool tensor."""
    return _compare(np.greater_equal, input, other)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise AND of the truth values (nonzero is True), as a bool tensor."""
    _check_tensors("logical_and", input, other)
    return Tensor._make(np.logical_and(input._data, other._data))


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise OR of the truth values (nonzero is True), as a bool tensor."""
    _check_tensors("logical_or", input, other)
    return Tensor._make(np.logical_or(input._data, other._data))


def logical_not(input: Tensor) -> Tensor:
    """Elementwise NOT of the truth values (nonzero is True), as a bool tensor."""
    return Tensor._make(np.logical_not(input._data))


def _classify(name: str, ufunc, input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return Tensor._make(np.asarray(ufunc(input._data)))


def isnan(input: Tensor) -> Tensor:
    """Where ``input`` is NaN, as a bool tensor (never, for integers and bools)."""
    return _classify("isnan", np.isnan, input)


def isinf(input: Tensor) -> Tensor:
    r"""Where ``input`` is $+\infty$ or $-\infty$, as a bool tensor."""
    return _classify("isinf", np.isinf, input)


def isfinite(input: Tensor) -> Tensor:
    """Where ``input`` is neither infinite nor NaN, as a bool tensor."""
    return _classify("isfinite", np.isfinite, input)


def _is_bool(v) -> bool:
    """A bool tensor or a Python bool."""
    return type(v) is bool or (isinstance(v, Tensor) and v._data.dtype.kind == "b")


def _array(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


# ``&``, ``|``, ``^``, ``~``, ``//`` and ``%`` live in ops/integer.py.


__all__ = ["add", "sub", "mul", "div", "true_divide", "neg", "pow", "maximum", "minimum"]
__all__ += ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not"]


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape and the same values (a Python bool; NaN
    equals nothing, and the dtypes may differ: values are compared after promotion).

    >>> import aigc_course as ac
    >>> ac.equal(ac.tensor([1, 2]), ac.tensor([1.0, 2.0])), ac.equal(ac.ones(2), ac.ones(1))
    (True, False)
    """
    for i, (name, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"equal(): argument '{name}' (position {i}) must be Tensor, not {type(v).__name__}"
            )
    if input._data.shape != other._data.shape:
        return False
    return bool(np.array_equal(input._data, other._data))
