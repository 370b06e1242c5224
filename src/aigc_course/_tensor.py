r"""``Tensor``: an n-dimensional array (numpy underneath) that remembers how it was computed.

A Tensor holds

- ``_data``: a numpy array. Views share it, as torch's views share storage (chapter 1);
- ``_version_counter``: how many in-place changes its memory has had, shared by all views;
- ``requires_grad``, ``grad`` and ``grad_fn``: the autograd bookkeeping (chapter 2).

This file has the tensor's own state and autograd metadata, and imports no operation. The
operations are bound onto the class from one table, :mod:`aigc_course.ops.tensor_methods` (as
torch binds its methods onto ``TensorBase``): ``x.exp()`` is the function ``exp`` of its
:mod:`aigc_course.ops` topic file, where the argument checks, the type promotion, the
differentiable Function and the public function live together:

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
            self._refresh_view()  # a view whose base was changed in place since (ops/inplace.py)
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


__all__ = ["Tensor", "broadcast_shapes", "check_device"]  # the last two: older imports
