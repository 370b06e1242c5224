r"""Diagonals: ``diagonal`` (a view, as in torch) and ``diag`` (a vector's diagonal matrix, or a
matrix's diagonal as a copy). Chapter 1.

Diagonal $k$ of dims ``dim1``/``dim2`` holds the elements $x_{i,\,i+k}$ ($k < 0$: below the main
diagonal). It is a view: one stride, ``stride[dim1] + stride[dim2]``, walks along it. Its
backward writes $dz$ onto the same diagonal of zeros (:class:`DiagonalScatter`), and that
Function's backward reads the diagonal again, so second derivatives come for free.
"""

from __future__ import annotations

import builtins

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._checks import _check_dim
from .._tensor import Tensor
from ..autograd.function import Function


def _diagonal_view(a: np.ndarray, offset: int, dim1: int, dim2: int) -> np.ndarray:
    """A writable view of diagonal ``offset`` of ``a``: the other dims, then the diagonal.

    Subtle: ``np.diagonal`` returns a read-only view, so the view is built from strides.
    """
    start = [slice(None)] * a.ndim
    start[dim2 if offset >= 0 else dim1] = slice(builtins.abs(offset), None)
    corner = a[tuple(start)]  # the diagonal starts at this sub-array's first element
    length = builtins.max(builtins.min(corner.shape[dim1], corner.shape[dim2]), 0)
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in rest) + (length,)
    strides = tuple(a.strides[d] for d in rest) + (a.strides[dim1] + a.strides[dim2],)
    return as_strided(corner, shape, strides, writeable=a.flags.writeable)


class Diagonal(Function):
    r"""$z_{\dots i} = x_{\dots,\, i,\, i+k}$ (a view); $dx$ = zeros with $dz$ on that diagonal."""

    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.in_shape, ctx.where = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, dz):
        return DiagonalScatter.apply(dz, shape=ctx.in_shape, where=ctx.where)


class DiagonalScatter(Function):
    r"""$z$ = zeros of ``shape`` with $x$ written on a diagonal: the backward of
    :class:`Diagonal`, and ``diag`` of a vector. Its backward reads the diagonal back."""

    @staticmethod
    def forward(ctx, x, shape, where):
        ctx.where = where
        z = np.zeros(shape, dtype=x.dtype)
        _diagonal_view(z, *where)[...] = x
        return z

    @staticmethod
    def backward(ctx, dz):
        offset, dim1, dim2 = ctx.where
        return Diagonal.apply(dz, offset=offset, dim1=dim1, dim2=dim2)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    r"""Diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as a view: those two
    dims go, and the diagonal becomes the last dim. ``offset > 0`` is above the main diagonal.

    >>> import aigc_course as ac
    >>> x = ac.arange(12).reshape(3, 4)
    >>> x.diagonal(), x.diagonal(1), x.diagonal(-1)
    (tensor([ 0,  5, 10]), tensor([ 1,  6, 11]), tensor([4, 9]))
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"diagonal(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    ndim = input._data.ndim
    d1, d2 = _check_dim(dim1, ndim), _check_dim(dim2, ndim)
    if ndim < 2 and d1 == d2:  # torch: a 0-d or 1-d tensor has no dim 1
        _check_dim(1, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    r"""A vector's square matrix with the vector on diagonal ``diagonal``, or a matrix's
    diagonal ``diagonal`` as a vector (a copy, unlike :func:`diagonal`).

    >>> import aigc_course as ac
    >>> ac.diag(ac.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    >>> ac.diag(ac.tensor([[1, 2], [3, 4]]), 1)
    tensor([2])
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"diag(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    ndim = input._data.ndim
    if ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        return DiagonalScatter.apply(input, shape=(n, n), where=(int(diagonal), 0, 1))
    if ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1).clone()
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
