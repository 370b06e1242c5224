r"""Elementwise primitives: arithmetic, exp/log, activations, clamp, where, dtype casts.

Inputs of binary ops arrive already broadcast-compatible and of one dtype (the Tensor methods
promote them first); gradients of broadcast inputs are summed back by ``Function._backward``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


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
        return dz, -dz


class Mul(Function):
    r"""$z = x y$, so $dx = dz\,y$ and $dy = dz\,x$."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        return dz * y, dz * x


class Div(Function):
    r"""$z = x / y$, so $dx = dz / y$ and $dy = -dz\,x / y^2 = -dz\,z / y$."""

    @staticmethod
    def forward(ctx, x, y):
        return x / y

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        dx = dz / y
        return dx, -dx * x / y


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

    Note: like torch, the gradient for the exponent uses $\ln x$ only where $x > 0$, and is 0
    where $x = 0$ (so that ``0 ** y`` does not poison the exponent's gradient with nan).
    """

    @staticmethod
    def forward(ctx, x, y):
        return np.power(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        dx = dz * y * x ** (y - 1) if ctx.needs_input_grad[0] else None
        dy = None
        if ctx.needs_input_grad[1]:
            safe_log = x.masked_fill(x == 0, 1.0).log()
            dy = dz * ctx.output * safe_log
        return dx, dy


class Exp(Function):
    r"""$z = e^x$, so $dx = dz\,z$."""

    @staticmethod
    def forward(ctx, x):
        return np.exp(x)

    @staticmethod
    def backward(ctx, dz):
        return dz * ctx.output


class Log(Function):
    r"""$z = \ln x$, so $dx = dz / x$."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as in torch
            return np.log(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        return dz / x


class Sqrt(Function):
    r"""$z = \sqrt{x}$, so $dx = dz / (2 z)$.

    With ``zero_at_zero=True`` (used by ``std``), the gradient is 0 rather than inf where
    $z = 0$, as torch's ``std`` does for a constant input.
    """

    @staticmethod
    def forward(ctx, x, zero_at_zero=False):
        ctx.zero_at_zero = zero_at_zero
        with np.errstate(invalid="ignore"):
            return np.sqrt(x)

    @staticmethod
    def backward(ctx, dz):
        z = ctx.output
        if ctx.zero_at_zero:
            return (dz / (2 * z.masked_fill(z == 0, 1.0))).masked_fill(z == 0, 0.0)
        return dz / (2 * z)


class Sin(Function):
    r"""$z = \sin x$, so $dx = dz \cos x$."""

    @staticmethod
    def forward(ctx, x):
        return np.sin(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        return dz * x.cos()


class Cos(Function):
    r"""$z = \cos x$, so $dx = -dz \sin x$."""

    @staticmethod
    def forward(ctx, x):
        return np.cos(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        return -dz * x.sin()


class Tanh(Function):
    r"""$z = \tanh x$, so $dx = dz\,(1 - z^2)$."""

    @staticmethod
    def forward(ctx, x):
        return np.tanh(x)

    @staticmethod
    def backward(ctx, dz):
        z = ctx.output
        return dz * (1 - z * z)


class Sigmoid(Function):
    r"""$z = \sigma(x) = 1 / (1 + e^{-x})$, so $dx = dz\,z\,(1 - z)$.

    Computed as $e^{x} / (1 + e^{x})$ for negative $x$, so that no $e^{-x}$ overflows.
    """

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        z = ctx.output
        return dz * z * (1 - z)


class Relu(Function):
    r"""$z = \max(x, 0)$, so $dx = dz$ where $x > 0$ and 0 elsewhere (torch's choice at 0)."""

    @staticmethod
    def forward(ctx, x):
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        return dz * (ctx.output > 0)


class Abs(Function):
    r"""$z = |x|$, so $dx = dz\,\mathrm{sign}(x)$ (0 at $x = 0$, as in torch)."""

    @staticmethod
    def forward(ctx, x):
        return np.abs(x)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        return dz * x.sign()


class Clamp(Function):
    r"""$z = \min(\max(x, a), b)$, so $dx = dz$ where $a \le x \le b$ and 0 elsewhere."""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.min, ctx.max = min, max
        return np.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.inputs
        inside = x == x  # all True
        if ctx.min is not None:
            inside = inside & (x >= ctx.min)
        if ctx.max is not None:
            inside = inside & (x <= ctx.max)
        return dz * inside


class Maximum(Function):
    r"""$z = \max(x, y)$: the gradient goes to the larger input, and is split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y):
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        share = (x > y) + (x == y) * 0.5
        return dz * share, dz * (1 - share)


class Minimum(Function):
    r"""$z = \min(x, y)$: the gradient goes to the smaller input, and is split evenly on ties."""

    @staticmethod
    def forward(ctx, x, y):
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, dz):
        x, y = ctx.inputs
        share = (x < y) + (x == y) * 0.5
        return dz * share, dz * (1 - share)


class Where(Function):
    r"""$z = c\,?\,x : y$, so $dx = dz$ where $c$ and 0 elsewhere; $dy$ the other way round."""

    @staticmethod
    def forward(ctx, condition, x, y):
        return np.where(condition, x, y)

    @staticmethod
    def backward(ctx, dz):
        condition = ctx.inputs[0]
        zero = dz.new_zeros(())
        return None, dz.where(condition, zero), zero.where(condition, dz)


class To(Function):
    r"""A dtype cast, $z = x$: the gradient is cast back (by ``Function._backward``)."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        return x.astype(dtype.numpy_dtype)

    @staticmethod
    def backward(ctx, dz):
        return dz


class Clone(Function):
    r"""A copy into fresh memory, $z = x$, so $dx = dz$."""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True, order="C")

    @staticmethod
    def backward(ctx, dz):
        return dz
