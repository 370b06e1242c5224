"""The fused primitives of the hot path, against torch: the exact GELU (float32's own
polynomial erf, float64 through scipy), and, with the composed formulas they replace kept
here as a second oracle, GELU-tanh and LayerNorm. Values, gradients, and second derivatives
through ``create_graph``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import assert_same, make

import aigc_course as ac
import aigc_course.nn.functional as F

F32 = dict(atol=1e-5, rtol=1.3e-6)  # torch.testing's float32 tolerance


def leaves(array: np.ndarray) -> tuple:
    """The same data as a leaf of each library, (ours, torch's)."""
    return make(ac, array, requires_grad=True), make(torch, array, requires_grad=True)


def close(ours, composed, **tol) -> None:
    """Ours against the composed formula (the second oracle; against torch: assert_same)."""
    np.testing.assert_allclose(ours.detach().numpy(), composed.detach().numpy(), **tol)


# ---------------------------------------------------------------- exact GELU


def test_gelu_float32_on_a_dense_grid_with_tails_matches_torch():
    x = np.linspace(-12, 12, 1_000_001, dtype=np.float32)  # many chunks; tails up to |x| = 12
    a, t = leaves(x)
    za, zt = F.gelu(a), torch.nn.functional.gelu(t)
    assert za.dtype == ac.float32
    assert_same(za, zt, **F32)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    za.backward(ac.tensor(g))
    zt.backward(torch.tensor(g))
    assert_same(a.grad, t.grad, **F32)


def test_gelu_float32_special_values_match_float64():
    x = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-3, -10.0, 10.0, np.inf, np.nan], np.float32)
    ours = F.gelu(ac.tensor(x)).numpy()
    exact = torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, exact.astype(np.float32), **F32)  # inf -> inf, nan -> nan


def test_gelu_float64_is_exact():
    x = np.concatenate([np.linspace(-40, 40, 10_001), [0.0, np.inf]])
    a, t = leaves(x)
    za, zt = F.gelu(a), torch.nn.functional.gelu(t)
    assert_same(za, zt, rtol=1e-13, atol=1e-15)  # (torch's 1 + erf loses the far left tail)
    za.sum().backward()
    zt.sum().backward()
    assert_same(a.grad[:-1], t.grad[:-1], rtol=1e-12, atol=1e-15)  # (at inf, 1 + inf * 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (3, 5), (70_001,)])
def test_gelu_second_derivative_matches_torch(dtype, shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype) * 3
    a, t = leaves(x)
    (ga,) = ac.autograd.grad(F.gelu(a).sum(), a, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.gelu(t).sum(), t, create_graph=True)
    assert_same(ga, gt, **F32)
    (ha,) = ac.autograd.grad((ga * ga).sum(), a)
    (ht,) = torch.autograd.grad((gt * gt).sum(), t)
    assert_same(ha, ht, atol=2e-5, rtol=1e-5)


def test_gelu_on_a_non_contiguous_input():
    x = np.random.default_rng(2).standard_normal((40, 30)).astype(np.float32)
    a, t = leaves(x)
    assert_same(F.gelu(a.t()), torch.nn.functional.gelu(t.t()), **F32)


# ---------------------------------------------------------------- GELU-tanh


def gelu_tanh_composed(x):
    """The formula in eight recorded Tensor ops: the oracle the fused GeluTanh replaced."""
    inner = (2 / np.pi) ** 0.5 * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1.0 + inner.tanh())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (7, 9), (70_001,)])
def test_gelu_tanh_matches_torch_and_the_composed_formula(dtype, shape):
    x = np.asarray(np.random.default_rng(3).standard_normal(shape) * 4, dtype=dtype)
    a, t = leaves(x)
    c = ac.tensor(x, requires_grad=True)
    za = F.gelu(a, approximate="tanh")
    zt = torch.nn.functional.gelu(t, approximate="tanh")
    zc = gelu_tanh_composed(c)
    assert za.grad_fn.name() == "GeluBackward0"  # torch's name for both forms
    tol = F32 if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert_same(za, zt, **tol)
    close(za, zc, **tol)
    g = np.asarray(np.random.default_rng(4).standard_normal(shape), dtype=dtype)
    firsts, seconds = [], []
    for z, leaf, lib in ((za, a, ac), (zt, t, torch), (zc, c, ac)):
        (d,) = lib.autograd.grad(z, leaf, lib.tensor(g), create_graph=True)
        (dd,) = lib.autograd.grad((d * d).sum(), leaf)
        firsts.append(d)
        seconds.append(dd)
    assert_same(firsts[0], firsts[1], **tol)
    close(firsts[0], firsts[2], **tol)
    second_tol = dict(atol=5e-5, rtol=1e-5) if dtype == np.float32 else tol
    assert_same(seconds[0], seconds[1], **second_tol)
    # (not against the composed formula's: its 1 - t^2 cancels in float32 where t ~ 1)


def test_gelu_tanh_far_tails_and_special_values():
    x = np.array([-1e4, -30.0, -10.0, 0.0, 10.0, 30.0, 1e4, np.inf, -np.inf], np.float32)
    a, t = leaves(x)
    za, zt = F.gelu(a, approximate="tanh"), torch.nn.functional.gelu(t, approximate="tanh")
    assert_same(za, zt, **F32)
    za.sum().backward()
    zt.sum().backward()
    assert_same(a.grad[:-2], t.grad[:-2], **F32)  # at +-inf torch's grad is nan as 0 * inf is


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(RuntimeError, match="'sigmoid'"):
        F.gelu(ac.ones(2), approximate="sigmoid")


