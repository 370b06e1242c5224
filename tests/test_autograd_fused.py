"""The fused primitives of the hot path, against torch: the exact GELU (float32's own
polynomial erf, float64 through scipy), and, with the composed formulas they replace kept
here as a second oracle, GELU-tanh and LayerNorm. Values, gradients, and second derivatives
through ``create_graph``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aigc_course as ac
import aigc_course.nn.functional as F

F32 = dict(atol=1e-5, rtol=1.3e-6)  # torch.testing's float32 tolerance


def both(array: np.ndarray, requires_grad: bool = True):
    return (
        ac.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def close(ours, theirs, **tol) -> None:
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)


# ---------------------------------------------------------------- exact GELU


def test_gelu_float32_on_a_dense_grid_with_tails_matches_torch():
    x = np.linspace(-12, 12, 1_000_001, dtype=np.float32)  # many chunks; tails up to |x| = 12
    a, t = both(x)
    za, zt = F.gelu(a), torch.nn.functional.gelu(t)
    assert za.dtype == ac.float32
    close(za, zt, **F32)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    za.backward(ac.tensor(g))
    zt.backward(torch.tensor(g))
    close(a.grad, t.grad, **F32)


def test_gelu_float32_special_values_match_float64():
    x = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-3, -10.0, 10.0, np.inf, np.nan], np.float32)
    ours = F.gelu(ac.tensor(x)).numpy()
    exact = torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(ours, exact.astype(np.float32), **F32)  # inf -> inf, nan -> nan


def test_gelu_float64_is_exact():
    x = np.concatenate([np.linspace(-40, 40, 10_001), [0.0, np.inf]])
    a, t = both(x)
    za, zt = F.gelu(a), torch.nn.functional.gelu(t)
    close(za, zt, rtol=1e-13, atol=1e-15)  # (torch's 1 + erf loses the far left tail)
    za.sum().backward()
    zt.sum().backward()
    close(a.grad[:-1], t.grad[:-1], rtol=1e-12, atol=1e-15)  # (at inf, 1 + inf * 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (3, 5), (70_001,)])
def test_gelu_second_derivative_matches_torch(dtype, shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype) * 3
    a, t = both(x)
    (ga,) = ac.autograd.grad(F.gelu(a).sum(), a, create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.gelu(t).sum(), t, create_graph=True)
    close(ga, gt, **F32)
    (ha,) = ac.autograd.grad((ga * ga).sum(), a)
    (ht,) = torch.autograd.grad((gt * gt).sum(), t)
    close(ha, ht, atol=2e-5, rtol=1e-5)


def test_gelu_on_a_non_contiguous_input():
    x = np.random.default_rng(2).standard_normal((40, 30)).astype(np.float32)
    a, t = both(x)
    close(F.gelu(a.t()), torch.nn.functional.gelu(t.t()), **F32)
