"""Registry entries for the ops that real programs reached for and the package lacked:
``repeat``, ``index_select``, ``amax``/``amin``, ``unbind``, ``isnan``/``isinf``/``isfinite``,
``einsum``; then ``bincount``, ``diagonal``, ``diag``, ``equal``, ``nan_to_num``, ``outer``,
``count_nonzero``, ``meshgrid`` and ``tensor_split``. ``tests/test_ops_added.py`` generates
their cases (values, dtypes, shapes, gradients, second derivatives, central differences,
and torch's exception types)."""

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


# ---------------------------------------------------------------- bincount


def _bincount_samples(dtype, rng):
    values = index([0, 3, 3, 1, 0, 3])
    yield Sample((values,), desc="counts")
    yield Sample((values,), dict(minlength=6), desc="minlength above the max")
    yield Sample((values,), dict(minlength=2), desc="minlength below the max")
    yield Sample((index([2, 0], "int32"),), desc="int32 values")
    yield Sample((index([], "int64"),), desc="empty")
    yield Sample((index([], "int64"),), dict(minlength=3), desc="empty with minlength")
    yield Sample((values, arg((6,), dtype, rng)), desc="weights")
    yield Sample((values,), dict(weights=arg((6,), dtype, rng, "slice"), minlength=5))


def _bincount_errors():
    return [
        E(index([1, -1]), names=("non-negative",), desc="a negative value"),
        E(index([[1, 2]]), desc="2-d"),
        E(index(1), desc="0-d"),
        E(ones(2), desc="float values"),
        E(ones(2, dtype="bool"), desc="bool values"),
        E(index([1, 2]), minlength=-1, desc="negative minlength"),
        E(index([1, 2]), minlength=2.0, desc="float minlength"),
        E(index([1, 2]), ones(3), desc="weights of another length"),
        E(index([1, 2]), ones(1, 2), desc="2-d weights"),
    ]


# ---------------------------------------------------------------- diagonal, diag


def _diagonal_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x,))
    yield Sample((x, 1), desc="offset 1")
    yield Sample((x, -2), desc="offset -2")
    yield Sample((x, 5), desc="offset past the edge: empty")
    yield Sample((arg((3, 4), dtype, rng, "T"),), dict(offset=-1), desc="transposed")
    yield Sample((x,), dict(dim1=1, dim2=0), desc="dims swapped")
    yield Sample((x, 1, 1, 0), desc="dims swapped, offset 1")
    yield Sample((arg((2, 3, 4), dtype, rng),), dict(offset=1, dim1=-1, dim2=0), desc="3-d")
    yield Sample((arg((2, 3, 3), dtype, rng, "slice"), 0, 1, 2), desc="batched")


def _diagonal_errors():
    return [
        E(ones(3, 4), dim1=1, dim2=1, names=("1",), desc="same dims"),
        E(ones(3, 4), dim1=2, desc="dim out of range"),
        E(ones(3), desc="1-d"),
        E(ones(), desc="0-d"),
    ]


def _diag_samples(dtype, rng):
    yield Sample((arg((3,), dtype, rng),), desc="vector")
    yield Sample((arg((3,), dtype, rng, "slice"), 1), desc="vector, above")
    yield Sample((arg((2,), dtype, rng), -2), desc="vector, below")
    yield Sample((arg((0,), dtype, rng),), desc="empty vector")
    yield Sample((arg((3, 4), dtype, rng),), desc="matrix")
    yield Sample((arg((3, 4), dtype, rng, "T"), -1), desc="matrix, transposed, below")
    yield Sample((arg((3, 4), dtype, rng), 2), desc="matrix, above")


def _diag_errors():
    return [
        E(ones(2, 2, 2), names=("3D",), desc="3-d"),
        E(ones(), names=("0D",), desc="0-d"),
    ]


# ---------------------------------------------------------------- equal


def _equal_samples(dtype, rng):
    x = arg((2, 3), dtype, rng)
    yield Sample((x, Arg(x.data.copy())), desc="equal")
    yield Sample((x, Arg(x.data.copy(), "T")), desc="equal, other transposed")
    yield Sample((x, arg((2, 3), dtype, rng)), desc="different values")
    yield Sample((x, arg((3,), dtype, rng)), desc="different shapes")
    yield Sample((x, Arg(x.data.astype("float64"))), desc="another dtype")
    yield Sample((arg((), dtype, rng), arg((1,), dtype, rng)), desc="0-d and 1-d")
    if dtype in FLOATS:
        nan = np.array([1.0, np.nan], dtype=dtype)
        yield Sample((Arg(nan), Arg(nan.copy())), desc="nan")


def _equal_errors():
    return [E(ones(2), 3, desc="a number"), E(ones(2), None, desc="None")]


# ---------------------------------------------------------------- nan_to_num


def _nan_to_num_samples(dtype, rng):
    yield Sample((arg((2, 3), dtype, rng),))
    yield Sample((arg((2, 3), dtype, rng, "T"), 1.5))
    if dtype in FLOATS:
        x = np.array([[0.5, np.nan, np.inf], [-np.inf, -1.5, 2.0]], dtype=dtype)
        yield Sample((Arg(x),), desc="defaults", central=False)
        yield Sample((Arg(x, "T"),), dict(nan=1.0, posinf=9.0, neginf=-9.0), central=False)
        yield Sample((Arg(x),), dict(posinf=1e300), desc="posinf overflows", central=False)
        yield Sample((Arg(x[0]), 2), dict(neginf=-3), desc="int replacements", central=False)


