"""Registry entries for the ops that real programs reached for and the package lacked:
``repeat``, ``index_select``, ``amax``/``amin``, ``unbind``, ``isnan``/``isinf``/``isfinite``
and ``einsum``. ``tests/test_ops_added.py`` generates their cases (values, dtypes, shapes,
gradients, second derivatives, central differences, and torch's exception types)."""

from __future__ import annotations

import numpy as np

from .core import ALL, FLOATS, NUMERIC, Arg, ErrorInput, OpInfo, Sample
from .samples import arg, reduction


def E(*args, names=(), desc="", **kwargs) -> ErrorInput:
    return ErrorInput(Sample(tuple(args), kwargs), tuple(names), desc)


def ones(*shape, dtype="float32") -> Arg:
    return Arg(np.ones(shape, dtype=dtype))


def index(values, dtype="int64") -> Arg:
    return Arg(np.asarray(values, dtype=dtype))


# ---------------------------------------------------------------- repeat


def _repeat_samples(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng), 2, 1))
    yield Sample((arg((2, 3), dtype, rng, "T"), 1, 2))
    yield Sample((arg((2, 3), dtype, rng), 2, 1, 3), desc="a new leading dim")
    yield Sample((arg((3,), dtype, rng), (2, 2)), desc="sizes as a tuple")
    yield Sample((arg((), dtype, rng), 3), desc="0-d")
    yield Sample((arg((2, 3), dtype, rng), 0, 2), desc="zero copies")
    yield Sample((arg((2, 1, 3), dtype, rng, "slice"), 1, 4, 1))


def _repeat_errors():
    return [
        E(ones(2, 3), 2, desc="fewer sizes than dims"),
        E(ones(2, 3), 2, -1, names=("-3",), desc="negative"),
        E(ones(2, 3), 2.0, 1, desc="a float size"),
        E(ones(2, 3), desc="no sizes"),
    ]


# ---------------------------------------------------------------- index_select


def _index_select_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x, 0, index([2, 0, 2])), desc="a row twice")
    yield Sample((x, 1, index([3, 3, 1])))
    yield Sample((x, -1, index([0], "int32")), desc="int32 index")
    yield Sample((x, 0, index(1)), desc="0-d index")
    yield Sample((x, 1, index([], "int64")), desc="empty index")
    yield Sample((arg((4, 3), dtype, rng, "T"), 0, index([1, 0])))
    yield Sample((arg((), dtype, rng), 0, index([0, 0])), desc="0-d input")


def _index_select_errors():
    return [
        E(ones(3, 4), 0, index([3]), names=("3",), desc="out of range"),
        E(ones(3, 4), 0, index([-1]), names=("-1",), desc="negative"),
        E(ones(3, 4), 0, index([[0]]), desc="2-d index"),
        E(ones(3, 4), 0, Arg(np.array([0.0])), desc="float index"),
        E(ones(3, 4), 2, index([0]), desc="dim out of range"),
        E(ones(3, 4), 0, [0], desc="a list"),
        E(ones(), 0, index([1]), desc="0-d input, index 1"),
    ]


# ---------------------------------------------------------------- amax, amin


def _amax_samples(dtype, rng):
    yield from reduction(dims="tuple")(dtype, rng)
    ties = Arg(np.array([[1, 3, 3], [2, 2, 0]], dtype=dtype))
    yield Sample((ties,), dict(dim=1), desc="ties share", central=False)
    yield Sample((ties,), desc="ties share, all dims", central=False)
    yield Sample((ties,), dict(dim=()), desc="dim=()", central=False)


def _amax_errors():
    return [
        E(ones(2, 3), dim=2, desc="dim out of range"),
        E(ones(2, 3), dim=(0, 0), desc="a repeated dim"),
        E(ones(0, 3), dim=0, names=("0",), desc="an empty reduced dim"),
        E(ones(0, 3), desc="all dims of an empty tensor"),
    ]


# ---------------------------------------------------------------- unbind


def _unbind_samples(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng),))
    yield Sample((arg((2, 3), dtype, rng, "T"), 1))
    yield Sample((arg((2, 3, 2), dtype, rng), -1))
    yield Sample((arg((4,), dtype, rng),))
    yield Sample((arg((0, 3), dtype, rng),), desc="empty: no slices")


def _unbind_errors():
    return [E(ones(), desc="0-d"), E(ones(2, 3), 2, desc="dim out of range")]


