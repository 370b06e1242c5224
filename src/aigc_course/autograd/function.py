r"""``Function``: one differentiable operation, its forward and its backward side by side.

Every primitive in :mod:`aigc_course.ops` is a small subclass. ``forward`` computes with numpy
arrays (fast, no graph); ``backward`` computes with Tensor operations, so that with
``create_graph=True`` the backward pass is itself recorded and can be differentiated again.

Calling ``SomeFunction.apply(x, y)`` creates one *node* of the computation graph: an instance of
the class, which is both the ``ctx`` that ``forward`` writes to and the ``grad_fn`` of the result.
The node points at the nodes of its inputs through ``next_functions``, exactly as in torch, so a
graph can be walked from any result back to its leaves. Chapter 2 draws such graphs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import grad_mode

if TYPE_CHECKING:
    from .._tensor import Tensor

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)


class Node:
    """What every graph node has: a name, its parents, and a way to run backward."""

    next_functions: tuple = ()

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node at a leaf that requires grad: it adds the incoming gradient into ``leaf.grad``."""

    def __init__(self, variable: Tensor):
        self.variable = variable


class Function(Node):
    """Base class of a differentiable operation.

    Subclasses write two static methods:

    - ``forward(ctx, *arrays, **options) -> np.ndarray``: the value, computed on numpy arrays.
      Anything ``backward`` needs besides the inputs and the output goes on ``ctx``.
    - ``backward(ctx, grad) -> Tensor | tuple[Tensor | None, ...]``: the gradient with respect
      to each positional input, given the gradient ``grad`` of the output (a vector-Jacobian
      product). It may read ``ctx.inputs`` and ``ctx.output`` (Tensors).

    Broadcasting is undone in one place, :meth:`_backward`, which sums each gradient back to
    its input's shape; backward rules never deal with it.
    """

    def __init__(self):
        self._inputs: tuple | None = None
        self._output = None
        self._freed = False
        self._retained = []  # tensors whose .grad we keep (retain_grad)

    def name(self) -> str:
        return type(self).__name__ + "Backward"

    # what forward saw; freed after backward unless retain_graph=True
    @property
    def inputs(self) -> tuple[Tensor, ...]:
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        return self._inputs

    @property
    def output(self) -> Tensor:
        """The result of ``forward``, as a tensor whose ``grad_fn`` is this node.

        The node keeps the output's array, not the output tensor itself: the tensor points at
        the node (``grad_fn``), and a pointer back would make a reference cycle, which only
        Python's slow cyclic garbage collector can free.
        """
        from .._tensor import Tensor

        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        self._check_versions()
        data, version_counter = self._output
        out = Tensor._make(data)
        out.grad_fn, out._requires_grad, out._version_counter = self, True, version_counter
        return out

    def _check_versions(self) -> None:
        """Refuse to differentiate with values that were modified in place after forward saw
        them (each in-place op bumps its tensor's version, as torch's version counter does)."""
        arrays = (*(t._data for t in self._inputs), self._output[0])
        counters = (*(t._version_counter for t in self._inputs), self._output[1])
        for array, counter, saved in zip(arrays, counters, self._saved_versions):
            if counter.value != saved:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: a {array.dtype} tensor of shape {list(array.shape)}, "
                    f"saved by {self.name()}, is at version {counter.value}; expected version "
                    f"{saved} instead. Hint: change a copy (x = x + 1, or x.clone()) or make "
                    "the change before the forward pass."
                )

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        return tuple(fn is not None for fn, _ in self.next_functions)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        """Run ``forward`` on the inputs' arrays and, if any input requires grad, record a node."""
        from .._tensor import Tensor

        ctx = cls()
        with np.errstate(all="ignore"):  # like torch: overflow gives inf, 0/0 gives nan, silently
            out = Tensor._make(cls.forward(ctx, *(t._data for t in inputs), **options))
        out._share_version_if_view(inputs)
        if grad_mode.is_grad_enabled() and any(t.requires_grad for t in inputs):
            ctx._inputs = inputs
            ctx._output = (out._data, out._version_counter)  # see `output`: no cycle
            ctx._saved_versions = tuple(t._version for t in (*inputs, out))
            ctx._shapes = tuple((t.shape, t.dtype) for t in inputs)
            ctx.next_functions = tuple((t._node(), 0) for t in inputs)
            out.grad_fn = ctx
            out._requires_grad = True
        return out

    def _backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        """Call ``backward`` and fit each gradient to its input: undo broadcasting, cast dtype."""
        grads = type(self).backward(self, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        fitted = []
        for g, (shape, dtype), (fn, _) in zip(grads, self._shapes, self.next_functions):
            if g is None or fn is None:
                fitted.append(None)
                continue
            if g.shape != shape:
                g = g.sum_to_size(shape)
            if g.dtype is not dtype:
                g = g.to(dtype)
            fitted.append(g)
        return tuple(fitted)

    def _free(self) -> None:
        self._inputs = self._output = None
        self._freed = True
