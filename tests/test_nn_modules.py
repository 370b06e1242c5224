"""Every layer against torch: copy torch's weights in with load_state_dict, then compare the
output and the gradients of the input and of every parameter, on Hypothesis shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import aigc_course as ac
import aigc_course.nn as nn
import aigc_course.nn.functional as F
from aigc_course.testing import assert_close

SETTINGS = settings(max_examples=25, deadline=None)
leading = st.lists(st.integers(1, 4), min_size=1, max_size=3)  # batch sizes incl. 1, extra dims


def check_parity(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, rtol=None, atol=None):
    """Load torch's weights into ours, then compare output, input grad and parameter grads."""
    ours.load_state_dict(theirs.state_dict())
    xt = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    xo = ac.tensor(x, requires_grad=x.dtype.kind == "f")
    out_t, out_o = theirs(xt), ours(xo)
    assert_close(out_o, out_t, rtol=rtol, atol=atol)
    g = (
        np.random.default_rng(1)
        .standard_normal(tuple(out_t.shape))
        .astype(x.dtype if x.dtype.kind == "f" else np.float32)
    )
    out_t.backward(torch.tensor(g))
    out_o.backward(ac.tensor(g))
    if x.dtype.kind == "f":
        assert_close(xo.grad, xt.grad, rtol=rtol, atol=atol)
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, p in ours_params.items():
        assert_close(p.grad, theirs_params[name].grad, rtol=rtol, atol=atol)


def randn(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@SETTINGS
@given(lead=leading, n_in=st.integers(1, 6), n_out=st.integers(1, 6), bias=st.booleans())
def test_linear(lead, n_in, n_out, bias):
    check_parity(
        nn.Linear(n_in, n_out, bias), torch.nn.Linear(n_in, n_out, bias), randn((*lead, n_in))
    )


def test_linear_1d_input():
    check_parity(nn.Linear(3, 2), torch.nn.Linear(3, 2), randn(3))


@SETTINGS
@given(lead=leading, dim=st.integers(1, 6), pad=st.booleans())
def test_embedding(lead, dim, pad):
    n = 7
    ids = np.random.default_rng(len(lead)).integers(0, n, size=lead)
    ids.flat[0] = 2  # make sure the padding row is used when there is one
    padding_idx = 2 if pad else None
    theirs = torch.nn.Embedding(n, dim, padding_idx=padding_idx)
    check_parity(nn.Embedding(n, dim, padding_idx=padding_idx), theirs, ids)
    if pad:
        assert np.all(theirs.weight.grad[2].numpy() == 0)


def test_embedding_padding_row_is_zero_at_init():
    ac.manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == torch.nn.Embedding(5, 3, padding_idx=-1).padding_idx == 4
    assert np.all(emb.weight._data[4] == 0)


@SETTINGS
@given(lead=leading, last=st.integers(2, 6), two_axes=st.booleans(), affine=st.booleans())
def test_layer_norm(lead, last, two_axes, affine):
    # last >= 2: over a single element x - mean is exactly 0, and torch's fused kernel returns
    # round-off noise amplified by 1/sqrt(eps) there, which is no oracle.
    shape = (lead[-1], last) if two_axes else (last,)
    theirs = torch.nn.LayerNorm(shape, elementwise_affine=affine)
    if affine:  # random weights, so that the scale and shift matter
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    x = randn((*lead, last)) * 3 + 1
    check_parity(nn.LayerNorm(shape, elementwise_affine=affine), theirs, x, atol=1e-4, rtol=1e-4)


def test_layer_norm_float64_is_exact():
    theirs = torch.nn.LayerNorm(5, dtype=torch.float64)
    check_parity(nn.LayerNorm(5).double(), theirs, randn((3, 5), dtype=np.float64))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@SETTINGS
@given(lead=leading)
def test_gelu(approximate, lead):
    x = randn((*lead, 3)) * 3
    check_parity(nn.GELU(approximate), torch.nn.GELU(approximate), x)


def test_gelu_exact_float64_matches_to_1e_12():
    x = np.linspace(-6, 6, 101)
    check_parity(nn.GELU(), torch.nn.GELU(), x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Softmax(-1), torch.nn.Softmax(-1)),
        (nn.Softmax(1), torch.nn.Softmax(1)),
        (nn.Identity(), torch.nn.Identity()),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
    ],
    ids=repr,
)
@SETTINGS
@given(lead=st.lists(st.integers(1, 4), min_size=2, max_size=3))
def test_activations_and_shapes(ours, theirs, lead):
    check_parity(ours, theirs, randn((*lead, 3)) * 2)


