r"""Reductions (sum, mean, max, min) and the two normalisers taught for stability
(softmax, log_softmax).

``dim`` arrives normalised: a tuple of non-negative axes, or ``None`` for all of them.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


def _expand_back(ctx, dz):
    """Give ``dz`` back the reduced axes (as size 1) so that it broadcasts against the input."""
    if ctx.keepdim:
        return dz
    shape = list(ctx.in_shape)
    for axis in ctx.dim if ctx.dim is not None else range(len(shape)):
        shape[axis] = 1
    return dz.reshape(shape)


class Sum(Function):
    r"""$z = \sum_i x_i$ over the reduced axes, so $dx_i = dz$: the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, dtype=None):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        return np.asarray(np.sum(x, axis=dim, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, dz):
        return _expand_back(ctx, dz).expand(ctx.in_shape)


class Mean(Function):
    r"""$z = \frac1n \sum_i x_i$, so $dx_i = dz / n$."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        ctx.n = int(np.prod([x.shape[a] for a in dim])) if dim is not None else x.size
        return np.asarray(np.mean(x, axis=dim, keepdims=keepdim), dtype=x.dtype)

    @staticmethod
    def backward(ctx, dz):
        return _expand_back(ctx, dz).expand(ctx.in_shape) / ctx.n


class Max(Function):
    r"""$z = \max_i x_i$. The gradient goes to the maximum.

    Over one axis (``x.max(dim)``), it goes to the index that ``argmax`` returns, as in torch.
    Over all elements (``x.max()``), torch splits it evenly among tied maxima, and so do we.
    """

    reduce = staticmethod(np.max)
    arg = staticmethod(np.argmax)

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        if dim is None:
            z = cls.reduce(x)
            ctx.mask = x == z
            return np.asarray(z)
        (axis,) = dim
        idx = np.expand_dims(cls.arg(x, axis=axis), axis)
        ctx.mask = np.zeros(x.shape, dtype=bool)
        np.put_along_axis(ctx.mask, idx, True, axis=axis)
        z = np.take_along_axis(x, idx, axis=axis)
        return z if keepdim else np.squeeze(z, axis)

    @staticmethod
    def backward(ctx, dz):
        from .. import _tensor

        mask = _tensor.Tensor._make(ctx.mask)
        if ctx.dim is None:
            return dz * mask / int(ctx.mask.sum())
        return _expand_back(ctx, dz) * mask


class Min(Max):
    r"""$z = \min_i x_i$; the gradient goes to the minimum, with the same rules as :class:`Max`."""

    reduce = staticmethod(np.min)
    arg = staticmethod(np.argmin)


class Softmax(Function):
    r"""$y_i = e^{x_i - m} / \sum_j e^{x_j - m}$ with $m = \max_j x_j$ (the shift changes nothing
    mathematically and prevents overflow). Its vector-Jacobian product is
    $dx = y \odot (dy - \sum_j dy_j\, y_j)$.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        return e / np.sum(e, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, dy):
        y = ctx.output
        return y * (dy - (dy * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    r"""$y_i = x_i - \log\sum_j e^{x_j}$, computed as $x_i - m - \log\sum_j e^{x_j - m}$
    (log-sum-exp), so logits of $\pm 10^4$ give no inf or nan.
    Its vector-Jacobian product is $dx = dy - e^{y} \sum_j dy_j$.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = x - np.max(x, axis=dim, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))

    @staticmethod
    def backward(ctx, dy):
        return dy - ctx.output.exp() * dy.sum(ctx.dim, keepdim=True)
