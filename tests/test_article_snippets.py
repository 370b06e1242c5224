"""The article's section 3.1 (tensor creation and operations) runs on aigc_course as on torch.

The snippets are written once, as functions of the library (``lib`` is ``torch`` or
``aigc_course``), exactly as ``import aigc_course as torch`` would run them, and every value,
shape, dtype, printed form and error is compared with torch's. The article's bug,
``x.view(-1, 12)`` on 15 elements, is tested as an error in both libraries, then corrected.
Also here: the chapter 1 points where the core was fixed to match torch (which dimension a
broadcast error names, matmul's messages) and the rules the chapter teaches (dtype promotion,
strides, views against copies, indexing).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import assert_same

import aigc_course as ac


def same(ours, theirs):
    """Values (exactly), shape and dtype of an aigc_course tensor equal torch's."""
    assert_same(ours, theirs, rtol=0, atol=0)


def printed(x) -> str:
    """A tensor's repr with the library's name removed, to compare the two libraries' text."""
    return repr(x).replace("aigc_course.", "").replace("torch.", "")


def article_snippet(lib):
    """Section 3.1 of the article, with its bug corrected (``view(-1, 3)``, not ``(-1, 12)``)."""
    out = {}
    x = lib.empty(5, 3)  # torch: uninitialised memory; aigc_course: zeros
    out["empty"] = x
    x = lib.rand(5, 3)
    out["rand"] = x
    x = lib.tensor([5.5, 3.0])
    out["tensor"] = x
    x = x.new_ones(5, 3, dtype=lib.double)
    out["new_ones"] = x
    out["view(-1, 3)"] = x.view(-1, 3)
    out["view(3, 5)"] = x.view(3, 5)
    out["x[:, 1]"] = x[:, 1]
    out["x[1:3, :]"] = x[1:3, :]
    out["x + x"] = x + x
    out["x @ x.t()"] = x @ x.t()
    return out


def test_article_snippet_matches_torch():
    ours, theirs = article_snippet(ac), article_snippet(torch)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert tuple(ours[key].shape) == tuple(theirs[key].shape), key
        assert ours[key].dtype.name == str(theirs[key].dtype).removeprefix("torch."), key
    # deterministic results: equal values and the same printed text
    for key in [
        "tensor",
        "new_ones",
        "view(-1, 3)",
        "view(3, 5)",
        "x[:, 1]",
        "x[1:3, :]",
        "x + x",
        "x @ x.t()",
    ]:
        same(ours[key], theirs[key])
        assert printed(ours[key]) == printed(theirs[key]), key
    # rand: uniform on [0, 1) in both (the numbers differ: different generators)
    r = ours["rand"].numpy()
    assert ((r >= 0) & (r < 1)).all()
    # empty: torch promises nothing about the values; ours are zeros
    assert not ours["empty"].numpy().any()


def test_import_aigc_course_as_torch_runs_the_article_text():
    source = (
        "import aigc_course as torch\n"
        "x = torch.empty(5, 3)\n"
        "x = torch.rand(5, 3)\n"
        "x = torch.tensor([5.5, 3.0])\n"
        "x = x.new_ones(5, 3, dtype=torch.double)\n"
        "y = x.view(-1, 3)\n"
        "z = x @ x.t()\n"
    )
    namespace: dict = {}
    exec(source, namespace)
    assert namespace["torch"] is ac
    same(namespace["y"], torch.ones(5, 3, dtype=torch.float64))
    same(namespace["z"], torch.full((5, 5), 3.0, dtype=torch.float64))


@pytest.mark.parametrize("lib", [torch, ac], ids=["torch", "aigc_course"])
def test_the_articles_view_minus_one_twelve_raises(lib):
    x = lib.tensor([5.5, 3.0]).new_ones(5, 3, dtype=lib.double)
    with pytest.raises(
        RuntimeError, match=re.escape("shape '[-1, 12]' is invalid for input of size 15")
    ):
        x.view(-1, 12)


def test_view_error_message_is_torchs():
    messages = []
    for lib in (torch, ac):
        with pytest.raises(RuntimeError) as info:
            lib.ones(5, 3).view(-1, 12)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(1, 20),
)
@settings(max_examples=40, deadline=None)
def test_view_with_minus_one_matches_torch_or_raises_like_it(shape, k):
    n = int(np.prod(shape))
    t, o = torch.arange(n).view(*shape), ac.arange(n).view(*shape)
    try:
        expected = t.view(-1, k)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e))):
            o.view(-1, k)
        assert n % k != 0
        return
    same(o.view(-1, k), expected)


# ---------------------------------------------------------------- dtypes and promotion

