r"""Checkers for chapter 1's exercises (tensors).

Each checker runs your function on several inputs, awkward ones included (a single point, a
single column, size-1 dimensions), compares the result with torch, and prints one ``✓`` line,
or raises :class:`~aigc_course.exercises.ExerciseError` saying what is wrong.

Which library? The tensor exercises take ``lib="aigc_course"`` (the default) or
``lib="torch"``: the checker builds its inputs with that library, so write your function with
the operations of either. Your function may return a tensor of either library (or a numpy
array); only its shape, dtype and values are compared.

1. :func:`check_offset` (★): where element ``x[i, j, k]`` lives in memory, from the strides.
2. :func:`check_pairwise_sq_dists` (★★): all squared distances between two point sets, no loops.
3. :func:`check_standardize_rows` (★★): each row to mean 0 and variance 1.
4. :func:`check_sum_to_size` (★★): undo broadcasting, the reduction every backward pass needs.
5. :func:`check_as_strided` (★★): read any view (size, stride, offset) out of a storage.
6. :func:`check_view_strides` (★★★): the strides of ``x.view(new_shape)``, or ``None`` when
   ``view`` must refuse (torch's ``computeStride``).

See chapter 1.
"""

from __future__ import annotations

import numpy as np

from ._checking import ExerciseError, check_tensor, passed, run_learner, seeded

__all__ = [
    "check_as_strided",
    "check_offset",
    "check_pairwise_sq_dists",
    "check_standardize_rows",
    "check_sum_to_size",
    "check_view_strides",
]

_LIBRARIES = ("aigc_course", "torch")


def _torch():
    import torch

    return torch


def _as_lib(t, lib: str):
    """The torch tensor ``t`` as an input for the learner, in library ``lib``."""
    if lib not in _LIBRARIES:
        raise ValueError(f"lib must be one of {_LIBRARIES}, got {lib!r}")
    if lib == "torch":
        return t.clone()
    from .._creation import from_torch

    return from_torch(t)


# ------------------------------------------------------------------ 1. offset from strides


def _offset_cases():
    """Views of ``base = torch.arange(120)``: the value of an element is its memory offset."""
    torch = _torch()
    base = torch.arange(120)
    return [
        ("a contiguous (2, 3, 4) tensor", base[:24].view(2, 3, 4)),
        ("its transpose(0, 2)", base[:24].view(2, 3, 4).transpose(0, 2)),
        ("a slice x[1:, ::2] of a (4, 5) tensor", base[:20].view(4, 5)[1:, ::2]),
        ("a permuted slice", base.view(4, 5, 6)[1:3, 2:, 1::2].permute(2, 0, 1)),
        ("an expand()ed (3, 4) tensor (stride 0)", base[7:10].view(3, 1).expand(3, 4)),
    ]


def check_offset(fn) -> None:
    r"""Check ``fn(index, stride, storage_offset)``: the position in memory (counted in
    elements) of the element at ``index`` of a tensor with strides ``stride`` whose first
    element sits at ``storage_offset``, that is
    $\text{storage\_offset} + \sum_d \text{index}_d \cdot \text{stride}_d$.

    The reference is torch itself: each case is a view of ``torch.arange(120)``, so the value
    of an element *is* its offset in memory.

    >>> def offset(index, stride, storage_offset=0):
    ...     return storage_offset + sum(i * s for i, s in zip(index, stride))
    >>> check_offset(offset)
    ✓ offset finds every element of 5 views of one storage (transposed, sliced, expanded)

    See chapter 1.
    """
    import itertools

    what = "your offset"
    for name, view in _offset_cases():
        stride, start = tuple(view.stride()), view.storage_offset()
        for index in itertools.product(*(range(n) for n in view.shape)):
            expected = int(view[index])
            got = run_learner(fn, index, stride, start, what=what)
            if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
                raise ExerciseError(f"{what} returned {type(got).__name__} {got!r}; return an int")
            if got == expected:
                continue
            message = (
                f"for {name} (stride {stride}, storage_offset {start}), element {index} is at "
                f"offset {expected}; {what} says {got}"
            )
            plain = sum(i * s for i, s in zip(index, stride))
            if got == plain:
                message += " (you left out storage_offset: a slice starts inside the storage)"
            elif got == start + sum(i * s for i, s in zip(index, reversed(stride))):
                message += " (you paired the indices with the strides in reverse order)"
            raise ExerciseError(message)
    passed("offset finds every element of 5 views of one storage (transposed, sliced, expanded)")


