"""Data types: thin, named wrappers around numpy dtypes, printed the way torch prints its own.

The default floating dtype is ``float32``, as in torch (numpy's default is float64).
Chapter 1 explains why deep learning prefers 32-bit floats.
"""

from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type, such as ``aigc_course.float32``.

    >>> import aigc_course as ac
    >>> ac.float32, ac.float32.is_floating_point, ac.long
    (aigc_course.float32, True, aigc_course.int64)
    """

    def __init__(self, name: str, numpy_dtype: type, category: int, scalar_name: str, c_name: str):
        self.name = name
        self.numpy_dtype = np.dtype(numpy_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating point: the promotion order
        self.is_floating_point = category == 2
        self.itemsize = self.numpy_dtype.itemsize
        self.scalar_name = scalar_name  # torch's messages say 'Float', 'Long'...
        self.c_name = c_name  # ... or, in some, the C type: 'float', 'long int'

    def __repr__(self) -> str:
        return f"aigc_course.{self.name}"

    def __reduce__(self):  # pickle by name, so dtypes stay singletons
        return (_by_name.__getitem__, (self.name,))


# The one table of dtype names: ours, numpy's, the promotion category, and torch's two names
bool_ = dtype("bool", np.bool_, 0, "Bool", "bool")
uint8 = dtype("uint8", np.uint8, 1, "Byte", "unsigned char")
int8 = dtype("int8", np.int8, 1, "Char", "signed char")
int16 = dtype("int16", np.int16, 1, "Short", "short int")
int32 = dtype("int32", np.int32, 1, "Int", "int")
int64 = dtype("int64", np.int64, 1, "Long", "long int")
float16 = dtype("float16", np.float16, 2, "Half", "c10::Half")
float32 = dtype("float32", np.float32, 2, "Float", "float")
float64 = dtype("float64", np.float64, 2, "Double", "double")

_all = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_by_name = {d.name: d for d in _all}
_by_numpy = {d.numpy_dtype: d for d in _all}
# Python's own types map the way torch maps them: float -> float64, int -> int64.
_python_types = {builtins.float: float64, builtins.int: int64, builtins.bool: bool_}

default_float = float32


def to_dtype(d, argument: str = "dtype") -> dtype:
    """Resolve ``d`` (our dtype, a torch dtype, a numpy dtype or a Python type) to our dtype.

    Strings are rejected, as torch rejects them, with a ``TypeError`` naming the value.
    """
    if isinstance(d, dtype):
        return d
    if d in _python_types:
        return _python_types[d]
    if type(d).__name__ == "dtype" and type(d).__module__ == "torch":  # a torch.dtype
        name = str(d).removeprefix("torch.")
        if name in _by_name:
            return _by_name[name]
    elif not isinstance(d, str):
        try:
            return _by_numpy[np.dtype(d)]
        except (TypeError, KeyError):
            pass
    raise TypeError(f"argument '{argument}' must be aigc_course.dtype, not {d!r}")


def from_numpy_dtype(d: np.dtype) -> dtype:
    try:
        return _by_numpy[np.dtype(d)]
    except KeyError:
        raise TypeError(
            f"can't convert numpy array of type {np.dtype(d)}; supported: {', '.join(_by_name)}"
        ) from None


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch's rule: the higher category wins (bool < int < float); within one, the wider.

    Unlike numpy, ``int64`` with ``float32`` gives ``float32``.
    """
    if a.category != b.category:
        return a if a.category > b.category else b
    if a is b:
        return a
    if a.category == 1 and {a, b} == {uint8, int8}:
        return int16
    return a if a.itemsize >= b.itemsize else b


def tensor_type(d: dtype) -> str:
    """torch's legacy tensor-type name of ``d`` (``'torch.FloatTensor'``), for ``Tensor.type``."""
    return f"torch.{d.scalar_name}Tensor"


_by_tensor_type = {tensor_type(d): d for d in _all}


def from_tensor_type(name: str) -> dtype:
    """The dtype of a tensor-type name such as ``'torch.LongTensor'`` (``Tensor.type``)."""
    if name in _by_tensor_type:
        return _by_tensor_type[name]
    if name.startswith("torch.cuda."):
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise ValueError(f"invalid type: {name!r}")
