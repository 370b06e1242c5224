"""In-place operations of :class:`~aigc_course.Tensor` (``add_``, ``copy_``, ``fill_``...).

Not recorded by autograd, so refused on tensors that require grad while grad mode is on; but
counted: each bumps the version counter shared by all views of the same memory, so that
backward refuses values changed after the forward pass saved them (chapter 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import broadcast_shapes
from .autograd import grad_mode

if TYPE_CHECKING:
    from ._tensor import Tensor


class _InPlaceMixin:
    """In-place operations; mixed into :class:`~aigc_course.Tensor`."""

    # ------------------------------------------------------------------ in-place operations

    def _check_inplace(self) -> None:
        if self.requires_grad and grad_mode.is_grad_enabled():
            if self.is_leaf:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            raise RuntimeError(
                "aigc_course does not record in-place operations on tensors that require grad; "
                "write an out-of-place version instead (e.g. y = y + 1 rather than y += 1)"
            )
        if not self._data.flags.writeable:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )

    def _inplace(self, ufunc, other) -> Tensor:
        self._check_inplace()
        dt = _tensor.result_type(self, other)
        if dt.category > self.dtype.category:
            raise RuntimeError(
                f"result type {dt.name} can't be cast to the desired output type {self.dtype.name}"
            )
        o = other._data if isinstance(other, _tensor.Tensor) else other
        shape = broadcast_shapes(self.shape, np.shape(o))
        if shape != tuple(self.shape):
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the "
                f"broadcast shape {list(shape)}"
            )
        ufunc(self._data, o, out=self._data, casting="unsafe")
        self._bump_version()
        return self

    def add_(self, other, alpha=1) -> Tensor:
        return self._inplace(np.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        return self._inplace(np.subtract, other if alpha == 1 else other * alpha)

    def mul_(self, other) -> Tensor:
        return self._inplace(np.multiply, other)

    def div_(self, other) -> Tensor:
        return self._inplace(np.true_divide, other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def copy_(self, src) -> Tensor:
        self._check_inplace()
        s = src._data if isinstance(src, _tensor.Tensor) else np.asarray(src)
        broadcast_shapes(self.shape, s.shape)
        self._data[...] = s
        self._bump_version()
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace()
        self._data[...] = value
        self._bump_version()
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        from .random import _numpy_generator

        rng = _numpy_generator(generator)
        return self.copy_(rng.uniform(a, b, self.shape).astype(self._data.dtype))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        from .random import _numpy_generator

        rng = _numpy_generator(generator)
        return self.copy_(rng.normal(mean, std, self.shape).astype(self._data.dtype))


# Last, because _tensor imports this module to build Tensor; the code above only needs
# _tensor.Tensor when it runs, so either module may be imported first.
from . import _tensor  # noqa: E402
