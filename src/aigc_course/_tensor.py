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
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections import namedtuple

import numpy as np

from . import _dtypes
from ._dtypes import bool_, default_float, dtype, int64
from .autograd import grad_mode
from .autograd.function import AccumulateGrad
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S

_MaxMin = namedtuple("return_types", ["values", "indices"])


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


class Size(tuple):
    """A tensor's shape: a tuple that prints like torch's ``torch.Size([5, 3])``."""

    def __repr__(self) -> str:
        return f"aigc_course.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class device:
    """Where a tensor lives. aigc_course is numpy, so that is always the CPU."""

    def __init__(self, type: str = "cpu"):
        self.type = check_device(type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __eq__(self, other) -> bool:
        return str(other) == self.type or getattr(other, "type", None) == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type


_KNOWN_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia")


def check_device(d) -> str:
    """Accept ``None``, ``"cpu"`` or a cpu device object; refuse the rest the way a CPU-only
    torch build does (``AssertionError`` for real accelerators, ``RuntimeError`` for typos)."""
    if d is None:
        return "cpu"
    name = getattr(d, "type", d)
    if not isinstance(name, str):
        raise TypeError(f"device must be a string or a device, not {type(d).__name__}")
    kind = name.split(":")[0]
    if kind == "cpu":
        return "cpu"
    if kind in _KNOWN_DEVICES:
        raise AssertionError(
            f"aigc_course is CPU-only (numpy arrays): device '{name}' is not available. "
            "Use device='cpu'; the torch half of each notebook is the one that uses the GPU."
        )
    raise RuntimeError(
        f"Expected one of {', '.join(_KNOWN_DEVICES)} device type at start of device string: {name}"
    )


# ---------------------------------------------------------------- argument checking helpers


def _check_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative ``dim``; torch's IndexError names the allowed range."""
    n = max(ndim, 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n if ndim else 0


def _check_dims(dim, ndim: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(_check_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out} appears multiple times in the list of dims")
    return out if ndim else None


def _size_args(size, name: str = "size") -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` all mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"{name} must be a tuple of ints, but got {list(size)}")
    return tuple(int(n) for n in size)


def broadcast_shapes(a: tuple, b: tuple) -> tuple[int, ...]:
    """The broadcast shape of ``a`` and ``b``, or torch's RuntimeError naming both sizes."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i in reversed(range(n)):  # from the last dimension, so errors name the one torch names
        x, y = pa[i], pb[i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                f"at non-singleton dimension {i}"
            )
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def result_type(*operands) -> dtype:
    """torch's type promotion. Tensors with dimensions decide, then 0-d tensors, then Python
    numbers, and a later tier only matters if it is of a higher category (bool < int < float).
    So ``int_tensor * 2.5`` is float32, and ``float32_tensor * 2.5`` stays float32.
    """
    tiers: list[dtype | None] = [None, None, None]
    for v in operands:
        if isinstance(v, Tensor):
            tier, d = (0 if v.ndim else 1), v.dtype
        elif isinstance(v, bool):
            tier, d = 2, bool_
        elif isinstance(v, (int, np.integer)):
            tier, d = 2, int64
        elif isinstance(v, (float, np.floating)):
            tier, d = 2, default_float
        else:
            raise TypeError(f"unsupported operand type for a tensor operation: {type(v).__name__}")
        tiers[tier] = d if tiers[tier] is None else _dtypes.promote_types(tiers[tier], d)
    result = None
    for d in tiers:
        if d is not None and (result is None or d.category > result.category):
            result = d if result is None else _dtypes.promote_types(result, d)
    return result


def _as_tensor(v, dt: dtype) -> Tensor:
    if isinstance(v, Tensor):
        return v if v.dtype is dt else v.to(dt)
    return Tensor._make(np.asarray(v, dtype=dt.numpy_dtype))


def _binary(fn, a, b, float_result: bool = False) -> Tensor:
    # Fast path for the common cases, a float tensor with a Python float or with a tensor of
    # the same dtype and shape: promotion and broadcasting have nothing to do.
    if isinstance(a, Tensor) and a._data.dtype.kind == "f":
        if type(b) is float:
            return fn.apply(a, Tensor._make(np.asarray(b, dtype=a._data.dtype)))
        if isinstance(b, Tensor) and b._data.dtype == a._data.dtype and b.shape == a.shape:
            return fn.apply(a, b)
    dt = result_type(a, b)
    if float_result and not dt.is_floating_point:
        dt = default_float
    ta, tb = _as_tensor(a, dt), _as_tensor(b, dt)
    broadcast_shapes(ta.shape, tb.shape)
    return fn.apply(ta, tb)


def _compare(op, a, b) -> Tensor:
    dt = result_type(a, b)
    ta, tb = _as_tensor(a, dt), _as_tensor(b, dt)
    broadcast_shapes(ta.shape, tb.shape)
    return Tensor._make(op(ta._data, tb._data))


def _to_numpy_index(index):
    """Translate a torch-style index into one numpy understands (Tensors become arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
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


class Tensor:
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
        array = data._data if isinstance(data, Tensor) else np.asarray(data)
        if array.dtype == np.float64 and not isinstance(data, (np.ndarray, Tensor)):
            array = array.astype(np.float32)  # Python floats: torch's default dtype
        _dtypes.from_numpy_dtype(array.dtype)  # refuses unsupported dtypes
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

    # ------------------------------------------------------------------ metadata

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        return self._data.shape[_check_dim(dim, self.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
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
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        """Steps, in elements, between neighbours along each axis (chapter 1's figure)."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_check_dim(dim, self.ndim)]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

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

    # ------------------------------------------------------------------ conversion

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {list(self.shape)})"
            )
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        from ._tensor_str import format_tensor

        return format_tensor(self)

    __hash__ = object.__hash__

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

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

    # ------------------------------------------------------------------ new tensors like this one

    def new_tensor(self, data, dtype=None, requires_grad: bool = False) -> Tensor:
        from ._creation import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
        from ._creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        return self.new_full(_size_args(size), 0, dtype, requires_grad)

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow through it unchanged."""
        return E.Clone.apply(self)

    def contiguous(self) -> Tensor:
        return self if self.is_contiguous() else E.Clone.apply(self)

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

    # ------------------------------------------------------------------ elementwise functions

    def _floating(self) -> Tensor:
        return self if self.dtype.is_floating_point else self.to(default_float)

    def exp(self):
        return E.Exp.apply(self._floating())

    def log(self):
        return E.Log.apply(self._floating())

    def sqrt(self):
        return E.Sqrt.apply(self._floating())

    def sin(self):
        return E.Sin.apply(self._floating())

    def cos(self):
        return E.Cos.apply(self._floating())

    def tanh(self):
        return E.Tanh.apply(self._floating())

    def sigmoid(self):
        return E.Sigmoid.apply(self._floating())

    def relu(self):
        return E.Relu.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def neg(self):
        return -self

    def clamp(self, min=None, max=None) -> Tensor:
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return E.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def maximum(self, other: Tensor) -> Tensor:
        return _binary(E.Maximum, self, other)

    def minimum(self, other: Tensor) -> Tensor:
        return _binary(E.Minimum, self, other)

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

    # ------------------------------------------------------------------ reductions

    def sum(self, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
        dims = _check_dims(dim, self.ndim)
        if dtype is None and not self.dtype.is_floating_point:
            dtype = int64  # torch sums integers and bools into int64
        np_dtype = _dtypes.to_dtype(dtype).numpy_dtype if dtype is not None else None
        return R.Sum.apply(self, dim=dims, keepdim=keepdim, dtype=np_dtype)

    def mean(self, dim=None, keepdim: bool = False) -> Tensor:
        if not self.dtype.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {self.dtype.name}"
            )
        return R.Mean.apply(self, dim=_check_dims(dim, self.ndim), keepdim=keepdim)

    def _max_min(self, fn, arg, dim, keepdim):
        if isinstance(dim, Tensor):  # x.max(other) means maximum
            return self.maximum(dim) if fn is R.Max else self.minimum(dim)
        if self.numel() == 0:
            raise RuntimeError(
                f"{fn.__name__.lower()}(): Expected reduction dim to be specified for "
                "input.numel() == 0. Specify the reduction dim with the 'dim' argument."
            )
        if dim is None:
            return fn.apply(self)
        d = _check_dim(dim, self.ndim)
        values = fn.apply(self, dim=(d,) if self.ndim else None, keepdim=keepdim)
        indices = arg(self, d, keepdim)
        return _MaxMin(values, indices)

    def max(self, dim=None, keepdim: bool = False):
        """The largest element; with ``dim``, a (values, indices) pair like torch's."""
        return self._max_min(R.Max, Tensor.argmax, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        """The smallest element; with ``dim``, a (values, indices) pair like torch's."""
        return self._max_min(R.Min, Tensor.argmin, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return Tensor._make(np.asarray(np.argmax(self._data), dtype=np.int64))
        d = _check_dim(dim, self.ndim)
        if self.ndim == 0:
            return Tensor._make(np.asarray(0, dtype=np.int64))
        return Tensor._make(np.argmax(self._data, axis=d, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim=None, keepdim: bool = False) -> Tensor:
        return (-self.detach().to(_dtypes.float64)).argmax(dim, keepdim)

    def var(self, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased=None):
        r"""$\frac{1}{n - c}\sum_i (x_i - \bar x)^2$ with Bessel's correction $c = 1$ by default."""
        if unbiased is not None:
            correction = int(unbiased)
        dims = _check_dims(dim, self.ndim)
        n = self.numel() if dims is None else math.prod(self.shape[d] for d in dims)
        centered = self - self.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim=keepdim) / max(n - correction, 0)

    def std(self, dim=None, keepdim: bool = False, *, correction: int = 1, unbiased=None):
        variance = self.var(dim, keepdim, correction=correction, unbiased=unbiased)
        return E.Sqrt.apply(variance, zero_at_zero=True)

    def softmax(self, dim: int) -> Tensor:
        return R.Softmax.apply(self._floating(), dim=_check_dim(dim, self.ndim))

    def log_softmax(self, dim: int) -> Tensor:
        return R.LogSoftmax.apply(self._floating(), dim=_check_dim(dim, self.ndim))

    def logsumexp(self, dim: int, keepdim: bool = False) -> Tensor:
        r"""$\log\sum_i e^{x_i}$, computed as $m + \log\sum_i e^{x_i - m}$ with $m = \max_i x_i$."""
        d = _check_dim(dim, self.ndim)
        m = self.detach().max(d, keepdim=True).values  # a constant shift, so not differentiated
        out = (self - m).exp().sum(d, keepdim=True).log() + m
        return out if keepdim else out.squeeze(d)

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
        src = value._data if isinstance(value, Tensor) else value
        try:
            self._data[idx] = src
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None
        except ValueError as e:
            raise RuntimeError(f"shape mismatch in index assignment: {e}") from None
        self._bump_version()

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
        dt = result_type(self, other)
        if dt.category > self.dtype.category:
            raise RuntimeError(
                f"result type {dt.name} can't be cast to the desired output type {self.dtype.name}"
            )
        o = other._data if isinstance(other, Tensor) else other
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
        s = src._data if isinstance(src, Tensor) else np.asarray(src)
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


# ---------------------------------------------------------------------- functions on tensors


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and batch broadcasting.

    >>> import aigc_course as ac
    >>> ac.ones(5, 3) @ ac.ones(4, 2)
    Traceback (most recent call last):
    ...
    RuntimeError: mat1 and mat2 shapes cannot be multiplied (5x3 and 4x2)
    """
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(
            f"matmul(): argument 'other' must be Tensor, not "
            f"{type(b if isinstance(a, Tensor) else a).__name__}"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected both matmul operands to have the same dtype, but got: {a.dtype.name} != "
            f"{b.dtype.name}"
        )
    k1, k2 = a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k1 != k2:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] to have the "
                f"same number of elements, but got {k1} and {k2} elements respectively"
            )
        if a.ndim <= 2 and b.ndim == 2:  # torch treats a 1-D `a` as one row: (1, k1)
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0] if a.ndim == 2 else 1}"
                f"x{k1} and {k2}x{b.shape[1]})"
            )
        if a.ndim == 2 and b.ndim == 1:
            raise RuntimeError(
                f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{k1}), vec ({k2})"
            )
        raise RuntimeError(
            f"matmul: inner dimensions differ: {list(a.shape)} @ {list(b.shape)} ({k1} != {k2})"
        )
    if a.ndim > 2 and b.ndim > 2:
        broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return L.Matmul.apply(a, b)


def where(condition: Tensor, input, other) -> Tensor:
    """Elementwise choice: ``input`` where ``condition`` is True, else ``other``."""
    if not isinstance(condition, Tensor) or condition.dtype is not bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{getattr(condition, 'dtype', type(condition).__name__)}"
        )
    dt = result_type(input, other)
    x, y = _as_tensor(input, dt), _as_tensor(other, dt)
    broadcast_shapes(broadcast_shapes(condition.shape, x.shape), y.shape)
    return E.Where.apply(condition, x, y)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    ref = tensors[0]
    d = _check_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for axis in range(ref.ndim):
            if axis != d and t.shape[axis] != ref.shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[axis]} but got size {t.shape[axis]} for tensor number {i} in "
                    "the list."
                )
    dt = result_type(*tensors)
    return S.Cat.apply(*(_as_tensor(t, dt) for t in tensors), dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = _check_dim(dim, tensors[0].ndim + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)
