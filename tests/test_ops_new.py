"""The ops the later chapters need, against torch: ``tril``/``triu``/``narrow``,
``gather``/``scatter``/``scatter_add``, ``sort``/``argsort``/``topk``, ``cumsum``,
``//``/``%``/``&``/``|``/``^``/``~``, ``multinomial`` and ``randint``.

torch is the oracle throughout: values, dtype and shape; gradients, and second derivatives
through ``create_graph``; float64 central differences (``gradcheck``); and, for bad input, the
exception type torch raises on the same input, with our message naming the offending value.
"""

# ruff: noqa: B023  (the lambdas inside loops are called at once, inside the same iteration)
from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import assert_same, both, check_grads, dtype_name, gradcheck, make, raises_like

import aigc_course as ac

RNG_SEED = 0


def floats(*shape, seed=0, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


# ---------------------------------------------------------------- the names exist


NEW_FUNCTIONS = [
    "tril",
    "triu",
    "narrow",
    "gather",
    "scatter",
    "scatter_add",
    "sort",
    "argsort",
    "topk",
    "cumsum",
    "cumprod",
    "floor_divide",
    "remainder",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "multinomial",
    "randint",
]


@pytest.mark.parametrize("name", NEW_FUNCTIONS)
def test_top_level_function_exists_with_docstring(name):
    fn = getattr(ac, name)
    assert callable(fn) and fn.__doc__
    assert getattr(torch, name)  # the same name as torch's


@pytest.mark.parametrize("name", [n for n in NEW_FUNCTIONS if n != "randint"])
def test_tensor_method_exists(name):
    assert callable(getattr(ac.Tensor, name))


# ---------------------------------------------------------------- tril, triu


TRIANGLE_SHAPES = [(3, 3), (2, 4), (4, 2), (2, 3, 4), (0, 3), (2, 0, 2)]


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("shape", TRIANGLE_SHAPES)
@pytest.mark.parametrize("diagonal", [-5, -1, 0, 1, 3])
def test_triangle_values(name, shape, diagonal):
    x = floats(*shape).astype(np.float32)
    assert_same(*both(lambda lib, t: getattr(lib, name)(t, diagonal), x), strides=True)
    assert_same(*both(lambda lib, t: getattr(t, name)(diagonal=diagonal), x), strides=True)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float64])
def test_triangle_dtypes(name, dtype):
    x = (floats(3, 4) * 3).astype(dtype)
    assert_same(*both(lambda lib, t: getattr(lib, name)(t, 1), x), strides=True)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_triangle_gradients(name, diagonal):
    x = floats(2, 3, 4)
    check_grads(lambda lib, t: getattr(lib, name)(t, diagonal) * t, x)
    gradcheck(lambda lib, t: getattr(lib, name)(t * t, diagonal), x)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, name, t: getattr(lib, name)(t),  # 1-d
        lambda lib, name, t: getattr(lib, name)(t.sum()),  # 0-d
        lambda lib, name, t: getattr(lib, name)(t.reshape(1, 3), 1.5),  # float diagonal
    ],
    ids=["1d", "0d", "float-diagonal"],
)
def test_triangle_errors(name, fn):
    raises_like(lambda lib, t: fn(lib, name, t), floats(3))


# ---------------------------------------------------------------- narrow


@pytest.mark.parametrize(
    "args",
    [(0, 0, 2), (0, 1, 2), (1, 1, 3), (-1, -3, 2), (1, 4, 0), (1, 0, 4), (0, -2, 1)],
)
def test_narrow_values_and_gradients(args):
    x = floats(3, 4)
    assert_same(*both(lambda lib, t: lib.narrow(t, *args), x), strides=True)
    assert_same(*both(lambda lib, t: t.narrow(*args), x), strides=True)
    check_grads(lambda lib, t: t.narrow(*args) * 2, x)


def test_narrow_start_as_tensor_and_view_semantics():
    x = ac.arange(12.0).reshape(3, 4)
    ours = x.narrow(1, ac.tensor(1), 2)
    theirs = torch.arange(12.0).reshape(3, 4).narrow(1, torch.tensor(1), 2)
    assert_same(ours, theirs, strides=True)
    ours.fill_(-1.0)  # a view: writing to it writes to x, as in torch
    assert (x[:, 1:3] == -1.0).all().item() and x[0, 0].item() == 0.0


@pytest.mark.parametrize(
    "args, named",
    [
        ((1, 5, 1), "5"),  # start out of range
        ((1, -5, 1), "-5"),
        ((1, 1, 5), "5"),  # start + length too long
        ((1, 1, -1), "-1"),  # negative length
        ((2, 0, 1), "2"),  # dim out of range
        ((0, 0.5, 1), "float"),  # start not an int
    ],
)
def test_narrow_errors(args, named):
    raises_like(lambda lib, t: t.narrow(*args), floats(3, 4), match=named)


