"""Sampling ops that draw from the generators of ``aigc_course/random.py``: :func:`randint`
(torch.randint) and :func:`multinomial` (torch.multinomial, ``Tensor.multinomial``)."""

from __future__ import annotations

import numpy as np

from .. import _dtypes
from .._checks import _size_args, check_new_device
from .._tensor import Tensor
from ..random import Generator, _numpy_generator


def randint(
    low: int = 0,
    high: int | None = None,
    size=None,
    *,
    generator: Generator | None = None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``, as in torch (``size`` is a tuple, and required).

    >>> import aigc_course as ac
    >>> _ = ac.manual_seed(0)
    >>> x = ac.randint(10, (2, 3))
    >>> x.shape, x.dtype, bool(((0 <= x) & (x < 10)).all())
    (aigc_course.Size([2, 3]), aigc_course.int64, True)
    """
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None and size is not None:  # randint(high, size=size)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError(
            "randint() expects randint(high, size) or randint(low, high, size), "
            f"but got low={low}, high={high}, size={size}"
        )
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}"
        )
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    dt = _dtypes.to_dtype(dtype) if dtype is not None else _dtypes.int64
    values = _numpy_generator(generator).integers(low, high, size=_size_args((size,)))
    check_new_device(device)
    out = Tensor._make(values.astype(dt.numpy_dtype))
    out.requires_grad = requires_grad  # validates: only floating point tensors
    return out


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    r"""Draw ``num_samples`` category indices from each row of non-negative weights ``input``
    (1-d: one distribution; 2-d: one per row), with probabilities $p_i = w_i / \sum_j w_j$.

    With replacement, each draw inverts the cumulative distribution: for $u$ uniform on
    $[0, \sum_j w_j)$, the index $i$ with $\sum_{j<i} w_j \le u < \sum_{j\le i} w_j$.
    Without replacement, torch's exponential race: give category $i$ the key $w_i / q_i$ with
    $q_i \sim \mathrm{Exp}(1)$, and take the ``num_samples`` largest keys. (The first key to win
    is category $i$ with probability $p_i$, and the rest race on.)

    >>> import aigc_course as ac
    >>> _ = ac.manual_seed(0)
    >>> ac.multinomial(ac.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])

    Chapter 9 samples the next token with it.
    """
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(
            "multinomial(): argument 'num_samples' (position 2) must be int, "
            f"not {type(num_samples).__name__}"
        )
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {input.dtype}"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, but got {input.ndim} dimensions")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, but got {num_samples}")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement: "
            f"n_sample = {num_samples}, prob_dist.size(-1) = {n}"
        )
    w = input._data.astype(np.float64).reshape(-1, n)  # (rows, n)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        where = f"[{row}, {col}]" if input.ndim == 2 else f"[{col}]"
        raise RuntimeError(
            "probability tensor contains either `inf`, `nan` or element < 0: "
            f"input{where} = {input._data.reshape(-1, n)[row, col]!s}"
        )
    total = w.sum(axis=1)
    if w.shape[0] and (total <= 0).any():
        bad = int(np.argmax(total <= 0))
        raise RuntimeError(
            f"invalid multinomial distribution (sum of probabilities <= 0) in row {bad}"
        )
    rng = _numpy_generator(generator)
    if replacement:
        cdf = np.cumsum(w, axis=1)
        u = rng.random((w.shape[0], num_samples)) * total[:, None]
        last = n - 1 - np.argmax(w[:, ::-1] > 0, axis=1)  # the last category that can win
        rows = [np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)]
        samples = np.minimum(np.array(rows, dtype=np.int64).reshape(u.shape), last[:, None])
    else:
        keys = w / rng.exponential(1.0, size=w.shape)
        # the num_samples largest keys, in decreasing order (argpartition: linear time)
        top = np.argpartition(-keys, num_samples - 1, axis=1)[:, :num_samples]
        order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
        samples = np.take_along_axis(top, order, axis=1)
    return Tensor._make(samples.astype(np.int64).reshape(*input.shape[:-1], num_samples))