# ------------------------------------------------------------------ 2. pairwise distances

_DIST_SHAPES = [
    ((4, 3), (5, 3)),
    ((1, 2), (6, 2)),
    ((3, 4), (1, 4)),
    ((1, 1), (1, 1)),
    ((7, 1), (2, 1)),
]


def check_pairwise_sq_dists(fn, lib: str = "aigc_course") -> None:
    r"""Check ``fn(X, Y)``: for ``X`` of shape (N, D) and ``Y`` of shape (M, D), the (N, M)
    tensor $D_{ij} = \sum_d (X_{id} - Y_{jd})^2$, in float32. Inputs are built with ``lib``
    (``"aigc_course"`` or ``"torch"``); the reference is ``torch.cdist(X, Y) ** 2``, computed
    in float64.

    >>> def pairwise_sq_dists(X, Y):
    ...     return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    >>> check_pairwise_sq_dists(pairwise_sq_dists)
    ✓ pairwise_sq_dists matches torch on 5 pairs of point sets, a single point included

    See chapter 1.
    """
    torch = _torch()
    g = torch.Generator().manual_seed(seeded(1))
    for xs, ys in _DIST_SHAPES:
        X, Y = torch.randn(*xs, generator=g), torch.randn(*ys, generator=g)
        expected = (torch.cdist(X.double(), Y.double()) ** 2).float()
        got = run_learner(
            fn,
            _as_lib(X, lib),
            _as_lib(Y, lib),
            what="your pairwise_sq_dists",
            broadcast_hint="give X a new axis with X[:, None, :] and Y one with Y[None, :, :], "
            "so that (N, 1, D) and (1, M, D) broadcast to (N, M, D)",
        )
        check_tensor(
            got,
            expected,
            what=f"for X of shape {xs} and Y of shape {ys}, your output",
            rtol=1e-4,
            atol=1e-5,
        )
    passed(
        f"pairwise_sq_dists matches torch on {len(_DIST_SHAPES)} pairs of point sets, "
        "a single point included"
    )


# ------------------------------------------------------------------ 3. standardise rows

_ROW_SHAPES = [(4, 5), (1, 6), (3, 1), (2, 2), (6, 3)]


def check_standardize_rows(fn, lib: str = "aigc_course", eps: float = 1e-5) -> None:
    r"""Check ``fn(x)``: each row of the (N, D) float32 tensor ``x`` shifted and scaled to
    mean 0 and variance 1, $y_{ij} = (x_{ij} - \mu_i) / \sqrt{\sigma_i^2 + \epsilon}$, with
    the *population* variance $\sigma_i^2 = \frac1D \sum_j (x_{ij} - \mu_i)^2$ and
    $\epsilon = 10^{-5}$: layer normalisation without its weights (chapter 3 makes it a
    module). The reference is ``torch.nn.functional.layer_norm``.

    >>> def standardize_rows(x):
    ...     mu = x.mean(dim=1, keepdim=True)
    ...     var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
    ...     return (x - mu) / (var + 1e-5).sqrt()
    >>> check_standardize_rows(standardize_rows)
    ✓ standardize_rows matches torch's layer_norm on 5 shapes, one-column rows included

    See chapter 1.
    """
    torch = _torch()
    F = torch.nn.functional
    g = torch.Generator().manual_seed(seeded(2))
    for shape in _ROW_SHAPES:
        x = 3 * torch.randn(*shape, generator=g) + 2  # a mean and scale to remove
        expected = F.layer_norm(x, (shape[1],), eps=eps)
        got = run_learner(
            fn,
            _as_lib(x, lib),
            what="your standardize_rows",
            broadcast_hint="reduce with keepdim=True, so that the (N, 1) row statistics broadcast "
            "against the (N, D) input",
        )
        try:
            check_tensor(
                got, expected, what=f"for x of shape {shape}, your output", rtol=1e-4, atol=1e-4
            )
        except ExerciseError as err:
            hint = _standardize_hint(got, x, shape, eps)
            raise ExerciseError(f"{err}{hint}") from None
    passed(
        f"standardize_rows matches torch's layer_norm on {len(_ROW_SHAPES)} shapes, "
        "one-column rows included"
    )


