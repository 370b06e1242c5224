r"""Ordering along one dimension: ``sort``, ``argsort`` and ``topk``.

The order itself is a permutation $\pi$ of positions, found with numpy (it has no gradient:
a small change of $x$ does not change it, except at ties). The sorted values are then a
:class:`~aigc_course.ops.indexing.Gather` of $x$ at $\pi$,

$$z_j = x_{\pi(j)}, \qquad dx_{\pi(j)} = dz_j,$$

so each gradient goes back to the position its value came from. Chapter 9 keeps the ``k``
most likely tokens with ``topk``, and the nucleus of top-p sampling with ``sort``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _dtypes
from .._checks import _check_dim
from .._tensor import Tensor
from .indexing import Gather

# what torch.sort and torch.topk return: a named pair
_SortResult = namedtuple("sort", ["values", "indices"])
_TopkResult = namedtuple("topk", ["values", "indices"])


class Sort(Gather):
    r"""$z_j = x_{\pi(j)}$ for the sorting permutation $\pi$, so $dx_{\pi(j)} = dz_j$."""


class Topk(Gather):
    r"""$z_j = x_{\pi(j)}$ for the first $k$ positions of the sorting permutation $\pi$, so
    $dx_{\pi(j)} = dz_j$ for $j < k$, and the other $x$ get no gradient."""


def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sorting positions along ``axis``: equal values keep their order, in both directions
    (NaN counts as the largest value, as in torch)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # subtle: argsort(-a) would reverse equal values' order (and fails for bool and uint8).
    # Sorting the reversed array ascending and reading the result backwards keeps it.
    n = a.shape[axis]
    positions = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.ascontiguousarray(np.flip(n - 1 - positions, axis))  # fresh memory, as torch's


def _top_positions(a: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """The first ``k`` positions of the stable sort of ``a`` along ``axis`` (descending if
    ``largest``), found in linear time: the result equals ``_argsort(...)[:k]``.

    The k-th value is found with ``np.partition``; every value beyond it is in, and of the values
    equal to it, the first ones in index order (the ones a stable sort puts first). Only these
    ``k`` candidates are then sorted.
    """
    a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    if k == 0 or k == n or (a.dtype.kind == "f" and np.isnan(a).any()):
        order = _argsort(a, -1, largest)[..., :k]  # (with NaN: the plain way)
        return np.ascontiguousarray(np.moveaxis(order, -1, axis))
    kth = np.partition(a, n - k if largest else k - 1, axis=-1)[..., n - k if largest else k - 1]
    kth = kth[..., None]
    beyond = a > kth if largest else a < kth
    ties = a == kth
    needed = k - beyond.sum(axis=-1, keepdims=True)
    chosen = beyond | (ties & (np.cumsum(ties, axis=-1) <= needed))
    candidates = np.nonzero(chosen)[-1].reshape(*a.shape[:-1], k)  # in index order
    values = np.take_along_axis(a, candidates, axis=-1)
    order = np.take_along_axis(candidates, _argsort(values, -1, largest), axis=-1)
    return np.ascontiguousarray(np.moveaxis(order, -1, axis))


def _order(input: Tensor, dim: int, descending: bool) -> tuple[int, np.ndarray]:
    dim = _check_dim(dim, input.ndim)
    if input.ndim == 0:
        return dim, np.zeros((), dtype=np.int64)
    return dim, _argsort(input._data, dim, descending).astype(np.int64, copy=False)


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
) -> tuple[Tensor, Tensor]:
    r"""``(values, indices)``: ``input`` sorted along ``dim``, and where each value came from,
    so that ``values == input.gather(dim, indices)``.

    Note: the sort is always stable here (equal values keep their order); torch only promises
    it with ``stable=True``, so code that relies on the order of ties should pass it.

    >>> import aigc_course as ac
    >>> ac.sort(ac.tensor([3.0, 1.0, 2.0]), descending=True)
    sort(values=tensor([3., 2., 1.]), indices=tensor([0, 2, 1]))
    """
    dim, order = _order(input, dim, descending)
    values = Sort.apply(input, dim=dim, index=order)
    return _SortResult(values, Tensor._make(order))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The positions that sort ``input`` along ``dim``: ``sort(...).indices``.

    >>> import aigc_course as ac
    >>> ac.argsort(ac.tensor([3, 1, 2]))
    tensor([1, 2, 0])
    """
    return Tensor._make(_order(input, dim, descending)[1])


def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> tuple[Tensor, Tensor]:
    r"""``(values, indices)`` of the ``k`` largest (or, with ``largest=False``, smallest)
    entries along ``dim``, in sorted order (``sorted=False`` is accepted and sorts too).

    >>> import aigc_course as ac
    >>> ac.topk(ac.tensor([1.0, 5.0, 3.0, 4.0]), 2)
    topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' (position 1) must be int, not {type(k).__name__}")
    d = _check_dim(dim, input.ndim)
    if input.dtype is _dtypes.bool_:
        raise RuntimeError(
            f"topk does not support bool dtypes on CPU, got input of dtype {input.dtype}"
        )
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(
            f"selected index k out of range: k = {k} for dimension {dim} of size {size}"
        )
    if input.ndim:
        order = _top_positions(input._data, k, d, largest).astype(np.int64, copy=False)
    else:  # a 0-d input gives itself, for k = 0 as for k = 1, as in torch
        order = np.zeros((), dtype=np.int64)
    values = Topk.apply(input, dim=d, index=order)
    return _TopkResult(values, Tensor._make(order))


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """The distinct elements of ``input`` in ascending order (``sorted=False`` gives the same
    order, as torch's CPU kernel does); optionally, for each input element the position of its
    value among them (``return_inverse``), and how often each occurs (``return_counts``).
    With ``dim``, the distinct slices along that axis.

    Not differentiable: torch does not differentiate it either.

    >>> import aigc_course as ac
    >>> ac.unique(ac.tensor([3, 1, 3, 2]), return_counts=True)
    (tensor([1, 2, 3]), tensor([1, 1, 2]))
    """
    a = input._data
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        d = _check_dim(dim, a.ndim)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = Tensor._make(np.ascontiguousarray(values))
    if not return_inverse and not return_counts:
        return out
    result = (out,)
    if return_inverse:
        result += (Tensor._make(inverse.astype(np.int64)),)
    if return_counts:
        result += (Tensor._make(counts.astype(np.int64)),)
    return result
