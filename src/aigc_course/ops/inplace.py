r"""In-place operations: ``add_``, ``mul_``, ``copy_``, ``fill_``, ``x[i] = v``, and any op
in place through :func:`in_place` (``x //= 2``, ``x.scatter_(...)``, ``x.tril_()``...).
Chapter 2.

Each writes into the tensor's own memory and bumps the version counter that all views of that
memory share, so that backward refuses a value changed after the forward pass saved it.

When autograd is involved (grad mode on, and the tensor or the value written requires grad),
the write is *recorded*, as in torch: the result is computed out of place from a copy of the
old values, written back into the tensor's memory, and the tensor takes over the result's node
(``grad_fn``). So ``x = w * 2; x += 1; x.mul_(3)`` differentiates like ``3 * (w * 2 + 1)``, and
``out[0] = w[1] * 3`` on a plain ``out`` records the write the way torch's CopySlices does.

As in torch, a leaf that requires grad refuses in-place changes while grad mode is on (an
optimizer updates parameters under ``no_grad``).

A recorded change of a *view* (``h[0] *= 3``) re-records its base too, as torch does: the
base becomes the output of an :class:`IndexPut` of the new values into its old ones at the
view's places (found from memory addresses, :func:`_view_positions`, so any view op works),
and the view a view of that. Another view of the same base, taken before the change, gets
the same treatment when it is next used (:func:`_refresh_view`, which autograd reaches as
the method ``Tensor._refresh_view``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import broadcast_shapes
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.function import Function
from ..random import _numpy_generator
from . import arithmetic as A
from . import elementwise as E
from ._promotion import result_type
from .indexing import scatter, scatter_add, tril, triu
from .integer import (
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    floor_divide,
    remainder,
)
from .shape import Index, _numpy_steps


class IndexPut(Function):
    r"""$z = x$, then $z[\text{index}] = v$: what ``x[index] = v`` records (torch's CopySlices).
    The written places forget $x$, so $dx = dz$ with them set to 0, and $dv = dz[\text{index}]$
    (summed back to $v$'s shape if $v$ was broadcast)."""

    @staticmethod
    def forward(ctx, x, v, steps):
        ctx.steps = steps
        z = np.array(x, copy=True)
        target = z
        for index in steps[:-1]:
            target = target[index]  # basic indexing: a view into z
        target[steps[-1]] = v
        return z

    @staticmethod
    def backward(ctx, dz):
        dx = dv = None
        if ctx.needs_input_grad[0]:
            dx = IndexPut.apply(dz, dz.new_zeros(()), steps=ctx.steps)
        if ctx.needs_input_grad[1]:
            dv = Index.apply(dz, steps=ctx.steps)
        return dx, dv


# ---------------------------------------------------------------- checks and recording


def _records(self: Tensor, value) -> bool:
    """Whether this in-place change must be recorded by autograd."""
    if not grad_mode._enabled:
        return False
    return self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)


def _check_writable(self: Tensor) -> None:
    if not self._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )


def _check_cast(self: Tensor, dt) -> None:
    if dt.category > self.dtype.category:
        raise RuntimeError(
            f"result type {dt.scalar_name} can't be cast to the desired output type "
            f"{self.dtype.scalar_name}"
        )


def _check_shape(self: Tensor, shape: tuple) -> None:
    if broadcast_shapes(self._data.shape, shape) != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape "
            f"{list(broadcast_shapes(self._data.shape, shape))}"
        )


def _old_values(self: Tensor) -> Tensor:
    """A copy of ``self`` as it is now, at the same place in the graph: the input of the
    recorded out-of-place computation (its memory is about to be overwritten)."""
    if self._requires_grad and self.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = self._base
    if base is not None:
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        if self._version_counter.value != self._view_version:
            _refresh_view(self)
    old = Tensor._make(self._data.copy())
    old.grad_fn, old._requires_grad = self.grad_fn, self._requires_grad
    return old


