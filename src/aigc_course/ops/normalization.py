r"""Layer normalisation as one primitive (``torch.nn.functional.layer_norm``, chapter 3;
every GPT-2 block runs it twice).

Composed from Tensor ops it costs about a dozen recorded nodes and keeps their inputs; the
fused :class:`LayerNorm` keeps what torch keeps ($x$, and per row $\mu$ and $1/\sigma$).
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function


class LayerNorm(Function):
    r"""$y = \hat x\,\gamma + \beta$ with $\hat x = (x - \mu)\,r$ and
    $r = 1/\sqrt{\sigma^2 + \epsilon}$, the mean $\mu$ and biased variance $\sigma^2$ taken
    over the last axes (``dims``). With $d\hat x = dy\,\gamma$:

    $$dx = r\left(d\hat x - \overline{d\hat x} - \hat x\;\overline{d\hat x\,\hat x}\right),\qquad
    d\gamma = \textstyle\sum dy\,\hat x,\qquad d\beta = \sum dy,$$

    where the bars are means over ``dims`` (the sums over the other axes are done by
    :meth:`Function._backward`). Written in Tensor ops; under ``create_graph`` backward first
    recomputes $\mu$ and $r$ from $x$ in Tensor ops, so that they are differentiated too.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, dims, eps):
        ctx.dims, ctx.eps = dims, eps
        mu = x.mean(axis=dims, keepdims=True)
        y = np.subtract(x, mu)
        var = np.square(y).mean(axis=dims, keepdims=True)  # biased: divide by n, not n - 1
        rstd = 1 / np.sqrt(var + eps)
        y *= rstd  # x_hat
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
        ctx.save_for_backward(x, weight, mu, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, mu, rstd = ctx.saved_tensors
        dims = ctx.dims
        if grad_mode.is_grad_enabled():  # create_graph: mu and r as recorded functions of x
            mu = x.mean(dims, keepdim=True)
            centered = x - mu
            rstd = 1 / ((centered * centered).mean(dims, keepdim=True) + ctx.eps).sqrt()
        x_hat = (x - mu) * rstd
        dx_hat = dy if weight is None else dy * weight
        dx = rstd * (
            dx_hat
            - dx_hat.mean(dims, keepdim=True)
            - x_hat * (dx_hat * x_hat).mean(dims, keepdim=True)
        )
        dweight = dy * x_hat if ctx.needs_input_grad[1] else None
        dbias = dy if ctx.needs_input_grad[2] else None
        return dx, dweight, dbias


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    r"""$y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma + \beta$ over the last
    ``len(normalized_shape)`` axes (:class:`LayerNorm`)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and tuple(param.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(param.shape)} and normalized_shape = {list(shape)}"
            )
    dtype = input._data.dtype
    if dtype.kind != "f":
        raise NotImplementedError(
            f"\"LayerNormKernelImpl\" not implemented for '{input.dtype.scalar_name}'"
        )
    if any(p is not None and p._data.dtype != dtype for p in (weight, bias)):
        raise RuntimeError(
            "mixed dtype (CPU): all inputs must share same datatype: input is "
            f"{input.dtype}, weight {None if weight is None else weight.dtype}, bias "
            f"{None if bias is None else bias.dtype}"
        )
    return LayerNorm.apply(input, weight, bias, dims=tuple(range(-k, 0)), eps=eps)
