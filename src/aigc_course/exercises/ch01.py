r"""Checkers for chapter 1's exercises (tensors).

Each checker runs your function on several inputs, awkward ones included (a single point, a
single column, size-1 dimensions), compares the result with torch, and prints one ``✓`` line,
or raises :class:`~aigc_course.exercises.ExerciseError` saying what is wrong.

Which library? The tensor exercises take ``lib="aigc_course"`` (the default) or
``lib="torch"``: the checker builds its inputs with that library, so write your function with
the operations of either. Your function may return a tensor of either library (or a numpy
array); only its shape, dtype and values are compared.

1. :func:`check_broadcast_shapes`: ``broadcast_shapes(a, b)`` on plain tuples of ints.
2. :func:`check_pairwise_sq_dists`: all squared distances between two point sets, no loops.
3. :func:`check_standardize_rows`: each row to mean 0 and variance 1.
4. :func:`check_causal_mask`: the boolean mask that hides the future in a language model.

See chapter 1.
"""

from __future__ import annotations

import numpy as np

from ._checking import ExerciseError, check_tensor, passed, run_learner

__all__ = [
    "check_broadcast_shapes",
    "check_causal_mask",
    "check_pairwise_sq_dists",
    "check_standardize_rows",
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


# ------------------------------------------------------------------ 1. broadcast_shapes

_BROADCAST_CASES = [
    ((3, 1), (1, 4)),
    ((5, 3), (3,)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
    ((4,), ()),
    ((1,), (1,)),
    ((7, 1, 1), (1, 6, 1)),
    ((8, 1, 6, 1), (7, 1, 5)),
    ((0, 1), (1, 3)),
]
_INCOMPATIBLE_CASES = [((2, 3), (3, 2)), ((3,), (4,)), ((2, 3, 4), (5, 4)), ((4, 2), (2, 4, 3))]


def check_broadcast_shapes(fn) -> None:
    """Check ``fn(a, b)``: the broadcast shape of two shapes (tuples of ints) as a tuple, or
    a ``RuntimeError`` when they cannot broadcast. The reference is
    ``torch.broadcast_shapes``; the feedback names the first wrong dimension.

    >>> def broadcast_shapes(a, b):
    ...     n = max(len(a), len(b))
    ...     a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    ...     out = []
    ...     for x, y in zip(a, b):
    ...         if x != y and 1 not in (x, y):
    ...             raise RuntimeError(f"sizes {x} and {y} do not broadcast")
    ...         out.append(y if x == 1 else x)
    ...     return tuple(out)
    >>> check_broadcast_shapes(broadcast_shapes)
    ✓ broadcast_shapes agrees with torch on 9 shape pairs and refuses the 4 that cannot broadcast

    See chapter 1.
    """
    torch = _torch()
    what = "your broadcast_shapes"
    for a, b in _BROADCAST_CASES:
        expected = tuple(torch.broadcast_shapes(a, b))
        got = run_learner(fn, a, b, what=what)
        if not isinstance(got, (tuple, list)):
            raise ExerciseError(
                f"for shapes {a} and {b} {what} returned {type(got).__name__} {got!r}; "
                f"return a tuple of ints such as {expected}"
            )
        got = tuple(int(n) for n in got)
        if len(got) != len(expected):
            raise ExerciseError(
                f"for shapes {a} and {b} {what} returned {got}, with {len(got)} dimension(s); "
                f"expected {expected}, with {len(expected)}: the result has as many dimensions "
                "as the longer shape (pad the shorter one with 1s on the left)"
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            if g != e:
                raise ExerciseError(
                    f"for shapes {a} and {b} {what} returned {got}; expected {expected}: "
                    f"dimension {i} is wrong (yours {g}, expected {e})"
                )
    for a, b in _INCOMPATIBLE_CASES:
        try:
            got = fn(a, b)
        except NotImplementedError:
            raise ExerciseError(f"{what} is not implemented yet") from None
        except RuntimeError:
            continue
        except Exception as e:
            raise ExerciseError(
                f"shapes {a} and {b} cannot broadcast, and {what} raised {type(e).__name__}; "
                "raise RuntimeError, as torch does"
            ) from None
        raise ExerciseError(
            f"shapes {a} and {b} cannot broadcast (compare them from the right), but {what} "
            f"returned {got!r} instead of raising RuntimeError"
        )
    passed(
        f"broadcast_shapes agrees with torch on {len(_BROADCAST_CASES)} shape pairs and "
        f"refuses the {len(_INCOMPATIBLE_CASES)} that cannot broadcast"
    )


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
    g = torch.Generator().manual_seed(1)
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
    g = torch.Generator().manual_seed(2)
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


# ------------------------------------------------------------------ 4. causal mask


def check_causal_mask(fn, lib: str = "aigc_course") -> None:
    """Check ``fn(T)``: a (T, T) bool tensor that is True where column j > row i, the future
    positions a language model must not see (``torch.triu(ones(T, T, dtype=bool), 1)``).
    ``lib`` is accepted for symmetry with the other checkers; ``fn`` receives a Python int.

    >>> import aigc_course as ac
    >>> def causal_mask(T):
    ...     i = ac.arange(T)
    ...     return i[None, :] > i[:, None]
    >>> check_causal_mask(causal_mask)
    ✓ causal_mask matches torch.triu for T = 1, 2, 3 and 6

    See chapter 1.
    """
    if lib not in _LIBRARIES:
        raise ValueError(f"lib must be one of {_LIBRARIES}, got {lib!r}")
    torch = _torch()
    sizes = (3, 6, 2, 1)  # the small sizes last: a wrong 3x3 mask says more than a 1x1 one
    for T in sizes:
        expected = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        got = run_learner(fn, T, what="your causal_mask")
        try:
            check_tensor(got, expected, what=f"for T = {T}, your mask")
        except ExerciseError as err:
            hint = ""
            from ..testing import _to_numpy

            y = np.asarray(_to_numpy(got))
            if y.shape == (T, T) and y.dtype == bool:
                future = expected.numpy()
                if np.array_equal(y, future.T):
                    hint = " (that is the lower triangle: True should mark j > i, the future)"
                elif np.array_equal(y, future | np.eye(T, dtype=bool)):
                    hint = " (the diagonal must be False: a position may see itself)"
                elif np.array_equal(y, ~future):
                    hint = " (inverted: True should mark the positions to hide)"
            raise ExerciseError(f"{err}{hint}") from None
    passed("causal_mask matches torch.triu for T = 1, 2, 3 and 6")
