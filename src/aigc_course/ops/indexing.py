r"""Picking elements by index along one dimension: ``gather``, ``scatter``, ``scatter_add``,
``index_select``, and the two triangle masks ``tril``/``triu``; also ``narrow``, a slice along
one dimension.

``gather`` and ``scatter_add`` are each other's backward: reading $x$ at an index sends the
gradient back by *adding* it at that index (a position read twice gets both gradients), and
adding at an index is undone by reading there. Chapter 9 samples tokens with them.

For a 2-d input and ``dim=1``, with ``index`` of the same number of dimensions,

$$\text{gather}: z_{ij} = x_{i,\,\text{index}_{ij}}, \qquad
\text{scatter}: z_{i,\,\text{index}_{ij}} = \text{src}_{ij}.$$
"""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import _check_dim
from .._tensor import Tensor
from ..autograd.function import Function
from .shape import IndexAdd


def _coords(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The full numpy index that ``gather``/``scatter`` address: every axis counts up as in
    ``index``'s own shape, except axis ``dim``, whose coordinate is read from ``index``."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _at_least_1d(array: np.ndarray) -> np.ndarray:
    # torch treats a 0-d tensor as one of shape (1,) in gather and scatter
    return array.reshape(1) if array.ndim == 0 else array


class Gather(Function):
    r"""$z_{\dots j \dots} = x_{\dots\,\text{index}_{\dots j \dots}\,\dots}$ (the index replaces
    the coordinate along ``dim``). Each $z$ is a copy of one $x$, so $dx$ is $dz$ added back at
    the same places: ``zeros.scatter_add(dim, index, dz)``.
    """

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.in_shape = dim, index, x.shape
        z = _at_least_1d(x)[_coords(_at_least_1d(index), dim)].reshape(index.shape)
        # numpy may lay a fancy-indexed result out in any order; torch's is contiguous
        return z if z.flags.c_contiguous else z.copy(order="C")

    @staticmethod
    def backward(ctx, dz):
        zeros = dz.new_zeros(ctx.in_shape)
        return ScatterAdd.apply(zeros, dz, dim=ctx.dim, index=ctx.index)


class ScatterAdd(Function):
    r"""$z = x$, then $z_{\dots\,\text{index}_{\dots j \dots}\,\dots}$ += $s_{\dots j \dots}$
    (repeated indices add up). So $dx = dz$ and $ds = $ ``dz.gather(dim, index)``.

    ``src`` arrives with ``index``'s shape (the public function slices it).
    """

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.dim, ctx.index = dim, index
        z = np.array(_at_least_1d(x), copy=True)
        np.add.at(z, _coords(_at_least_1d(index), dim), _at_least_1d(src))
        return z.reshape(x.shape)

    @staticmethod
    def backward(ctx, dz):
        dsrc = Gather.apply(dz, dim=ctx.dim, index=ctx.index) if ctx.needs_input_grad[1] else None
        return dz, dsrc


class Scatter(Function):
    r"""$z = x$, then $z_{\dots\,\text{index}_{\dots j \dots}\,\dots} = s_{\dots j \dots}$: the
    written places forget $x$. So $dx$ is $dz$ with the written places set to 0, and
    $ds = $ ``dz.gather(dim, index)``.

    Note: if ``index`` repeats a place, which write wins is unspecified in torch; here the last.
    """

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.dim, ctx.index = dim, index
        z = np.array(_at_least_1d(x), copy=True)
        z[_coords(_at_least_1d(index), dim)] = _at_least_1d(src)
        return z.reshape(x.shape)

    @staticmethod
    def backward(ctx, dz):
        dx = dsrc = None
        if ctx.needs_input_grad[0]:
            zeros = dz.new_zeros(ctx.index.shape)
            dx = Scatter.apply(dz, zeros, dim=ctx.dim, index=ctx.index)
        if ctx.needs_input_grad[1]:
            dsrc = Gather.apply(dz, dim=ctx.dim, index=ctx.index)
        return dx, dsrc


class IndexSelect(Function):
    r"""$z_{\dots j \dots} = x_{\dots\,\text{index}_j\,\dots}$: whole slices of $x$ along
    ``dim``, picked by a vector of positions. A position picked twice gets both gradients:
    $dx$ = zeros with $dz$ *added* at those slices (:class:`~aigc_course.ops.shape.IndexAdd`).
    """

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.steps = x.shape, [(slice(None),) * dim + (index,)]
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, dz):
        return IndexAdd.apply(dz, shape=ctx.in_shape, steps=ctx.steps)


class Tril(Function):
    r"""$z_{ij} = x_{ij}$ where $j - i \le k$ (on and below diagonal $k$), else 0, in the last
    two dimensions. A fixed mask, so $dx$ = ``dz.tril(k)``.
    """

    mask = staticmethod(np.tril)

    @classmethod
    def forward(cls, ctx, x, diagonal):
        ctx.diagonal = diagonal
        return cls.mask(x, diagonal)

    @classmethod
    def backward(cls, ctx, dz):
        return cls.apply(dz, diagonal=ctx.diagonal)