def test_narrow_0d_error():
    raises_like(lambda lib, t: t.sum().narrow(0, 0, 1), floats(3))


# ---------------------------------------------------------------- gather, scatter, scatter_add


GATHER_CASES = [
    # (input shape, dim, index shape)
    ((5,), 0, (7,)),
    ((3, 4), 0, (2, 4)),
    ((3, 4), 1, (3, 6)),
    ((3, 4), -1, (2, 2)),  # index smaller than input in the other dimension
    ((2, 3, 4), 1, (2, 5, 3)),
    ((2, 3, 4), -3, (1, 1, 1)),
    ((3, 4), 1, (3, 0)),  # empty
    ((), 0, ()),  # 0-d
    ((), -1, (3,)),
]


def gather_index(in_shape, dim, ix_shape, seed=0):
    size = in_shape[dim] if in_shape else 1
    return np.random.default_rng(seed).integers(0, size, ix_shape).astype(np.int64)


@pytest.mark.parametrize("in_shape, dim, ix_shape", GATHER_CASES)
def test_gather_values_and_gradients(in_shape, dim, ix_shape):
    x, index = floats(*in_shape), gather_index(in_shape, dim, ix_shape)
    assert_same(*both(lambda lib, t, i: lib.gather(t, dim, i), x, index), strides=True)
    assert_same(*both(lambda lib, t, i: t.gather(dim, i), x, index), strides=True)
    # repeated indices: the gradients of every copy add up
    ix = make(torch, index), make(ac, index)
    check_grads(lambda lib, t: t.gather(dim, ix[lib is ac]) * t.gather(dim, ix[lib is ac]), x)
    gradcheck(lambda lib, t: (t.gather(dim, ix[lib is ac]) ** 2).sum(), x)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float32])
def test_gather_dtypes_and_int32_index(dtype):
    x = (floats(3, 4) * 3).astype(dtype)
    index = gather_index((3, 4), 1, (3, 2)).astype(np.int32)
    assert_same(*both(lambda lib, t, i: t.gather(1, i), x, index), strides=True)


@pytest.mark.parametrize(
    "index, dim, named",
    [
        (np.array([[0, 5], [1, 2]]), 1, "5"),  # out of range
        (np.array([[0, -1], [1, 2]]), 1, "-1"),  # negative
        (np.array([[7, 0, 0]]), 0, "7"),
        (np.array([0, 1]), 1, None),  # wrong number of dimensions
        (np.array([[0, 1, 1, 1], [1, 0, 0, 0]]), 0, r"\[2, 4\]"),  # too large
        (np.array([[0, 1], [1, 0]]), 2, "2"),  # bad dim
        (np.array([[0.0, 1.0]]), 1, "int"),  # float index
    ],
)
def test_gather_errors(index, dim, named):
    raises_like(lambda lib, t, i: t.gather(dim, i), floats(2, 3), index, match=named)


SCATTER_CASES = [
    # (input shape, dim, index shape, src shape); the index never repeats a place
    ((5,), 0, (3,), (3,)),
    ((3, 4), 0, (2, 4), (2, 4)),
    ((3, 4), 1, (3, 2), (3, 2)),
    ((3, 4), -1, (2, 2), (3, 3)),  # src larger than index: only its leading block is read
    ((2, 3, 4), 1, (2, 2, 3), (2, 2, 3)),
    ((3, 4), 1, (3, 0), (3, 0)),
    ((), 0, (), ()),
]


