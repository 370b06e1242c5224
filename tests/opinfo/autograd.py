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


# ================================================================ grad mode and .grad plumbing


def _grad_mode_context(lib):
    def call(x):
        with lib.set_grad_enabled(False):
            inside = x * 2
        return inside, x * 3  # grad mode is back on after the block

    return call


def _grad_mode_call(lib):
    def call(x):
        lib.set_grad_enabled(False)
        try:
            inside = x * 2
        finally:
            lib.set_grad_enabled(True)
        return inside, x * 3

    return call


def _no_grad_decorator(lib, called: bool):
    def double(x):
        return x * 2

    decorated = lib.no_grad()(double) if called else lib.no_grad(double)
    return lambda x: (decorated(x), x * 3)


def _inference_mode(lib):
    def call(x):
        with lib.inference_mode():
            inside = x * 2
        return inside.requires_grad, x * 3

    return call


def _accumulation(lib):
    """A second backward accumulates into the same .grad tensor (torch's AccumulateGrad)."""

    def call(x):
        w = x.detach().requires_grad_()
        (w * 2).sum().backward()
        first = w.grad
        (w * w).sum().backward()
        return w.grad, first is w.grad

    return call


def _grads_do_not_alias(lib):
    """After (a + b).backward(g), a.grad, b.grad and g are three tensors: writing one leaves
    the others."""

    def call(x):
        a, b = x.detach().requires_grad_(), (x * 2).detach().requires_grad_()
        g = lib.ones_like(x)
        (a + b).backward(g)
        a.grad.mul_(5)
        b.grad.zero_()
        return a.grad, b.grad, g

    return call


def _zero_grad_keeps_tensor(lib):
    def call(x):
        layer = lib.nn.Linear(x.shape[-1], 2)
        layer(x).sum().backward()
        layer.zero_grad(set_to_none=False)
        return layer.weight.grad, layer.weight.grad.view(-1).shape

    return call


GRAD_MODE = [
    OpInfo("set_grad_enabled(False) as a block", _unary_samples, FLOATS, fn=_grad_mode_context),
    OpInfo("set_grad_enabled(False) called", _unary_samples, FLOATS, fn=_grad_mode_call),
    OpInfo(
        "@no_grad", _unary_samples, FLOATS, fn=lambda lib: _no_grad_decorator(lib, called=False)
    ),
    OpInfo(
        "@no_grad()", _unary_samples, FLOATS, fn=lambda lib: _no_grad_decorator(lib, called=True)
    ),
    OpInfo("inference_mode()", _unary_samples, FLOATS, fn=_inference_mode),
    OpInfo("second backward accumulates", _unary_samples, FLOATS, fn=_accumulation, grad=False),
    OpInfo("grads do not alias", _unary_samples, FLOATS, fn=_grads_do_not_alias, grad=False),
    OpInfo(
        "zero_grad(set_to_none=False)",
        lambda dt, rng: [Sample((arg((3, 4), dt, rng),))],
        FLOATS,
        fn=_zero_grad_keeps_tensor,
        grad=False,
    ),
]


def _in_place_chain(x):
    y = x * 2
    y += 1  # in place on a non-leaf: recorded
    y.mul_(3)
    return y


def _running_total(lib):
    def call(x):
        total = lib.zeros(())
        for k in (1, 2, 3):
            total += (x * k).sum()  # total += loss, as in a training loop
        return total

    return call


def _copy_slices(lib):
    def call(x):
        out = lib.zeros(tuple(x.shape), dtype=x.dtype)  # a plain tensor...
        out[0] = x[-1] * 3  # ...receives a value that requires grad (torch's CopySlices)
        return out

    return call


def _rows(dtype, rng):
    for shape, layout in [((3, 2), "contiguous"), ((4,), "contiguous"), ((3, 4), "T")]:
        yield Sample((arg(shape, dtype, rng, layout),))


IN_PLACE = [
    OpInfo("y = x*2; y += 1; y.mul_(3)", _unary_samples, FLOATS, fn=lambda lib: _in_place_chain),
    OpInfo("total += loss", _unary_samples, FLOATS, fn=_running_total),
    OpInfo("out[0] = x[-1] * 3", _rows, FLOATS, fn=_copy_slices),
]