# ---------------------------------------------------------------- isnan, isinf, isfinite


def _special_samples(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng),))
    yield Sample((arg((), dtype, rng),))
    yield Sample((arg((0,), dtype, rng),))
    if dtype in FLOATS:
        x = np.array([0.0, np.nan, np.inf, -np.inf, -1.5, 1e38], dtype=dtype)
        yield Sample((Arg(x),), desc="nan and infinities")
        yield Sample((Arg(x.reshape(2, 3), "T"),), desc="transposed")


# ---------------------------------------------------------------- einsum


EINSUM_CASES = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk", (2, 3), (3, 4)),
    ("bij,bjk->bik", (2, 3, 4), (2, 4, 2)),
    ("i,i->", (3,), (3,)),
    ("i,j->ij", (3,), (2,)),
    ("ij->ji", (2, 3)),
    ("ij->", (2, 3)),
    ("ij->j", (2, 3)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),
    ("iij->ji", (2, 2, 3)),
    ("...ij,...jk", (2, 1, 3, 4), (5, 4, 2)),
    ("...ij->...ji", (2, 3, 4)),
    ("i...->...", (2, 3, 4)),
    ("a...b,b->...a", (2, 3, 4), (4,)),
    ("ij,ij->ij", (1, 3), (2, 3)),
    ("ij,jk->ik", (2, 1), (3, 2)),
    ("Ba,aC", (2, 3), (3, 4)),
    ("i j , j k", (2, 3), (3, 2)),
    ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    ("bhqd,bhkd->bhqk", (1, 2, 3, 4), (1, 2, 5, 4)),
    ("...", ()),
    ("ij,jk->ik", (0, 3), (3, 2)),
]


def _einsum_samples(dtype, rng):
    for equation, *shapes in EINSUM_CASES:
        layouts = ["T" if i == 0 and len(s) >= 2 else "contiguous" for i, s in enumerate(shapes)]
        operands = tuple(arg(s, dtype, rng, lay) for s, lay in zip(shapes, layouts))
        yield Sample((equation, *operands), desc=equation)
    a, b = arg((2, 3), dtype, rng), arg((3,), dtype, rng)
    yield Sample(("ij,j", [a, b]), desc="operands as a list")
    yield Sample((a, [0, 1], b, [1], [0]), desc="sublists")
    yield Sample((a, [Ellipsis, 1], b, [1]), desc="sublists with an ellipsis")


def _einsum_errors():
    x, v = ones(2, 3), ones(3)
    return [
        E("i,i", ones(2), ones(3), names=("i", "3", "2"), desc="sizes clash"),
        E("ij,jk", x, desc="too few operands"),
        E("i", v, v, desc="too many operands"),
        E("i->j", v, names=("j",), desc="output letter not in the inputs"),
        E("ii->i", x, desc="repeated letter, sizes differ"),
        E("ij", v, desc="too many letters"),
        E("i", x, desc="too few letters"),
        E("...ij", v, desc="more letters than dims"),
        E("i......", v, desc="two ellipses"),
        E("i.", v, desc="a lone dot"),
        E("ij-", x, names=("2",), desc="a bad character"),
        E("i->ii", v, desc="output letter twice"),
        E("i,i", ones(3), ones(3, dtype="float64"), names=("Float", "Double"), desc="dtypes"),
        E("i,i", ones(3, dtype="bool"), ones(3, dtype="bool"), desc="bools"),
        E(3, ones(3), desc="equation not a str"),
        E("i", 3, desc="operand not a tensor"),
    ]


NEW_OPS = [
    OpInfo("repeat", _repeat_samples, ALL, function=False, errors=_repeat_errors),
    OpInfo("index_select", _index_select_samples, ALL, errors=_index_select_errors),
    OpInfo("amax", _amax_samples, ALL, errors=_amax_errors),
    OpInfo("amin", _amax_samples, ALL, errors=_amax_errors),
    OpInfo("unbind", _unbind_samples, ALL, view=True, errors=_unbind_errors),
    OpInfo("isnan", _special_samples, ALL, grad=False),
    OpInfo("isinf", _special_samples, ALL, grad=False),
    OpInfo("isfinite", _special_samples, ALL, grad=False),
    OpInfo(
        "einsum",
        _einsum_samples,
        NUMERIC,
        method=False,
        check_strides=False,  # torch returns some results as permuted views; ours are copies
        errors=_einsum_errors,
    ),
]