def distinct_index(in_shape, dim, ix_shape, seed=0):
    """Indices along ``dim`` without repeats (a permutation's first entries per fibre)."""
    if not in_shape:
        return np.zeros((), dtype=np.int64)
    rng = np.random.default_rng(seed)
    size = in_shape[dim]
    moved = np.moveaxis(np.empty(ix_shape), dim, -1)
    out = np.empty(moved.shape, dtype=np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        out[pos] = rng.permutation(size)[: moved.shape[-1]]
    return np.moveaxis(out, -1, dim)


@pytest.mark.parametrize("in_shape, dim, ix_shape, src_shape", SCATTER_CASES)
def test_scatter_values_and_gradients(in_shape, dim, ix_shape, src_shape):
    x, src = floats(*in_shape), floats(*src_shape, seed=1)
    index = distinct_index(in_shape, dim, ix_shape)
    assert_same(*both(lambda lib, t, i, s: lib.scatter(t, dim, i, s), x, index, src), strides=True)
    assert_same(*both(lambda lib, t, i, s: t.scatter(dim, i, s), x, index, src), strides=True)
    assert_same(*both(lambda lib, t, i: t.scatter(dim, i, 2.5), x, index), strides=True)
    assert_same(*both(lambda lib, t, i: lib.scatter(t, dim, i, value=-1.0), x, index), strides=True)
    ix = make(torch, index), make(ac, index)
    if src_shape == ix_shape:  # torch's backward fails when src is larger than index
        check_grads(lambda lib, t, s: t.scatter(dim, ix[lib is ac], s) * t, x, src)
    gradcheck(lambda lib, t, s: t.scatter(dim, ix[lib is ac], s * s), x, src)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("in_shape, dim, ix_shape, src_shape", SCATTER_CASES)
def test_scatter_add_values_and_gradients(in_shape, dim, ix_shape, src_shape):
    x, src = floats(*in_shape), floats(*src_shape, seed=1)
    index = gather_index(in_shape, dim, ix_shape, seed=2)  # repeats add up
    assert_same(
        *both(lambda lib, t, i, s: lib.scatter_add(t, dim, i, s), x, index, src), strides=True
    )
    assert_same(*both(lambda lib, t, i, s: t.scatter_add(dim, i, s), x, index, src), strides=True)
    assert_same(
        *both(lambda lib, t, i, s: t.scatter(dim, i, s, reduce="add"), x, index, src), strides=True
    )
    ix = make(torch, index), make(ac, index)
    if src_shape == ix_shape:  # torch's backward fails when src is larger than index
        check_grads(lambda lib, t, s: t.scatter_add(dim, ix[lib is ac], s * s) * t, x, src)
    gradcheck(lambda lib, t, s: t.scatter_add(dim, ix[lib is ac], s * t.sum()), x, src)


def test_scatter_value_is_cast_to_the_input_dtype():
    index = np.array([[0, 1], [1, 2]])
    assert_same(
        *both(lambda lib, t, i: t.scatter(1, i, 7.5), np.arange(6).reshape(2, 3), index),
        strides=True,
    )


@pytest.mark.parametrize("name", ["scatter", "scatter_add"])
@pytest.mark.parametrize(
    "index, src, dim, named",
    [
        (np.array([[0, 5], [1, 2]]), floats(2, 2), 1, "5"),  # out of range
        (np.array([[0, 1], [-2, 2]]), floats(2, 2), 1, "-2"),
        (np.array([[0, 1], [1, 2]]), floats(1, 1), 1, r"\[1, 1\]"),  # src too small
        (np.array([[0, 1], [1, 2]]), floats(4), 1, "1"),  # src dims
        (np.array([[0, 1], [1, 2]]), floats(1, 2, 2), 1, "src"),
        (np.array([0, 1]), floats(2), 1, None),  # index dims
        (np.array([[0, 1], [1, 2]]), floats(2, 2).astype(np.float32), 1, "float32"),  # dtype
        (np.array([[0, 1], [1, 2]]), floats(2, 2), -3, "-3"),  # bad dim
    ],
)
def test_scatter_errors(name, index, src, dim, named):
    x = floats(2, 3)
    raises_like(lambda lib, t, i, s: getattr(t, name)(dim, i, s), x, index, src, match=named)


def test_scatter_error_leaves_the_input_unchanged():
    x = ac.zeros(2, 3)
    with pytest.raises(RuntimeError):
        x.scatter(1, ac.tensor([[0, 9]]), ac.ones(1, 2))
    assert (x == 0).all().item()


# ---------------------------------------------------------------- sort, argsort, topk


SORT_DATA = {
    "distinct": np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.float32),
    "ties": np.random.default_rng(1).integers(0, 3, (3, 8)).astype(np.float64),
    "nan": np.array([[1.0, np.nan, -2.0, 1.0, np.inf, -np.inf, np.nan, 0.0]], np.float32),
    "int": np.random.default_rng(2).integers(-5, 5, (4, 6)),
    "bool": np.random.default_rng(3).random((3, 5)) < 0.5,
    "0d": np.array(2.5, np.float32),
    "empty": np.zeros((2, 0), np.float32),
}


def dims_of(array):
    return range(-max(array.ndim, 1), max(array.ndim, 1))


@pytest.mark.parametrize("name", SORT_DATA)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable_against_torch(name, descending):
    x = SORT_DATA[name]
    for dim in dims_of(x):
        # stable=True: values and indices must both match, ties keep their order
        assert_same(
            *both(lambda lib, t: lib.sort(t, dim=dim, descending=descending, stable=True), x),
            strides=True,
        )
        assert_same(
            *both(lambda lib, t: t.sort(dim=dim, descending=descending, stable=True), x),
            strides=True,
        )
        assert_same(
            *both(lambda lib, t: lib.argsort(t, dim=dim, descending=descending, stable=True), x),
            strides=True,
        )
        ours, theirs = both(lambda lib, t: lib.sort(t, dim=dim, descending=descending), x)
        assert_same(
            ours.values, theirs.values, strides=True
        )  # without stable, only the values are promised
        if x.ndim:
            assert_same(ac.tensor(x).gather(dim, ours.indices), theirs.values, strides=True)