def test_sequential_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.GELU(),
        torch.nn.LayerNorm(8),
        torch.nn.Linear(8, 2),
        torch.nn.Tanh(),
    )
    ours = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 2), nn.Tanh())
    check_parity(ours, theirs, randn((5, 4)), atol=1e-5, rtol=1e-5)


def test_dropout_eval_is_identity_and_p0_p1():
    x = ac.randn(10, 10, requires_grad=True)
    drop = nn.Dropout(0.3).eval()
    assert drop(x) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert (
        float(y.abs().sum()) == 0.0 == float(torch.nn.functional.dropout(torch.ones(3), 1.0).sum())
    )


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    ac.manual_seed(0)
    n = 200_000
    x = ac.ones(n, requires_grad=True)
    drop = nn.Dropout(p)
    assert drop.training
    y = drop(x)
    kept = y._data != 0
    frac_zero = 1 - kept.mean()
    std = math.sqrt(p * (1 - p) / n)  # binomial standard deviation of the zeroed fraction
    assert abs(frac_zero - p) < 5 * std
    assert np.allclose(y._data[kept], 1 / (1 - p))  # survivors are scaled by 1/(1-p)
    # the mean is preserved: E[y] = 1, with std sqrt(p/(1-p)/n)
    assert abs(y._data.mean() - 1) < 5 * math.sqrt(p / (1 - p) / n)
    y.sum().backward()
    assert np.array_equal(x.grad._data, y._data)  # gradient passes through the same mask


def test_dropout_uses_global_seed():
    ac.manual_seed(3)
    a = F.dropout(ac.ones(50), 0.5)
    ac.manual_seed(3)
    b = F.dropout(ac.ones(50), 0.5)
    assert np.array_equal(a._data, b._data)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError):
        torch.nn.Dropout(p)
    with pytest.raises(ValueError, match=str(p)):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=str(p)):
        F.dropout(ac.ones(3), p)


# ------------------------------------------------------------------ bad input


def test_linear_wrong_feature_size():
    with pytest.raises(RuntimeError, match=r"\(64x32 and 64x128\)"):
        torch.nn.Linear(64, 128)(torch.randn(64, 32))
    with pytest.raises(RuntimeError, match=r"\(64x32 and 64x128\).*in_features=64"):
        nn.Linear(64, 128)(ac.randn(64, 32))
    with pytest.raises(RuntimeError, match=r"\(6x32 and 64x128\)"):
        nn.Linear(64, 128)(ac.randn(2, 3, 32))


def test_embedding_index_out_of_range():
    with pytest.raises(IndexError):
        torch.nn.Embedding(5, 3)(torch.tensor([1, 5]))
    with pytest.raises(IndexError, match=r"index 5 .*num_embeddings=5"):
        nn.Embedding(5, 3)(ac.tensor([1, 5]))
    with pytest.raises(IndexError, match=r"index -1 "):
        nn.Embedding(5, 3)(ac.tensor([-1]))


def test_embedding_float_indices():
    with pytest.raises(RuntimeError):
        torch.nn.Embedding(5, 3)(torch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="float32"):
        nn.Embedding(5, 3)(ac.tensor([1.0]))


def test_layer_norm_wrong_shape():
    msg = (
        r"normalized_shape=\[4\], expected input with shape \[\*, 4\], "
        r"but got input of size\[2, 3\]"
    )
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.LayerNorm(4)(torch.randn(2, 3))
    with pytest.raises(RuntimeError, match=msg):
        nn.LayerNorm(4)(ac.randn(2, 3))


