"""Elementwise functions (``exp``, ``tanh``, ``clamp``...) and reductions (``sum``, ``max``,
``softmax``...) of :class:`~aigc_course.Tensor`. Chapter 1.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING

import numpy as np

from . import _dtypes
from ._checks import _check_dim, _check_dims
from ._dtypes import default_float, int64
from .ops import elementwise as E
from .ops import reduction as R

if TYPE_CHECKING:
    from ._tensor import Tensor

_MaxMin = namedtuple("return_types", ["values", "indices"])


class _MathMixin:
    """Elementwise functions and reductions; mixed into :class:`~aigc_course.Tensor`."""

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
        if isinstance(dim, _tensor.Tensor):  # x.max(other) means maximum
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
        return self._max_min(R.Max, _tensor.Tensor.argmax, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        """The smallest element; with ``dim``, a (values, indices) pair like torch's."""
        return self._max_min(R.Min, _tensor.Tensor.argmin, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return _tensor.Tensor._make(np.asarray(np.argmax(self._data), dtype=np.int64))
        d = _check_dim(dim, self.ndim)
        if self.ndim == 0:
            return _tensor.Tensor._make(np.asarray(0, dtype=np.int64))
        return _tensor.Tensor._make(
            np.argmax(self._data, axis=d, keepdims=keepdim).astype(np.int64)
        )

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


# Last, because _tensor imports this module to build Tensor; the code above only needs
# _tensor.Tensor when it runs, so either module may be imported first.
from . import _tensor  # noqa: E402