def _standardize_hint(got, x, shape, eps: float) -> str:
    """Recognise the usual mistakes, so the feedback can name them."""
    from ..testing import _to_numpy

    y = np.asarray(_to_numpy(got), dtype=np.float64)
    if y.shape != tuple(shape):
        if y.shape in {(shape[0],), (shape[1],)}:
            return " (did you forget keepdim=True, or reduce over the wrong dimension?)"
        return ""
    x = x.double().numpy()
    mu = x.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _match_mistake(y, x, mu, shape, eps)


def _match_mistake(y, x, mu, shape, eps: float) -> str:
    candidates = {
        "you used the unbiased variance (divided by D - 1); standardise with the population "
        "variance (divide by D: var(dim=1, unbiased=False, keepdim=True))": (x - mu)
        / np.sqrt(x.var(axis=1, ddof=1, keepdims=True) + eps)
        if shape[1] > 1
        else None,
        "you standardised the columns (dim=0) instead of the rows (dim=1)": (
            x - x.mean(axis=0, keepdims=True)
        )
        / np.sqrt(x.var(axis=0, keepdims=True) + eps),
        "you left out eps = 1e-5 under the square root": (x - mu)
        / np.sqrt(x.var(axis=1, keepdims=True)),
    }
    for hint, wrong in candidates.items():
        if wrong is not None and np.allclose(y, wrong, rtol=1e-3, atol=1e-3, equal_nan=True):
            return f" ({hint})"
    return ""


# ------------------------------------------------------------------ 4. sum_to_size

_SUM_TO_SIZE_CASES = [  # (gradient's shape, the input's shape it must be reduced to)
    ((3, 3), (3,)),
    ((2, 3, 4), (3, 1)),
    ((5, 3), (1, 3)),
    ((4, 2), (4, 2)),
    ((2, 1, 3), (2, 1, 1)),
    ((6,), ()),
]


def _left_aligned_sum(g: np.ndarray, shape: tuple):
    """The classic mistake: the shorter shape padded with 1s on the *right*."""
    padded = tuple(shape) + (1,) * (g.ndim - len(shape))
    dims = tuple(d for d, n in enumerate(padded) if n == 1 and g.shape[d] != 1)
    out = g.sum(axis=dims, keepdims=True)
    return out.reshape(out.shape[: len(shape)])