def test_gelu_bad_approximate():
    with pytest.raises(RuntimeError):
        torch.nn.functional.gelu(torch.randn(2), approximate="fast")
    with pytest.raises(RuntimeError, match="'fast'"):
        F.gelu(ac.randn(2), approximate="fast")


# ------------------------------------------------------------------ functional odds and ends


def test_one_hot():
    t = [[0, 2], [1, 1]]
    assert_close(F.one_hot(ac.tensor(t), 4), torch.nn.functional.one_hot(torch.tensor(t), 4))
    assert_close(F.one_hot(ac.tensor(t)), torch.nn.functional.one_hot(torch.tensor(t)))
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor([3]), 2)
    with pytest.raises(RuntimeError, match=r"smaller than num_classes \(2\), got 3"):
        F.one_hot(ac.tensor([3]), 2)
    with pytest.raises(RuntimeError):
        torch.nn.functional.one_hot(torch.tensor([-1]), 2)
    with pytest.raises(RuntimeError, match="non-negative, got -1"):
        F.one_hot(ac.tensor([-1]), 2)


def test_erf_gradcheck():
    x = ac.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    assert ac.autograd.gradcheck(F.erf, (x,))
    assert_close(F.erf(x), torch.erf(torch.tensor(np.linspace(-3, 3, 7))))


@SETTINGS
@given(
    B=st.integers(1, 2),
    nh=st.integers(1, 3),
    T=st.integers(1, 5),
    S=st.integers(1, 5),
    hs=st.integers(1, 4),
    mask=st.sampled_from(["none", "bool", "float", "causal"]),
    scale=st.sampled_from([None, 0.3]),
)
def test_scaled_dot_product_attention(B, nh, T, S, hs, mask, scale):
    rng = np.random.default_rng(T * 10 + S)
    q, k, v = (
        rng.standard_normal(s).astype(np.float32)
        for s in [(B, nh, T, hs), (B, nh, S, hs), (B, nh, S, hs)]
    )
    kwargs_t, kwargs_o = {"scale": scale}, {"scale": scale}
    if mask == "bool":
        m = rng.random((T, S)) < 0.7
        m[:, 0] = True  # every query keeps at least one key
        kwargs_t["attn_mask"], kwargs_o["attn_mask"] = torch.tensor(m), ac.tensor(m)
    elif mask == "float":
        m = rng.standard_normal((B, 1, T, S)).astype(np.float32)
        kwargs_t["attn_mask"], kwargs_o["attn_mask"] = torch.tensor(m), ac.tensor(m)
    elif mask == "causal":
        if T > S:
            return  # a query before every key would attend to nothing
        kwargs_t["is_causal"] = kwargs_o["is_causal"] = True
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    os_ = [ac.tensor(a, requires_grad=True) for a in (q, k, v)]
    out_t = torch.nn.functional.scaled_dot_product_attention(*ts, **kwargs_t)
    out_o = F.scaled_dot_product_attention(*os_, **kwargs_o)
    assert_close(out_o, out_t, atol=1e-5, rtol=1e-5)
    g = rng.standard_normal(out_t.shape).astype(np.float32)
    out_t.backward(torch.tensor(g))
    out_o.backward(ac.tensor(g))
    for a, b in zip(os_, ts, strict=True):
        assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-5)


def test_sdpa_mask_and_causal_together_combine():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 3, 2)).astype(np.float32) for _ in range(3))
    m = np.array([[True, False, True], [True, True, True], [False, True, True]])
    out_t = torch.nn.functional.scaled_dot_product_attention(
        *map(torch.tensor, (q, k, v)), attn_mask=torch.tensor(m), is_causal=True
    )
    out_o = F.scaled_dot_product_attention(
        *map(ac.tensor, (q, k, v)), attn_mask=ac.tensor(m), is_causal=True
    )
    assert_close(out_o, out_t)