# ---------------------------------------------------------------- LayerNorm


def layer_norm_composed(x, shape, weight=None, bias=None, eps=1e-5):
    """The textbook formula in recorded Tensor ops: the oracle the fused LayerNorm replaced."""
    dims = tuple(range(-len(shape), 0))
    mu = x.mean(dims, keepdim=True)
    centered = x - mu
    var = (centered * centered).mean(dims, keepdim=True)
    y = centered / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


LN_CASES = [
    ((4, 6), (6,), True, True),
    ((2, 3, 8), (8,), True, True),
    ((2, 3, 4), (3, 4), True, True),
    ((5, 3), (3,), False, False),
    ((5, 3), (3,), True, False),
    ((7,), (7,), False, True),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xshape, shape, has_weight, has_bias", LN_CASES)
def test_layer_norm_matches_torch_and_the_composed_formula(
    dtype, xshape, shape, has_weight, has_bias
):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(xshape) * 3 + 1]
    arrays += [rng.standard_normal(shape) + 1 if has_weight else None]
    arrays += [rng.standard_normal(shape) if has_bias else None]
    arrays = [None if v is None else v.astype(dtype) for v in arrays]
    ours = [None if v is None else ac.tensor(v, requires_grad=True) for v in arrays]
    comp = [None if v is None else ac.tensor(v, requires_grad=True) for v in arrays]
    ref = [None if v is None else torch.tensor(v, requires_grad=True) for v in arrays]
    ya = F.layer_norm(ours[0], shape, ours[1], ours[2])
    yc = layer_norm_composed(comp[0], shape, comp[1], comp[2])
    yt = torch.nn.functional.layer_norm(ref[0], shape, ref[1], ref[2])
    assert ya.grad_fn.name() == "NativeLayerNormBackward0"  # torch's name
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-10, rtol=1e-10)
    assert_same(ya, yt, **tol)
    close(ya, yc, **tol)
    g = rng.standard_normal(xshape).astype(dtype)
    ya.backward(ac.tensor(g))
    yc.backward(ac.tensor(g))
    yt.backward(torch.tensor(g))
    for a, c, t in zip(ours, comp, ref):
        if a is not None:
            assert_same(a.grad, t.grad, **tol)
            close(a.grad, c.grad, **tol)


def test_layer_norm_second_derivatives_match_the_composed_formula():
    # torch's CPU layer_norm has a double backward only for some inputs; the composed formula
    # is differentiable twice everywhere, so it is the oracle here (float64)
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal(5)
    g = rng.standard_normal((3, 5))
    results = []
    for fn in (F.layer_norm, layer_norm_composed):
        leaves = [ac.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = fn(leaves[0], (5,), leaves[1], leaves[2])
        grads = ac.autograd.grad(y, leaves, ac.tensor(g), create_graph=True)
        second = ac.autograd.grad(sum((d * d).sum() for d in grads), leaves[:2])
        results.append([d.detach().numpy() for d in grads] + [s.numpy() for s in second])
    for ours, composed in zip(*results):
        np.testing.assert_allclose(ours, composed, rtol=1e-9, atol=1e-10)
    t = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    y = torch.nn.functional.layer_norm(t[0], (5,), t[1], t[2])
    dt = torch.autograd.grad(y, t, torch.tensor(g), create_graph=True)
    st = torch.autograd.grad(sum((d * d).sum() for d in dt), t[:2])  # (none reach the bias)
    for ours, theirs in zip(results[0], [d.detach().numpy() for d in dt + st]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (4,)), RuntimeError),
        (lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), lib.ones(4)), RuntimeError),
        (
            lambda lib: lib.nn.functional.layer_norm(
                lib.ones(2, 3), (3,), lib.ones(3), lib.ones(4)
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.nn.functional.layer_norm(
                lib.ones(2, 3, dtype=lib.float64), (3,), lib.ones(3)
            ),
            RuntimeError,
        ),
        (
            lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3, dtype=lib.long), (3,)),
            NotImplementedError,
        ),
    ],
)
def test_layer_norm_bad_input_raises_like_torch(make, error):
    with pytest.raises(error):
        make(torch)
    with pytest.raises(error):
        make(ac)


# ---------------------------------------------------------------- IndexAdd (every split's backward)


@pytest.mark.parametrize(
    "index",
    [
        (0,),
        (slice(1, 3),),
        (Ellipsis, 2),
        (None, 1, slice(None, None, 2)),
        (1, 2, 3),
        (-1, slice(-3, None)),
    ],
)
def test_basic_index_backward_matches_torch(index):
    x = np.random.default_rng(7).standard_normal((4, 6, 5))
    a, t = leaves(x)
    ya, yt = a[index], t[index]
    g = np.random.default_rng(8).standard_normal(tuple(yt.shape))
    ya.backward(ac.tensor(g))
    yt.backward(torch.tensor(g))
    assert_same(a.grad, t.grad, rtol=0, atol=0)


def test_repeated_index_backward_still_accumulates():
    a, t = leaves(np.arange(5.0))
    index = [0, 2, 2, 4, 0, 0]
    a[ac.tensor(index)].sum().backward()
    t[torch.tensor(index)].sum().backward()
    assert_same(a.grad, t.grad, rtol=0, atol=0)