PROMOTIONS = [
    ("int64 * 2.5", lambda lib: lib.tensor([1, 2, 3]) * 2.5),
    ("int64 * 2", lambda lib: lib.tensor([1, 2, 3]) * 2),
    ("int64 / 2", lambda lib: lib.tensor([1, 2, 3]) / 2),
    ("bool + 1", lambda lib: lib.tensor([True, False]) + 1),
    ("bool + bool", lambda lib: lib.tensor([True, False]) + lib.tensor([True, True])),
    ("int32 + int64 0-d", lambda lib: lib.ones(2, dtype=lib.int32) + lib.tensor(1)),
    ("int32 + 1.5", lambda lib: lib.ones(2, dtype=lib.int32) + 1.5),
    ("float32 + float64 0-d", lambda lib: lib.ones(2) + lib.tensor(1.5, dtype=lib.float64)),
    (
        "int32 + float64 0-d",
        lambda lib: lib.ones(2, dtype=lib.int32) + lib.tensor(1.5, dtype=lib.float64),
    ),
    ("float32 + float64", lambda lib: lib.ones(2) + lib.ones(2, dtype=lib.float64)),
    ("float16 + 1.5", lambda lib: lib.ones(2, dtype=lib.float16) + 1.5),
    ("uint8 + int8", lambda lib: lib.ones(2, dtype=lib.uint8) + lib.ones(2, dtype=lib.int8)),
    ("int64 > 1", lambda lib: lib.tensor([1, 2]) > 1),
]


@pytest.mark.parametrize("name,fn", PROMOTIONS, ids=[p[0] for p in PROMOTIONS])
def test_dtype_promotion_matches_torch(name, fn):
    same(fn(ac), fn(torch))


@pytest.mark.parametrize(
    "data", [[1, 2], [1.0, 2.0], [True, False], 3, 3.5, [[1, 2], [3, 4]]], ids=str
)
def test_default_dtypes_match_torch(data):
    same(ac.tensor(data), torch.tensor(data))


@pytest.mark.parametrize(
    "array",
    [np.linspace(0, 1, 3), np.arange(3, dtype=np.int32), np.ones(2, dtype=np.float32)],
    ids=["float64", "int32", "float32"],
)
def test_a_numpy_array_keeps_its_dtype_like_torch(array):
    """Chapter 1's trap: numpy's float64 survives ``tensor(array)`` in both libraries."""
    same(ac.tensor(array), torch.tensor(array))
    same(ac.tensor(array.tolist()), torch.tensor(array.tolist()))  # Python numbers: defaults


def test_result_type_matches_torch():
    cases = [
        (lambda lib: lib.tensor([1, 2]), 2.5),
        (lambda lib: lib.tensor([1, 2], dtype=lib.int32), 7),
        (
            lambda lib: lib.tensor([1.0], dtype=lib.float16),
            lambda lib: lib.tensor(1.0, dtype=lib.float64),
        ),
        (lambda lib: lib.tensor([True]), lambda lib: lib.tensor(2)),
    ]
    for a, b in cases:
        ours = ac.result_type(a(ac), b(ac) if callable(b) else b)
        theirs = torch.result_type(a(torch), b(torch) if callable(b) else b)
        assert ours.name == str(theirs).removeprefix("torch.")


# ---------------------------------------------------------------- creation


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: lib.zeros(2, 3),
        lambda lib: lib.ones((2, 3), dtype=lib.int64),
        lambda lib: lib.full((2, 2), 7),
        lambda lib: lib.full((2, 2), 7.0),
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(0, 1, 0.25),
        lambda lib: lib.arange(1, 10, 3),
        lambda lib: lib.linspace(0, 1, 5),
        lambda lib: lib.eye(3),
        lambda lib: lib.eye(2, 3),
        lambda lib: lib.zeros_like(lib.ones(2, 2, dtype=lib.float64)),
        lambda lib: lib.ones_like(lib.tensor([1, 2, 3])),
        lambda lib: lib.full_like(lib.ones(2), 4.0),
        lambda lib: lib.tensor([5.5, 3.0]).new_zeros(2, 2),
    ],
)
def test_creation_matches_torch(fn):
    ours, theirs = fn(ac), fn(torch)
    same(ours, theirs)
    assert printed(ours) == printed(theirs)


@pytest.mark.parametrize("double", [False, True], ids=["float32", "float64"])
def test_empty_has_torchs_shape_and_dtype_and_is_zeros_here(double):
    ours = ac.empty(4, 2, dtype=ac.float64 if double else None)
    theirs = torch.empty(4, 2, dtype=torch.float64 if double else None)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert not ours.numpy().any()  # torch's values are whatever was in memory


