r"""``Tensor``: an n-dimensional array (numpy underneath) that remembers how it was computed.

A Tensor holds

- ``_data``: a numpy array. Views share it, as torch's views share storage (chapter 1).
- ``requires_grad``, ``grad`` and ``grad_fn``: the autograd bookkeeping (chapter 2).

Every differentiable method ends in ``SomeFunction.apply(...)`` from :mod:`aigc_course.ops`.
The methods here only validate arguments the way torch does (same exception types, messages
that name the offending values) and promote dtypes; the math lives in the ops.

Teaching simplifications, stated openly: CPU only; no strides of our own (numpy's are used);
in-place ops are not recorded by autograd, so they are refused on tensors that require grad
while grad mode is on (torch's rule for leaves, extended to all tensors here). They are
counted, though, as in torch: each bumps a version counter shared by all views of the same
memory, so that backward refuses values changed after the forward pass saved them.

The class is spread over a few modules, one topic each, so that every file stays readable:

- here: construction, the version counter, ``detach``, ``to`` and the operators
  (``+``, ``==``, ``&``..., with type promotion from :mod:`aigc_course._promotion`);
- :mod:`aigc_course._tensor_data`: metadata (``shape``, ``dtype``, ``stride``) and conversions;
- :mod:`aigc_course._tensor_autograd`: ``requires_grad``, ``grad``, ``backward``;
- :mod:`aigc_course._tensor_math`: elementwise functions and reductions;
- :mod:`aigc_course._tensor_shape`: shapes, views and indexing;
- :mod:`aigc_course._tensor_inplace`: in-place operations;
- :mod:`aigc_course._functions`: ``matmul``, ``where``, ``cat`` and ``stack``;
- :mod:`aigc_course._checks`: ``Size``, ``device`` and the argument checks they all share.
"""

from __future__ import annotations

import numpy as np

from . import _dtypes
from ._checks import broadcast_shapes, check_device
from ._dtypes import bool_
from ._tensor_autograd import _AutogradMixin
from ._tensor_data import _DataMixin
from ._tensor_inplace import _InPlaceMixin
from ._tensor_math import _MathMixin
from ._tensor_shape import _ShapeMixin
from .ops import elementwise as E
from .ops import shape as S