def _nan_to_num_errors():
    return [
        E(ones(2), nan="a", names=("nan",), desc="a str nan"),
        E(ones(2), posinf=[1.0], desc="a list posinf"),
    ]


# ---------------------------------------------------------------- outer


def _outer_samples(dtype, rng):
    yield Sample((arg((3,), dtype, rng), arg((2,), dtype, rng)))
    yield Sample((arg((3,), dtype, rng, "slice"), arg((1,), dtype, rng)))
    yield Sample((arg((0,), dtype, rng), arg((2,), dtype, rng)), desc="empty")
    other = "int64" if dtype != "int64" else "float32"
    yield Sample((arg((3,), dtype, rng), arg((2,), other, rng)), desc="mixed dtypes")


def _outer_errors():
    return [
        E(ones(3, 1), ones(2), names=("self", "2-D"), desc="2-d input"),
        E(ones(3), ones(), names=("vec2", "0-D"), desc="0-d vec2"),
        E(ones(3), 2.0, desc="a number"),
    ]


# ---------------------------------------------------------------- count_nonzero


def _count_nonzero_samples(dtype, rng):
    x = Arg(np.array([[0, 1, 2], [0, 0, 3]], dtype=dtype))
    yield Sample((x,))
    yield Sample((x, 0))
    yield Sample((x,), dict(dim=-1))
    yield Sample((x,), dict(dim=(0, 1)), desc="a tuple of dims")
    yield Sample((Arg(x.data, "T"), 1), desc="transposed")
    yield Sample((arg((), dtype, rng),), desc="0-d")
    yield Sample((arg((), dtype, rng), 0), desc="0-d, dim 0")
    yield Sample((arg((0, 3), dtype, rng), 0), desc="empty")


def _count_nonzero_errors():
    return [
        E(ones(2, 3), dim=2, names=("2",), desc="dim out of range"),
        E(ones(2, 3), dim=(0, 0), desc="a repeated dim"),
    ]


# ---------------------------------------------------------------- meshgrid


def _meshgrid_samples(dtype, rng):
    a, b, c = arg((2,), dtype, rng), arg((3,), dtype, rng, "slice"), arg((4,), dtype, rng)
    for indexing in ("ij", "xy"):
        yield Sample((a, b), dict(indexing=indexing), desc=f"two, {indexing}")
        yield Sample((a, b, c), dict(indexing=indexing), desc=f"three, {indexing}")
        yield Sample(([a, b],), dict(indexing=indexing), desc=f"a list, {indexing}")
        yield Sample((a,), dict(indexing=indexing), desc=f"one, {indexing}")
        yield Sample((arg((), dtype, rng), b), dict(indexing=indexing), desc=f"0-d, {indexing}")
    yield Sample((a, b), desc="no indexing: ij, with a warning")


def _meshgrid_errors():
    return [
        E(ones(2), ones(3), indexing="yx", names=("yx",), desc="unknown indexing"),
        E(ones(2, 2), ones(3), indexing="ij", desc="2-d"),
        E(ones(2), ones(3, dtype="float64"), indexing="ij", desc="dtypes differ"),
        E(indexing="ij", desc="no tensors"),
    ]


# ---------------------------------------------------------------- tensor_split


def _tensor_split_samples(dtype, rng):
    x = arg((3, 4), dtype, rng)
    yield Sample((x, 3, 1), desc="sections, uneven")
    yield Sample((x, 3), desc="sections, even")
    yield Sample((x, 5), desc="more sections than rows")
    yield Sample((x, (1, 5)), dict(dim=1), desc="indices, one past the end")
    yield Sample((x, [3, 1]), desc="indices out of order")
    yield Sample((x, (-2, 4)), dict(dim=-1), desc="a negative index")
    yield Sample((x, ()), desc="no indices")
    yield Sample((arg((4, 3), dtype, rng, "T"), 2, 0), desc="transposed")
    yield Sample((x, index([1, 2])), desc="indices as a tensor")
    yield Sample((x, index(2)), desc="sections as a 0-d tensor")


def _tensor_split_errors():
    return [
        E(ones(3, 4), 0, names=("0",), desc="zero sections"),
        E(ones(3, 4), -1, names=("-1",), desc="negative sections"),
        E(ones(), 2, desc="0-d"),
        E(ones(3, 4), 2, 2, desc="dim out of range"),
        E(ones(3, 4), index([1], "int32"), names=("Int",), desc="int32 indices"),
        E(ones(3, 4), Arg(np.array([1.0])), desc="float indices"),
        E(ones(3, 4), index([[1]]), names=("2 dims",), desc="2-d indices"),
        E(ones(3, 4), [1.5], desc="a float index"),
        E(ones(3, 4), 2.0, desc="float sections"),
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
    OpInfo("bincount", _bincount_samples, ALL, grad=False, errors=_bincount_errors),
    OpInfo("diagonal", _diagonal_samples, ALL, view=True, errors=_diagonal_errors),
    OpInfo("diag", _diag_samples, ALL, errors=_diag_errors),
    OpInfo("equal", _equal_samples, ALL, grad=False, errors=_equal_errors),
    OpInfo("nan_to_num", _nan_to_num_samples, ALL, errors=_nan_to_num_errors),
    OpInfo("outer", _outer_samples, ALL, errors=_outer_errors),
    OpInfo("count_nonzero", _count_nonzero_samples, ALL, grad=False, errors=_count_nonzero_errors),
    OpInfo("meshgrid", _meshgrid_samples, ALL, method=False, view=True, errors=_meshgrid_errors),
    OpInfo("tensor_split", _tensor_split_samples, ALL, view=True, errors=_tensor_split_errors),
]
