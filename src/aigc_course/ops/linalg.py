r"""Matrix multiplication, the workhorse of every layer (chapter 1)."""

from __future__ import annotations

import numpy as np

from .._checks import _check_dims, broadcast_shapes
from .._tensor import Tensor
from ..autograd.function import Function
from .arithmetic import mul
from .reduction import _expand_back


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


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D operands and batch broadcasting.

    >>> import aigc_course as ac
    >>> ac.ones(5, 3) @ ac.ones(4, 2)
    Traceback (most recent call last):
    ...
    RuntimeError: mat1 and mat2 shapes cannot be multiplied (5x3 and 4x2)
    """
    a, b = input, other
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


# ---------------------------------------------------------------- mm, bmm


class Mm(Matmul):
    r"""$Z = X W$ for two matrices (torch's ``mm``): :class:`Matmul`'s rule, $dX = dZ\,W^\top$,
    $dW = X^\top dZ$."""


class Bmm(Matmul):
    r"""$Z_b = X_b W_b$ for each matrix of a batch (torch's ``bmm``): $dX_b = dZ_b\,W_b^\top$,
    $dW_b = X_b^\top dZ_b$."""


def _same_dtype(a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{a.dtype.c_name} != {b.dtype.c_name}"
        )


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices, without broadcasting (``torch.mm``).

    >>> import aigc_course as ac
    >>> ac.mm(ac.ones(2, 3), ac.ones(3, 4)).shape
    aigc_course.Size([2, 4])
    """
    for name, t in (("input", input), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"mm(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix, but got a {input.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, but got a {mat2.ndim}-D tensor")
    (n, k), (k2, m) = input._data.shape, mat2._data.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    _same_dtype(input, mat2)
    if input._data.dtype.kind == "b":
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    return Mm.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batches of matrix products, (b, n, k) @ (b, k, m) -> (b, n, m), no broadcasting
    (``torch.bmm``)."""
    for name, t in (("input", input), ("mat2", mat2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bmm(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, but got a {input.ndim}-D tensor")
    if mat2.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor, but got a {mat2.ndim}-D tensor")
    b, _, k = input._data.shape
    if mat2._data.shape[:2] != (b, k):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but "
            f"got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    _same_dtype(input, mat2)
    if input._data.dtype.kind == "b":
        raise RuntimeError("\"bmm\" not implemented for 'Bool'")
    return Bmm.apply(input, mat2)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    r"""$z_{ij} = x_i\,y_j$: every product of an element of ``input`` with one of ``vec2``,
    built as a broadcast product ``x[:, None] * y`` (so its gradients are those of ``mul``:
    $dx_i = \sum_j dz_{ij} y_j$, $dy_j = \sum_i dz_{ij} x_i$). Mixed dtypes promote.

    >>> import aigc_course as ac
    >>> ac.outer(ac.tensor([1, 2]), ac.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    for name, label, t in (("input", "self", input), ("vec2", "vec2", vec2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"outer(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {label}, but got {t._data.ndim}-D")
    return mul(input.reshape(-1, 1), vec2)  # (n, 1) * (m,) -> (n, m)


# ---------------------------------------------------------------- norms


class LinalgVectorNorm(Function):
    r"""$z = \lVert x \rVert_p = (\sum_i |x_i|^p)^{1/p}$ over ``dim``, so

    $$dx_i = dz\, \operatorname{sign}(x_i)\, |x_i|^{p-1} / z^{p-1},$$

    which for $p = 2$ is $dz\, x_i / z$ and for $p = 1$ is $dz\, \operatorname{sign}(x_i)$.
    For $p = \pm\infty$ the gradient goes to the elements of largest (smallest) $|x_i|$, shared
    equally among ties; for $p = 0$ (the count of nonzeros) it is 0. Where $z = 0$ (so every
    $x_i = 0$) the gradient is 0, not 0/0, as in torch.
    """

    @staticmethod
    def forward(ctx, x, p, dim, keepdim):
        ctx.p, ctx.dim, ctx.keepdim, ctx.in_shape = p, dim, keepdim, x.shape
        a = np.abs(x)
        if p == 2:
            z = np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
        elif p == np.inf:
            z = np.max(a, axis=dim, keepdims=keepdim, initial=0)
        elif p == -np.inf:
            z = np.min(a, axis=dim, keepdims=keepdim)
        elif p == 0:
            z = np.sum(a != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
        elif p == 1:
            z = np.sum(a, axis=dim, keepdims=keepdim)
        else:
            z = np.sum(a**p, axis=dim, keepdims=keepdim) ** (1.0 / p)
        z = np.asarray(z, dtype=x.dtype)
        ctx.save_for_backward(x, z)  # z: the output itself, so its own gradient flows back too
        return z

    @staticmethod
    def backward(ctx, dz):
        x, z = ctx.saved_tensors
        p = ctx.p
        dz, z = _expand_back(ctx, dz), _expand_back(ctx, z)  # broadcast against x
        if p == 0:
            return x * 0
        if p == 1:
            return dz * x.sign()
        if p in (np.inf, -np.inf):
            hit = (x.abs() == z).to(x.dtype)
            return dz * x.sign() * hit / hit.sum(ctx.dim, keepdim=True)
        safe = z.masked_fill(z == 0, 1.0)
        if p == 2:
            return dz * x / safe
        scale = (x.abs() ** (p - 1) * x.sign()).masked_fill(x == 0, 0.0)
        return dz * scale / safe ** (p - 1)


def _norm_dims(dim, ndim: int):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    return _check_dims(dim, ndim)


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None):
    r"""$\lVert x \rVert_p$ over ``dim`` (all elements by default), as
    ``torch.linalg.vector_norm``: ``ord`` is any number, ``inf`` or ``-inf``.

    >>> import aigc_course as ac
    >>> ac.linalg.vector_norm(ac.tensor([3.0, -4.0]))
    tensor(5.)
    """
    if not isinstance(x, Tensor):
        raise TypeError(
            f"linalg.vector_norm(): argument 'input' must be Tensor, not {type(x).__name__}"
        )
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{x.dtype.scalar_name}"
        )
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be a number, not {ord!r}")
    dims = _norm_dims(dim, x._data.ndim)
    if ord < 0 and x._data.size == 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    return LinalgVectorNorm.apply(x, p=float(ord), dim=dims, keepdim=keepdim)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    r"""A matrix norm over the two axes ``dim``, as ``torch.linalg.matrix_norm``: ``'fro'``
    ($\sqrt{\sum_{ij} a_{ij}^2}$), ``1``/``-1`` (largest/smallest column sum of $|a_{ij}|$) and
    ``inf``/``-inf`` (the same over rows).

    Note: the spectral norms (``2``, ``-2``) and ``'nuc'`` need a singular value decomposition,
    which this course does not build; they raise ``NotImplementedError``.
    """
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    d0, d1 = _check_dims(dim, A._data.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"linalg.matrix_norm: ord={ord!r} needs singular values, which aigc_course does not "
            "compute; use ord='fro', 1, -1, inf or -inf"
        )
    if ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    summed, other = (d0, d1) if abs(ord) == 1 else (d1, d0)  # column sums for 1, row sums for inf
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.max(other, keepdim=True)[0] if ord > 0 else sums.min(other, keepdim=True)[0]
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.linalg.norm``: a vector norm when ``dim`` is one axis (or when ``ord`` and
    ``dim`` are both ``None``: the 2-norm of all elements), a matrix norm when ``dim`` is two
    axes or ``A`` is 2-D with an ``ord``."""
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A.ndim not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                f"Got {A.ndim}D."
            )
        dim = tuple(range(A.ndim))
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Order {ord} not supported for vectors.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    r"""``torch.norm``: ``p='fro'`` (the default) and numbers are vector norms over ``dim``
    (all elements by default), so ``x.norm()`` is $\sqrt{\sum_i x_i^2}$.

    >>> import aigc_course as ac
    >>> ac.tensor([[3.0, 4.0], [0.0, 0.0]]).norm(dim=1)
    tensor([5., 0.])
    """
    if isinstance(p, str):
        if p == "fro":
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim)
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)
