r"""Matrix multiplication, the workhorse of every layer."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class Matmul(Function):
    r"""$Z = X W$ (batched, with numpy's broadcasting of leading axes), so
    $dX = dZ\, W^\top$ and $dW = X^\top dZ$.

    A 1-D operand is treated as a row (on the left) or a column (on the right), as in torch;
    the backward restores that axis, then ``Function._backward`` sums over broadcast batch axes.
    """

    @staticmethod
    def forward(ctx, x, w):
        return np.asarray(np.matmul(x, w))

    @staticmethod
    def backward(ctx, dz):
        x, w = ctx.inputs
        if x.ndim == 1 and w.ndim == 1:  # a dot product: z is a scalar
            return dz * w, dz * x
        x2 = x.unsqueeze(0) if x.ndim == 1 else x  # (.., n, k)
        w2 = w.unsqueeze(-1) if w.ndim == 1 else w  # (.., k, m)
        if x.ndim == 1:
            dz = dz.unsqueeze(-2)
        if w.ndim == 1:
            dz = dz.unsqueeze(-1)  # dz: (.., n, m)
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dx = dz @ w2.mT  # (.., n, k)
            dx = dx.squeeze(-2) if x.ndim == 1 else dx
        if ctx.needs_input_grad[1]:
            dw = x2.mT @ dz  # (.., k, m)
            dw = dw.squeeze(-1) if w.ndim == 1 else dw
        return dx, dw
