"""Shapes and indexing of :class:`~aigc_course.Tensor`: ``view``, ``reshape``, ``permute``,
``expand``, ``split``, ``x[i]``... Views share memory with their base, as in torch. Chapter 1.
Assigning, ``x[i] = v``, writes in place: like the operations in
:mod:`aigc_course._tensor_inplace` it is not recorded by autograd, but it is counted by the
version counter, so that backward refuses a saved value changed after the forward pass.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._checks import _check_dim, _check_dims, _size_args, broadcast_shapes
from .ops import shape as S

if TYPE_CHECKING:
    from ._tensor import Tensor


def _to_numpy_index(index):
    """Translate a torch-style index into one numpy understands (Tensors become arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, _tensor.Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors, "
                f"but got {item.dtype}"
            )
        out.append(item)
    return tuple(out)


class _ShapeMixin:
    """Shapes and indexing; mixed into :class:`~aigc_course.Tensor`."""

    # ------------------------------------------------------------------ shapes

    def _infer_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        n = self.numel()
        if sum(s == -1 for s in shape) > 1:
            raise RuntimeError("only one dimension can be inferred")
        for s in shape:
            if s < -1:
                raise RuntimeError(f"invalid shape dimension {s}")
        known = math.prod(s for s in shape if s != -1)
        if -1 in shape:
            if known == 0 or n % known:
                raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
            shape = tuple(n // known if s == -1 else s for s in shape)
        elif known != n:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
        return shape

    def view(self, *shape) -> Tensor:
        """The same memory under a new shape; ``-1`` is inferred. Never copies, so it fails on
        a tensor whose layout cannot be reshaped in place (use :meth:`reshape`)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            return self.to(shape[0])  # x.view(dtype) is not supported beyond a cast
        target = self._infer_shape(_size_args(shape))
        try:
            np.reshape(self._data, target, copy=False)
        except ValueError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None
        return S.View.apply(self, shape=target)

    def reshape(self, *shape) -> Tensor:
        """Like :meth:`view`, but copies when the memory layout requires it."""
        return S.Reshape.apply(self, shape=self._infer_shape(_size_args(shape)))

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _check_dim(start_dim, self.ndim), _check_dim(end_dim, self.ndim)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = self.shape
        return self.reshape(*shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :])

    def unsqueeze(self, dim: int) -> Tensor:
        d = _check_dim(dim, self.ndim + 1) if self.ndim or dim in (0, -1) else _check_dim(dim, 1)
        shape = list(self.shape)
        shape.insert(d, 1)
        return S.View.apply(self, shape=tuple(shape))

    def squeeze(self, dim=None) -> Tensor:
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = _check_dims(dim, self.ndim) or ()
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1))
        return S.View.apply(self, shape=shape)

    def permute(self, *dims) -> Tensor:
        dims = _size_args(dims, "dims")
        if len(dims) != self.ndim:
            raise RuntimeError(
                f"permute(): number of dims don't match in permute: the tensor has {self.ndim} "
                f"dimensions but {len(dims)} were given ({list(dims)})"
            )
        dims = tuple(_check_dim(d, self.ndim) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"permute(): duplicate dims are not allowed (got {list(dims)})")
        return S.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        order = list(range(self.ndim))
        a, b = _check_dim(dim0, self.ndim), _check_dim(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return S.Transpose.apply(self, dims=tuple(order))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self) -> Tensor:
        return S.Transpose.apply(self, dims=tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def expand(self, *sizes) -> Tensor:
        """Repeat along size-1 axes without copying (``-1`` keeps a size)."""
        sizes = _size_args(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(
                f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                f"to the number of dimensions in the tensor ({self.ndim})"
            )
        lead = len(sizes) - self.ndim
        target = list(sizes)
        for i, n in enumerate(self.shape):
            want = sizes[lead + i]
            if want == -1:
                target[lead + i] = n
            elif n != 1 and want != n:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) must match the existing size ({n}) "
                    f"at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                    f"Tensor sizes: {list(self.shape)}"
                )
        return S.Expand.apply(self, shape=tuple(target))

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def sum_to_size(self, *size) -> Tensor:
        """Sum over broadcast axes down to ``size``: the inverse of :meth:`expand`."""
        size = _size_args(size)
        broadcast_shapes(size, self.shape)
        return S.SumToSize.apply(self, shape=size)

    def split(self, split_size, dim: int = 0) -> tuple[Tensor, ...]:
        d = _check_dim(dim, self.ndim)
        n = self.shape[d]
        sizes = (
            [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
            if isinstance(split_size, int)
            else list(split_size)
        )
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
        out, start = [], 0
        index = [slice(None)] * self.ndim
        for size in sizes:
            index[d] = slice(start, start + size)
            out.append(self[tuple(index)])
            start += size
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return self.split(math.ceil(self.shape[_check_dim(dim, self.ndim)] / chunks), dim)

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, index) -> Tensor:
        idx = _to_numpy_index(index)
        try:
            self._data[idx]  # validate (cheap: basic indexing is a view)
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None
        return S.Index.apply(self, index=idx)

    def __setitem__(self, index, value) -> None:
        """In-place assignment, for preparing data. Not recorded by autograd (see module doc),
        but counted: a value saved for backward and then changed makes ``backward`` raise."""
        self._check_inplace()
        idx = _to_numpy_index(index)
        src = value._data if isinstance(value, _tensor.Tensor) else value
        try:
            self._data[idx] = src
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None
        except ValueError as e:
            raise RuntimeError(f"shape mismatch in index assignment: {e}") from None
        self._bump_version()


# Last, because _tensor imports this module to build Tensor; the code above only needs
# _tensor.Tensor when it runs, so either module may be imported first.
from . import _tensor  # noqa: E402