def _rebase(self: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` into ``self``'s memory; ``self`` becomes the output of its node.

    For a view, its base is re-recorded (torch's CopySlices): ``base_new`` = ``base_old`` with
    ``result`` put at the view's places, and the view becomes a view of ``base_new``.
    """
    if result._data.dtype != self._data.dtype:
        result = E.To.apply(result, dtype=self.dtype)
    base = self._base
    if base is not None:
        _check_writable(self)  # (an expanded view names some places more than once)
        steps = [(_view_positions(self._data, base._data),)]
        old_base = Tensor._make(base._data.copy())
        old_base.grad_fn, old_base._requires_grad = base.grad_fn, base._requires_grad
        new_flat = IndexPut.apply(old_base.reshape(-1), result, steps=steps)
        _rebase(base, new_flat.reshape(base.shape))  # writes the view's memory too
        view = Index.apply(new_flat, steps=steps)
        self.grad_fn, self._requires_grad = view.grad_fn, view._requires_grad
        self._view_version = self._version_counter.value
        return self
    np.copyto(self._data, result._data, casting="unsafe")
    self._version_counter.value += 1
    self.grad_fn, self._requires_grad = result.grad_fn, result._requires_grad
    return self


def _binary_(self: Tensor, other, ufunc, op, float_result: bool = False) -> Tensor:
    """``self op= other``: numpy's ufunc into our memory, or recorded through ``op``."""
    dt = result_type(self, other)
    if float_result and not dt.is_floating_point:
        dt = _dtypes.default_float
    _check_cast(self, dt)
    o = other._data if isinstance(other, Tensor) else other
    _check_shape(self, np.shape(o))
    if _records(self, other):
        return _rebase(self, op(_old_values(self), other))
    _check_writable(self)
    ufunc(self._data, o, out=self._data, casting="unsafe")
    self._version_counter.value += 1
    return self


# ---------------------------------------------------------------- public functions


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    """``self += alpha * other``, in place."""
    return _binary_(self, other if alpha == 1 else A.mul(other, alpha), np.add, A.add)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    """``self -= alpha * other``, in place."""
    return _binary_(self, other if alpha == 1 else A.mul(other, alpha), np.subtract, A.sub)


def mul_(self: Tensor, other) -> Tensor:
    """``self *= other``, in place."""
    return _binary_(self, other, np.multiply, A.mul)


def div_(self: Tensor, other) -> Tensor:
    """``self /= other``, in place; refused for integer tensors (the result is float)."""
    return _binary_(self, other, np.true_divide, A.div, float_result=True)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    """``self.clamp(min, max)``, in place."""
    if _records(self, None):
        return _rebase(self, E.clamp(_old_values(self), min, max))
    result = E.clamp(self, min, max)
    _check_cast(self, result.dtype)
    return copy_(self, result)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """``self.masked_fill(mask, value)``, in place."""
    if _records(self, value):
        return _rebase(self, E.masked_fill(_old_values(self), mask, value))
    return copy_(self, E.masked_fill(self, mask, value))


def copy_(self: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast, and cast to ``self``'s dtype) into ``self``'s memory."""
    if not isinstance(src, Tensor):
        src = Tensor._make(np.asarray(src))
    _check_shape(self, src._data.shape)
    if _records(self, src):
        _old_values(self)  # the checks: a leaf refuses, a view cannot be recorded
        return _rebase(self, src.expand(self.shape))
    _check_writable(self)
    np.copyto(self._data, src._data, casting="unsafe")
    self._version_counter.value += 1
    return self


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number, or a 0-d tensor)."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value._data.ndim} dimensions."
        )
    return copy_(self, value if isinstance(value, Tensor) else np.asarray(value))


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from the uniform distribution on [a, b)."""
    rng = _numpy_generator(generator)
    return copy_(self, rng.uniform(a, b, self._data.shape).astype(self._data.dtype))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from the normal distribution N(mean, std^2)."""
    rng = _numpy_generator(generator)
    return copy_(self, rng.normal(mean, std, self._data.shape).astype(self._data.dtype))


def setitem(self: Tensor, index, value) -> None:
    """``self[index] = value``: a write into ``self``'s memory, recorded when autograd is
    involved (torch's CopySlices)."""
    steps = _numpy_steps(index)
    if _records(self, value):
        old = _old_values(self)
        v = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value))
        if v._data.dtype != self._data.dtype:
            v = E.to(v, self.dtype)
        _rebase(self, _put(IndexPut, old, v, steps))
        return
    _check_writable(self)
    src = value._data if isinstance(value, Tensor) else value
    _put(_write, self._data, src, steps)
    self._version_counter.value += 1


def _write(data: np.ndarray, src, steps: list[tuple]) -> None:
    for index in steps[:-1]:
        data = data[index]
    data[steps[-1]] = src


def _put(fn, x, v, steps):
    """Run ``fn``, translating numpy's errors into torch's."""
    try:
        return IndexPut.apply(x, v, steps=steps) if fn is IndexPut else fn(x, v, steps)
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    except ValueError as e:
        raise RuntimeError(f"shape mismatch in index assignment: {e}") from None


# ---------------------------------------------------------------- any op, in place


def in_place(self: Tensor, op, *args, **kwargs) -> Tensor:
    """``self.op_(*args)``: ``op(self, *args)`` written into ``self``'s own memory, and recorded
    by autograd when it is involved (see above). As in torch, the
    result must fit ``self``: same shape, and a dtype ``self`` can hold without a category change.
    """
    involved = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
    if any(_records(self, a) for a in involved) or _records(self, None):
        result = op(_old_values(self), *args, **kwargs)
        _check_cast(self, result.dtype)
        _check_shape(self, result._data.shape)
        return _rebase(self, result)
    result = op(self, *args, **kwargs)
    _check_cast(self, result.dtype)
    _check_shape(self, result._data.shape)
    return copy_(self, result)


def floor_divide_(self: Tensor, other) -> Tensor:
    """``self //= other``, in place."""
    return in_place(self, floor_divide, other)


def remainder_(self: Tensor, other) -> Tensor:
    """``self %= other``, in place."""
    return in_place(self, remainder, other)


def bitwise_and_(self: Tensor, other) -> Tensor:
    """``self &= other``, in place."""
    return in_place(self, bitwise_and, other)


def bitwise_or_(self: Tensor, other) -> Tensor:
    """``self |= other``, in place."""
    return in_place(self, bitwise_or, other)


def bitwise_xor_(self: Tensor, other) -> Tensor:
    """``self ^= other``, in place."""
    return in_place(self, bitwise_xor, other)


def bitwise_not_(self: Tensor) -> Tensor:
    """``self = ~self``, in place."""
    return in_place(self, bitwise_not)


def scatter_(
    input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None
) -> Tensor:
    """:func:`scatter`, written into ``input``'s own memory."""
    return in_place(input, scatter, dim, index, src, value=value, reduce=reduce)


def scatter_add_(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """:func:`scatter_add`, written into ``input``'s own memory."""
    return in_place(input, scatter_add, dim, index, src)


def tril_(input: Tensor, diagonal: int = 0) -> Tensor:
    """:func:`tril`, written into ``input``'s own memory."""
    return in_place(input, tril, diagonal)


def triu_(input: Tensor, diagonal: int = 0) -> Tensor:
    """:func:`triu`, written into ``input``'s own memory."""
    return in_place(input, triu, diagonal)


# ---------------------------------------------------------------- views of a changed base


def _view_positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """For each element of ``view``, the flat (C-order) index of the element of ``base`` at the
    same memory address: the view as an index into its base, whatever ops made it."""
    base_offsets = _byte_offsets(base).ravel()
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    order = np.argsort(base_offsets, kind="stable")
    return order[np.searchsorted(base_offsets[order], start + _byte_offsets(view))]


def _byte_offsets(a: np.ndarray) -> np.ndarray:
    """The byte offset of each element of ``a`` from its first one."""
    offsets = np.zeros(a.shape, dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[axis] = n
        offsets += (np.arange(n, dtype=np.int64) * stride).reshape(shape)
    return offsets


def _refresh_view(view: Tensor) -> None:
    """A view whose memory was changed in place since its ``grad_fn`` was made: make it a view
    of its base's current history (if that is recorded)."""
    base = view._base
    if base._requires_grad:
        if not grad_mode._enabled:
            view._requires_grad = True  # as torch says; the history is made when recorded
            return
        steps = [(_view_positions(view._data, base._data),)]
        fresh = Index.apply(base.reshape(-1), steps=steps)
        view.grad_fn, view._requires_grad = fresh.grad_fn, fresh._requires_grad
    view._view_version = view._version_counter.value
