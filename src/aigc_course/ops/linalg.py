r"""Matrix multiplication, the workhorse of every layer (chapter 1)."""

from __future__ import annotations

import numpy as np

from .._checks import broadcast_shapes
from .._tensor import Tensor
from ..autograd.function import Function


class Matmul(Function):
    r"""$Z = X W$ (batched, with numpy's broadcasting of leading axes), so
    $dX = dZ\, W^\top$ and $dW = X^\top dZ$.

    A 1-D operand is treated as a row (on the left) or a column (on the right), as in torch;
    the backward restores that axis, then ``Function._backward`` sums over broadcast batch axes.
    """

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.asarray(np.matmul(x, w))

    @staticmethod
    def backward(ctx, dz):
        x, w = ctx.saved_tensors
        if x.ndim == 1 and w.ndim == 1:  # a dot product: z is a scalar
            return dz * w, dz * x
        if w.ndim == 2 and x.ndim > 2:  # a batch of rows times one matrix: flatten the batch
            k, m = w.shape
            dx = dz @ w.mT if ctx.needs_input_grad[0] else None  # (.., n, k)
            dw = x.reshape(-1, k).mT @ dz.reshape(-1, m) if ctx.needs_input_grad[1] else None
            return dx, dw  # dw: (k, m)
        x2 = x.unsqueeze(0) if x.ndim == 1 else x  # (.., n, k)
        w2 = w.unsqueeze(-1) if w.ndim == 1 else w  # (.., k, m)
        if x.ndim == 1:
            dz = dz.unsqueeze(-2)
        if w.ndim == 1:
            dz = dz.unsqueeze(-1)  # dz: (.., n, m)
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dx = dz @ w2.mT  # (.., n, k)
            dx = dx.squeeze(-2) if x.ndim == 1 else dx
        if ctx.needs_input_grad[1]:
            dw = x2.mT @ dz  # (.., k, m)
            dw = dw.squeeze(-1) if w.ndim == 1 else dw
        return dx, dw


class Linear(Function):
    r"""$Y = X W^\top + b$ in one node (torch's addmm), so $dX = dY\,W$,
    $dW = dY^\top X$ and $db = \sum dY$, summed over every axis but the last (the batch axes of
    $X$ are flattened into rows first).
    """

    @staticmethod
    def forward(ctx, x, w, b=None):
        needs_x, needs_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if needs_w else None, w if needs_x else None)
        y = np.matmul(x, w.T)
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        if dy.ndim != 2:  # flatten the batch axes into rows
            dy2, x2 = dy.reshape(-1, dy.shape[-1]), x.reshape(-1, x.shape[-1]) if needs_w else x
        else:
            dy2, x2 = dy, x
        dx = dy @ w if needs_x else None  # (*, in)
        dw = dy2.mT @ x2 if needs_w else None  # (out, in)
        db = dy2.sum(0) if needs_b else None  # (out,)
        return dx, dw, db


# ---------------------------------------------------------------- public functions


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
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            f"expected both matmul operands to have the same dtype, but got: {a.dtype.name} != "
            f"{b.dtype.name}"
        )
    if a._data.dtype.kind == "b":  # torch's CPU kernels have no bool version
        kernel = "dot" if a.ndim == b.ndim == 1 else "addmv_impl_cpu" if b.ndim == 1 else "bmm"
        kernel = "addmm_impl_cpu_" if b.ndim == 2 else kernel
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    k1, k2 = a._data.shape[-1], b._data.shape[0] if b.ndim == 1 else b._data.shape[-2]
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
    return Matmul.apply(a, b)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""$y = x W^\top + b$, with ``weight`` of shape (out_features, in_features). See chapter 3.

    >>> import aigc_course as ac
    >>> linear(ac.ones(2, 3), ac.ones(4, 3), ac.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    k, (out_features, in_features) = input._data.shape[-1], weight._data.shape
    if k != in_features:
        rows = input.numel() // max(k, 1)
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
            f"{in_features}x{out_features}): the input has {k} features but the layer "
            f"expects in_features={in_features}"
        )
    dtypes = {t._data.dtype for t in (input, weight, bias) if t is not None}
    if len(dtypes) > 1:
        raise RuntimeError(
            "mat1 and mat2 must have the same dtype, but got "
            f"{input.dtype.name} and {weight.dtype.name}"
        )
    if bias is not None and bias._data.shape not in ((out_features,), (), (1,)):
        return Linear.apply(input, weight, None) + bias  # an unusual bias: broadcast by +
    return Linear.apply(input, weight, bias)
