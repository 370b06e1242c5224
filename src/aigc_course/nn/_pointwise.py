r"""Two elementwise primitives whose composed forms would get an edge wrong (chapter 3).

- :class:`Softplus`: $\log(1 + e^x)$ composed from ``exp`` and ``log`` overflows for large $x$,
  and the stable composition $\max(x, 0) + \log(1 + e^{-|x|})$ has the wrong gradient at
  $x = 0$ (the kinks of ``max`` and ``abs`` cancel to 0 instead of $\sigma(0) = 1/2$).
- :class:`BinaryCrossEntropy`: torch clamps each log at $-100$ and divides the gradient by
  $\max(x(1-x), 10^{-12})$, so that a probability of exactly 0 or 1 gives a finite loss and a
  finite gradient; composing ``log`` and ``clamp`` would give 0 there instead.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function


class Softplus(Function):
    r"""$z = \frac1\beta \log(1 + e^{\beta x})$, and $z = x$ where $\beta x >$ ``threshold``.

    Computed as $\frac1\beta\left(\max(\beta x, 0) + \log(1 + e^{-|\beta x|})\right)$, which
    never overflows. $dx = dz\,\sigma(\beta x)$ (and $dz$ above the threshold).
    """

    forward_on_arrays = True

    @staticmethod
    def forward(ctx, x, *, beta, threshold):
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        z = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
        ctx.save_for_backward(x)
        return np.where(bx > threshold, x, z).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        linear = Tensor._make(bx.detach().numpy() > ctx.threshold)  # a constant mask
        return dz * bx.sigmoid().masked_fill(linear, 1.0)


LOG_FLOOR = -100.0  # torch's clamp of log(x) and log(1 - x)
EPSILON = 1e-12  # torch's floor of x (1 - x) in the gradient


class BinaryCrossEntropy(Function):
    r"""$\ell = -w\left(y \log x + (1 - y)\log(1 - x)\right)$ elementwise, each log clamped at
    $-100$. Its derivatives, with torch's floor on the denominator:

    $$dx = d\ell\; w\,\frac{x - y}{\max\left(x(1 - x),\ 10^{-12}\right)},\qquad
    dy = d\ell\; w\left(\log(1 - x) - \log x\right)\ \text{(unclamped, as torch's)}.$$

    (torch has no derivative for the weight $w$, and neither do we.)
    """

    forward_on_arrays = True

    @staticmethod
    def forward(ctx, x, y, weight):
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_x = np.maximum(np.log(x), LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-x), LOG_FLOOR)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        x, y, weight = ctx.saved_tensors
        g = dz if weight is None else dz * weight
        dx = dy = None
        if ctx.needs_input_grad[0]:
            dx = g * (x - y) / ((1 - x) * x).clamp(min=EPSILON)
        if ctx.needs_input_grad[1]:
            dy = g * ((1 - x).log() - x.log())  # torch does not clamp these logs: ±inf at 0, 1
        return dx, dy, None
