"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``rand``... (chapter 1).

Defaults follow torch: Python floats become float32, Python ints int64, bools bool, and numpy
arrays keep their dtype. ``from_torch``/``to_torch`` copy values across the two libraries.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtypes
from ._checks import _size_args, check_new_device
from ._tensor import Tensor
from .random import _numpy_generator


def _infer_dtype(data) -> _dtypes.dtype:
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    array = np.asarray(data)
    if array.dtype == object:  # None inside a list, a mix numpy cannot type
        bad = next((type(v).__name__ for v in np.ravel(array) if v is None), "object")
        raise RuntimeError(f"Could not infer dtype of {bad}")
    numpy_typed = isinstance(data, (np.ndarray, np.generic))  # np.float64(1.5) stays float64
    if array.dtype.kind == "f" and not numpy_typed:
        return _dtypes.default_float  # Python floats
    if array.dtype.kind in "iu" and not numpy_typed:
        return _dtypes.int64
    return _dtypes.from_numpy_dtype(array.dtype)


def _unwrap(data):
    """Nested lists may hold Tensors (``tensor([a, b])``); turn them into plain values."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(d) for d in data]
    return data


def _check_storage(size: tuple[int, ...], dt: _dtypes.dtype) -> None:
    """torch refuses a size whose byte count overflows 64 bits (RuntimeError, not numpy's
    ValueError)."""
    if math.prod(size) * dt.itemsize >= 2**63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)}")


def _finish(array: np.ndarray, dtype, requires_grad: bool, device) -> Tensor:
    check_new_device(device)
    t = Tensor._make(array)
    t.requires_grad = requires_grad  # validates: only floating point tensors
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, a numpy array, a Tensor).

    >>> import aigc_course as ac
    >>> ac.tensor([[1, 2], [3, 4]])
    tensor([[1, 2],
            [3, 4]])
    >>> ac.tensor([5.5, 3.0])
    tensor([5.5000, 3.0000])
    >>> ac.tensor([1.0], dtype="float32")
    Traceback (most recent call last):
    ...
    TypeError: argument 'dtype' must be aigc_course.dtype, not 'float32'
    """
    if type(data).__module__ == "torch":
        data = data.detach().cpu().numpy()
    data = _unwrap(data)
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    try:
        array = np.array(data, dtype=dt.numpy_dtype, copy=True)
    except OverflowError:  # a Python int beyond int64, as torch words it
        raise ValueError("Overflow when unpacking long long") from None
    return _finish(array, dt, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, without a copy when it already is one of that dtype: a tensor is
    returned as it is, and a numpy array is shared (writes show through), as in torch."""
    check_new_device(device)
    if isinstance(data, Tensor) and (dtype is None or _dtypes.to_dtype(dtype) is data.dtype):
        return data
    if isinstance(data, np.ndarray) and data.dtype in _dtypes._by_numpy:
        if dtype is None or _dtypes.to_dtype(dtype).numpy_dtype == data.dtype:
            return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that *shares* memory with a numpy array, as ``torch.from_numpy``."""
    _dtypes.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype inferred as ``tensor`` does)."""
    size = _size_args(size if isinstance(size, (tuple, list)) else (size,))
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _infer_dtype(fill_value)
    _check_storage(size, dt)
    return _finish(np.full(size, fill_value, dtype=dt.numpy_dtype), dt, requires_grad, device)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, float32 by default: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return full(_size_args(size), 0.0, dtype or _dtypes.default_float, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, float32 by default: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return full(_size_args(size), 1.0, dtype or _dtypes.default_float, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uninitialised in torch (whatever was in memory); zeros here, which is one possibility."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The identity matrix, ``n`` x ``m`` (square by default)."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.default_float
    return _finish(np.eye(n, m, dtype=dt.numpy_dtype), dt, requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``arange(5)`` is 0..4; integers give int64, any float gives float32, as in torch."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"upper bound and larger bound inconsistent with step sign (start={start}, "
            f"end={end}, step={step})"
        )
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = _dtypes.int64 if ints else _dtypes.default_float
    dt = _dtypes.to_dtype(dtype)
    n = math.ceil((end - start) / step)
    values = start + np.arange(n, dtype=np.float64 if dt.is_floating_point else np.int64) * step
    return _finish(values.astype(dt.numpy_dtype), dt, requires_grad, device)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, but got {steps}")
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.default_float
    values = np.linspace(start, end, steps).astype(dt.numpy_dtype)
    return _finish(values, dt, requires_grad, device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1). Seeded by :func:`manual_seed` (but not the same numbers as torch)."""
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.default_float
    _check_storage(_size_args(size), dt)
    values = _numpy_generator(generator).random(_size_args(size)).astype(dt.numpy_dtype)
    return _finish(values, dt, requires_grad, device)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.default_float
    _check_storage(_size_args(size), dt)
    values = _numpy_generator(generator).standard_normal(_size_args(size)).astype(dt.numpy_dtype)
    return _finish(values, dt, requires_grad, device)


def randperm(n: int, generator=None) -> Tensor:
    """A random permutation of ``0..n-1``, as int64."""
    return Tensor._make(_numpy_generator(generator).permutation(n).astype(np.int64))


def _like(fn):
    def like(input: Tensor, dtype=None, device=None, requires_grad: bool = False, **kw):
        return fn(
            *input.shape,
            dtype=dtype or input.dtype,
            device=device,
            requires_grad=requires_grad,
            **kw,
        )

    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = f"``{fn.__name__}`` with the shape (and by default the dtype) of ``input``."
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)
rand_like, randn_like = _like(rand), _like(randn)


def full_like(input: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``full`` with the shape (and by default the dtype) of ``input``."""
    return full(input.shape, fill_value, dtype or input.dtype, device, requires_grad)


def from_torch(t) -> Tensor:
    """Copy a torch tensor into aigc_course (dtype and ``requires_grad`` are kept)."""
    return tensor(t.detach().cpu().numpy(), requires_grad=bool(t.requires_grad))


def to_torch(x: Tensor, requires_grad: bool | None = None):
    """Copy an aigc_course tensor into torch (dtype and ``requires_grad`` are kept)."""
    import torch

    out = torch.from_numpy(np.array(x._data, copy=True))
    return out.requires_grad_(x.requires_grad if requires_grad is None else requires_grad)