def check_sum_to_size(fn, lib: str = "aigc_course") -> None:
    r"""Check ``fn(grad, shape)``: ``grad`` summed down to ``shape``, which broadcasts to
    ``grad.shape``, as ``torch.Tensor.sum_to_size`` does. This is what every backward pass does
    for an input that was broadcast: each copy's gradient flows back to the one original, so
    the copies' gradients are *summed*. The shapes line up from the right, as in broadcasting:
    leading dimensions that ``shape`` does not have are summed away, and dimensions where
    ``shape`` has a 1 are summed with ``keepdim=True``.

    >>> def sum_to_size(grad, shape):
    ...     lead = grad.dim() - len(shape)
    ...     dims = tuple(range(lead)) + tuple(
    ...         lead + d for d, n in enumerate(shape) if n == 1 and grad.shape[lead + d] != 1)
    ...     out = grad.sum(dim=dims, keepdim=True) if dims else grad
    ...     return out.reshape(shape)
    >>> check_sum_to_size(sum_to_size)
    ✓ sum_to_size matches torch's Tensor.sum_to_size for 6 pairs of shapes

    See chapter 1.
    """
    torch = _torch()
    g = torch.Generator().manual_seed(seeded(5))
    for gshape, shape in _SUM_TO_SIZE_CASES:
        grad = torch.randn(*gshape, generator=g)
        expected = grad.sum_to_size(shape) if shape else grad.sum()
        got = run_learner(fn, _as_lib(grad, lib), shape, what="your sum_to_size")
        try:
            check_tensor(
                got, expected, what=f"from {gshape} to {shape}, your output", rtol=1e-5, atol=1e-5
            )
        except ExerciseError as err:
            raise ExerciseError(f"{err}{_sum_to_size_hint(got, grad, shape)}") from None
    passed(
        f"sum_to_size matches torch's Tensor.sum_to_size for {len(_SUM_TO_SIZE_CASES)} pairs of "
        "shapes"
    )


def _sum_to_size_hint(got, grad, shape) -> str:
    from ..testing import _to_numpy

    y = np.asarray(_to_numpy(got), dtype=np.float64)
    g = grad.double().numpy()
    expected = np.asarray(grad.double().sum_to_size(shape) if shape else grad.double().sum())
    if y.shape == expected.shape:
        wrong = _left_aligned_sum(g, shape)
        if wrong.shape == y.shape and not np.allclose(wrong, expected, atol=1e-4):
            if np.allclose(y, wrong, rtol=1e-4, atol=1e-4):
                return (
                    " (you lined the shapes up from the left, padding the shorter one on the "
                    "wrong side: broadcasting aligns them from the right, so the dimensions "
                    "to sum away are the leading ones)"
                )
        n = g.size // max(expected.size, 1)
        if n > 1 and np.allclose(y * n, expected, rtol=1e-4, atol=1e-4):
            return (
                f" (yours is exactly 1/{n} of the answer: you averaged the {n} copies, but "
                "each copy passes its whole gradient back to the one original, so sum them)"
            )
    elif y.size == expected.size:
        return (
            f" (the numbers may be right, but the shape must be {tuple(shape)}: keep the "
            "size-1 dimensions with keepdim=True, or reshape at the end)"
        )
    return ""


# ------------------------------------------------------------------ 5. as_strided

_AS_STRIDED_CASES = [  # (description, size, stride, storage_offset)
    ("sliding windows of length 3", (4, 3), (1, 1), 0),
    ("a transpose", (3, 2), (1, 3), 0),
    ("an expand (stride 0)", (2, 3), (0, 1), 0),
    ("a (2, 2) block starting at offset 2", (2, 2), (3, 1), 2),
    ("every other element from offset 1", (3,), (2,), 1),
    ("a 3-d view", (2, 2, 2), (4, 1, 2), 1),
    ("a 0-d view of element 5", (), (), 5),
]