class Triu(Tril):
    r"""$z_{ij} = x_{ij}$ where $j - i \ge k$ (on and above diagonal $k$), else 0;
    $dx$ = ``dz.triu(k)``."""

    mask = staticmethod(np.triu)


# ---------------------------------------------------------------- argument checks


def _check_index(name: str, input: Tensor, dim: int, index: Tensor, src=None) -> int:
    """torch's checks for gather/scatter: dim, index dtype, numbers of dimensions, sizes, and
    every index value in range. Returns ``dim`` normalised."""
    dim = _check_dim(dim, input.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (_dtypes.int64, _dtypes.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index, got {index.dtype}")
    n_dims = max(input.ndim, 1)
    if max(index.ndim, 1) != n_dims:
        raise RuntimeError(
            "Index tensor must have the same number of dimensions as "
            f"{'input' if name == 'gather' else 'self'} tensor: index has {index.ndim}, "
            f"input has {input.ndim}"
        )
    if src is not None and src.ndim < index.ndim:
        _check_dim(src.ndim, src.ndim)  # torch reads src.size(d) for each d of index: IndexError
    in_shape, ix_shape = input.shape or (1,), index.shape or (1,)
    if index.numel() == 0:
        return dim
    if src is not None:
        if max(src.ndim, 1) != n_dims:
            raise RuntimeError(
                "Index tensor must have the same number of dimensions as src tensor: "
                f"index has {index.ndim}, src has {src.ndim}"
            )
        src_shape = src.shape or (1,)
        too_big = any(
            i > s or (d != dim and i > n)
            for d, (i, n, s) in enumerate(zip(ix_shape, in_shape, src_shape))
        )
        if too_big:
            raise RuntimeError(
                f"Expected index {list(ix_shape)} to be no larger than self {list(in_shape)} "
                f"apart from dimension {dim} and to be no larger size than src {list(src_shape)}"
            )
    elif any(i > n for d, (i, n) in enumerate(zip(ix_shape, in_shape)) if d != dim):
        bad = next(d for d, (i, n) in enumerate(zip(ix_shape, in_shape)) if d != dim and i > n)
        raise RuntimeError(
            f"Size does not match at dimension {bad} expected index {list(ix_shape)} to be no "
            f"larger than self {list(in_shape)} apart from dimension {dim}"
        )
    values, size = index._data, in_shape[dim]
    outside = (values < 0) | (values >= size)
    if outside.any():
        bad = values[outside].flat[0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
    return dim


def _index_array(index: Tensor) -> np.ndarray:
    return index._data.astype(np.int64, copy=False)


# ---------------------------------------------------------------- public functions


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    r"""Values of ``input`` along ``dim`` at the positions in ``index`` (which sets the shape).

    For 2-d tensors and ``dim=1``, $z_{ij} = x_{i,\,\text{index}_{ij}}$: for example the
    log-probability of each row's target token.

    >>> import aigc_course as ac
    >>> x = ac.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    >>> ac.gather(x, 1, ac.tensor([[2], [0]]))
    tensor([[3.],
            [4.]])

    Chapter 9 reads sampled tokens' probabilities with it.
    """
    dim = _check_index("gather", input, dim, index)
    return Gather.apply(input, dim=dim, index=_index_array(index))


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    r"""The slices of ``input`` along ``dim`` at the positions in ``index`` (a vector, or a
    single position), in that order: ``x.index_select(0, i)`` is ``x[i]``.

    >>> import aigc_course as ac
    >>> x = ac.tensor([[1, 2], [3, 4], [5, 6]])
    >>> ac.index_select(x, 0, ac.tensor([2, 0, 2]))
    tensor([[5, 6],
            [1, 2],
            [5, 6]])
    """
    if not isinstance(index, Tensor):
        raise TypeError(
            f"index_select(): argument 'index' (position 2) must be Tensor, not "
            f"{type(index).__name__}"
        )
    dim = _check_dim(dim, input._data.ndim)
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu" or index._data.dtype.itemsize < 4:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    positions = index._data.reshape(-1).astype(np.int64, copy=False)
    size = input._data.shape[dim] if input._data.ndim else 1
    if ((positions < 0) | (positions >= size)).any():
        bad = positions[(positions < 0) | (positions >= size)][0]
        raise IndexError(f"index out of range in self (index {bad}, size {size} along dim {dim})")
    if input._data.ndim == 0:
        return input.reshape(1)[Tensor._make(positions)].reshape(())
    return IndexSelect.apply(input, dim=dim, index=positions)


def _source(name: str, input: Tensor, index: Tensor, src, value) -> Tensor:
    """``src`` as a tensor of ``index``'s shape (a number is broadcast; torch allows ``src``
    larger than ``index``, and only its leading block is read)."""
    if src is not None and value is not None:
        raise TypeError(f"{name}() got both 'src' and 'value'")
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{name}() missing 1 required argument: 'src' (or 'value')")
    if not isinstance(src, Tensor):
        if not isinstance(src, (int, float, bool, np.number)):
            raise TypeError(f"{name}(): argument 'src' must be Tensor or a number, not {src!r}")
        return Tensor._make(np.full(index.shape, src, dtype=input.dtype.numpy_dtype))
    if src.dtype is not input.dtype:
        raise RuntimeError(
            f"{name}(): Expected self.dtype to be equal to src.dtype, but got self.dtype "
            f"{input.dtype} and src.dtype {src.dtype}"
        )
    if src.shape != index.shape and index.ndim:
        src = src[tuple(slice(0, n) for n in index.shape)]
    return src


def scatter(
    input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None
) -> Tensor:
    r"""A copy of ``input`` with ``src`` written at the positions ``index`` gives along ``dim``.

    For 2-d tensors and ``dim=1``, $z_{i,\,\text{index}_{ij}} = \text{src}_{ij}$. ``src`` may
    be a tensor (of ``input``'s dtype) or a number. ``reduce="add"`` adds instead of writing
    (prefer :func:`scatter_add`).

    >>> import aigc_course as ac
    >>> ac.scatter(ac.zeros(2, 3), 1, ac.tensor([[2], [0]]), 1.0)
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    if reduce is not None and reduce != "add":
        raise RuntimeError(
            f"reduce argument must be either add or multiply, got {reduce!r}"
            if reduce != "multiply"
            else "aigc_course: scatter(reduce='multiply') is not implemented; use reduce='add'"
        )
    tensor_src = src if isinstance(src, Tensor) else None
    dim = _check_index("scatter", input, dim, index, tensor_src)
    src = _source("scatter", input, index, src, value)
    fn = ScatterAdd if reduce == "add" else Scatter
    return fn.apply(input, src, dim=dim, index=_index_array(index))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    r"""A copy of ``input`` with ``src`` *added* at the positions ``index`` gives along ``dim``
    (repeated positions add up): $z_{i,\,\text{index}_{ij}} \mathrel{+}= \text{src}_{ij}$.

    >>> import aigc_course as ac
    >>> ac.scatter_add(ac.zeros(3), 0, ac.tensor([0, 2, 0]), ac.ones(3))
    tensor([2., 0., 1.])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    dim = _check_index("scatter_add", input, dim, index, src)
    src = _source("scatter_add", input, index, src, None)
    return ScatterAdd.apply(input, src, dim=dim, index=_index_array(index))


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    r"""The view of ``input`` that keeps ``length`` entries of ``dim`` from ``start`` on: the
    same as ``input[..., start:start + length, ...]`` with the slice at ``dim``.

    >>> import aigc_course as ac
    >>> ac.arange(6).narrow(0, 2, 3)
    tensor([2, 3, 4])
    """
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = _check_dim(dim, input.ndim)
    if isinstance(start, Tensor):
        if start.ndim != 0 or start.dtype.category != 1:
            raise RuntimeError(
                "start must be an 0-dim integral Tensor, but got a tensor of shape "
                f"{list(start.shape)} and dtype {start.dtype}"
            )
        start = int(start.item())
    for name, v in (("start", start), ("length", length)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"narrow(): argument '{name}' must be int, not {type(v).__name__}")
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, but got {length}.")
    start = start % size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[(slice(None),) * dim + (slice(start, start + length),)]


def _triangle(fn, input: Tensor, diagonal: int) -> Tensor:
    name = fn.__name__.lower()
    if not isinstance(diagonal, (int, np.integer)) or isinstance(diagonal, bool):
        raise TypeError(
            f"{name}(): argument 'diagonal' (position 1) must be int, not {type(diagonal).__name__}"
        )
    if input.ndim < 2:
        raise RuntimeError(
            f"{name}: input tensor must have at least 2 dimensions, but got a tensor of shape "
            f"{list(input.shape)}"
        )
    return fn.apply(input, diagonal=int(diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    r"""The lower triangle of the last two dimensions: $z_{ij} = x_{ij}$ where $j - i \le$
    ``diagonal``, else 0. ``tril(ones(T, T))`` is the causal mask of attention (chapter 8).

    >>> import aigc_course as ac
    >>> ac.tril(ac.ones(3, 3))
    tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]])
    """
    return _triangle(Tril, input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    r"""The upper triangle of the last two dimensions: $z_{ij} = x_{ij}$ where $j - i \ge$
    ``diagonal``, else 0.

    >>> import aigc_course as ac
    >>> ac.triu(ac.ones(2, 3), diagonal=1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triangle(Triu, input, diagonal)
