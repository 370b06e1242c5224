"""The autograd state of :class:`~aigc_course.Tensor`: ``requires_grad``, ``grad``,
``retain_grad``, ``backward``, and the graph node that gradients for a tensor flow into
(chapter 2).
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING

from .autograd.function import AccumulateGrad

if TYPE_CHECKING:
    from ._tensor import Tensor


class _AutogradMixin:
    """Autograd state; mixed into :class:`~aigc_course.Tensor`."""

    # ------------------------------------------------------------------ autograd state

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients, "
                f"but got dtype {self.dtype}"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self._grad is None and not self.is_leaf and not getattr(self, "_retains_grad", False):
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and value.shape != self.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: {list(value.shape)} "
                f"!= {list(self.shape)}"
            )
        self._grad = value

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward``."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or getattr(self, "_retains_grad", False):
            return
        self._retains_grad = True
        self.grad_fn._retained.append(weakref.ref(self))

    def _node(self):
        """The graph node that gradients for this tensor flow into (None if none needed)."""
        if self.grad_fn is not None:
            return self.grad_fn
        if self._requires_grad:
            if self._accumulator is None:
                self._accumulator = AccumulateGrad(self)
            return self._accumulator
        return None

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see
        :func:`aigc_course.autograd.backward`)."""
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)
