r"""Running totals along one dimension: ``cumsum``.

$z_i = \sum_{j \le i} x_j$. Each $x_j$ appears in every $z_i$ with $i \ge j$, so

$$dx_j = \sum_{i \ge j} dz_i,$$

a running total taken from the other end. Top-p sampling (chapter 9) finds its nucleus with
the running total of sorted probabilities.
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import _check_dim
from .._tensor import Tensor
from ..autograd.function import Function


def _cumsum(x: np.ndarray, axis: int, reverse: bool) -> np.ndarray:
    if x.ndim == 0:
        return x.copy()
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis).copy()
    return np.cumsum(x, axis=axis, dtype=x.dtype)


class Cumsum(Function):
    r"""$z_i = \sum_{j \le i} x_j$ along ``dim`` (with ``reverse=True``: $\sum_{j \ge i} x_j$).
    So $dx_j = \sum_{i \ge j} dz_i$: the backward is the same op in the other direction.
    """

    @staticmethod
    def forward(ctx, x, dim, reverse=False):
        ctx.dim, ctx.reverse = dim, reverse
        return _cumsum(x, dim, reverse)

    @staticmethod
    def backward(ctx, dz):
        return Cumsum.apply(dz, dim=ctx.dim, reverse=not ctx.reverse)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    r"""The running total along ``dim``, $z_i = \sum_{j \le i} x_j$.

    Like torch, integers and bools add up in int64 unless ``dtype`` says otherwise; with
    ``dtype``, the input is cast first.

    >>> import aigc_course as ac
    >>> ac.cumsum(ac.tensor([1, 2, 3, 4]), dim=0)
    tensor([ 1,  3,  6, 10])
    """
    dim = _check_dim(dim, input.ndim)
    if dtype is not None:
        input = input.to(_dtypes.to_dtype(dtype))
    elif not input.dtype.is_floating_point:
        input = input.to(_dtypes.int64)
    return Cumsum.apply(input, dim=dim)