class _VersionCounter:
    """How many in-place changes a block of memory has had; shared by the tensors viewing it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def _storage(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` views."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Tensor(_DataMixin, _AutogradMixin, _MathMixin, _ShapeMixin, _InPlaceMixin):
    """An n-dimensional array with autograd. Build one with :func:`aigc_course.tensor`.

    >>> import aigc_course as ac
    >>> x = ac.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(30., grad_fn=<SumBackward>)
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])

    See chapters 1 (the data) and 2 (autograd).
    """

    __array_ufunc__ = None  # make numpy defer to our reflected operators (np.float32(2) * t)

    def __init__(self, data, requires_grad: bool = False):
        # like torch.Tensor(data): a Tensor is shared, anything else becomes float32
        array = data._data if isinstance(data, Tensor) else np.asarray(data, dtype=np.float32)
        self._data = array
        self.grad_fn = None
        self._grad = None
        self._requires_grad = False
        self._accumulator = None
        # a Tensor built on another Tensor shares its memory, so also its version counter
        self._version_counter = (
            data._version_counter if isinstance(data, Tensor) else _VersionCounter()
        )
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, array: np.ndarray) -> Tensor:
        """Wrap an array without checks (used by ops, whose arrays are already valid)."""
        t = object.__new__(Tensor)
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.grad_fn = None
        t._grad = None
        t._requires_grad = False
        t._accumulator = None
        t._version_counter = _VersionCounter()
        return t

    @property
    def _version(self) -> int:
        """The number of in-place changes to this tensor's memory (torch's ``x._version``)."""
        return self._version_counter.value

    def _bump_version(self) -> None:
        self._version_counter.value += 1

    def _share_version_if_view(self, inputs) -> None:
        """A view (``view``, ``t()``, ``x[0]``...) counts the in-place changes of its base."""
        if self._data.base is None:
            return
        root = _storage(self._data)
        for t in inputs:
            if _storage(t._data) is root:
                self._version_counter = t._version_counter
                return

    # ------------------------------------------------------------------ detach

    def detach(self) -> Tensor:
        """The same data (shared memory, and so the same version counter), cut from the graph."""
        t = Tensor._make(self._data)
        t._version_counter = self._version_counter
        return t

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # ------------------------------------------------------------------ dtype and device

    def to(self, *args, dtype=None, device=None, copy: bool = False) -> Tensor:
        """``x.to(aigc_course.float64)``, ``x.to("cpu")``, ``x.to(other)``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                device = a
            else:
                dtype = a
        check_device(device)
        if dtype is None:
            return E.Clone.apply(self) if copy else self
        dt = _dtypes.to_dtype(dtype)
        if dt is self.dtype and not copy:
            return self
        return E.To.apply(self, dtype=dt)

    # ------------------------------------------------------------------ arithmetic

    def __add__(self, other):
        return _binary(E.Add, self, other)

    def __radd__(self, other):
        return _binary(E.Add, other, self)

    def __sub__(self, other):
        return _binary(E.Sub, self, other)

    def __rsub__(self, other):
        return _binary(E.Sub, other, self)

    def __mul__(self, other):
        return _binary(E.Mul, self, other)

    def __rmul__(self, other):
        return _binary(E.Mul, other, self)

    def __truediv__(self, other):
        return _binary(E.Div, self, other, float_result=True)

    def __rtruediv__(self, other):
        return _binary(E.Div, other, self, float_result=True)

    def __pow__(self, exponent):
        return _binary(E.Pow, self, exponent)

    def __rpow__(self, base):
        return _binary(E.Pow, base, self)

    def __neg__(self):
        if self.dtype is bool_:
            raise TypeError("Negation, the `-` operator, on a bool tensor is not supported.")
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__

    def maximum(self, other: Tensor) -> Tensor:
        return _binary(E.Maximum, self, other)

    def minimum(self, other: Tensor) -> Tensor:
        return _binary(E.Minimum, self, other)

    def __eq__(self, other):  # type: ignore[override]
        return _compare(np.equal, self, other)

    def __ne__(self, other):  # type: ignore[override]
        return _compare(np.not_equal, self, other)

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # a class that defines __eq__ loses the default __hash__: tensors hash by identity, as in torch
    __hash__ = object.__hash__

    def __and__(self, other):
        return (
            _compare(np.logical_and, self, other)
            if self.dtype is bool_
            else _compare(np.bitwise_and, self, other)
        )

    def __or__(self, other):
        return (
            _compare(np.logical_or, self, other)
            if self.dtype is bool_
            else _compare(np.bitwise_or, self, other)
        )

    def __invert__(self):
        return Tensor._make(~self._data)

    def all(self, dim=None) -> Tensor:
        return Tensor._make(np.asarray(np.all(self._data, axis=dim)))

    def any(self, dim=None) -> Tensor:
        return Tensor._make(np.asarray(np.any(self._data, axis=dim)))

    def logical_not(self) -> Tensor:
        return Tensor._make(np.logical_not(self._data))

    def sign(self) -> Tensor:
        """-1, 0 or 1 elementwise (a step function: its gradient is zero, so it is not recorded)."""
        return Tensor._make(np.sign(self._data))

    # ------------------------------------------------------------------ choosing by a mask

    def where(self, condition: Tensor, other) -> Tensor:
        """``x.where(c, y)``: x where c is True, else y (torch's method form)."""
        return where(condition, self, other)

    def masked_fill(self, mask: Tensor, value) -> Tensor:
        """``value`` wherever ``mask`` is True (how attention hides future positions)."""
        if not isinstance(mask, Tensor) or mask.dtype is not bool_:
            got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
            raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with {got}")
        shape = broadcast_shapes(self.shape, mask.shape)
        if shape != tuple(self.shape):
            raise RuntimeError(
                f"masked_fill: the mask of shape {list(mask.shape)} must broadcast to the "
                f"tensor's shape {list(self.shape)}"
            )
        value = value.item() if isinstance(value, Tensor) else value
        return S.MaskedFill.apply(self, mask, value=value)


# The operators above call these when they run; they import Tensor, so they come after it.
# Everything that used to live in this module stays importable from here, as before the split:
# ``from aigc_course._tensor import Tensor, broadcast_shapes, where, _size_args`` still works.
from ._checks import Size, _check_dim, _check_dims, _size_args, device  # noqa: E402, F401
from ._functions import cat, matmul, stack, where  # noqa: E402
from ._promotion import _as_tensor, _binary, _compare, result_type  # noqa: E402, F401

__all__ = [
    "Size",
    "Tensor",
    "broadcast_shapes",
    "cat",
    "check_device",
    "device",
    "matmul",
    "result_type",
    "stack",
    "where",
]