def check_as_strided(fn, lib: str = "aigc_course") -> None:
    r"""Check ``fn(storage, size, stride, storage_offset)``: the tensor of shape ``size`` whose
    element at index $(i_0, \dots, i_{n-1})$ is
    ``storage[storage_offset + i_0 * stride[0] + ... + i_{n-1} * stride[n-1]]``, for a 1-d
    ``storage`` of 12 numbers. The reference is ``torch.as_strided``; the cases include
    sliding windows, a transpose, an expand (stride 0) and an offset.

    >>> import aigc_course as ac
    >>> def as_strided(storage, size, stride, storage_offset=0):
    ...     index = ac.tensor(storage_offset)
    ...     for d, (n, s) in enumerate(zip(size, stride)):
    ...         shape = [1] * len(size)
    ...         shape[d] = n
    ...         index = index + (ac.arange(n) * s).view(*shape)
    ...     return storage[index]
    >>> check_as_strided(as_strided)
    ✓ as_strided matches torch.as_strided on 7 views: windows, transpose, expand, offsets

    See chapter 1.
    """
    torch = _torch()
    storage = torch.arange(12, dtype=torch.float32) * 10 + 100  # values are not offsets
    for name, size, stride, start in _AS_STRIDED_CASES:
        expected = torch.as_strided(storage, size, stride, start)
        got = run_learner(fn, _as_lib(storage, lib), size, stride, start, what="your as_strided")
        try:
            check_tensor(
                got,
                expected,
                what=f"for {name} (size {size}, stride {stride}, offset {start}), your output",
            )
        except ExerciseError as err:
            hint = ""
            from ..testing import _to_numpy

            y = np.asarray(_to_numpy(got), dtype=np.float64)
            if y.shape == tuple(size):
                if start and np.allclose(
                    y, torch.as_strided(storage, size, stride, 0).double().numpy()
                ):
                    hint = " (you left out storage_offset)"
                elif np.allclose(y, (expected.double().numpy() - 100) / 10):
                    hint = " (those are the offsets; return the storage's values at them)"
                elif len(size) > 1 and np.allclose(
                    y, torch.as_strided(storage, size, stride[::-1], start).double().numpy()
                ):
                    hint = " (you paired each dimension with the other dimension's stride)"
            raise ExerciseError(f"{err}{hint}") from None
    passed("as_strided matches torch.as_strided on 7 views: windows, transpose, expand, offsets")


# ------------------------------------------------------------------ 6. view_strides


def _contiguous_strides(shape) -> tuple:
    """Row-major strides, a size-0 dimension counted as 1 (as torch's ``computeStride``)."""
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= max(n, 1)
    return tuple(reversed(out))


def _view_strides(shape, stride, new_shape, skip_old_ones=True, absorb_new_ones=True):
    """torch's ``computeStride`` (the reference the checker does *not* use: torch is), with two
    switches that reproduce the usual mistakes, to recognise them in a wrong answer."""
    if not shape:
        return (1,) * len(new_shape)
    if int(np.prod(shape)) == 0:
        return tuple(stride) if tuple(new_shape) == tuple(shape) else _contiguous_strides(new_shape)
    new_stride = [0] * len(new_shape)
    v = len(new_shape) - 1
    base, chunk, viewed = stride[-1], 1, 1
    for d in range(len(shape) - 1, -1, -1):
        chunk *= shape[d]
        continues = d > 0 and (
            (skip_old_ones and shape[d - 1] == 1) or stride[d - 1] == chunk * base
        )
        if continues:
            continue
        while v >= 0 and (viewed < chunk or (absorb_new_ones and new_shape[v] == 1)):
            new_stride[v] = viewed * base
            viewed *= new_shape[v]
            v -= 1
        if viewed != chunk:
            return None
        if d > 0:
            base, chunk, viewed = stride[d - 1], 1, 1
    return tuple(new_stride) if v == -1 else None


def _factorisations(n: int, rng) -> tuple:
    """A random shape with ``n`` elements: ``n``'s prime factors, shuffled and grouped."""
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    rng.shuffle(factors)
    shape: list[int] = []
    for f in factors:
        if shape and rng.random() < 0.5:
            shape[-1] *= f
        else:
            shape.append(f)
    return tuple(shape)


def _regroup(shape: tuple, rng) -> tuple:
    """``shape`` with adjacent dimensions merged and others split: views that may well exist."""
    out: list[int] = []
    for n in shape:
        if out and rng.random() < 0.4:
            out[-1] *= n
        elif n > 1 and rng.random() < 0.4:
            out.extend(_factorisations(n, rng) or (n,))
        else:
            out.append(n)
    return tuple(out)