def test_sort_result_is_a_named_pair_and_indices_gather_the_values():
    x = ac.tensor(SORT_DATA["ties"])
    values, indices = ac.sort(x, dim=1, descending=True)
    assert values is not None and ac.sort(x).values.shape == x.shape
    assert (x.gather(1, indices) == values).all().item()
    assert ac.argsort(x).dtype is ac.int64


def test_sort_default_is_ascending_last_dim():
    assert_same(*both(lambda lib, t: lib.sort(t), SORT_DATA["distinct"]), strides=True)
    assert_same(*both(lambda lib, t: t.argsort(), SORT_DATA["distinct"]), strides=True)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_gradients(descending):
    x = SORT_DATA["distinct"].astype(np.float64)
    for dim in (0, -1):
        check_grads(lambda lib, t: lib.sort(t * t, dim, descending).values * t, x)
    gradcheck(lambda lib, t: lib.sort(t, -1, descending).values[..., :2] ** 2, x)


@pytest.mark.parametrize("name", ["distinct", "ties", "nan", "int", "0d", "empty"])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_against_torch(name, largest):
    x = SORT_DATA[name]
    for dim in dims_of(x):
        size = x.shape[dim] if x.ndim else 1
        for k in sorted({0, min(1, size), size // 2, size}):
            ours, theirs = both(lambda lib, t: lib.topk(t, k, dim, largest), x)
            assert_same(ours.values, theirs.values, strides=True)
            assert (
                dtype_name(ours.indices) == "int64" and ours.indices.shape == theirs.indices.shape
            )
            assert_same(
                ac.tensor(x).gather(dim, ours.indices) if x.ndim else ours.values,
                theirs.values,
                strides=True,
            )  # our indices point at torch's values
            if name == "distinct":
                assert_same(ours.indices, theirs.indices, strides=True)


@pytest.mark.parametrize("seed", range(4))
def test_topk_is_the_stable_sort_prefix(seed):
    """topk's indices are the first k of torch's stable sort, ties included (our contract;
    torch only promises the values)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, (3, 40, 4)).astype([np.float32, np.int64, np.int8, np.float64][seed])
    for dim in (0, 1, -1):
        n = x.shape[dim]
        for k in (1, 3, n // 2, n - 1):
            for largest in (True, False):
                ours = ac.topk(ac.tensor(x), k, dim, largest)
                sort = torch.sort(torch.tensor(x), dim=dim, descending=largest, stable=True)
                assert_same(ours.values, sort.values.narrow(dim, 0, k).contiguous(), strides=True)
                assert_same(ours.indices, sort.indices.narrow(dim, 0, k).contiguous(), strides=True)


def test_topk_keywords_and_unsorted():
    x = SORT_DATA["distinct"]
    assert_same(*both(lambda lib, t: t.topk(2, dim=1, largest=False, sorted=True), x), strides=True)
    ours = ac.tensor(x).topk(3, sorted=False)
    theirs = torch.tensor(x).topk(3, sorted=False)
    assert_same(ours.values.sort().values, theirs.values.sort().values, strides=True)


def test_topk_gradients():
    x = SORT_DATA["distinct"].astype(np.float64)
    check_grads(lambda lib, t: lib.topk(t * t, 2, dim=1).values * t[:, :2], x)
    gradcheck(lambda lib, t: lib.topk(t, 3, largest=False).values ** 2, x)


@pytest.mark.parametrize(
    "fn, named",
    [
        (lambda lib, t: lib.topk(t, 5), "5"),
        (lambda lib, t: lib.topk(t, -1), "-1"),
        (lambda lib, t: lib.topk(t, 2, dim=2), "2"),
        (lambda lib, t: lib.topk(t, 1.5), "float"),
        (lambda lib, t: lib.sort(t, dim=3), "3"),
        (lambda lib, t: lib.argsort(t, dim=-3), "-3"),
    ],
)
def test_sorting_errors(fn, named):
    raises_like(fn, floats(3, 4), match=named)


# ---------------------------------------------------------------- cumsum


CUMSUM_SHAPES = [(), (0,), (4,), (2, 3), (2, 0, 3), (2, 3, 4)]


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape", CUMSUM_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
def test_scan_every_dim(name, shape, dtype):
    x = (floats(*shape) * 3).astype(dtype)
    for dim in dims_of(x):
        assert_same(*both(lambda lib, t: getattr(lib, name)(t, dim), x), rtol=1e-5, strides=True)
        assert_same(*both(lambda lib, t: getattr(t, name)(dim=dim), x), rtol=1e-5, strides=True)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_scan_dtype_argument(name, dtype):
    x = np.array([[1, 2, 3], [4, 5, 6]])
    ours = getattr(ac, name)(ac.tensor(x), 1, dtype=getattr(ac, dtype))
    theirs = getattr(torch, name)(torch.tensor(x), 1, dtype=getattr(torch, dtype))
    assert_same(ours, theirs, strides=True)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4), (0, 3)])
def test_scan_gradients(name, shape):
    x = floats(*shape)
    for dim in dims_of(x):
        check_grads(lambda lib, t: getattr(lib, name)(t * t, dim) * t, x)
        gradcheck(lambda lib, t: getattr(lib, name)(t * t, dim), x)


@pytest.mark.parametrize(
    "x",
    [
        np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]]),  # two zeros in a row
        np.array([[0.0, 1.5], [-2.0, 0.0], [0.5, 3.0]]),  # zeros first and last
        np.zeros((2, 3)),
    ],
    ids=["two-zeros", "zero-first-last", "all-zero"],
)
def test_cumprod_gradients_with_zeros(x):
    """Where x has zeros, dx cannot divide by x: first and second derivatives still equal
    torch's (and central differences, away from the double zeros)."""
    for dim in dims_of(x):
        check_grads(lambda lib, t: lib.cumprod(t, dim), x)
        check_grads(lambda lib, t: lib.cumprod(t, dim) * t, x)
    gradcheck(lambda lib, t: lib.cumprod(t, -1), x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize(
    "fn, named",
    [
        (lambda lib, name, t: getattr(lib, name)(t, 2), "2"),
        (lambda lib, name, t: getattr(lib, name)(t, -3), "-3"),
        (lambda lib, name, t: getattr(lib, name)(t, dim=1.0), "float"),
        (lambda lib, name, t: getattr(t.sum(), name)(1), "1"),
    ],
)
def test_scan_errors(name, fn, named):
    raises_like(lambda lib, t: fn(lib, name, t), floats(2, 3), match=named)


# ---------------------------------------------------------------- //, %, &, |, ^, ~


INT_PAIRS = [
    (np.array([7, -7, 7, -7, 0, 5, -1]), np.array([2, 2, -2, -2, 3, 7, 3])),
    (np.arange(-6, 6).reshape(3, 4), np.array([3, -2, 5, -7])),  # broadcast
    (np.array(-9), np.array([4, -4])),  # 0-d with 1-d
    (np.zeros((0, 2), np.int64), np.array([1, 2])),  # empty
]


@pytest.mark.parametrize("x, y", INT_PAIRS)
def test_integer_floor_division_and_remainder_follow_python(x, y):
    assert_same(*both(lambda lib, a, b: a // b, x, y), strides=True)
    assert_same(*both(lambda lib, a, b: a % b, x, y), strides=True)
    assert_same(*both(lambda lib, a, b: lib.floor_divide(a, b), x, y), strides=True)
    assert_same(*both(lambda lib, a, b: lib.remainder(a, b), x, y), strides=True)
    # and Python's own // and % on the same numbers (floor semantics for negatives)
    xs, ys = np.broadcast_arrays(x, y)
    expected = [[int(a) // int(b), int(a) % int(b)] for a, b in zip(xs.flat, ys.flat)]
    got = zip(
        (ac.tensor(x) // ac.tensor(y)).numpy().flat, (ac.tensor(x) % ac.tensor(y)).numpy().flat
    )
    assert [list(map(int, p)) for p in got] == expected


FLOAT_X = np.array([7.5, -7.5, 7.5, -7.5, 0.0, -0.0, 3.0, -4.0, 1e30, 5.0, -5.0, np.nan, np.inf])
FLOAT_Y = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, 0.0, 2.0, 7.0, np.inf, np.inf, 1.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_floor_division_and_remainder_match_torch(dtype):
    x, y = FLOAT_X.astype(dtype), FLOAT_Y.astype(dtype)
    assert_same(*both(lambda lib, a, b: a // b, x, y), strides=True)
    assert_same(*both(lambda lib, a, b: a % b, x, y), strides=True)
    # the sign of zero results too (torch's fmod-based remainder gives -0.0 for -4 % 2)
    ours = (ac.tensor(x) % ac.tensor(y)).numpy()
    theirs = (torch.tensor(x) % torch.tensor(y)).numpy()
    number = ~np.isnan(theirs)
    np.testing.assert_array_equal(np.signbit(ours[number]), np.signbit(theirs[number]))


SCALARS = [3, -2, 2.5, -0.75, True]


@pytest.mark.parametrize("scalar", SCALARS)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.uint8])
@pytest.mark.parametrize("op", ["//", "%"])
def test_division_ops_with_scalars_both_sides(scalar, dtype, op):
    x = np.array([[7, 1, 5], [3, 9, 2]]).astype(dtype)
    forward = {"//": lambda a, b: a // b, "%": lambda a, b: a % b}[op]
    assert_same(*both(lambda lib, a: forward(a, scalar), x), strides=True)
    assert_same(*both(lambda lib, a: forward(scalar, a), x), strides=True)  # reflected


DTYPES = [np.bool_, np.uint8, np.int8, np.int32, np.int64, np.float32, np.float64]


def outcome(fn):
    """What ``fn()`` gives: (the dtype name, values) or the exception type."""
    try:
        out = fn()
    except Exception as e:
        return type(e)
    return dtype_name(out), out.detach().numpy().tolist()


@pytest.mark.parametrize("op", ["//", "%", "&", "|", "^"])
@pytest.mark.parametrize("left", DTYPES)
def test_promotion_table_against_torch(op, left):
    """Every dtype pair, and every dtype with a Python bool, int and float, on both sides:
    the same result dtype and values as torch, or the same exception type."""
    forward = {
        "//": lambda a, b: a // b,
        "%": lambda a, b: a % b,
        "&": lambda a, b: a & b,
        "|": lambda a, b: a | b,
        "^": lambda a, b: a ^ b,
    }[op]
    x = np.array([5, 2, 1, 7]).astype(left)
    for right in [*DTYPES, "py-bool", "py-int", "py-float", "0d-int", "0d-float"]:
        if isinstance(right, str):
            y = {"py-bool": True, "py-int": 3, "py-float": 2.5}.get(right)
            zero_d = np.array(3) if right == "0d-int" else np.array(2.5)
            pairs = [(y, y)] if y is not None else [(make(ac, zero_d), make(torch, zero_d))]
        else:
            y = np.array([3, 1, 1, 2]).astype(right)
            pairs = [(make(ac, y), make(torch, y))]
        for ours_y, torch_y in pairs:
            for swap in (False, True):
                a, t = make(ac, x), make(torch, x)
                if swap:
                    mine = outcome(lambda: forward(ours_y, a))
                    theirs = outcome(lambda: forward(torch_y, t))
                else:
                    mine = outcome(lambda: forward(a, ours_y))
                    theirs = outcome(lambda: forward(t, torch_y))
                if isinstance(theirs, tuple) and isinstance(mine, tuple):
                    assert mine[0] == theirs[0], (left, right, swap)
                    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-6)
                else:
                    assert mine == theirs, (left, right, swap, mine, theirs)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8])
@pytest.mark.parametrize("op", ["//", "%"])
def test_integer_division_by_zero_raises_like_torch(dtype, op):
    forward = {"//": lambda a, b: a // b, "%": lambda a, b: a % b}[op]
    x, y = np.array([5, 7]).astype(dtype), np.array([1, 0]).astype(dtype)
    raises_like(lambda lib, a, b: forward(a, b), x, y, match="ZeroDivisionError")
    raises_like(lambda lib, a: forward(a, 0), x, match="ZeroDivisionError")
    raises_like(lambda lib, a: forward(a, False), x, match="ZeroDivisionError")


def test_integer_overflow_wraps_like_torch():
    for dtype in (np.int8, np.int64):
        low = np.array([np.iinfo(dtype).min, 5], dtype)
        minus_one = np.array([-1, -1], dtype)
        assert_same(*both(lambda lib, a, b: a // b, low, minus_one), strides=True)
        assert_same(*both(lambda lib, a, b: a % b, low, minus_one), strides=True)


def test_remainder_gradients():
    x, y = np.array([[7.5, -7.5, 2.1], [-1.5, 4.3, 5.5]]), np.array([2.0, -3.0, 0.75])
    check_grads(lambda lib, a, b: (a % b) * a, x, y)
    check_grads(lambda lib, a, b: lib.remainder(a, 1.25) * b, x, y)
    # (torch has no derivative for Scalar % Tensor; ours is the same formula)
    gradcheck(lambda lib, a, b: 2.5 % b + a, x, y)
    gradcheck(lambda lib, a, b: a % b, x, y)


def test_floor_divide_backward_raises_like_torch():
    for lib in (torch, ac):
        x = make(lib, np.array([1.5, -2.5]), requires_grad=True)
        z = x // 2
        assert z.requires_grad
        with pytest.raises(RuntimeError, match="floor_divide"):
            z.sum().backward()


@pytest.mark.parametrize("op", ["&", "|", "^"])
def test_bitwise_values(op):
    forward = {"&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b}[op]
    name = {"&": "bitwise_and", "|": "bitwise_or", "^": "bitwise_xor"}[op]
    ints = np.random.default_rng(0).integers(-100, 100, (3, 4))
    bools = np.random.default_rng(1).random((3, 4)) < 0.5
    for x, y in [(ints, ints[::-1].copy()), (bools, bools[::-1].copy()), (ints, bools[0])]:
        assert_same(*both(lambda lib, a, b: forward(a, b), x, y), strides=True)
        assert_same(*both(lambda lib, a, b: getattr(lib, name)(a, b), x, y), strides=True)
        assert_same(*both(lambda lib, a, b: getattr(a, name)(b), x, y), strides=True)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.int8, np.bool_])
def test_bitwise_not(dtype):
    x = np.array([0, 1, 5, 127]).astype(dtype)
    assert_same(*both(lambda lib, a: ~a, x), strides=True)
    assert_same(*both(lambda lib, a: lib.bitwise_not(a), x), strides=True)
    assert_same(*both(lambda lib, a: a.bitwise_not(), x), strides=True)


def test_bitwise_errors_on_floats():
    raises_like(lambda lib, a: ~a, floats(3), match="float64")
    raises_like(lambda lib, a: a & 1, floats(3), match="Double")
    raises_like(lambda lib, a: lib.tensor([1, 2]) | a, floats(2), match="Double")
    raises_like(lambda lib, a: a ^ 1.5, np.array([1, 2]), match="Float")


def test_bool_division_errors():
    b = np.array([True, False])
    raises_like(lambda lib, a: a // a, b, match="Bool")
    raises_like(lambda lib, a: a % a, b, match="Bool")


@pytest.mark.parametrize(
    "method, op",
    [
        ("__ifloordiv__", "//"),
        ("__imod__", "%"),
        ("__iand__", "&"),
        ("__ior__", "|"),
        ("__ixor__", "^"),
    ],
)
def test_in_place_operators(method, op):
    forward = {
        "//": lambda a, b: a // b,
        "%": lambda a, b: a % b,
        "&": lambda a, b: a & b,
        "|": lambda a, b: a | b,
        "^": lambda a, b: a ^ b,
    }[op]
    x, y = np.array([7, -7, 12]), np.array([2, 3, -5])
    ours, theirs = make(ac, x), make(torch, x)
    ours_id = id(ours)
    ours = getattr(ours, method)(make(ac, y))
    theirs = getattr(theirs, method)(make(torch, y))
    assert id(ours) == ours_id
    assert_same(ours, theirs, strides=True)
    assert_same(ours, forward(torch.tensor(x), torch.tensor(y)), strides=True)


# ---------------------------------------------------------------- multinomial


P = np.array([0.1, 0.2, 0.3, 0.4])
# the 0.999 quantiles of chi-square with 3 and 11 degrees of freedom
CHI2_999 = {3: 16.27, 11: 31.26}


def chi_square(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(((counts - expected) ** 2 / expected).sum())


def test_multinomial_with_replacement_follows_the_probabilities():
    ac.manual_seed(0)
    n = 20000
    samples = ac.multinomial(ac.tensor(P * 7.0), n, replacement=True)  # unnormalised weights
    assert samples.dtype is ac.int64 and tuple(samples.shape) == (n,)
    counts = np.bincount(samples.numpy(), minlength=4)
    assert chi_square(counts, n * P) < CHI2_999[3]


def test_multinomial_without_replacement_first_and_second_draws():
    """Without replacement, P(first = i, second = j) = p_i p_j / (1 - p_i)."""
    ac.manual_seed(1)
    rows = 20000
    samples = ac.multinomial(ac.tensor(np.tile(P, (rows, 1))), 2).numpy()  # (rows, 2)
    assert (samples[:, 0] != samples[:, 1]).all()
    counts = np.zeros((4, 4))
    np.add.at(counts, (samples[:, 0], samples[:, 1]), 1)
    expected = np.array(
        [[P[i] * P[j] / (1 - P[i]) if i != j else 0 for j in range(4)] for i in range(4)]
    )
    off = ~np.eye(4, dtype=bool)
    assert chi_square(counts[off], rows * expected[off]) < CHI2_999[11]


def test_multinomial_without_replacement_gives_distinct_indices():
    ac.manual_seed(2)
    w = ac.rand(5, 10, dtype=ac.float64) + 0.01
    for k in (1, 4, 10):
        samples = ac.multinomial(w, k)
        assert tuple(samples.shape) == (5, k)
        assert all(len(set(row)) == k for row in samples.tolist())


def test_multinomial_never_draws_a_zero_weight():
    ac.manual_seed(3)
    samples = ac.multinomial(ac.tensor([0.0, 1.0, 0.0, 2.0, 0.0]), 5000, replacement=True)
    assert set(samples.tolist()) == {1, 3}
    both_nonzero = ac.multinomial(ac.tensor([[0.0, 1.0, 0.0, 2.0]] * 50), 2)
    assert all(set(row) == {1, 3} for row in both_nonzero.tolist())


def test_multinomial_is_seeded_and_takes_a_generator():
    w = ac.tensor([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    ac.manual_seed(7)
    a = w.multinomial(4, replacement=True)
    ac.manual_seed(7)
    b = ac.multinomial(w, 4, True)
    assert (a == b).all().item()
    g1, g2 = ac.Generator().manual_seed(5), ac.Generator().manual_seed(5)
    assert (ac.multinomial(w, 3, generator=g1) == ac.multinomial(w, 3, generator=g2)).all().item()
    # shape and dtype agree with torch's
    ours, theirs = both(lambda lib, t: lib.multinomial(t, 2), np.array([[0.2, 0.5, 0.3]]))
    assert dtype_name(ours) == dtype_name(theirs) and ours.shape == theirs.shape


@pytest.mark.parametrize(
    "weights, num_samples, replacement, named",
    [
        (np.array([0.2, -0.1, 0.5]), 2, False, "< 0"),
        (np.array([0.2, np.nan, 0.5]), 2, True, "nan"),
        (np.array([0.2, np.inf, 0.5]), 2, True, "inf"),
        (np.array([0.0, 0.0, 0.0]), 2, True, "sum"),
        (np.array([[1.0, 0.0], [0.0, 0.0]]), 1, True, "sum"),
        (np.array([1, 2, 3]), 2, True, "Long|int64"),
        (np.array(1.0), 1, True, "dim"),
        (np.ones((2, 2, 2)), 1, True, "3"),
        (np.array([0.2, 0.3, 0.5]), 0, True, "0"),
        (np.array([0.2, 0.3, 0.5]), 4, False, "4"),
        (np.array([0.2, 0.3, 0.5]), 2.0, True, "float"),
    ],
)
def test_multinomial_errors(weights, num_samples, replacement, named):
    raises_like(lambda lib, w: lib.multinomial(w, num_samples, replacement), weights, match=named)


# ---------------------------------------------------------------- randint


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((10, (3,)), {}),
        ((3, 10, (2, 4)), {}),
        ((10,), {"size": (5,)}),
        ((), {"low": 2, "high": 4, "size": (3, 3)}),
        ((), {"high": 4, "size": (2,)}),
        ((-5, 5, ()), {}),
        ((10, (2, 2)), {"dtype": "float32"}),
        ((10, (0, 3)), {}),
    ],
)
def test_randint_signatures(args, kwargs):
    results = []
    for lib in (ac, torch):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        results.append(lib.randint(*args, **kw))
    ours, theirs = results
    assert dtype_name(ours) == dtype_name(theirs) and ours.shape == theirs.shape
    low = args[0] if len(args) == 3 else kwargs.get("low", 0)
    high = args[1] if len(args) == 3 else (args[0] if args else kwargs["high"])
    values = ours.numpy()
    assert ((values >= low) & (values < high)).all()


def test_randint_covers_its_range_and_is_seeded():
    ac.manual_seed(0)
    a = ac.randint(3, 7, (2000,))
    assert set(a.tolist()) == {3, 4, 5, 6}
    ac.manual_seed(0)
    assert (ac.randint(3, 7, (2000,)) == a).all().item()


@pytest.mark.parametrize(
    "args, named",
    [
        ((10, 3, (3,)), "10"),  # low >= high
        ((0, (3,)), "0"),
        ((10, 3), "int"),  # size must be a tuple
        ((2.5, (3,)), "float"),
        ((10,), "size"),
    ],
)
def test_randint_errors(args, named):
    raises_like(lambda lib: lib.randint(*args), match=named)


def test_in_place_forms_record_autograd_like_torch():
    """``out.scatter_(..., w * 2)`` into a plain tensor, then ``tril_`` and ``triu_``:
    recorded as torch records them, so the gradient reaches ``w``."""
    w_data, c_data = floats(2, 3), floats(3, 3, seed=1)
    index = np.array([[0, 2, 1], [2, 0, 0]])
    grads = []
    for lib in (ac, torch):
        w = make(lib, w_data, requires_grad=True)
        out = lib.zeros(3, 3, dtype=lib.float64)
        out.scatter_(0, make(lib, index), w * 2)
        out.scatter_add_(1, make(lib, index.T[:, :2].copy()), w.T[:, :2] * w.T[:, :2])
        out.tril_(1).triu_(-1)
        (out * make(lib, c_data)).sum().backward()
        grads.append((out, w.grad))
    assert_same(grads[0][0], grads[1][0], strides=True)
    assert_same(grads[0][1], grads[1][1], strides=True)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, t: t.requires_grad_().tril_(),
        lambda lib, t: t.requires_grad_().scatter_(0, lib.tensor([[0, 1, 0]]), 1.0),
        lambda lib, t: t.long().__ifloordiv__(lib.tensor([1.5])),  # int //= float
        lambda lib, t: (t > 0).__iand__(lib.tensor([1, 2, 3])),  # bool &= int
        lambda lib, t: t.long().__imod__(lib.zeros(2, 2, 3, dtype=lib.long) + 1),  # broadcast
    ],
    ids=["leaf-tril_", "leaf-scatter_", "int-floordiv-float", "bool-and-int", "broadcast"],
)
def test_in_place_errors_like_torch(fn):
    raises_like(fn, floats(2, 3))


def test_in_place_ints_write_into_the_same_memory():
    x = ac.tensor([7, -7, 12])
    view = x[:]
    x //= 2
    x %= 5
    x ^= ac.tensor([1, 1, 1])
    expected = torch.tensor([7, -7, 12]) // 2 % 5 ^ torch.tensor([1, 1, 1])
    assert_same(view, expected, strides=True)
    assert x._version == 3
