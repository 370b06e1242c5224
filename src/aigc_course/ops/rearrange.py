r"""Moving elements without arithmetic: ``roll``, ``flip``, ``repeat`` and ``repeat_interleave``.

Each backward sends every gradient back to the position its value came from: a roll by
$-s$ undoes a roll by $s$, a flip undoes itself, and a repeated element collects the sum of
its copies' gradients. Unlike ``permute`` or ``expand``, all four copy (as torch's do).
"""

from __future__ import annotations

import numpy as np

from .._checks import _check_dim, _check_dims, _size_args
from .._tensor import Tensor
from ..autograd.function import Function


class Roll(Function):
    r"""$z_{(i + s) \bmod n} = x_i$ along each rolled axis, so $dx = \mathrm{roll}(dz, -s)$."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)  # dims None: roll the flattened tensor, keep the shape

    @staticmethod
    def backward(ctx, dz):
        back = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts
        return Roll.apply(dz, shifts=back, dims=ctx.dims)


class Flip(Function):
    r"""$z$ = $x$ read backwards along ``dims``, so $dx$ = $dz$ flipped the same way."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()  # torch's flip copies into fresh, contiguous memory

    @staticmethod
    def backward(ctx, dz):
        return Flip.apply(dz, dims=ctx.dims)


class Repeat(Function):
    r"""$z$ = $x$ tiled ``repeats[d]`` times along each axis $d$ (``np.tile``), so each $x$
    has one copy per tile and $dx$ = the sum of $dz$ over the tiles: $dz$ reshaped to
    $(r_0, n_0, r_1, n_1, \dots)$ and summed over the $r$ axes.
    """

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.repeats, ctx.in_shape = repeats, x.shape
        ctx.padded = (1,) * (len(repeats) - x.ndim) + x.shape  # new leading axes of size 1
        return np.tile(x.reshape(ctx.padded), repeats)

    @staticmethod
    def backward(ctx, dz):
        split = [n for pair in zip(ctx.repeats, ctx.padded) for n in pair]  # (r0, n0, r1, ...)
        dx = dz.reshape(split).sum(tuple(range(0, len(split), 2)))  # (n0, n1, ...)
        return dx.reshape(ctx.in_shape)


def _int_list(v, what: str, fn: str, position: int) -> tuple[int, ...]:
    values = (v,) if isinstance(v, (int, np.integer)) else v
    if not isinstance(values, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in values
    ):
        raise TypeError(
            f"{fn}(): argument '{what}' (position {position}) must be tuple of ints, not "
            f"{type(v).__name__}"
        )
    return tuple(int(n) for n in values)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims``, those that fall off one end coming back at the other.
    With no ``dims``, the tensor is rolled as if flattened.

    >>> import aigc_course as ac
    >>> ac.arange(5).roll(2)
    tensor([3, 4, 0, 1, 2])
    """
    shifts = _int_list(shifts, "shifts", "roll", 2)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll.apply(input, shifts=shifts[0], dims=None)
    dims = _int_list(dims, "dims", "roll", 3)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    dims = tuple(_check_dim(d, input._data.ndim) for d in dims)
    return Roll.apply(input, shifts=shifts, dims=dims)


def flip(input: Tensor, dims) -> Tensor:
    """The elements in reverse order along each of ``dims`` (a copy, as in torch).

    >>> import aigc_course as ac
    >>> ac.tensor([[1, 2], [3, 4]]).flip(1)
    tensor([[2, 1],
            [4, 3]])
    """
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        raise TypeError(
            f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}"
        )
    dims = _check_dims(_int_list(dims, "dims", "flip", 2), input._data.ndim) or ()
    return Flip.apply(input, dims=dims)


def repeat(input: Tensor, *repeats) -> Tensor:
    """``input`` tiled ``repeats[d]`` times along each dimension $d$ (a copy, unlike
    ``expand``). Extra leading counts add new leading dimensions.

    >>> import aigc_course as ac
    >>> ac.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    if len(repeats) > 1 and not all(isinstance(n, (int, np.integer)) for n in repeats):
        raise TypeError(f"repeat() takes 1 positional argument but {len(repeats)} were given")
    repeats = _size_args(repeats, "repeats")
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    padded = (1,) * (len(repeats) - input._data.ndim) + input._data.shape
    if any(r < 0 for r in repeats):
        sizes = [n * r for n, r in zip(padded, repeats)]
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {sizes}")
    return Repeat.apply(input, repeats=repeats)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size=None):
    r"""Each element repeated ``repeats`` times in place (``[a, b]`` -> ``[a, a, b, b]``), along
    ``dim`` (over the flattened tensor without one). ``repeats`` is a number, or a tensor with one
    count per element. ``repeat_interleave(counts)`` alone gives each index its count of times.

    Composed from indexing, so its gradient sums the copies' gradients back into each element.

    >>> import aigc_course as ac
    >>> ac.tensor([1, 2]).repeat_interleave(2)
    tensor([1, 1, 2, 2])
    """
    if repeats is None:  # torch.repeat_interleave(counts): 0 counts[0] times, 1 counts[1]...
        counts = input
        if counts._data.ndim > 1 or counts._data.dtype.kind not in "iu":
            raise RuntimeError("repeats has to be a 1D tensor of integers")
        if (counts._data < 0).any():
            raise RuntimeError("repeats can not be negative")
        return Tensor._make(np.repeat(np.arange(counts._data.size), counts._data))
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _check_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats._data.dtype.kind not in "iu":
            raise RuntimeError("repeats has to be Long or Int tensor")
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats has to be 1D or 0D tensor")
        counts = repeats._data.reshape(-1)
        if counts.size == 1:
            counts = np.full(n, counts[0])
        if counts.size != n:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{counts.size} and input.size({d}) = {n}"
            )
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
    else:
        if not isinstance(repeats, (int, np.integer)) or isinstance(repeats, bool):
            raise TypeError(
                "repeat_interleave(): argument 'repeats' must be Tensor or int, not "
                f"{type(repeats).__name__}"
            )
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        counts = np.full(n, int(repeats))
    index = Tensor._make(np.repeat(np.arange(n), counts))  # source position of each output
    if input._data.ndim == 0:
        return input.reshape(1)[index]
    return input[(slice(None),) * d + (index,)]
