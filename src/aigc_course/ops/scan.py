r"""Running totals and products along one dimension: ``cumsum`` and ``cumprod``.

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
from .elementwise import where


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


class Cumprod(Function):
    r"""$z_i = \prod_{j \le i} x_j$ along ``dim``. Each $x_j$ is a factor of every $z_i$ with
    $i \ge j$, so

    $$dx_j = \sum_{i \ge j} dz_i \prod_{k \le i,\, k \ne j} x_k.$$

    Without zeros in $x$ that is $\frac{1}{x_j} \sum_{i \ge j} dz_i\, z_i$: a running total from
    the other end, divided by $x_j$. With a zero, dividing by it is impossible, and the products
    are formed as written: for each $j$, the running product of $x$ with $x_j$ replaced by 1 (an
    extra dimension of size $n$, so $n^2$ numbers per fibre). Both are Tensor operations, so
    second derivatives are exact too, zeros included.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        z = x.copy() if x.ndim == 0 else np.cumprod(x, axis=dim, dtype=x.dtype)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, z = ctx.saved_tensors
        if x.ndim == 0:
            return dz
        if not (x == 0).any().item():
            return Cumsum.apply(dz * z, dim=ctx.dim, reverse=True) / x
        # a new axis j before the fibre's axis d (which then counts i, or k):
        # products[.., j, i, ..] = prod_{k <= i, k != j} x_k, summed over i >= j
        d, n = ctx.dim, x.shape[ctx.dim]
        trailing = (1,) * (x.ndim - d - 1)
        eye = Tensor._make(np.eye(n, dtype=bool).reshape(n, n, *trailing))
        upper = Tensor._make(np.triu(np.ones((n, n), x._data.dtype)).reshape(n, n, *trailing))
        expanded = x.unsqueeze(d).expand(*x.shape[:d], n, *x.shape[d:])
        products = cumprod(where(eye, 1.0, expanded), d + 1)
        return (products * dz.unsqueeze(d) * upper).sum(d + 1)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    r"""The running product along ``dim``, $z_i = \prod_{j \le i} x_j$.

    Like torch, integers and bools multiply in int64 unless ``dtype`` says otherwise; with
    ``dtype``, the input is cast first.

    >>> import aigc_course as ac
    >>> ac.cumprod(ac.tensor([1.0, 2.0, 3.0, 4.0]), dim=0)
    tensor([ 1.,  2.,  6., 24.])
    """
    return Cumprod.apply(_accumulated(input, dtype), dim=_check_dim(dim, input.ndim))


def _accumulated(input: Tensor, dtype) -> Tensor:
    """``input`` in the dtype a running total or product is taken in (torch's rule)."""
    if dtype is not None:
        return input.to(_dtypes.to_dtype(dtype))
    if not input.dtype.is_floating_point:
        return input.to(_dtypes.int64)
    return input


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    r"""The running total along ``dim``, $z_i = \sum_{j \le i} x_j$.

    Like torch, integers and bools add up in int64 unless ``dtype`` says otherwise; with
    ``dtype``, the input is cast first.

    >>> import aigc_course as ac
    >>> ac.cumsum(ac.tensor([1, 2, 3, 4]), dim=0)
    tensor([ 1,  3,  6, 10])
    """
    return Cumsum.apply(_accumulated(input, dtype), dim=_check_dim(dim, input.ndim))
