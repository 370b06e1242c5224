r"""Shapes and indexing: ``view``, ``reshape``, ``permute``, ``expand``, ``cat``, ``split``,
``x[i]``... (chapter 1). Views share memory with their base, as in torch.

None of these does arithmetic, so each backward just moves the gradient back to where the
element came from: a reshape is undone by a reshape, a permutation by the inverse
permutation, an expand by a sum, and indexing by scattering (adding up repeated indices).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtypes
from .._checks import _check_dim, _check_dims, _size_args, broadcast_shapes
from .._tensor import Tensor
from ..autograd.function import Function
from ._promotion import _as_tensor, result_type


class View(Function):
    r"""$z$ = the same elements under a new shape, so $dx$ = $dz$ reshaped back.

    ``forward`` receives the already-validated target shape. Like torch's ``view``, it never
    copies: numpy's reshape of a contiguous array returns a view sharing memory.
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, dz):
        return dz.reshape(ctx.in_shape)


class Reshape(View):
    """Like :class:`View`, but copies when the memory layout makes a view impossible."""


class Permute(Function):
    r"""$z$ = $x$ with its axes reordered by ``dims``; $dx$ = $dz$ under the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, dz):
        return dz.permute(*np.argsort(ctx.dims).tolist())


class Transpose(Permute):
    """A permutation that swaps two axes (``x.transpose(0, 1)``, ``x.T``)."""


class Expand(Function):
    r"""$z$ repeats $x$ along size-1 (or new leading) axes without copying (a stride of 0);
    each input element fed several outputs, so $dx$ sums their gradients (``sum_to_size``).
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        if tuple(shape[lead:]) == x.shape and all(n == 1 for n in shape[:lead]):
            return x[(None,) * lead]  # repeats nothing: a writable view, as torch allows
        return np.broadcast_to(x, shape)  # read-only: writes would alias (stride 0)

    @staticmethod
    def backward(ctx, dz):
        return dz  # Function._backward sums it back to the input's shape


class SumToSize(Function):
    r"""Sum $x$ down to a shape it was broadcast from: the inverse of :class:`Expand`, and the one
    helper that undoes broadcasting for every op. Its backward is therefore an expand.
    """

    is_view = True  # when nothing is summed it is a reshape

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)

    @staticmethod
    def backward(ctx, dz):
        return dz.expand(ctx.in_shape)


class Cat(Function):
    r"""Join tensors along ``dim``; $dx_k$ is the slice of $dz$ that came from $x_k$."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [x.shape[dim] for x in xs]).tolist()
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, dz):
        index = [slice(None)] * dz.ndim
        grads = []
        for start, stop in zip(ctx.bounds[:-1], ctx.bounds[1:]):
            index[ctx.dim] = slice(start, stop)
            grads.append(dz[tuple(index)])
        return tuple(grads)


class Index(Function):
    r"""$z = x[\text{index}]$, so $dx$ is $dz$ scattered back into zeros of $x$'s shape, with
    gradients of repeated indices *added* (:class:`IndexAdd`).

    ``steps`` is a list of numpy indices applied one after the other (see :func:`_numpy_steps`:
    torch's indexing, where it differs from numpy's, takes two steps).
    """

    is_view = True  # basic indexing (ints, slices) gives a view, as in torch

    @staticmethod
    def forward(ctx, x, steps):
        ctx.steps, ctx.in_shape = steps, x.shape
        z = _index(x, steps)
        if not _is_basic(steps):  # advanced indexing copies: a fresh C-contiguous array, as torch
            z = np.array(z, order="C")
        return z

    @staticmethod
    def backward(ctx, dz):
        return IndexAdd.apply(dz, shape=ctx.in_shape, steps=ctx.steps)


class IndexAdd(Function):
    r"""$z$ = zeros of ``shape`` with $x$ added at the indexed places (``np.add.at``, so repeated
    indices accumulate). Its backward is plain indexing: $dx = dz[\text{index}]$.

    A basic index (ints, slices: every ``split``, ``chunk`` and ``x[:, 0]``) names each place
    at most once, so a plain ``+=`` does, many times faster than ``np.add.at``.
    """

    @staticmethod
    def forward(ctx, x, shape, steps):
        ctx.steps = steps
        z = np.zeros(shape, dtype=x.dtype)
        target = z
        for index in steps[:-1]:
            target = target[index]  # basic indexing: a view into z
        if _is_basic(steps[-1:]):
            target[steps[-1]] += x
        else:
            np.add.at(target, steps[-1], x)
        return z

    @staticmethod
    def backward(ctx, dz):
        return Index.apply(dz, steps=ctx.steps)


# ---------------------------------------------------------------- public functions: shapes


def _infer_shape(input: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Resolve a ``-1`` in ``shape`` and check that the sizes fit ``input``'s element count."""
    n = input._data.size
    if builtins.sum(s == -1 for s in shape) > 1:
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


