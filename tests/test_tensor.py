"""Creation, dtypes, repr, views and in-place ops of the Tensor, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import assert_same

import aigc_course as ac


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
        lambda lib: lib.tensor([1, 2, 3]),
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.tensor(3.5),
        lambda lib: lib.tensor(7),
        lambda lib: lib.tensor(np.arange(4, dtype=np.float64)),
        lambda lib: lib.tensor(np.arange(4, dtype=np.int32)),
        lambda lib: lib.tensor([1, 2], dtype=lib.float64),
        lambda lib: lib.zeros(2, 3),
        lambda lib: lib.ones((2, 3), dtype=lib.int64),
        lambda lib: lib.full((2, 2), 7),
        lambda lib: lib.full((2, 2), 0.5),
        lambda lib: lib.full((2,), True),
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(1, 4, 0.5),
        lambda lib: lib.arange(0, 1, 0.1),
        lambda lib: lib.arange(10, 0, -3),
        lambda lib: lib.linspace(0, 1, 5),
        lambda lib: lib.eye(3),
        lambda lib: lib.eye(2, 3),
        lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.int32)),
        lambda lib: lib.ones_like(lib.ones(2, 2)),
        lambda lib: lib.full_like(lib.ones(2, 2), 3.0),
        lambda lib: lib.tensor([5.5, 3.0]).new_ones(5, 3, dtype=lib.double),
        lambda lib: lib.tensor([5, 3]).new_zeros((2,)),
        lambda lib: lib.tensor([5.5]).new_tensor([1, 2]),
        lambda lib: lib.empty(0),
        lambda lib: lib.zeros(2, 0),
    ],
)
def test_creation_matches_torch(make):
    assert_same(make(ac), make(torch))


def test_random_creation_shapes_dtypes_and_seeding():
    for make in (
        lambda lib: lib.rand(5, 3),
        lambda lib: lib.randn(2, 4),
        lambda lib: lib.randint(0, 10, (3, 3)),
        lambda lib: lib.rand(2, dtype=lib.float64),
    ):
        ours, theirs = make(ac), make(torch)
        assert ours.shape == tuple(theirs.shape) and ours.dtype.name == str(theirs.dtype)[6:]
    ac.manual_seed(3)
    a = ac.randn(100)
    ac.manual_seed(3)
    assert (ac.randn(100) == a).all().item()
    u = ac.rand(10_000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02  # 0.5 ± 7 sigma
    r = ac.randint(3, 7, (10_000,)).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}


REPRS = [
    lambda lib: lib.tensor([[1.0, 2.0]]),
    lambda lib: lib.tensor([0.1, 2.5, 3.0]),
    lambda lib: lib.tensor([1e-5, 1.0]),
    lambda lib: lib.tensor([123456.7, 1.0]),
    lambda lib: lib.tensor([1, 2]),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    lambda lib: lib.tensor(3.5),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64),
    lambda lib: lib.tensor([-1.5, 2.25, 0.0]),
    lambda lib: lib.zeros(0),
    lambda lib: lib.zeros(2, 0),
    lambda lib: lib.ones(2, 2, requires_grad=True),
    lambda lib: lib.ones(2, requires_grad=True) * 2,
    lambda lib: lib.tensor([float("nan"), float("inf"), 1.5]),
    lambda lib: lib.arange(12.0).reshape(3, 4) / 4,
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_like_torch(make):
    theirs = repr(make(torch)).replace("torch.", "aigc_course.")
    assert repr(make(ac)) == theirs


def test_metadata():
    x = ac.zeros(5, 3)
    assert x.shape == (5, 3) and x.size() == (5, 3) and x.size(1) == 3 and x.size(-2) == 5
    assert x.dim() == x.ndim == 2 and x.numel() == 15 and len(x) == 5
    assert repr(x.shape) == "aigc_course.Size([5, 3])"
    assert x.dtype is ac.float32 and ac.float is ac.float32 and ac.long is ac.int64
    assert str(x.device) == "cpu" and x.is_floating_point()
    assert x.stride() == torch.zeros(5, 3).stride()
    assert x.t().stride() == torch.zeros(5, 3).t().stride()
    assert not x.t().is_contiguous() and x.t().contiguous().is_contiguous()


def test_views_share_memory_and_copies_do_not():
    base = ac.arange(6.0)
    v = base.view(2, 3)
    v[0, 0] = 100.0
    assert base[0].item() == 100.0  # a view writes through, as in torch
    assert v.data_ptr() == base.data_ptr()
    t = v.t()
    assert t.data_ptr() == base.data_ptr() and t.stride() == (1, 3)
    c = t.contiguous()
    assert c.data_ptr() != base.data_ptr() and c.stride() == (2, 1)
    r = t.reshape(6)  # impossible as a view: reshape copies
    r[1] = -1.0
    assert base[1].item() == 1.0
    cl = base.clone()
    cl[2] = 42.0
    assert base[2].item() == 2.0
    x = ac.tensor([1.0, 2.0])
    assert x[:1].data_ptr() == x.data_ptr()  # basic slicing is a view


def test_setitem_like_torch():
    for lib in (torch, ac):
        x = lib.zeros(3, 4)
        x[0] = 1.0
        x[:, 1] = lib.tensor([5.0, 6.0, 7.0])
        x[x > 6] = -1.0
        x[lib.tensor([2, 2]), lib.tensor([3, 0])] = 9.0
        if lib is torch:
            expected = x
        else:
            assert_same(x, expected)


def test_inplace_ops_and_their_rules():
    for lib in (torch, ac):
        x = lib.ones(2, 3)
        x += 1
        x *= lib.tensor([1.0, 2.0, 3.0])
        x.sub_(0.5).div_(2)
        x.add_(lib.ones(3), alpha=2)
        if lib is torch:
            expected = x
        else:
            assert_same(x, expected)
    w = ac.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf Variable"):
        torch.ones(2, requires_grad=True).add_(1)
    with ac.no_grad():
        w -= 0.5  # the optimizer's update: allowed under no_grad
    assert w.tolist() == [0.5, 0.5]
    i = ac.ones(2, dtype=ac.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.ones(2, dtype=torch.int64).add_(0.5)
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape \[2, 3\]"):
        ac.ones(3).add_(ac.ones(2, 3))


def test_conversions():
    x = ac.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and x[0, 1].item() == 2.0
    assert isinstance(ac.tensor(3).item(), int) and float(ac.tensor(2.5)) == 2.5
    assert np.asarray(x).shape == (1, 2)
    assert x.long().dtype is ac.int64 and x.double().dtype is ac.float64
    assert x.to(ac.float64).dtype is ac.float64 and x.to("cpu") is x
    t = ac.to_torch(x)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    back = ac.from_torch(torch.ones(2, dtype=torch.float64, requires_grad=True))
    assert back.dtype is ac.float64 and back.requires_grad
    a = np.zeros(3, np.float32)
    ac.from_numpy(a)[0] = 1.0
    assert a[0] == 1.0  # from_numpy shares memory like torch's
    assert f"{ac.tensor(3.14159):.2f}" == "3.14"
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        ac.ones(2, requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        ac.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ac.ones(2))


def test_import_as_torch_runs_the_articles_snippets():
    # The article's section 3.1, with its bug (view(-1, 12) on 15 elements) corrected to (-1, 5).
    def snippet(torch):
        x = torch.empty(5, 3)
        x = torch.rand(5, 3)
        x = torch.tensor([5.5, 3.0])
        x = x.new_ones(5, 3, dtype=torch.double)
        y = x.view(-1, 5)
        col, rows = x[:, 1], x[1:3, :]
        y2 = x + x
        z = x @ x.t()
        return x, y, col, rows, y2, z

    for ours, theirs in zip(snippet(ac), snippet(torch)):
        assert_same(ours, theirs)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=4), st.data())
def test_view_with_inferred_dim(shape, data):
    n = int(np.prod(shape))
    x = np.arange(n, dtype=np.float32).reshape(shape)
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = data.draw(st.sampled_from(divisors))
    assert_same(ac.tensor(x).view(-1, d), torch.tensor(x).view(-1, d))
    assert_same(ac.tensor(x).reshape(d, -1), torch.tensor(x).reshape(d, -1))


def test_the_tensor_constructor_makes_float32_like_torch():
    for data in ([1, 2], [1.5, 2.0], [True, False], np.arange(3), np.ones(2, np.float64)):
        assert_same(ac.Tensor(data), torch.Tensor(data))
    base = ac.ones(2)
    assert ac.Tensor(base).data_ptr() == base.data_ptr()  # a Tensor is shared, not copied
