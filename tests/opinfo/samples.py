"""Sample-input generators shared by the registry: the shapes every op meets (0-d, empty, size
1, broadcast pairs, non-contiguous transposes and slices), for each dtype."""

from __future__ import annotations

import numpy as np

from .core import Arg, Sample

# (shape, layout): 0-d, empty, size 1, a vector, a matrix, non-contiguous, a size-1 middle dim
UNARY_SHAPES = [
    ((), "contiguous"),
    ((0,), "contiguous"),
    ((1,), "contiguous"),
    ((5,), "contiguous"),
    ((2, 3), "contiguous"),
    ((3, 4), "T"),
    ((2, 4), "slice"),
    ((2, 1, 3), "contiguous"),
]

# broadcast pairs: (shape_a, shape_b, layout_a)
BINARY_SHAPES = [
    ((), (), "contiguous"),
    ((4,), (4,), "contiguous"),
    ((2, 3), (3,), "contiguous"),
    ((2, 1), (1, 3), "contiguous"),
    ((3,), (2, 3), "contiguous"),
    ((2, 3), (), "contiguous"),
    ((0, 3), (1, 3), "contiguous"),
    ((3, 2), (3, 2), "T"),
    ((2, 4), (4,), "slice"),
]

FLOAT_DTYPES = ("float32", "float64")  # ints and bools meet every other shape
SCALARS = {"float32": 2.5, "float64": -1.5, "int64": 3, "bool": True}


def data(shape, dtype, rng, low=-3.0, high=3.0, away=0.0) -> np.ndarray:
    """Random data. ``away``: floats keep |x| >= away and ints avoid 0 (for divisors, logs).
    With ``low >= 0`` floats are positive."""
    shape = tuple(shape)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "int64":
        x = rng.integers(int(np.floor(low)), int(np.ceil(high)) + 1, size=shape)
        if away:
            x[x == 0] = 1
        return x.astype(np.int64)
    if away:
        magnitude = rng.uniform(away, max(abs(low), abs(high)), size=shape)
        sign = 1.0 if low >= 0 else rng.choice([-1.0, 1.0], size=shape)
        return (sign * magnitude).astype(dtype)
    x = rng.uniform(low, high, size=shape)
    return x.astype(dtype)


def arg(shape, dtype, rng, layout="contiguous", **kw) -> Arg:
    return Arg(data(shape, dtype, rng, **kw), layout)


def unary(low=-3.0, high=3.0, away=0.0, shapes=UNARY_SHAPES, **kwargs):
    """Samples f(x, **kwargs) over UNARY_SHAPES."""

    def samples(dtype, rng):
        for shape, layout in shapes if dtype in FLOAT_DTYPES else shapes[::2]:
            yield Sample((arg(shape, dtype, rng, layout, low=low, high=high, away=away),), kwargs)

    return samples


def binary(
    low=-3.0,
    high=3.0,
    other_low=None,
    other_high=None,
    away=0.0,
    scalar=True,
    promote=False,
    reflected=False,
    shapes=None,
):
    """Samples f(a, b): broadcast pairs, a Python scalar operand, and mixed-dtype pairs (the
    promotion rules: a 0-d tensor or scalar of another category, and dimensioned tensors).
    ``away`` applies to the second operand (a divisor). ``reflected`` puts the scalar first.
    ``shapes``: indices into BINARY_SHAPES (default: all)."""
    other_low = low if other_low is None else other_low
    other_high = high if other_high is None else other_high

    def b(shape, dtype, rng):
        return arg(shape, dtype, rng, low=other_low, high=other_high, away=away)

    def samples(dtype, rng):
        if reflected:  # scalar OP tensor: the tensor's reflected method (__rsub__...)
            s = SCALARS[dtype]
            for shape, layout in [((), "contiguous"), ((2, 3), "contiguous"), ((3, 4), "T")]:
                yield Sample((s, arg(shape, dtype, rng, layout, low=low, high=high, away=away)))
            return
        pairs = BINARY_SHAPES if shapes is None else [BINARY_SHAPES[i] for i in shapes]
        for sa, sb, layout in pairs if dtype in FLOAT_DTYPES else pairs[1::2]:
            yield Sample((arg(sa, dtype, rng, layout, low=low, high=high), b(sb, dtype, rng)))
        if scalar:
            s = SCALARS[dtype]
            if away and not s:
                s = 1
            yield Sample((arg((2, 3), dtype, rng, low=low, high=high), s))
            if dtype == "int64":  # an int tensor and a float scalar
                yield Sample((arg((3,), dtype, rng, low=low, high=high), 2.5))
        if promote:
            for other in ("float32", "float64", "int64", "bool"):
                if other == dtype or (away and other == "bool"):
                    continue
                x = arg((2, 3), dtype, rng, low=low, high=high)
                yield Sample((x, b((3,), other, rng)))
                yield Sample((x, b((), other, rng)))

    return samples


def reduction(shapes=None, dims=True, keepdim=True, full=True, **kwargs):
    """Samples f(x, [dim, keepdim], **kwargs): full reductions and reductions over one dim,
    a negative dim, a tuple of dims, with and without keepdim."""
    shapes = shapes or [
        ((), "contiguous"),
        ((5,), "contiguous"),
        ((2, 3), "contiguous"),
        ((4, 3), "T"),
        ((2, 3, 2), "slice"),
        ((0, 3), "contiguous"),
    ]

    def samples(dtype, rng):
        for shape, layout in shapes if dtype in FLOAT_DTYPES else shapes[1::2]:
            x = arg(shape, dtype, rng, layout)
            if full:
                yield Sample((x,), dict(kwargs))
            if dims is False:
                continue
            options = [dict(dim=0), dict(dim=-1, keepdim=True) if keepdim else dict(dim=-1)]
            if dims == "tuple" and len(shape) >= 2:
                options.append(dict(dim=(0, -1)))
            for extra in options:
                yield Sample((x,), {**extra, **kwargs})

    return samples


def fixed(*samples):
    """Hand-written samples, the same for every dtype: a function of (dtype, rng)."""

    def gen(dtype, rng):
        for make in samples:
            yield make(dtype, rng)

    return gen
