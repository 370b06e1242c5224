"""The article's autograd example (its section 3.2), corrected, and the claims chapter 2 makes.

Every test runs the same code on torch and on aigc_course and compares the two; where a number
can be derived by hand, the derivation is in a comment and the number is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import aigc_course as ac
from aigc_course.testing import assert_close

LIBS = pytest.mark.parametrize("lib", [ac, torch], ids=["aigc_course", "torch"])


def article_graph(lib):
    x = lib.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    return x, y, z


@LIBS
def test_implicit_gradient_of_a_non_scalar_raises(lib):
    # The article calls z.backward(retain_graph=True) on the 2x2 z: both libraries refuse,
    # because "dz/dx" of a 2x2 output is a 2x2x2x2 Jacobian, not a gradient.
    x, _, z = article_graph(lib)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        z.backward(retain_graph=True)
    assert x.grad is None


def _fixed_grads(lib):
    grads = {}
    for fix in ("sum", "mean", "gradient"):
        x, _, z = article_graph(lib)
        if fix == "sum":
            z.sum().backward()
        elif fix == "mean":
            z.mean().backward()
        else:
            z.backward(gradient=lib.ones_like(z))
        grads[fix] = x.grad
    return grads


def test_the_three_fixes_match_torch_and_the_hand_derivation():
    ours, theirs = _fixed_grads(ac), _fixed_grads(torch)
    for fix in ours:
        assert_close(ours[fix], theirs[fix])
    # By hand: z_ij = 3 (x_ij + 2)^2, so dz_ij/dx_ij = 6 (x_ij + 2) = 18 at x = 1.
    # sum: each x_ij feeds one term, so the gradient is 18 everywhere (and so is
    # backward(gradient=ones), which is the same vector-Jacobian product).
    # mean: z-bar = (1/4) sum z_ij, so dz-bar/dx_ij = 6 (x_ij + 2) / 4 = 18 / 4 = 4.5.
    np.testing.assert_allclose(ours["sum"].numpy(), np.full((2, 2), 18.0))
    np.testing.assert_allclose(ours["gradient"].numpy(), np.full((2, 2), 18.0))
    np.testing.assert_allclose(ours["mean"].numpy(), np.full((2, 2), 4.5))


@LIBS
def test_backward_twice_without_retain_graph_raises(lib):
    x, _, z = article_graph(lib)
    out = z.mean()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        out.backward()


def test_retain_graph_lets_gradients_accumulate_like_torch():
    results = []
    for lib in (ac, torch):
        x, _, z = article_graph(lib)
        out = z.mean()
        out.backward(retain_graph=True)
        first = x.grad.clone()
        out.backward()  # the graph is still there; gradients add up in x.grad
        results.append((first, x.grad))
    (ours_first, ours_second), (theirs_first, theirs_second) = results
    assert_close(ours_first, theirs_first)
    assert_close(ours_second, theirs_second)
    np.testing.assert_allclose(ours_second.numpy(), 2 * ours_first.numpy())  # 9 = 2 * 4.5


@LIBS
def test_retain_graph_does_not_give_second_derivatives_create_graph_does(lib):
    # The article says retain_graph is for higher derivatives. It is not: without
    # create_graph, the gradient is a constant with no graph of its own.
    x = lib.tensor(2.0, requires_grad=True)
    y = x**3
    (dy,) = lib.autograd.grad(y, x, retain_graph=True)
    assert not dy.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.grad(dy, x)
    (dy,) = lib.autograd.grad(x**3, x, create_graph=True)  # 3 x^2 = 12, with a graph
    (d2y,) = lib.autograd.grad(dy, x)  # 6 x = 12
    assert dy.item() == pytest.approx(12.0) and d2y.item() == pytest.approx(12.0)


@LIBS
def test_non_leaf_grad_is_none_unless_retained(lib):
    x, y, z = article_graph(lib)
    y.retain_grad()
    w = y * 1.0  # another non-leaf, not retained
    (z.sum() + w.sum()).backward()
    assert x.is_leaf and not y.is_leaf and not z.is_leaf
    with pytest.warns(UserWarning, match="retain_grad"):
        assert w.grad is None
    # dL/dy = 6 y + 1 = 19 (through z and through w)
    np.testing.assert_allclose(np.array(y.grad.tolist()), np.full((2, 2), 19.0))


@LIBS
def test_requires_grad_propagates_and_no_grad_and_detach_cut_the_graph(lib):
    x = lib.ones(3, requires_grad=True)
    c = lib.ones(3)
    assert (x * c).requires_grad and not (c * 2).requires_grad
    with lib.no_grad():
        assert not (x * 2).requires_grad

    @lib.no_grad()
    def evaluate(t):
        return t * 2

    assert evaluate(x).grad_fn is None
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0  # shares memory with x
    assert x[0].item() == 5.0


def _doubling(lib, x):
    y = x * 2
    steps = 0
    while y.pow(2).sum().sqrt() < 100:
        y = y * 2
        steps += 1
    return y.sum(), steps


@pytest.mark.parametrize("values", [[0.01, -0.02], [1.0, 2.0], [10.0, 3.0], [60.0, 80.0]])
def test_data_dependent_loop_gradients_match_torch(values):
    results = []
    for lib in (ac, torch):
        x = lib.tensor(values, requires_grad=True)
        out, steps = _doubling(lib, x)
        out.backward()
        results.append((x.grad, steps))
    (ours, ours_steps), (theirs, theirs_steps) = results
    assert ours_steps == theirs_steps
    assert_close(ours, theirs)
    # By hand: y = 2^(steps+1) x, so d(sum y)/dx = 2^(steps+1) everywhere
    np.testing.assert_allclose(ours.numpy(), np.full(2, 2.0 ** (ours_steps + 1)))


def test_the_loop_takes_different_numbers_of_steps():
    steps = {
        _doubling(ac, ac.tensor(v, requires_grad=True))[1]
        for v in ([0.01, 0.0], [1.0, 1.0], [60.0, 80.0])
    }
    assert len(steps) == 3


SECOND_ORDER = {
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "cube": lambda lib, x: x**3,
    "exp_sin": lambda lib, x: x.exp() * x.sin(),
    "log1p_sq": lambda lib, x: (1 + x * x).log(),
    "softplus": lambda lib, x: (1 + x.exp()).log(),
    "silu": lambda lib, x: x * x.sigmoid(),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_higher_derivatives_with_create_graph_match_torch(name):
    fn = SECOND_ORDER[name]
    xs = np.linspace(-2.0, 2.0, 7)
    results = []
    for lib in (ac, torch):
        x = lib.tensor(xs, requires_grad=True)  # float64
        derivs = []
        y = fn(lib, x)
        for _ in range(3):  # first, second and third derivatives, elementwise
            (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
            derivs.append(y)
        results.append(derivs)
    for ours, theirs in zip(*results, strict=True):  # orders 1, 2, 3
        assert_close(ours, theirs, rtol=1e-9, atol=1e-9)


def test_tanh_derivatives_match_their_closed_forms():
    # d/dx tanh = 1 - t^2; d2 = -2 t (1 - t^2); d3 = (6 t^2 - 2)(1 - t^2), with t = tanh x
    xs = np.linspace(-3, 3, 13)
    x = ac.tensor(xs, requires_grad=True)
    y, got = x.tanh(), []
    for _ in range(3):
        (y,) = ac.autograd.grad(y.sum(), x, create_graph=True)
        got.append(y.detach().numpy())
    t = np.tanh(xs)
    expected = [1 - t**2, -2 * t * (1 - t**2), (6 * t**2 - 2) * (1 - t**2)]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_sum_over_paths_example():
    # a = x * y, b = a + x, L = a * b. x reaches L through a (twice) and through b directly.
    # By hand at x = 2, y = 3: a = 6, b = 8, L = 48.
    # dL/da = b + a * db/da = 8 + 6 = 14 (a reaches L directly and through b);
    # dL/dx = dL/da * da/dx + dL/db * db/dx = 14 * y + a * 1 = 42 + 6 = 48.
    # dL/dy = dL/da * da/dy = 14 * x = 28.
    results = []
    for lib in (ac, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = lib.tensor(3.0, requires_grad=True)
        a = x * y
        b = a + x
        (a * b).backward()
        results.append((x.grad, y.grad))
    assert_close(results[0], results[1])
    assert (results[0][0].item(), results[0][1].item()) == (48.0, 28.0)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=6),
    st.floats(0.1, 5),
)
def test_vector_jacobian_products_match_torch(values, scale):
    # f(x) = (scale * x).tanh() * x.exp(): backward(gradient=v) computes v^T J.
    v = np.linspace(-1, 1, len(values))
    grads = []
    for lib in (ac, torch):
        x = lib.tensor(np.array(values), requires_grad=True)
        y = (x * scale).tanh() * x.exp()
        y.backward(gradient=lib.tensor(v))
        grads.append(x.grad)
    assert_close(grads[0], grads[1])
    # the Jacobian is diagonal here: J_ii = scale (1 - tanh^2) e^x + tanh e^x
    xs = np.array(values)
    t = np.tanh(scale * xs)
    jac_diag = scale * (1 - t**2) * np.exp(xs) + t * np.exp(xs)
    np.testing.assert_allclose(grads[0].numpy(), v * jac_diag, rtol=1e-10, atol=1e-12)


def test_one_backward_pass_gives_the_full_gradient_of_a_scalar():
    # L = sum(softmax(W x)) weighted: one backward pass fills the gradient of all 12 + 3 inputs
    rng = np.random.default_rng(0)
    w, x, c = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(4)
    results = []
    for lib in (ac, torch):
        W = lib.tensor(w, requires_grad=True)
        X = lib.tensor(x, requires_grad=True)
        ((W @ X).softmax(0) * lib.tensor(c)).sum().backward()
        results.append((W.grad, X.grad))
    assert_close(results[0], results[1])


@pytest.mark.parametrize("name", ["tanh", "softplus", "silu", "cube"])
def test_gradcheck_agrees(name):
    fn = SECOND_ORDER[name]
    x = ac.tensor(np.linspace(-2, 2, 5), requires_grad=True)
    assert ac.autograd.gradcheck(lambda t: fn(ac, t), (x,))
    tx = torch.tensor(np.linspace(-2, 2, 5), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fn(torch, t), (tx,))