def _random_view_cases(count: int, seed: int = 6):
    """Tensors made by slicing, permuting and expanding a contiguous one, and new shapes of
    the same size: (shape, stride, new_shape) triples."""
    import random

    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        parent = [rng.choice((1, 2, 2, 3, 4, 5)) for _ in range(rng.randint(1, 4))]
        shape, stride = list(parent), list(_contiguous_strides(parent))
        for d in range(len(shape)):  # slice: every other element, or a prefix
            if shape[d] > 2 and rng.random() < 0.3:
                if rng.random() < 0.5:
                    shape[d], stride[d] = (shape[d] + 1) // 2, stride[d] * 2
                else:
                    shape[d] -= 1
            elif shape[d] == 1 and rng.random() < 0.3:  # expand (stride 0) or any stride
                shape[d], stride[d] = rng.choice(((3, 0), (1, rng.randint(2, 30))))
        order = list(range(len(shape)))
        if rng.random() < 0.5:
            rng.shuffle(order)
        shape = tuple(shape[d] for d in order)
        stride = tuple(stride[d] for d in order)
        if rng.random() < 0.5:
            new_shape = _regroup(shape, rng)
        else:
            new_shape = _factorisations(int(np.prod(shape)), rng)
        new_shape = list(new_shape)
        for _ in range(rng.choice((0, 0, 1, 2))):  # size-1 dimensions anywhere
            new_shape.insert(rng.randint(0, len(new_shape)), 1)
        cases.append((shape, stride, tuple(new_shape)))
    return cases


_VIEW_CASES = [  # (description, shape, stride, new_shape)
    ("a contiguous (2, 3, 4) as (6, 4)", (2, 3, 4), (12, 4, 1), (6, 4)),
    ("a contiguous (2, 3, 4) as (4, 3, 2)", (2, 3, 4), (12, 4, 1), (4, 3, 2)),
    ("a transpose, flattened", (3, 2), (1, 3), (6,)),
    ("a transpose with a dimension split", (4, 6), (1, 4), (4, 2, 3)),
    ("a transpose with dimensions merged", (4, 6), (1, 4), (2, 12)),
    ("a column slice x[:, :2], flattened", (3, 2), (4, 1), (6,)),
    ("a column slice x[:, :2], split", (3, 2), (4, 1), (3, 2, 1)),
    ("every other row x[::2] of a (4, 3)", (2, 3), (6, 1), (6,)),
    ("a slice x[:, :2] of a (2, 3, 4), merged", (2, 2, 4), (12, 4, 1), (2, 8)),
    ("a slice x[:, :2] of a (2, 3, 4), across the slice", (2, 2, 4), (12, 4, 1), (4, 4)),
    ("a slice x[:, :2] of a (2, 3, 4), split", (2, 2, 4), (12, 4, 1), (2, 2, 2, 2)),
    ("a permute(1, 0, 2) of a (2, 3, 4)", (3, 2, 4), (4, 12, 1), (3, 2, 2, 2)),
    ("a permute(1, 0, 2) of a (2, 3, 4), merged", (3, 2, 4), (4, 12, 1), (6, 4)),
    ("a size-1 dimension with a stray stride", (2, 1, 3), (3, 7, 1), (6,)),
    ("a size-1 dimension first, with a stray stride", (1, 4, 3), (50, 3, 1), (2, 6)),
    ("a transposed (2, 1, 3) with a stray stride", (3, 1, 2), (1, 9, 3), (3, 2)),
    ("size-1 dimensions in the new shape", (2, 3), (3, 1), (1, 2, 1, 3, 1)),
    ("size-1 dimensions in a transposed view", (2, 3), (1, 2), (1, 2, 1, 3, 1)),
    ("an expanded (3, 4) (stride 0), split", (3, 4), (0, 1), (3, 2, 2)),
    ("an expanded (3, 4) (stride 0), flattened", (3, 4), (0, 1), (12,)),
    ("an expanded (6, 4) (stride 0), its first dimension split", (6, 4), (0, 1), (2, 3, 4)),
    ("a 0-d tensor as (1, 1)", (), (), (1, 1)),
    ("a (1, 1) tensor as a 0-d tensor", (1, 1), (5, 9), ()),
    ("an empty (0, 3) with its own shape", (0, 3), (5, 1), (0, 3)),
    ("an empty (2, 0, 3) as (0, 2, 3)", (2, 0, 3), (1, 6, 2), (0, 2, 3)),
    ("an empty (4, 0) as (2, 0, 2)", (4, 0), (1, 4), (2, 0, 2)),
]
_N_RANDOM_VIEWS = 200


