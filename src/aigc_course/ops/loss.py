r"""The one loss primitive: the negative log-likelihood of class indices (``nll_loss``'s core).

``nn.functional.nll_loss`` checks its arguments and flattens them to rows; this Function picks
each row's log-probability in one node instead of an index, a product, a sum and a division,
and its backward knows that ignored rows get exactly zero gradient.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from .shape import IndexAdd


class NllLoss(Function):
    r"""$\ell_i = -w_i\, x_{i, y_i}$ for each row $i$ of log-probabilities $x$ (with $w_i = 0$
    for an ignored row), reduced: ``none`` keeps each $\ell_i$, ``sum`` adds them, and ``mean``
    divides the sum by $W = \sum_i w_i$. So $dx_{i, y_i} = -w_i\,dz_i$ (or $-w_i\,dz / W$ for
    ``mean``) and 0 elsewhere.

    Note: when every row is ignored, $W = 0$: the loss is $0/0 = $ nan, as in torch, and the
    gradient is zero (not nan), also as in torch.
    """

    @staticmethod
    def forward(ctx, x, target, weight, reduction):
        rows = np.arange(len(target))
        ctx.steps, ctx.shape, ctx.reduction = [(rows, target)], x.shape, reduction
        losses = x[rows, target] * -weight  # (M,)
        if reduction == "none":
            ctx.coef = -weight
            return losses
        total = weight.sum()
        if reduction == "sum":
            ctx.coef = -weight
            return np.asarray(losses.sum())
        ctx.coef = -weight / total if total != 0 else np.zeros_like(weight)
        return np.asarray(losses.sum() / total if total != 0 else np.nan, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dz):
        rows_grad = dz * Tensor._make(ctx.coef)  # (M,)
        return NllLossBackward.apply(rows_grad, shape=ctx.shape, steps=ctx.steps), None, None, None


class NllLossBackward(IndexAdd):
    r"""Zeros of the input's shape with row $i$'s gradient at column $y_i$: like
    :class:`IndexAdd`, but each row is written once, so a plain assignment does it (numpy's
    ``add.at``, which handles repeated indices, is several times slower)."""

    @staticmethod
    def forward(ctx, x, shape, steps):
        ctx.steps = steps
        z = np.zeros(shape, dtype=x.dtype)
        z[steps[0]] = x
        return z
