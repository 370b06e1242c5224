r"""``Tensor``: an n-dimensional array (numpy underneath) that remembers how it was computed.

A Tensor holds

- ``_data``: a numpy array. Views share it, as torch's views share storage (chapter 1);
- ``_version_counter``: how many in-place changes its memory has had, shared by all views;
- ``requires_grad``, ``grad`` and ``grad_fn``: the autograd bookkeeping (chapter 2).

This file has the tensor's own state and metadata. Every operation is a one-line delegation to
the function of the same name in its :mod:`aigc_course.ops` topic file, where the argument
checks, the type promotion, the differentiable Function and the public function live together:

- :mod:`~aigc_course.ops.arithmetic`: ``+ - * / **``, comparisons, ``maximum``;
- :mod:`~aigc_course.ops.elementwise`: ``exp``, ``tanh``, ``relu``, ``clamp``, ``where``...;
- :mod:`~aigc_course.ops.reduction`: ``sum``, ``mean``, ``max``, ``softmax``...;
- :mod:`~aigc_course.ops.shape`: ``view``, ``permute``, ``cat``, indexing...;
- :mod:`~aigc_course.ops.linalg`: ``matmul``;
- :mod:`~aigc_course.ops.inplace`: ``add_``, ``copy_``, ``x[i] = v``... (recorded by autograd).

Teaching simplifications, stated openly: CPU only; no strides of our own (numpy's are used).
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtypes
from ._checks import Size, _check_dim, _size_args, broadcast_shapes, check_device, device
from ._dtypes import dtype
from ._tensor_str import format_tensor
from .autograd import function as _function
from .autograd.engine import backward as _backward
from .autograd.function import AccumulateGrad


def _is_operand(v) -> bool:
    """Whether ``v`` can be an operand of a tensor operation (a tensor or a number)."""
    return isinstance(v, (Tensor, int, float, np.number, np.bool_))


class _VersionCounter:
    """How many in-place changes a block of memory has had; shared by the tensors viewing it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor:
    """An n-dimensional array with autograd. Build one with :func:`aigc_course.tensor`.

    >>> import aigc_course as ac
    >>> x = ac.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(30., grad_fn=<SumBackward0>)
    >>> y.backward()
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])

    See chapters 1 (the data) and 2 (autograd).
    """

    __slots__ = (
        "_data",
        "grad_fn",
        "_grad",
        "_requires_grad",
        "_accumulator",
        "_version_counter",
        "_retains_grad",
        "_base",
        "_output_nr",  # which output of its grad_fn, set only for a Function with several
        "_view_version",  # a view's: the version of its memory when its grad_fn was made
        "__weakref__",
    )
    __array_ufunc__ = None  # make numpy defer to our reflected operators (np.float32(2) * t)

    def __init__(self, *data, requires_grad: bool = False):
        """Like ``torch.Tensor``: ``Tensor(2, 3)`` is a 2x3 float32 tensor (of zeros here),
        ``Tensor(data)`` copies ``data`` into float32, and ``Tensor(tensor)`` shares it."""
        if len(data) == 1 and isinstance(data[0], Tensor):
            array, counter = data[0]._data, data[0]._version_counter
        elif all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in data):
            array, counter = np.zeros(_size_args(data), dtype=np.float32), _VersionCounter()
        elif len(data) == 1:
            array, counter = np.array(data[0], dtype=np.float32), _VersionCounter()
        else:
            raise TypeError(f"Tensor(): expected sizes or one sequence of data, but got {data!r}")
        self._data = array
        self.grad_fn = None
        self._grad = None
        self._requires_grad = False
        self._accumulator = None
        self._retains_grad = False
        self._base = None
        self._version_counter = counter  # a Tensor built on another shares its memory
        self.requires_grad = requires_grad

    @staticmethod
    def _make(array: np.ndarray) -> Tensor:
        """Wrap an array without checks (used by ops, whose arrays are already valid)."""
        t = object.__new__(Tensor)
        t._data = array
        t.grad_fn = None
        t._grad = None
        t._requires_grad = False
        t._accumulator = None
        t._retains_grad = False
        t._base = None
        t._version_counter = _VersionCounter()
        return t

    # ------------------------------------------------------------------ the version counter

    @property
    def _version(self) -> int:
        """The number of in-place changes to this tensor's memory (torch's ``x._version``)."""
        return self._version_counter.value

    def _bump_version(self) -> None:
        self._version_counter.value += 1

    def _is_view(self) -> bool:
        """Whether this tensor views the memory of another (``self._base``), as in torch."""
        return self._base is not None

    # ------------------------------------------------------------------ metadata

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_check_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self) -> dtype:
        return _dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return device("cpu")

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        """Steps, in elements, between neighbours along each axis (chapter 1's figure)."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_check_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    # ------------------------------------------------------------------ conversion

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        if self._data.size != 1:  # torch's type here differs from item()'s RuntimeError
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {list(self._data.shape)})"
            )
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and type(self) is Tensor:  # as torch: f"{loss}" is the number
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        return format_tensor(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    # a class that defines __eq__ loses the default __hash__: tensors hash by identity, as in torch
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ autograd state

    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._version_counter.value != self._view_version:
            _function._refresh_view(self)  # a view whose base was changed in place since
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and value:  # already requires grad: nothing to change
            return
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind != "f":
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
        if self._grad is None and self.grad_fn is not None and not self._retains_grad:
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
        if value is not None and value._data.shape != self._data.shape:
            raise RuntimeError(
                f"assigned grad has data of a different size: {list(value.shape)} "
                f"!= {list(self.shape)}"
            )
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward``."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        node = self.grad_fn
        node._retained = (*node._retained, weakref.ref(self))

    def _node(self):
        """The graph node that gradients for this tensor flow into (None if none needed)."""
        if self._base is not None and self._version_counter.value != self._view_version:
            _function._refresh_view(self)  # its base changed in place since: a view of the new
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
        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same data (shared memory, and so the same version counter), cut from the graph."""
        t = Tensor._make(self._data)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # ------------------------------------------------------------------ dtype and device

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs) -> Tensor:
        check_device("cuda")

    def float(self) -> Tensor:
        return self.to(_dtypes.float32)

    def double(self) -> Tensor:
        return self.to(_dtypes.float64)

    def half(self) -> Tensor:
        return self.to(_dtypes.float16)

    def long(self) -> Tensor:
        return self.to(_dtypes.int64)

    def int(self) -> Tensor:
        return self.to(_dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(_dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """Without ``dtype``, torch's name of this tensor's type (``'torch.FloatTensor'``);
        with one (a dtype or such a name), this tensor converted to it."""
        if dtype is None:
            return _dtypes.tensor_type(self.dtype)
        if isinstance(dtype, str):
            dtype = _dtypes.from_tensor_type(dtype)
        return self.to(dtype)

    # ------------------------------------------------------------------ new tensors like this one

    def new_tensor(self, data, dtype=None, requires_grad: bool = False) -> Tensor:
        dt = _dtypes.to_dtype(dtype) if dtype is not None else self.dtype
        data = data._data if isinstance(data, Tensor) else data
        return Tensor._make(np.array(data, dtype=dt.numpy_dtype)).requires_grad_(requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
        dt = _dtypes.to_dtype(dtype) if dtype is not None else self.dtype
        size = _size_args(size if isinstance(size, (tuple, list)) else (size,))
        array = np.full(size, fill_value, dtype=dt.numpy_dtype)
        return Tensor._make(array).requires_grad_(requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, requires_grad)

    # ================================================================== the operations
    # One line each: the function of the same name in its ops/ file does the work.

    # ---- ops/arithmetic.py
    def __add__(self, other):
        return A.add(self, other)

    def __radd__(self, other):
        return A.add(other, self)

    def __sub__(self, other):
        return A.sub(self, other)

    def __rsub__(self, other):
        return A.sub(other, self)

    def __mul__(self, other):
        return A.mul(self, other)

    def __rmul__(self, other):
        return A.mul(other, self)

    def __truediv__(self, other):
        return A.div(self, other)

    def __rtruediv__(self, other):
        return A.div(other, self)

    def __pow__(self, exponent):
        return A.pow(self, exponent)

    def __rpow__(self, base):
        return A.pow(base, self)

    def __neg__(self):
        return A.neg(self)

    def __eq__(self, other):  # type: ignore[override]
        return A.eq(self, other) if _is_operand(other) else NotImplemented  # t == None: False

    def __ne__(self, other):  # type: ignore[override]
        return A.ne(self, other) if _is_operand(other) else NotImplemented

    def __lt__(self, other):
        return A.lt(self, other)

    def __le__(self, other):
        return A.le(self, other)

    def __gt__(self, other):
        return A.gt(self, other)

    def __ge__(self, other):
        return A.ge(self, other)

    def add(self, other, *, alpha=1):
        return A.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return A.sub(self, other, alpha=alpha)

    def mul(self, other):
        return A.mul(self, other)

    def div(self, other):
        return A.div(self, other)

    def pow(self, exponent):
        return A.pow(self, exponent)

    def neg(self):
        return A.neg(self)

    def maximum(self, other):
        return A.maximum(self, other)

    def minimum(self, other):
        return A.minimum(self, other)

    def eq(self, other):
        return A.eq(self, other)

    def ne(self, other):
        return A.ne(self, other)

    def lt(self, other):
        return A.lt(self, other)

    def le(self, other):
        return A.le(self, other)

    def gt(self, other):
        return A.gt(self, other)

    def ge(self, other):
        return A.ge(self, other)

    def isnan(self):
        return A.isnan(self)

    def isinf(self):
        return A.isinf(self)

    def isfinite(self):
        return A.isfinite(self)

    def logical_not(self):
        return A.logical_not(self)

    def logical_and(self, other):
        return A.logical_and(self, other)

    def logical_or(self, other):
        return A.logical_or(self, other)

    # ---- ops/elementwise.py
    def exp(self):
        return E.exp(self)

    def log(self):
        return E.log(self)

    def sqrt(self):
        return E.sqrt(self)

    def sin(self):
        return E.sin(self)

    def cos(self):
        return E.cos(self)

    def tanh(self):
        return E.tanh(self)

    def sigmoid(self):
        return E.sigmoid(self)

    def relu(self):
        return E.relu(self)

    def abs(self):
        return E.abs(self)

    def sign(self):
        return E.sign(self)

    def erf(self):
        return E.erf(self)

    def clamp(self, min=None, max=None):
        return E.clamp(self, min, max)

    def clip(self, min=None, max=None):
        return E.clamp(self, min, max)

    def where(self, condition, other):
        return E.where(condition, self, other)

    def to(self, *args, **kwargs):
        return E.to(self, *args, **kwargs)

    def clone(self):
        return E.clone(self)

    def contiguous(self):
        return E.contiguous(self)

    def masked_fill(self, mask, value):
        return E.masked_fill(self, mask, value)

    # ---- ops/reduction.py
    def sum(self, dim=None, keepdim=False, *, dtype=None, keepdims=None):
        return R.sum(self, dim, keepdim, dtype=dtype, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, *, dtype=None, keepdims=None):
        return R.mean(self, dim, keepdim, dtype=dtype, keepdims=keepdims)

    def max(self, dim=None, keepdim=False):
        return R.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return R.min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        return R.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return R.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return R.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return R.argmin(self, dim, keepdim)

    def var(self, dim=None, keepdim=False, **kw):
        return R.var(self, dim, keepdim, **kw)

    def std(self, dim=None, keepdim=False, **kw):
        return R.std(self, dim, keepdim, **kw)

    def softmax(self, dim):
        return R.softmax(self, dim)

    def log_softmax(self, dim):
        return R.log_softmax(self, dim)

    def logsumexp(self, dim, keepdim=False):
        return R.logsumexp(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return R.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return R.any(self, dim, keepdim)

    # ---- ops/linalg.py
    def __matmul__(self, other):
        return L.matmul(self, other)

    def __rmatmul__(self, other):
        return L.matmul(other, self)

    def matmul(self, other):
        return L.matmul(self, other)

    def mm(self, mat2):
        return L.mm(self, mat2)

    def bmm(self, mat2):
        return L.bmm(self, mat2)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return L.norm(self, p, dim, keepdim, dtype)

    # ---- ops/rearrange.py
    def roll(self, shifts, dims=None):
        return M.roll(self, shifts, dims)

    def flip(self, *dims):
        return M.flip(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)

    def repeat(self, *repeats):
        return M.repeat(self, *repeats)

    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        return M.repeat_interleave(self, repeats, dim, output_size=output_size)

    # ---- ops/shape.py
    def view(self, *shape):
        return S.view(self, *shape)

    def reshape(self, *shape):
        return S.reshape(self, *shape)

    def view_as(self, other):
        return S.view(self, other.shape)

    def reshape_as(self, other):
        return S.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return S.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return S.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return S.squeeze(self, dim)

    def permute(self, *dims):
        return S.permute(self, *dims)

    def transpose(self, dim0, dim1):
        return S.transpose(self, dim0, dim1)

    def t(self):
        return S.t(self)

    T = property(lambda self: S.T(self))
    mT = property(lambda self: S.transpose(self, -2, -1))

    def expand(self, *sizes):
        return S.expand(self, *sizes)

    def expand_as(self, other):
        return S.expand(self, other.shape)

    def sum_to_size(self, *size):
        return S.sum_to_size(self, *size)

    def split(self, split_size, dim=0):
        return S.split(self, split_size, dim)

    def unbind(self, dim=0):
        return S.unbind(self, dim)

    def chunk(self, chunks, dim=0):
        return S.chunk(self, chunks, dim)

    def __getitem__(self, index):
        return S.getitem(self, index)

    # ---- ops/inplace.py (recorded by autograd; each bumps the version counter)
    def __setitem__(self, index, value):
        I.setitem(self, index, value)

    def add_(self, other, *, alpha=1):
        return I.add_(self, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        return I.sub_(self, other, alpha=alpha)

    def mul_(self, other):
        return I.mul_(self, other)

    def div_(self, other):
        return I.div_(self, other)

    def __iadd__(self, other):
        return I.add_(self, other)

    def __isub__(self, other):
        return I.sub_(self, other)

    def __imul__(self, other):
        return I.mul_(self, other)

    def __itruediv__(self, other):
        return I.div_(self, other)

    def clamp_(self, min=None, max=None):
        return I.clamp_(self, min, max)

    def masked_fill_(self, mask, value):
        return I.masked_fill_(self, mask, value)

    def copy_(self, src):
        return I.copy_(self, src)

    def fill_(self, value):
        return I.fill_(self, value)

    def zero_(self):
        return I.fill_(self, 0)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return I.uniform_(self, a, b, generator)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return I.normal_(self, mean, std, generator)  # noqa: E501

    # ---- ops/integer.py
    def __floordiv__(self, other):
        return N.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return N.floor_divide(other, self)

    def __mod__(self, other):
        return N.remainder(self, other)

    def __rmod__(self, other):
        return N.remainder(other, self)

    def __and__(self, other):
        return N.bitwise_and(self, other)

    def __rand__(self, other):
        return N.bitwise_and(other, self)

    def __or__(self, other):
        return N.bitwise_or(self, other)

    def __ror__(self, other):
        return N.bitwise_or(other, self)

    def __xor__(self, other):
        return N.bitwise_xor(self, other)

    def __rxor__(self, other):
        return N.bitwise_xor(other, self)

    def __invert__(self):
        return N.bitwise_not(self)

    def __ifloordiv__(self, other):
        return N.floor_divide_(self, other)

    def __imod__(self, other):
        return N.remainder_(self, other)

    def __iand__(self, other):
        return N.bitwise_and_(self, other)

    def __ior__(self, other):
        return N.bitwise_or_(self, other)

    def __ixor__(self, other):
        return N.bitwise_xor_(self, other)

    def floor_divide(self, other):
        return N.floor_divide(self, other)

    def remainder(self, other):
        return N.remainder(self, other)

    def bitwise_and(self, other):
        return N.bitwise_and(self, other)

    def bitwise_or(self, other):
        return N.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return N.bitwise_xor(self, other)

    def bitwise_not(self):
        return N.bitwise_not(self)

    def floor_divide_(self, other):
        return N.floor_divide_(self, other)

    def remainder_(self, other):
        return N.remainder_(self, other)

    def bitwise_and_(self, other):
        return N.bitwise_and_(self, other)

    def bitwise_or_(self, other):
        return N.bitwise_or_(self, other)

    def bitwise_xor_(self, other):
        return N.bitwise_xor_(self, other)

    def bitwise_not_(self):
        return N.bitwise_not_(self)

    # ---- ops/indexing.py
    def gather(self, dim, index):
        return X.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return X.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return X.scatter_add(self, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return X.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        return X.scatter_add_(self, dim, index, src)

    def index_select(self, dim, index):
        return X.index_select(self, dim, index)

    def narrow(self, dim, start, length):
        return X.narrow(self, dim, start, length)

    def tril(self, diagonal=0):
        return X.tril(self, diagonal)

    def triu(self, diagonal=0):
        return X.triu(self, diagonal)

    def tril_(self, diagonal=0):
        return X.tril_(self, diagonal)

    def triu_(self, diagonal=0):
        return X.triu_(self, diagonal)

    # ---- ops/sorting.py
    def sort(self, dim=-1, descending=False, *, stable=False):
        return O.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return O.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return O.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return O.unique(self, sorted, return_inverse, return_counts, dim)

    # ---- ops/scan.py
    def cumsum(self, dim, *, dtype=None):
        return C.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return C.cumprod(self, dim, dtype=dtype)

    # ---- ops/sampling.py
    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return P.multinomial(self, num_samples, replacement, generator=generator)


# Autograd sits below Tensor and cannot import it: hand it the class, once.
_function._register_tensor_class(Tensor)

# The one import cycle of the package, bound once here at import time: the ops build Tensors,
# and Tensor's methods call the ops. Each ops module imports Tensor from this module, which is
# complete by now.
from .ops import arithmetic as A  # noqa: E402
from .ops import elementwise as E  # noqa: E402
from .ops import indexing as X  # noqa: E402
from .ops import inplace as I  # noqa: E402, E741
from .ops import integer as N  # noqa: E402
from .ops import linalg as L  # noqa: E402
from .ops import rearrange as M  # noqa: E402
from .ops import reduction as R  # noqa: E402
from .ops import sampling as P  # noqa: E402
from .ops import scan as C  # noqa: E402
from .ops import shape as S  # noqa: E402
from .ops import sorting as O  # noqa: E402, E741

__all__ = ["Tensor", "broadcast_shapes", "check_device"]  # the last two: older imports
