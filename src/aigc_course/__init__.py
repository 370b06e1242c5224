"""aigc_course: PyTorch's core rebuilt from scratch on numpy, for the book
*PyTorch for Generative AI, from Scratch*.

The names mirror torch's, so ``import aigc_course as torch`` runs the book's basic snippets:

>>> import aigc_course as torch
>>> x = torch.ones(2, 2, requires_grad=True)
>>> z = ((x + 2) * (x + 2) * 3).mean()
>>> z.backward()
>>> x.grad
tensor([[4.5000, 4.5000],
        [4.5000, 4.5000]])
"""

from . import autograd
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    from_torch,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    to_torch,
    zeros,
    zeros_like,
)
from ._dtypes import bool_ as bool
from ._dtypes import dtype, float16, float32, float64, int8, int16, int32, int64, uint8
from ._tensor import Size, Tensor, broadcast_shapes, cat, device, matmul, result_type, stack, where
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .random import Generator, manual_seed

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

__version__ = "0.1.0"

from . import nn  # noqa: E402  (after the core it builds on)
from . import utils  # noqa: E402
from . import optim  # noqa: E402


def _method(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__doc__ = f"Function form of :meth:`Tensor.{name}`."
    return fn


# the elementwise functions and reductions as functions: aigc_course.exp(x) == x.exp()
exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos, neg, sign = map(
    _method, ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sin", "cos", "neg", "sign"]
)
clamp, clip, maximum, minimum, pow, masked_fill = map(
    _method, ["clamp", "clip", "maximum", "minimum", "pow", "masked_fill"]
)
sum, mean, max, min, argmax, argmin, var, std = map(
    _method, ["sum", "mean", "max", "min", "argmax", "argmin", "var", "std"]
)
softmax, log_softmax, logsumexp, reshape, flatten, squeeze, unsqueeze = map(
    _method, ["softmax", "log_softmax", "logsumexp", "reshape", "flatten", "squeeze", "unsqueeze"]
)
transpose, permute, t, split, chunk, clone, detach, numel = map(
    _method, ["transpose", "permute", "t", "split", "chunk", "clone", "detach", "numel"]
)
add, sub, mul, div, eq, ne, lt, le, gt, ge = map(
    _method, ["add", "sub", "mul", "div", "eq", "ne", "lt", "le", "gt", "ge"]
)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    import numpy as np

    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol))


def all(input: Tensor) -> Tensor:
    return input.all()


del _method