def _as_strides(got, what: str):
    """The learner's answer as a tuple of ints, or None; feedback for anything else."""
    from ._plain import to_plain

    try:
        got = to_plain(got)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{what} returned a {type(got).__name__}; return a tuple of ints, or None"
        ) from None
    if got is None:
        return None
    if hasattr(got, "tolist"):
        got = got.tolist()
    if not isinstance(got, (tuple, list)) or not all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in got
    ):
        raise ExerciseError(f"{what} returned {got!r}; return a tuple of ints, or None")
    return tuple(int(s) for s in got)


def check_view_strides(fn) -> None:
    r"""Check ``fn(shape, stride, new_shape)``: the strides of ``x.view(new_shape)`` for a
    tensor ``x`` of this ``shape`` and ``stride``, or ``None`` when torch's ``view`` refuses
    (no strides can describe the new shape over the same memory). This is torch's
    ``computeStride``: the old dimensions fall into *chunks* of evenly spaced memory (where
    ``stride[d - 1] == shape[d] * stride[d]``, a size-1 dimension never breaking a chunk), and
    every new dimension must fit inside one chunk.

    Contract: ``new_shape`` holds as many elements as ``shape``, with no ``-1``. A 0-d tensor
    (shape ``()``) gives strides of 1. A tensor with no elements keeps its strides when
    ``new_shape == shape``, and otherwise gets the contiguous strides of ``new_shape``,
    a size-0 dimension counted as 1. The stride of a size-1 dimension of ``new_shape`` is
    never used, so any value is accepted there; every other stride must equal torch's.

    The reference is torch itself, at run time: ``torch.empty_strided(shape, stride)
    .view(new_shape).stride()``, a ``RuntimeError`` meaning ``None``, on 26 named cases
    (transposed, sliced, permuted, expanded, size-1 dimensions with stray strides, 0-d and
    empty tensors) and 200 random ones.

    >>> import torch
    >>> def view_strides(shape, stride, new_shape):
    ...     try:
    ...         return torch.empty_strided(shape, stride).view(new_shape).stride()
    ...     except RuntimeError:
    ...         return None
    >>> check_view_strides(view_strides)
    ✓ view_strides matches torch on 226 views (sliced, permuted, expanded, empty: 55 refused)

    See chapter 1.
    """
    torch = _torch()
    cases = list(_VIEW_CASES) + [
        (f"random case {k + 1}", *case)
        for k, case in enumerate(_random_view_cases(_N_RANDOM_VIEWS))
    ]
    what = "your view_strides"
    refusals = 0
    for name, shape, stride, new_shape in cases:
        try:
            expected = tuple(torch.empty_strided(shape, stride).view(new_shape).stride())
        except RuntimeError:
            expected = None
        refusals += expected is None
        got = _as_strides(run_learner(fn, shape, stride, new_shape, what=what), what)
        if _same_strides(got, expected, new_shape):
            continue
        where = f"for {name}: shape {shape}, stride {stride}, new_shape {new_shape}"
        if expected is None:
            message = f"{where}, torch's view refuses (None); {what} says {got}"
        elif got is None:
            message = f"{where}, the view has strides {expected}; {what} says None"
        else:
            message = f"{where}, the view has strides {expected}; {what} says {got}"
        raise ExerciseError(message + _view_strides_hint(got, expected, shape, stride, new_shape))
    passed(
        f"view_strides matches torch on {len(cases)} views (sliced, permuted, expanded, empty: "
        f"{refusals} refused)"
    )