def test_shape_queries_match_torch():
    o, t = ac.ones(2, 3, 4), torch.ones(2, 3, 4)
    assert tuple(o.shape) == tuple(t.shape) == tuple(o.size()) == tuple(t.size())
    assert o.size(1) == t.size(1) and o.size(-1) == t.size(-1)
    assert o.dim() == t.dim() == o.ndim == 3
    assert o.numel() == t.numel() == 24


# ---------------------------------------------------------------- strides, views and copies


@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=4).flatmap(
        lambda shape: st.tuples(st.just(shape), st.permutations(range(len(shape))))
    )
)
@settings(max_examples=40, deadline=None)
def test_strides_of_contiguous_and_permuted_tensors_match_torch(shape_perm):
    shape, perm = shape_perm
    n = int(np.prod(shape))
    o, t = ac.arange(n).view(*shape), torch.arange(n).view(*shape)
    assert o.stride() == t.stride()
    po, pt = o.permute(*perm), t.permute(*perm)
    same(po, pt)
    # strides of size-1 dimensions are arbitrary (never used), so compare the others
    assert [s for s, d in zip(po.stride(), po.shape) if d > 1] == [
        s for s, d in zip(pt.stride(), pt.shape) if d > 1
    ]
    assert po.is_contiguous() == pt.is_contiguous()
    same(po.contiguous(), pt.contiguous())
    assert po.contiguous().stride() == pt.contiguous().stride()
    same(po.reshape(-1), pt.reshape(-1))


@pytest.mark.parametrize("lib", [torch, ac], ids=["torch", "aigc_course"])
def test_a_view_shares_memory_and_a_clone_does_not(lib):
    x = lib.arange(6).view(2, 3)
    v = x.view(3, 2)
    assert v.data_ptr() == x.data_ptr()
    v[0, 0] = 100
    assert x[0, 0].item() == 100
    c = x.clone()
    assert c.data_ptr() != x.data_ptr()
    c[0, 1] = -1
    assert x[0, 1].item() == 1
    assert x[1].data_ptr() - x.data_ptr() == 3 * x.element_size()


def test_view_of_a_transpose_fails_like_torch_and_reshape_copies():
    messages = []
    for lib in (torch, ac):
        x = lib.arange(6).view(2, 3)
        t = x.t()
        assert t.stride() == (1, 3) and not t.is_contiguous()
        assert t.data_ptr() == x.data_ptr()  # a transpose is a view
        with pytest.raises(RuntimeError, match="view size is not compatible") as info:
            t.view(6)
        messages.append(str(info.value))
        r = t.reshape(6)
        assert r.data_ptr() != x.data_ptr()  # reshape had to copy
        assert r.tolist() == [0, 3, 1, 4, 2, 5]
        c = t.contiguous()
        assert c.stride() == (2, 1) and c.data_ptr() != x.data_ptr()
    assert messages[0] == messages[1]


@pytest.mark.parametrize("lib", [torch, ac], ids=["torch", "aigc_course"])
def test_contiguous_returns_the_tensor_itself_when_already_contiguous(lib):
    x = lib.arange(6).view(2, 3)
    assert x.contiguous() is x
    assert x.t().contiguous() is not x


@pytest.mark.parametrize("lib", [torch, ac], ids=["torch", "aigc_course"])
def test_a_mask_read_copies_but_a_mask_assignment_writes(lib):
    y = lib.arange(6)
    picked = y[y > 2]
    picked[0] = -1
    assert y.tolist() == [0, 1, 2, 3, 4, 5]
    y[y > 3] = 0
    assert y.tolist() == [0, 1, 2, 3, 0, 0]


def test_expand_uses_stride_zero_like_torch():
    o = ac.tensor([[1.0], [2.0], [3.0]]).expand(3, 4)
    t = torch.tensor([[1.0], [2.0], [3.0]]).expand(3, 4)
    same(o, t)
    assert o.stride() == t.stride() == (1, 0)


# ---------------------------------------------------------------- broadcasting


def test_worked_broadcasting_example():
    a, b = [[0.0], [10.0], [20.0]], [[0.0, 1.0, 2.0, 3.0]]
    same(ac.tensor(a) + ac.tensor(b), torch.tensor(a) + torch.tensor(b))
    assert ac.broadcast_shapes((3, 1), (1, 4)) == tuple(torch.broadcast_shapes((3, 1), (1, 4)))


@pytest.mark.parametrize("a, b", [((0, 1), (1, 3)), ((0,), (1,)), ((2, 0), (2, 1))], ids=str)
def test_a_size_zero_beats_a_size_one_like_torch(a, b):
    """Chapter 1's precise rule: the size that is not 1 wins, so max() is wrong for 0."""
    expected = tuple(torch.broadcast_shapes(a, b))
    assert 0 in expected
    assert ac.broadcast_shapes(a, b) == expected
    same(ac.ones(a) + ac.ones(b), torch.ones(a) + torch.ones(b))


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)


