r"""Reductions (sum, mean, max, min, var, std, all, any) and the two normalisers taught for
stability (softmax, log_softmax, and logsumexp built on them). Chapters 1-3.

The Functions receive ``dim`` normalised: a tuple of non-negative axes, or ``None`` for all.
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import _dtypes
from .._checks import _check_dim, _check_dims
from .._tensor import Tensor
from ..autograd.function import Function
from .elementwise import Sqrt, _floating

_MaxMin = namedtuple("return_types", ["values", "indices"])


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
        ctx.n = math.prod(x.shape[a] for a in dim) if dim is not None else x.size
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
            if ctx.needs_input_grad[0]:  # the share of dz that each element gets
                ctx.save_for_backward(((x == z) / np.sum(x == z)).astype(x.dtype))
            return np.asarray(z)
        (axis,) = dim
        idx = np.expand_dims(cls.arg(x, axis=axis), axis)
        if ctx.needs_input_grad[0]:
            share = np.zeros(x.shape, dtype=x.dtype)
            np.put_along_axis(share, idx, 1, axis=axis)
            ctx.save_for_backward(share)
        z = np.take_along_axis(x, idx, axis=axis)
        return z if keepdim else np.squeeze(z, axis)

    @staticmethod
    def backward(ctx, dz):
        (share,) = ctx.saved_tensors
        if ctx.dim is None:
            return dz * share
        return _expand_back(ctx, dz) * share


class Min(Max):
    r"""$z = \min_i x_i$; the gradient goes to the minimum, with the same rules as :class:`Max`."""

    reduce = staticmethod(np.min)
    arg = staticmethod(np.argmin)


class Amax(Function):
    r"""$z = \max_i x_i$ over the reduced axes. Unlike ``max(dim)``, ties share: each of the
    $k$ maxima gets $dz / k$, as in torch (``amax`` picks no index).
    """

    reduce = staticmethod(np.max)

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        z = cls.reduce(x, axis=dim, keepdims=True)
        if ctx.needs_input_grad[0]:  # the share of dz that each element gets
            hit = x == z
            ctx.save_for_backward((hit / np.sum(hit, axis=dim, keepdims=True)).astype(x.dtype))
        return np.asarray(z if keepdim else np.squeeze(z, axis=dim))

    @staticmethod
    def backward(ctx, dz):
        (share,) = ctx.saved_tensors
        return _expand_back(ctx, dz) * share


class Amin(Amax):
    r"""$z = \min_i x_i$ over the reduced axes; ties share the gradient, as in :class:`Amax`."""

    reduce = staticmethod(np.min)


class Softmax(Function):
    r"""$y_i = e^{x_i - m} / \sum_j e^{x_j - m}$ with $m = \max_j x_j$ (the shift changes nothing
    mathematically and prevents overflow). Its vector-Jacobian product is
    $dx = y \odot (dy - \sum_j dy_j\, y_j)$.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        e = np.exp(x - np.max(x, axis=dim, keepdims=True, initial=-np.inf))
        y = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return y * (dy - (dy * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    r"""$y_i = x_i - \log\sum_j e^{x_j}$, computed as $x_i - m - \log\sum_j e^{x_j - m}$
    (log-sum-exp), so logits of $\pm 10^4$ give no inf or nan.
    Its vector-Jacobian product is $dx = dy - e^{y} \sum_j dy_j$.
    """

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = x - np.max(x, axis=dim, keepdims=True, initial=-np.inf)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return LogSoftmaxBackward.apply(dy, y, dim=ctx.dim)


class LogSoftmaxBackward(Function):
    r"""$g = dy - p\,\sum_j dy_j$ with $p = e^{y}$ (the softmax), in one node.

    Its own derivatives, for ``create_graph``: given $dg$, the gradient for $dy$ is
    $dg - \sum_i dg_i\,p_i$, and for $y$ it is $-dg \odot p\,\sum_j dy_j$.
    """

    @staticmethod
    def forward(ctx, dy, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(dy, y)
        return dy - np.exp(y) * np.sum(dy, axis=dim, keepdims=True)

    @staticmethod
    def backward(ctx, dg):
        dy, y = ctx.saved_tensors
        p = y.exp()
        d_dy = dg - (dg * p).sum(ctx.dim, keepdim=True) if ctx.needs_input_grad[0] else None
        d_y = -dg * p * dy.sum(ctx.dim, keepdim=True) if ctx.needs_input_grad[1] else None
        return d_dy, d_y


class LogSumExp(Function):
    r"""$z = \log\sum_i e^{x_i}$ over the reduced axes, computed as $m + \log\sum_i e^{x_i - m}$
    with $m = \max_i x_i$ (or 0 where that max is infinite: ``logsumexp([inf, 1]) = inf``,
    ``logsumexp([-inf, -inf]) = -inf``, as in torch). So $dx_i = dz\,e^{x_i - z}$, the softmax.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype)
        z = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
        z = np.asarray(z if keepdim else np.squeeze(z, axis=dim))
        ctx.save_for_backward(x, z)  # z itself (the output): saved as the output
        return z

    @staticmethod
    def backward(ctx, dz):
        x, z = ctx.saved_tensors
        return _expand_back(ctx, dz) * (x - _expand_back(ctx, z)).exp()


# ---------------------------------------------------------------- public functions


def _reduce_dims(dim, ndim: int):
    """``dim`` as a tuple of axes, or None for all; ``dim=()`` also means all, as in torch."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    return _check_dims(dim, ndim)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, keepdims=None) -> Tensor:
    r"""$\sum_i x_i$ over ``dim`` (all axes by default). Integers and bools sum into int64.
    ``keepdims`` is numpy's spelling of ``keepdim``, which torch accepts too."""
    keepdim = keepdim if keepdims is None else keepdims
    dims = _reduce_dims(dim, input._data.ndim)
    if dtype is None and input._data.dtype.kind in "biu":
        dtype = _dtypes.int64  # torch sums integers and bools into int64
    np_dtype = _dtypes.to_dtype(dtype).numpy_dtype if dtype is not None else None
    return Sum.apply(input, dim=dims, keepdim=keepdim, dtype=np_dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, keepdims=None) -> Tensor:
    r"""$\frac1n \sum_i x_i$ over ``dim``; only for floating point input, as in torch."""
    keepdim = keepdim if keepdims is None else keepdims
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    return Mean.apply(input, dim=_reduce_dims(dim, input._data.ndim), keepdim=keepdim)


def _max_min(fn, name: str, input: Tensor, dim, keepdim: bool):
    if isinstance(dim, Tensor):  # x.max(other) means maximum
        return input.maximum(dim) if fn is Max else input.minimum(dim)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return fn.apply(input)
    d = _check_dim(dim, input._data.ndim)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    values = fn.apply(input, dim=(d,) if input._data.ndim else None, keepdim=keepdim)
    arg, name = (np.argmax, "argmax") if fn is Max else (np.argmin, "argmin")
    return _MaxMin(values, _arg(arg, name, input, d, keepdim, bools=True))


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The largest element; with ``dim``, a (values, indices) pair like torch's."""
    return _max_min(Max, "max", input, dim, keepdim)


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest element; with ``dim``, a (values, indices) pair like torch's."""
    return _max_min(Min, "min", input, dim, keepdim)


def _amax_amin(fn, name: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    dims = _reduce_dims(dim, input._data.ndim)
    shape = input._data.shape
    if dims is None:
        if input._data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        dims = tuple(range(len(shape)))
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return fn.apply(input, dim=dims, keepdim=keepdim)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The largest values along ``dim`` (one or several dimensions; all of them by default),
    without indices; tied maxima share the gradient.

    >>> import aigc_course as ac
    >>> ac.tensor([[1, 5], [7, 2]]).amax(1)
    tensor([5, 7])
    """
    return _amax_amin(Amax, "amax", input, dim, keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """The smallest values along ``dim`` (all dimensions by default), without indices.

    >>> import aigc_course as ac
    >>> ac.tensor([[1, 5], [7, 2]]).amin(0)
    tensor([1, 2])
    """
    return _amax_amin(Amin, "amin", input, dim, keepdim)


def _arg(np_fn, name: str, input: Tensor, dim, keepdim: bool, bools: bool = False) -> Tensor:
    a = input._data
    if a.dtype.kind == "b" and not bools:  # max/min of bools are fine, argmax/argmin are not
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        index = np.asarray(np_fn(a), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * a.ndim) if keepdim else index)
    d = _check_dim(dim, a.ndim)
    if a.ndim == 0:
        return Tensor._make(np.asarray(0, dtype=np.int64))
    if a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return Tensor._make(np_fn(a, axis=d, keepdims=keepdim).astype(np.int64))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the largest element (the first one on ties), as int64."""
    return _arg(np.argmax, "argmax", input, dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element (the first one on ties), as int64."""
    return _arg(np.argmin, "argmin", input, dim, keepdim)


def var(input: Tensor, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased=None):
    r"""$\frac{1}{n - c}\sum_i (x_i - \bar x)^2$ with Bessel's correction $c = 1$ by default."""
    if unbiased is not None:
        correction = int(unbiased)
    dims = _reduce_dims(dim, input._data.ndim)
    shape = input._data.shape
    n = input._data.size if dims is None else math.prod(shape[d] for d in dims)
    centered = input - mean(input, dims, keepdim=True)
    return sum(centered * centered, dims, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(input: Tensor, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased=None):
    r"""$\sqrt{\mathrm{var}}$; its gradient is 0 (not inf) for a constant input, as in torch."""
    variance = var(input, dim, keepdim, correction=correction, unbiased=unbiased)
    return Sqrt.apply(variance, zero_at_zero=True)


def _check_floating(kernel: str, input: Tensor, dim: int) -> int:
    d = _check_dim(dim, input._data.ndim)
    if input._data.dtype.kind != "f":
        where = "lastdim_" if d == input._data.ndim - 1 or input._data.ndim == 0 else ""
        raise NotImplementedError(
            f"\"{kernel}_{where}kernel_impl\" not implemented for '{input.dtype.scalar_name}'"
        )
    return d


def softmax(input: Tensor, dim: int) -> Tensor:
    r"""$e^{x_i} / \sum_j e^{x_j}$ along ``dim``, shifted by the max so that it never overflows.
    Like torch's, only for floating point input (``softmax(x, dim, dtype=...)`` in
    ``nn.functional`` casts first)."""
    return Softmax.apply(input, dim=_check_floating("softmax", input, dim))


def log_softmax(input: Tensor, dim: int) -> Tensor:
    r"""$x_i - \log\sum_j e^{x_j}$ along ``dim``, by log-sum-exp."""
    return LogSoftmax.apply(input, dim=_check_floating("log_softmax", input, dim))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    r"""$\log\sum_i e^{x_i}$ along ``dim``, without overflow (see :class:`LogSumExp`)."""
    x = _floating(input)
    dims = _reduce_dims(dim, x._data.ndim)
    dims = tuple(range(x._data.ndim)) if dims is None else dims
    return LogSumExp.apply(x, dim=dims, keepdim=keepdim)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element is nonzero (along ``dim``)."""
    dims = _reduce_dims(dim, input._data.ndim)
    return Tensor._make(np.asarray(np.all(input._data, axis=dims, keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether some element is nonzero (along ``dim``)."""
    dims = _reduce_dims(dim, input._data.ndim)
    return Tensor._make(np.asarray(np.any(input._data, axis=dims, keepdims=keepdim)))


# ---------------------------------------------------------------- counting


class Bincount(Function):
    r"""$z_v = \sum_{i:\,x_i = v} w_i$ (or the count of $v$ without weights). torch has no
    derivative for it: the result requires grad when the weights do, and backward refuses."""

    @staticmethod
    def forward(ctx, weights, x, minlength, dtype):
        return np.bincount(x, weights=weights, minlength=minlength).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, dz):
        raise RuntimeError("the derivative for 'bincount' is not implemented.")


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    r"""How often each value $0, 1, \dots, \max(x)$ occurs in the 1-d non-negative integer
    tensor ``input`` (at least ``minlength`` bins); with ``weights``, bin $v$ sums the
    weights of the positions holding $v$. Counts are int64; float32 weights give float32
    sums, any other weights float64.

    >>> import aigc_course as ac
    >>> ac.bincount(ac.tensor([0, 2, 2, 3]))
    tensor([1, 0, 2, 1])
    >>> ac.bincount(ac.tensor([0, 2, 2]), weights=ac.tensor([0.5, 1.0, 2.0]), minlength=4)
    tensor([0.5000, 0.0000, 3.0000, 0.0000])
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"bincount(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    if isinstance(minlength, bool) or not isinstance(minlength, (int, np.integer)):
        raise TypeError(
            f"bincount(): argument 'minlength' must be int, not {type(minlength).__name__}"
        )
    x = input._data
    if x.dtype.kind not in "iu":
        raise NotImplementedError(
            f"\"bincount_cpu\" not implemented for '{input.dtype.scalar_name}'"
        )
    if x.ndim != 1 or (x < 0).any():
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return Tensor._make(np.bincount(x, minlength=int(minlength)).astype(np.int64))
    if not isinstance(weights, Tensor):
        raise TypeError(
            f"bincount(): argument 'weights' (position 2) must be Tensor, not "
            f"{type(weights).__name__}"
        )
    if weights._data.ndim != 1 or weights._data.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = np.float32 if weights._data.dtype == np.float32 else np.float64
    return Bincount.apply(weights, x, minlength=int(minlength), dtype=dtype)


def count_nonzero(input: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """The number of nonzero elements (along ``dim``, a dim or a tuple of them), as int64.

    >>> import aigc_course as ac
    >>> ac.count_nonzero(ac.tensor([[0, 1, 2], [0, 0, 3]]), dim=1)
    tensor([2, 1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(
            f"count_nonzero(): argument 'input' (position 1) must be Tensor, not "
            f"{type(input).__name__}"
        )
    dims = _check_dims(dim, input._data.ndim)
    if dims is not None and input._data.ndim == 0:
        dims = None
    counts = np.count_nonzero(input._data, axis=dims)
    return Tensor._make(np.asarray(counts, dtype=np.int64))
