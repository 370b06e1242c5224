"""Forward values and gradients of every Tensor op, against torch, on generated shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes
from opinfo import parity

SETTINGS = settings(max_examples=30, deadline=None)
# Tiny magnitudes are rounded to 0: their squares underflow float32, where torch's fused
# kernels (which accumulate in higher precision) and a composition of ops legitimately differ.
floats = st.floats(-3, 3, width=32, allow_nan=False).map(lambda v: 0.0 if abs(v) < 1e-3 else v)
away_from_zero = st.floats(0.5, 3, width=32).flatmap(lambda v: st.sampled_from([v, -v]))
positive = st.floats(0.25, 3, width=32)


def array(shape, elements=floats, dtype=np.float32):
    return arrays(dtype, shape, elements=elements)


@st.composite
def broadcast_pair(draw, second=floats):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    a, b = shapes.input_shapes
    return draw(array(a)), draw(array(b, second))


@st.composite
def one(draw, elements=floats, min_dims=0):
    return draw(
        array(draw(array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4)), elements)
    )


BINARY = {
    "add": (lambda lib, x, y: x + y, floats),
    "sub": (lambda lib, x, y: x - y, floats),
    "mul": (lambda lib, x, y: x * y, floats),
    "div": (lambda lib, x, y: x / y, away_from_zero),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), floats),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), floats),
    "rsub_scalar": (lambda lib, x, y: 2.5 - x * y, floats),
    "rdiv_scalar": (lambda lib, x, y: 1.5 / y + x, away_from_zero),
}


@pytest.mark.parametrize("name", BINARY)
@SETTINGS
@given(data=st.data())
def test_binary_broadcasting(name, data):
    fn, second = BINARY[name]
    x, y = data.draw(broadcast_pair(second))
    parity(fn, x, y)


UNARY = {
    "exp": (lambda lib, x: x.exp(), floats),
    "log": (lambda lib, x: x.log(), positive),
    "sqrt": (lambda lib, x: x.sqrt(), positive),
    "tanh": (lambda lib, x: x.tanh(), floats),
    "sigmoid": (lambda lib, x: x.sigmoid(), floats),
    "relu": (lambda lib, x: x.relu(), away_from_zero),
    "abs": (lambda lib, x: x.abs(), away_from_zero),
    "neg": (lambda lib, x: -x, floats),
    "sin": (lambda lib, x: x.sin(), floats),
    "cos": (lambda lib, x: x.cos(), floats),
    "clamp": (lambda lib, x: x.clamp(min=-1.0, max=1.25), floats),
    "clamp_min": (lambda lib, x: x.clamp(min=0), floats),
    "pow_scalar": (lambda lib, x: x**3, floats),
    "pow_fraction": (lambda lib, x: x**0.5, positive),
    "rpow": (lambda lib, x: 2.0**x, floats),
    "pow_tensor": (lambda lib, x: x ** (x * 0.5), positive),
    "square_via_mul": (lambda lib, x: x * x, floats),
    "clone": (lambda lib, x: x.clone() * 2, floats),
}


@pytest.mark.parametrize("name", UNARY)
@SETTINGS
@given(data=st.data())
def test_unary(name, data):
    fn, elements = UNARY[name]
    parity(fn, data.draw(one(elements)))


@SETTINGS
@given(x=one(min_dims=1), data=st.data())
def test_reductions_with_dim(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(st.booleans())
    parity(lambda lib, t: t.sum(dim, keepdim=keepdim), x)
    parity(lambda lib, t: t.mean(dim, keepdim=keepdim), x)
    parity(lambda lib, t: t.softmax(dim), x)
    parity(lambda lib, t: t.log_softmax(dim), x)
    parity(lambda lib, t: t.logsumexp(dim, keepdim=keepdim), x)
    if x.shape[dim] > 1:
        parity(lambda lib, t: t.var(dim, keepdim=keepdim), x, rtol=1e-4, atol=1e-5)
        parity(lambda lib, t: t.std(dim, keepdim=keepdim), x, rtol=1e-4, atol=1e-5)


@SETTINGS
@given(x=one())
def test_full_reductions(x):
    parity(lambda lib, t: t.sum(), x)
    parity(lambda lib, t: t.mean(), x)
    parity(lambda lib, t: t.sum((0,) if t.ndim else None) * 2, x)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_max_min_gradient_goes_to_the_chosen_element(shape, data):
    # distinct values, so that there are no ties (ties are tested separately)
    n = int(np.prod(shape))
    x = data.draw(st.permutations(list(range(n)))).__iter__()
    x = np.array(list(x), dtype=np.float32).reshape(shape) * 0.5
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    parity(lambda lib, t: t.max(dim, keepdim=keepdim).values, x)
    parity(lambda lib, t: t.min(dim, keepdim=keepdim).values, x)
    parity(lambda lib, t: t.max(), x)
    parity(lambda lib, t: t.min(), x)
    _, theirs = parity(lambda lib, t: t.max(dim, keepdim=keepdim).indices, x, grad=False)
    parity(lambda lib, t: t.argmax(dim, keepdim=keepdim), x, grad=False)
    parity(lambda lib, t: t.argmin(), x, grad=False)


def test_max_with_ties_splits_the_gradient_evenly_like_torch():
    parity(lambda lib, t: t.max(), np.array([1.0, 3.0, 3.0, 2.0], dtype=np.float32))
    x = np.array([1.0, 2.0, 3.0], np.float32)
    y = np.array([1.0, 5.0, 3.0], np.float32)
    parity(lambda lib, a, b: lib.maximum(a, b), x, y)
    parity(lambda lib, a, b: lib.minimum(a, b), x, y)
    parity(lambda lib, a, b: a.clamp(min=1.0, max=3.0) * b, x, y)  # clamp passes at the bounds


@st.composite
def matmul_pair(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "vec_mat", "mat_vec", "dot", "batch", "broadcast"]))
    batch = draw(array_shapes(min_dims=1, max_dims=2, max_side=3))
    shapes = {
        "mm": ((n, k), (k, m)),
        "vec_mat": ((k,), (k, m)),
        "mat_vec": ((n, k), (k,)),
        "dot": ((k,), (k,)),
        "batch": (batch + (n, k), batch + (k, m)),
        "broadcast": (batch + (n, k), (k, m)),
    }[kind]
    if draw(st.booleans()) and kind == "broadcast":
        shapes = shapes[::-1]
        shapes = ((shapes[0][0], shapes[0][1]), shapes[1][:-2] + (shapes[0][1], n))
        shapes = ((m, k), batch + (k, n))
    return draw(array(shapes[0])), draw(array(shapes[1]))


@SETTINGS
@given(pair=matmul_pair())
def test_matmul_including_1d_and_batch_broadcasting(pair):
    parity(lambda lib, a, b: a @ b, *pair, rtol=1e-5, atol=1e-5)


@SETTINGS
@given(x=one(min_dims=1), data=st.data())
def test_shape_ops(x, data):
    perm = data.draw(st.permutations(range(x.ndim)))
    parity(lambda lib, t: t.permute(*perm) * 2, x)
    parity(lambda lib, t: t.reshape(-1), x)
    parity(lambda lib, t: t.contiguous().view(*reversed(t.shape)), x)
    parity(lambda lib, t: t.flatten(), x)
    parity(lambda lib, t: t.unsqueeze(0).unsqueeze(-1), x)
    parity(lambda lib, t: t.squeeze(), x)
    parity(lambda lib, t: t.transpose(0, -1), x)
    parity(lambda lib, t: t.T if t.ndim <= 2 else t.mT, x)
    parity(lambda lib, t: t.unsqueeze(0).expand(3, *t.shape), x)
    parity(lambda lib, t: lib.cat([t, t * 2], dim=-1), x)
    parity(lambda lib, t: lib.stack([t, t * 3], dim=0), x)
    parity(lambda lib, t: lib.stack([t, t * 3], dim=-1), x)


@SETTINGS
@given(x=one(min_dims=2))
def test_t_split_chunk(x):
    x2 = x.reshape(x.shape[0], -1)
    parity(lambda lib, t: t.t() @ t, x2, rtol=1e-5, atol=1e-5)
    parity(lambda lib, t: lib.cat(t.split(1, dim=0)[::-1], 0), x)
    parity(lambda lib, t: t.chunk(2, dim=1)[0], x)


INDEXES = [
    lambda t: t[0],
    lambda t: t[-1, ...],
    lambda t: t[:, 1:],
    lambda t: t[::2],
    lambda t: t[None, :, None],
    lambda t: t[[0, 0, 2]],  # repeated indices: gradients must add up
    lambda t: t[1:, [1, 0, 1]],
    lambda t: t[t > 0],
    lambda t: t[..., 0],
]


@pytest.mark.parametrize("k", range(len(INDEXES)))
@SETTINGS
@given(x=array((3, 4, 2)))
def test_indexing_scatters_gradients(k, x):
    parity(lambda lib, t: INDEXES[k](t), x)


def test_index_with_index_tensor():
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    parity(lambda lib, t: t[lib.tensor([3, 0, 3])], x)
    parity(lambda lib, t: t[lib.tensor([0, 2]), lib.tensor([1, 1])], x)


@SETTINGS
@given(pair=broadcast_pair())
def test_where_and_masked_fill(pair):
    x, y = pair
    parity(lambda lib, a, b: lib.where(a > 0, a, b), x, y)
    parity(lambda lib, a, b: (a + b).masked_fill(b > 0.5, -1.5), x, y)
    parity(lambda lib, a, b: a.where(a < b, 0.25), x, y)


def test_softmax_and_log_softmax_are_stable_at_extremes():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    ours, _ = parity(lambda lib, t: t.log_softmax(-1), x)
    assert np.isfinite(ours.detach().numpy()).all()
    parity(lambda lib, t: t.softmax(-1), x)
    parity(lambda lib, t: t.sigmoid(), np.array([-1e4, 0, 1e4], np.float32))


def test_float64_stays_float64_and_mixed_dtypes_promote_like_torch():
    a = np.linspace(-1, 1, 6).reshape(2, 3)
    parity(lambda lib, t: (t * 2.5).exp().sum(0), a)  # float64 throughout
    ints = np.arange(6).reshape(2, 3)
    parity(lambda lib, t: t * 2.5, ints, grad=False)
    parity(lambda lib, t: t / 4, ints, grad=False)
    parity(lambda lib, t: t * 2, ints, grad=False)
    parity(lambda lib, t: t.sum(), ints, grad=False)
    parity(lambda lib, t: (t > 2).sum(), ints, grad=False)
    parity(lambda lib, t: t.exp(), ints, grad=False)
    parity(lambda lib, t: t.float() + t.double(), ints, grad=False)
    parity(lambda lib, t: t + lib.tensor(1.5, dtype=lib.float64), ints, grad=False)
    parity(lambda lib, t: t.float() + lib.tensor(1.5, dtype=lib.float64), ints, grad=False)
    f32 = np.ones((2, 2), np.float32)
    parity(lambda lib, t: t + lib.tensor(1.5, dtype=lib.float64), f32)  # 0-d does not upcast
    parity(lambda lib, t: t + lib.ones(2, dtype=lib.float64), f32)  # 1-d does


def test_comparisons_return_bool():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    for fn in (
        lambda lib, t: t > 2,
        lambda lib, t: t == 2,
        lambda lib, t: t <= 2.5,
        lambda lib, t: t != 1,
        lambda lib, t: (t > 1) & (t < 3),
        lambda lib, t: ~(t > 1),
    ):
        parity(fn, x, grad=False)