def view(input: Tensor, *shape) -> Tensor:
    """The same memory under a new shape; ``-1`` is inferred. Never copies, so it fails on a
    tensor whose layout cannot be reshaped in place (use :func:`reshape`).

    ``x.view(dtype)`` reinterprets the bits as another dtype, as torch does:

    >>> import aigc_course as ac
    >>> ac.ones(2).view(ac.int32)
    tensor([1065353216, 1065353216], dtype=aigc_course.int32)
    """
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return _view_dtype(input, _dtypes.to_dtype(shape[0]))
    target = _infer_shape(input, _size_args(shape))
    try:
        np.reshape(input._data, target, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return View.apply(input, shape=target)


def _view_dtype(input: Tensor, dt) -> Tensor:
    if dt.numpy_dtype == input._data.dtype:
        return View.apply(input, shape=input._data.shape)
    if input._requires_grad:
        raise RuntimeError(
            "viewing a tensor that requires grad as another dtype is not differentiable; "
            "detach() it first"
        )
    a = input._data
    if dt.itemsize != a.itemsize and (a.ndim == 0 or not a.flags.c_contiguous):
        raise RuntimeError(
            f"self.stride(-1) must be 1 to view {input.dtype.name} as {dt.name} (different "
            "element sizes), and the tensor must have at least one dimension"
        )
    if dt.itemsize != a.itemsize and (a.shape[-1] * a.itemsize) % dt.itemsize:
        raise RuntimeError(
            f"self.size(-1) must be divisible by {dt.itemsize // a.itemsize} to view "
            f"{input.dtype.name} as {dt.name} (different element sizes), but got {a.shape[-1]}"
        )
    out = Tensor._make(a.view(dt.numpy_dtype))
    out._version_counter = input._version_counter
    return out


def reshape(input: Tensor, *shape) -> Tensor:
    """Like :func:`view`, but copies when the memory layout requires it."""
    return Reshape.apply(input, shape=_infer_shape(input, _size_args(shape)))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes ``start_dim..end_dim`` into one."""
    if input._data.ndim == 0:
        return reshape(input, 1)
    ndim = input._data.ndim
    s, e = _check_dim(start_dim, ndim), _check_dim(end_dim, ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input._data.shape
    return reshape(input, *shape[:s], math.prod(shape[s : e + 1]), *shape[e + 1 :])


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A new axis of size 1 at ``dim``."""
    ndim = input._data.ndim
    d = _check_dim(dim, ndim + 1) if ndim or dim in (0, -1) else _check_dim(dim, 1)
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return View.apply(input, shape=tuple(shape))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Drop axes of size 1 (all of them, or those in ``dim``)."""
    if dim is None:
        shape = tuple(n for n in input._data.shape if n != 1)
    else:
        dims = _check_dims(dim, input._data.ndim) or ()
        shape = tuple(n for i, n in enumerate(input._data.shape) if not (i in dims and n == 1))
    return View.apply(input, shape=shape)


def permute(input: Tensor, *dims) -> Tensor:
    """The axes reordered: axis ``i`` of the result is axis ``dims[i]`` of the input (a view)."""
    ndim = input._data.ndim
    dims = _size_args(dims, "dims")
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute(): number of dims don't match in permute: the tensor has {ndim} "
            f"dimensions but {len(dims)} were given ({list(dims)})"
        )
    dims = tuple(_check_dim(d, ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"permute(): duplicate dims are not allowed (got {list(dims)})")
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes (a view)."""
    ndim = input._data.ndim
    if ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    order = list(range(ndim))
    a, b = _check_dim(dim0, ndim), _check_dim(dim1, ndim)
    order[a], order[b] = order[b], order[a]
    return Transpose.apply(input, dims=tuple(order))


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix (a vector or a scalar stays as it is)."""
    if input._data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D"
        )
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def T(input: Tensor) -> Tensor:
    """All axes reversed (``x.T``)."""
    return Transpose.apply(input, dims=tuple(reversed(range(input._data.ndim))))


def expand(input: Tensor, *sizes) -> Tensor:
    """Repeat along size-1 axes without copying (``-1`` keeps a size)."""
    sizes = _size_args(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
            f"to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    for i, want in enumerate(sizes[:lead]):
        if want < 0:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) isn't allowed in a leading, "
                f"non-existing dimension {i}"
            )
    target = list(sizes)
    for i, n in enumerate(shape):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = n
        elif n != 1 and want != n:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({n}) "
                f"at non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shape)}"
            )
    return Expand.apply(input, shape=tuple(target))


def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum over broadcast axes down to ``size``: the inverse of :func:`expand`."""
    size = _size_args(size)
    broadcast_shapes(size, input._data.shape)
    return SumToSize.apply(input, shape=size)


def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last one smaller), or of the given sizes."""
    d = _check_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    n = input._data.shape[d]
    size = split_size_or_sections
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}"
            )
        if size == 0:
            if n != 0:
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size "
                    f"of {n}"
                )
            return (input,)
        sizes = [size] * (n // size) + ([n % size] if n % size else []) or [0]
    elif isinstance(size, (list, tuple)):
        sizes = list(size)
    else:
        raise TypeError(
            f"split(): argument 'split_size' must be int or list of ints, not {type(size).__name__}"
        )
    if builtins.sum(sizes) != n or builtins.any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
            f"at dimension {d}), but got split_sizes={sizes}"
        )
    out, start = [], 0
    index = [slice(None)] * input._data.ndim
    for s in sizes:
        index[d] = slice(start, start + s)
        out.append(getitem(input, tuple(index)))
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` nearly equal pieces along ``dim``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_check_dim(dim, input._data.ndim)]
    if n == 0:  # torch gives `chunks` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, builtins.max(math.ceil(n / chunks), 1), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension: views, ``x[i]`` for each ``i``.

    >>> import aigc_course as ac
    >>> ac.tensor([[1, 2], [3, 4]]).unbind(1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _check_dim(dim, input._data.ndim)
    return tuple([getitem(input, (slice(None),) * d + (i,)) for i in range(input._data.shape[d])])


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim``: ``n`` nearly equal pieces (the first ``size % n`` one
    longer), or the pieces between the given indices, ``x[:i0], x[i0:i1], ..., x[ik:]``, each
    a Python slice (negative indices count from the end; out of range gives an empty piece).
    A 0-d int64 tensor is a number of sections, a 1-d one a list of indices.

    >>> import aigc_course as ac
    >>> ac.tensor_split(ac.arange(7), 3)
    (tensor([0, 1, 2]), tensor([3, 4]), tensor([5, 6]))
    >>> ac.tensor_split(ac.arange(7), (1, 5))
    (tensor([0]), tensor([1, 2, 3, 4]), tensor([5, 6]))
    """
    if input._data.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    d = _check_dim(dim, input._data.ndim)
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec._data.dtype != np.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
                f"got {spec.dtype.scalar_name}"
            )
        if spec._data.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {spec._data.ndim} dims"
            )
        spec = int(spec._data) if spec._data.ndim == 0 else [int(i) for i in spec._data]
    ints = (int, np.integer)
    if isinstance(spec, ints) and not isinstance(spec, bool):
        if spec <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {spec}")
        n = input._data.shape[d]
        sizes = [n // spec + 1] * (n % spec) + [n // spec] * (spec - n % spec)
        bounds = np.cumsum(sizes)[:-1].tolist()
    elif isinstance(spec, (list, tuple)) and builtins.all(
        isinstance(i, ints) and not isinstance(i, bool) for i in spec
    ):
        bounds = [int(i) for i in spec]
    else:
        raise TypeError(
            "tensor_split(): argument 'indices_or_sections' must be int, tuple of ints or "
            f"Tensor, not {type(spec).__name__}"
        )
    index = [slice(None)] * input._data.ndim
    out = []
    for start, stop in zip([0, *bounds], [*bounds, None]):
        index[d] = slice(start, stop)
        out.append(getitem(input, tuple(index)))
    return tuple(out)


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dt = result_type(*tensors)
    if builtins.any(t._data.ndim != tensors[0]._data.ndim for t in tensors):
        # torch's legacy rule: a 1-d empty tensor, ones(0), joins anything (it is skipped)
        tensors = [t for t in tensors if t._data.shape != (0,)] or tensors[:1]
    ref = tensors[0]
    d = _check_dim(dim, ref._data.ndim)
    for i, t in enumerate(tensors):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for axis in range(ref._data.ndim):
            if axis != d and t._data.shape[axis] != ref._data.shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[axis]} but got size {t.shape[axis]} for tensor number {i} in "
                    "the list."
                )
    return Cat.apply(*(_as_tensor(t, dt) for t in tensors), dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
        if t._data.shape != tensors[0]._data.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = _check_dim(dim, tensors[0]._data.ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


# ---------------------------------------------------------------- public functions: indexing


def _numpy_steps(index) -> list[tuple]:
    """Translate a torch index into numpy indices, applied one after the other.

    Tensors become arrays and lists become arrays. Where torch and numpy differ, it takes two
    steps: numpy counts an integer as an advanced index, so ``x[0, :, [0, 1]]`` on a
    (3, 4, 5) tensor gives numpy's (2, 4) but torch's (4, 2). Torch first applies the integers
    and slices (a view), then the arrays; so do we.
    """
    if (
        isinstance(index, list)
        and len(index) < 32
        and builtins.any(
            isinstance(i, (list, tuple, Tensor, np.ndarray, slice)) or i is None or i is Ellipsis
            for i in index
        )
    ):
        index = tuple(index)  # torch's legacy rule: x[[[0, 1], [2, 0]]] means x[[0, 1], [2, 0]]
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item) if item else np.zeros(0, dtype=np.int64)
        if isinstance(item, np.ndarray) and item.dtype.kind not in "biu":
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors, "
                f"but got {_dtypes.from_numpy_dtype(item.dtype).name}"
            )
        if isinstance(item, bool):
            item = np.asarray(item)
        elif isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.kind in "iu":
            item = int(item)  # a 0-d integer tensor indexes like an int: a view, as in torch
        elif isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise ValueError(
                "step must be greater than zero" if item.step else "slice step cannot be zero"
            )
        out.append(item)
    arrays = [isinstance(i, np.ndarray) and i.ndim > 0 for i in out]
    ints = [isinstance(i, (int, np.integer)) for i in out]
    if not (builtins.any(arrays) and builtins.any(ints)):
        return [tuple(out)]
    first, second = [], []
    for item, is_array, is_int in zip(out, arrays, ints):
        if is_array:  # consumed in the second step: keep its axes now
            first.extend([slice(None)] * (item.ndim if item.dtype.kind == "b" else 1))
            second.append(item)
        elif is_int:
            first.append(item)
        elif item is None:
            first.append(None)
            second.append(slice(None))
        elif item is Ellipsis:
            first.append(Ellipsis)
            second.append(Ellipsis)
        else:  # a slice (or a 0-d array)
            first.append(item)
            second.append(slice(None))
    return [tuple(first), tuple(second)]


def _is_basic(steps: list[tuple]) -> bool:
    """Whether the index is basic (ints, slices, None, ...): its result is a view."""
    for index in steps:
        for item in index:
            if isinstance(item, np.ndarray) and (item.ndim or item.dtype.kind == "b"):
                return False
    return True


def _index(data: np.ndarray, steps: list[tuple]) -> np.ndarray:
    """Apply the numpy index steps, raising torch's errors (IndexError names the dimension)."""
    try:
        for index in steps:
            z = data[index]
            if not isinstance(z, np.ndarray):  # x[0, 1] gives a numpy scalar, a copy; torch
                z = data[(*index, Ellipsis)]  # gives a 0-d view, and so does x[0, 1, ...]
            data = z
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    except (TypeError, ValueError) as e:
        raise IndexError(f"invalid index: {e}") from None
    return data


def getitem(input: Tensor, index) -> Tensor:
    """``x[index]`` with torch's rules: basic indexing gives a view, advanced indexing a copy."""
    return Index.apply(input, steps=_numpy_steps(index))
