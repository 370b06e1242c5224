"""Custom autograd Functions written for torch, run unchanged on both libraries: the same class
body subclasses ``torch.autograd.Function`` or ``aigc_course.autograd.Function``. Declared as
OpInfos, so that values, gradients, second derivatives and bad backward returns are compared
with torch by the same checks as every op."""

from __future__ import annotations

import numpy as np

from .core import FLOATS, Arg, OpInfo, Sample
from .ops import E, ones
from .samples import arg


def _x_exp_x(lib):
    class XExpX(lib.autograd.Function):
        r"""f(x) = x e^x, f'(x) = (1 + x) e^x; the backward is written in tensor ops, so it is
        differentiable again."""

        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(x, e)
            return x * e

        @staticmethod
        def backward(ctx, grad):
            x, e = ctx.saved_tensors
            return grad * (1 + x) * e

    return XExpX.apply


def _scaled_product(lib):
    class ScaledProduct(lib.autograd.Function):
        """f(a, b, scale) = scale * a * b: a non-tensor argument gets None, ctx attributes and
        needs_input_grad as in torch."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            grad_a = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
            grad_b = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
            return grad_a, grad_b, None

    return ScaledProduct.apply


def _too_many_gradients(lib):
    class TooMany(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, grad

    def call(x):
        return TooMany.apply(x).sum().backward()

    return call


def _wrong_shape(lib):
    class WrongShape(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()  # a 0-d gradient for a (2,) input

    def call(x):
        return WrongShape.apply(x).sum().backward()

    return call


def _unary_samples(dtype, rng):
    for shape, layout in [((), "contiguous"), ((5,), "contiguous"), ((3, 4), "T")]:
        yield Sample((arg(shape, dtype, rng, layout, low=-2, high=2),))


def _product_samples(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng), arg((2, 3), dtype, rng), 0.5))
    yield Sample((arg((2, 3), dtype, rng), arg((3,), dtype, rng), 2.0))
    constant = Arg(np.ones((3,), dtype), grad=False)  # needs_input_grad[1] is False
    yield Sample((arg((2, 3), dtype, rng), constant, 3.0))


def _none(dtype, rng):
    return []


CUSTOM_FUNCTIONS = [
    OpInfo("Function x·exp(x)", _unary_samples, FLOATS, fn=_x_exp_x),
    OpInfo("Function scale·a·b", _product_samples, FLOATS, fn=_scaled_product),
    OpInfo(
        "Function, too many gradients",
        _none,
        FLOATS,
        fn=_too_many_gradients,
        errors=lambda: [E(ones(2), requires_grad=True, names=("TooMany",))],
    ),
    OpInfo(
        "Function, wrong gradient shape",
        _none,
        FLOATS,
        fn=_wrong_shape,
        errors=lambda: [E(ones(2), requires_grad=True, names=("WrongShape",))],
    ),
]