def _same_strides(got, expected, new_shape) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return len(got) == len(expected) and all(
        g == e or n == 1 for g, e, n in zip(got, expected, new_shape)
    )


def _view_strides_hint(got, expected, shape, stride, new_shape) -> str:
    """Name the likely mistake behind a wrong answer."""
    if got is not None and len(got) != len(new_shape):
        return f" (return one stride per dimension of new_shape: {len(new_shape)}, not {len(got)})"
    if not shape and got is None:
        return " (a 0-d tensor holds one element: it views as any shape of one element)"
    if int(np.prod(shape)) == 0:
        return (
            " (a tensor with no elements has no memory to agree with: it views as any shape "
            "with no elements; keep its strides if new_shape == shape, else give new_shape's "
            "contiguous strides, a size-0 dimension counted as 1)"
        )
    contiguous = _contiguous_strides(new_shape)
    if got is not None and _same_strides(got, contiguous, new_shape):
        return (
            " (those are the strides of a fresh contiguous tensor of shape new_shape, but this "
            "tensor is not contiguous; a view keeps the old memory, so its strides come from "
            "the old ones: inside a chunk, the chunk's innermost stride times the new sizes to "
            "its right)"
        )
    if expected is None:  # a new dimension that spans two chunks
        return (
            " (a new dimension spans the boundary between two chunks of the old dimensions: "
            "memory is evenly spaced within a chunk, not across one, so no single stride can "
            "step along it; when the new sizes you collect in a chunk overshoot its number of "
            "elements instead of hitting it exactly, return None)"
        )
    if got is None:
        if _view_strides(shape, stride, new_shape, absorb_new_ones=False) is None:
            return (
                " (new_shape has size-1 dimensions: they hold no memory, so they fit in any "
                "chunk; give them a stride (any) instead of refusing)"
            )
        if _view_strides(shape, stride, new_shape, skip_old_ones=False) is None:
            return (
                " (the tensor has a size-1 dimension whose stride breaks your chunk: nothing "
                "ever steps along a size-1 dimension, so its stride means nothing; skip it "
                "when you test whether a chunk goes on)"
            )
        if tuple(stride) != _contiguous_strides(shape):
            return (
                " (the tensor is not contiguous, but a view does not need that: it only needs "
                "every new dimension to fit inside one chunk of evenly spaced memory)"
            )
        return ""
    if _same_strides(got, _stale_base(shape, stride, new_shape), new_shape):
        return (
            " (each chunk starts again from its own innermost stride, stride[d] at the "
            "chunk's last dimension d; you kept the previous chunk's)"
        )
    return ""


def _stale_base(shape, stride, new_shape):
    """The strides with the first chunk's base stride used for every chunk (a mistake)."""
    ref = _view_strides(shape, stride, new_shape)
    if ref is None or not shape:
        return None
    out, base = list(ref), stride[-1]
    chunks = _chunk_bases(shape, stride)
    if all(chunk_base == base for _, chunk_base in chunks):
        return None  # one base stride throughout: keeping it is no mistake here
    # rescale each new dimension's stride from its chunk's base to the first chunk's base
    v = len(new_shape) - 1
    for chunk_numel, _ in chunks:
        viewed = 1
        while v >= 0 and (viewed < chunk_numel or new_shape[v] == 1):
            out[v] = viewed * base
            viewed *= new_shape[v]
            v -= 1
    return tuple(out)


def _chunk_bases(shape, stride):
    """[(number of elements, innermost stride)] of each chunk, innermost chunk first."""
    chunks, base, numel = [], stride[-1], 1
    for d in range(len(shape) - 1, -1, -1):
        numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and stride[d - 1] != numel * base):
            chunks.append((numel, base))
            if d > 0:
                base, numel = stride[d - 1], 1
    return chunks