@given(shapes, shapes)
@settings(max_examples=50, deadline=None)
def test_broadcast_shapes_and_its_error_match_torch(a, b):
    """The fix of chapter 1: the error names the *trailing* mismatching dimension, as torch."""
    try:
        expected = tuple(torch.broadcast_shapes(a, b))
    except RuntimeError:
        with pytest.raises(RuntimeError) as ours:
            ac.ones(a) + ac.ones(b)
        with pytest.raises(RuntimeError) as theirs:
            torch.ones(a) + torch.ones(b)
        assert str(ours.value) == str(theirs.value)
        return
    assert ac.broadcast_shapes(a, b) == expected
    assert tuple((ac.ones(a) + ac.ones(b)).shape) == expected


@pytest.mark.parametrize("a,b", [((2, 3), (3, 2)), ((2, 3, 4), (5, 4)), ((4, 3, 2), (5, 1, 3))])
def test_broadcast_error_names_the_dimension_torch_names(a, b):
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(a) * torch.ones(b)
    with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
        ac.ones(a) * ac.ones(b)


# ---------------------------------------------------------------- indexing

INDEXES = [
    ("int", lambda lib, x: x[1]),
    ("negative int", lambda lib, x: x[-1, -2]),
    ("slice", lambda lib, x: x[1:3, :]),
    ("step slice", lambda lib, x: x[::2, 1::2]),
    ("None", lambda lib, x: x[None, :, None]),
    ("Ellipsis", lambda lib, x: x[..., 1]),
    ("bool mask", lambda lib, x: x[x > 5]),
    ("row mask", lambda lib, x: x[lib.tensor([True, False, True, False])]),
    ("index tensor", lambda lib, x: x[lib.tensor([0, 2, 2])]),
    ("index list", lambda lib, x: x[[3, 0]]),
    ("two index tensors", lambda lib, x: x[lib.tensor([0, 3]), lib.tensor([1, 2])]),
    ("column", lambda lib, x: x[:, 1]),
]


@pytest.mark.parametrize("name,fn", INDEXES, ids=[i[0] for i in INDEXES])
def test_indexing_matches_torch(name, fn):
    same(fn(ac, ac.arange(12).view(4, 3)), fn(torch, torch.arange(12).view(4, 3)))


@pytest.mark.parametrize(
    "fn",
    [lambda lib, x: x[4], lambda lib, x: x[:, 3], lambda lib, x: x[lib.tensor([0, 7])]],
    ids=["row", "column", "index tensor"],
)
def test_out_of_range_index_raises_torchs_index_error(fn):
    with pytest.raises(IndexError) as theirs:
        fn(torch, torch.arange(12).view(4, 3))
    with pytest.raises(IndexError, match=re.escape(str(theirs.value))):
        fn(ac, ac.arange(12).view(4, 3))


# ---------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    "a,b",
    [
        ((5, 3), (3, 4)),
        ((3,), (3, 4)),
        ((5, 3), (3,)),
        ((3,), (3,)),
        ((2, 5, 3), (3, 4)),
        ((2, 5, 3), (2, 3, 4)),
        ((2, 1, 5, 3), (4, 3, 2)),
    ],
)
def test_matmul_shapes_and_values_match_torch(a, b):
    g = torch.Generator().manual_seed(0)
    ta, tb = torch.randn(a, generator=g), torch.randn(b, generator=g)
    assert_same(ac.from_torch(ta) @ ac.from_torch(tb), ta @ tb)


def test_matrix_product_is_the_sum_over_k():
    """C_ij = sum_k A_ik B_kj, by hand with loops, against both libraries."""
    A = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    B = [[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]
    C = [[sum(A[i][k] * B[k][j] for k in range(3)) for j in range(2)] for i in range(2)]
    same(ac.tensor(A) @ ac.tensor(B), torch.tensor(C))
    same(ac.tensor(A) @ ac.tensor(B), torch.tensor(A) @ torch.tensor(B))


@pytest.mark.parametrize("a,b", [((5, 3), (4, 2)), ((3,), (4, 2)), ((2, 3), (4,)), ((3,), (4,))])
def test_matmul_errors_match_torch(a, b):
    with pytest.raises(RuntimeError) as theirs:
        torch.ones(a) @ torch.ones(b)
    with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
        ac.ones(a) @ ac.ones(b)


def test_batched_matmul_error_names_both_shapes():
    with pytest.raises(RuntimeError):
        torch.ones(2, 5, 3) @ torch.ones(2, 4, 2)
    with pytest.raises(RuntimeError, match=re.escape("[2, 5, 3] @ [2, 4, 2] (3 != 4)")):
        ac.ones(2, 5, 3) @ ac.ones(2, 4, 2)
