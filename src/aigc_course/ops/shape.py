r"""Shape primitives: reshape/view, permute, expand, sum_to_size, cat, and index/scatter.

None of these does arithmetic, so each backward just moves the gradient back to where the
element came from: a reshape is undone by a reshape, a permutation by the inverse
permutation, an expand by a sum, and indexing by scattering (adding up repeated indices).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function


class View(Function):
    r"""$z$ = the same elements under a new shape, so $dx$ = $dz$ reshaped back.

    ``forward`` receives the already-validated target shape. Like torch's ``view``, it never
    copies: numpy's reshape of a contiguous array returns a view sharing memory.
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, dz):
        return dz.reshape(ctx.in_shape)


class Reshape(View):
    """Like :class:`View`, but copies when the memory layout makes a view impossible."""


class Permute(Function):
    r"""$z$ = $x$ with its axes reordered by ``dims``; $dx$ = $dz$ under the inverse order."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, dz):
        return dz.permute(*np.argsort(ctx.dims).tolist())


class Transpose(Permute):
    """A permutation that swaps two axes (``x.transpose(0, 1)``, ``x.T``)."""


class Expand(Function):
    r"""$z$ repeats $x$ along size-1 (or new leading) axes without copying (a stride of 0);
    each input element fed several outputs, so $dx$ sums their gradients (``sum_to_size``).
    """

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, dz):
        return dz  # Function._backward sums it back to the input's shape


class SumToSize(Function):
    r"""Sum $x$ down to a shape it was broadcast from: the inverse of :class:`Expand`, and the one
    helper that undoes broadcasting for every op. Its backward is therefore an expand.
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)

    @staticmethod
    def backward(ctx, dz):
        return dz.expand(ctx.in_shape)


class Cat(Function):
    r"""Join tensors along ``dim``; $dx_k$ is the slice of $dz$ that came from $x_k$."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [x.shape[dim] for x in xs]).tolist()
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, dz):
        index = [slice(None)] * dz.ndim
        grads = []
        for start, stop in zip(ctx.bounds[:-1], ctx.bounds[1:]):
            index[ctx.dim] = slice(start, stop)
            grads.append(dz[tuple(index)])
        return tuple(grads)


class Index(Function):
    r"""$z = x[\text{index}]$ (numpy's basic and advanced indexing), so $dx$ is $dz$ scattered
    back into zeros of $x$'s shape, with gradients of repeated indices *added* (:class:`IndexAdd`).

    ``index`` arrives as numpy-ready objects (ints, slices, None, Ellipsis, arrays).
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.in_shape = index, x.shape
        z = x[index]
        if not isinstance(z, np.ndarray):  # x[0, 1] gives a numpy scalar, a copy; torch gives
            z = x[(*index, Ellipsis)]  # a 0-d view, and so does x[0, 1, ...]
        return z

    @staticmethod
    def backward(ctx, dz):
        return IndexAdd.apply(dz, shape=ctx.in_shape, index=ctx.index)


class IndexAdd(Function):
    r"""$z$ = zeros of ``shape`` with $x$ added at ``index`` (``np.add.at``, so repeated indices
    accumulate). Its backward is plain indexing: $dx = dz[\text{index}]$.
    """

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        z = np.zeros(shape, dtype=x.dtype)
        np.add.at(z, index, x)
        return z

    @staticmethod
    def backward(ctx, dz):
        return Index.apply(dz, index=ctx.index)


class MaskedFill(Function):
    r"""$z = x$, except $z = v$ where the mask is True; so $dx = dz$, zeroed where masked."""

    @staticmethod
    def forward(ctx, x, mask, value):
        return np.where(mask, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, dz):
        mask = ctx.inputs[1]
        return dz.masked_fill(mask, 0.0), None
