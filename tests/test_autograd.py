"""The autograd engine's rules, against torch: accumulation, retain_graph, leaves, no_grad,
detach, create_graph, autograd.grad, gradcheck, and a 10,000-op chain."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import assert_same, both

import aigc_course as ac


def test_gradients_accumulate_in_leaves():
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        (x.exp()).sum().backward()
        return x.grad

    assert_same(*both(run))


def test_backward_twice_needs_retain_graph():
    for lib in (torch, ac):
        x = lib.ones(2, 2, requires_grad=True)
        z = ((x + 2) * (x + 2) * 3).mean()
        z.backward()
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            z.backward()

    def run(lib):
        x = lib.ones(2, 2, requires_grad=True)
        z = ((x + 2) * (x + 2) * 3).mean()
        z.backward(retain_graph=True)
        z.backward()  # works, and accumulates: 4.5 + 4.5
        return x.grad

    ours, theirs = both(run)
    assert_same(ours, theirs)
    assert ours.tolist() == [[9.0, 9.0], [9.0, 9.0]]


def test_a_graph_without_saved_values_can_be_walked_twice_like_torch():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = (x + 2).sum()
        y.backward()
        y.backward()  # AddBackward and SumBackward save nothing: torch allows this too
        return x.grad

    assert_same(*both(run))


def test_implicit_gradient_only_for_scalars():
    for lib in (torch, ac):
        z = lib.ones(2, 2, requires_grad=True) * 3
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
            z.backward()

    def run(lib):
        x = lib.ones(2, 2, requires_grad=True)
        z = x * x * 3
        z.backward(gradient=lib.tensor([[1.0, 0.5], [0.0, 2.0]]))
        return x.grad

    assert_same(*both(run))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        ac.ones(2, requires_grad=True).exp().backward(ac.ones(3))


def test_non_leaf_grad_is_none_unless_retained():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        kept = x * 2
        kept.retain_grad()
        (y * kept).sum().backward()
        with pytest.warns(UserWarning, match="not a leaf"):
            assert y.grad is None
        return kept.grad, x.grad

    (k, g), (tk, tg) = both(run)
    assert_same(k, tk)
    assert_same(g, tg)


def test_leaf_flags_and_requires_grad_propagation():
    for lib in (torch, ac):
        x = lib.ones(2, requires_grad=True)
        c = lib.ones(2)
        y = x * c
        assert x.is_leaf and c.is_leaf and not y.is_leaf
        assert y.requires_grad and not (c * 2).requires_grad
        assert (c * 2).grad_fn is None and y.grad_fn is not None
        with pytest.raises(RuntimeError, match="does not require grad"):
            (c * 2).sum().backward()
        with pytest.raises(RuntimeError, match="leaf variables"):
            y.requires_grad = False
    assert ac.ones(2, requires_grad=True).__mul__(2).grad_fn.name() == (
        torch.ones(2, requires_grad=True).__mul__(2).grad_fn.name()
    )  # torch's name: MulBackward0


def test_no_grad_as_context_and_decorator_and_detach():
    for lib in (torch, ac):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = x * 2
            with lib.enable_grad():
                z = x * 2
        assert not y.requires_grad and y.grad_fn is None and z.requires_grad

        @lib.no_grad()
        def f(t):
            return t * 2

        assert not f(x).requires_grad and lib.is_grad_enabled()
        d = x.detach()
        assert not d.requires_grad and d.data_ptr() == x.data_ptr()

    def run(lib):  # a detached branch contributes no gradient
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        ((x * x.detach()) + x.detach() ** 2).sum().backward()
        return x.grad

    assert_same(*both(run))


def test_shared_subexpression_sums_over_paths():
    # L = a*b + b with a = x^2, b = 3x: dL/dx = sum over the three paths, 9x^2 + 3 = 39 at x=2
    def run(lib):
        x = lib.tensor(2.0, requires_grad=True)
        a, b = x**2, 3 * x
        (a * b + b).backward()
        return x.grad

    ours, theirs = both(run)
    assert_same(ours, theirs)
    assert ours.item() == 39.0


def test_data_dependent_control_flow():
    def f(lib, start):
        x = lib.tensor(start, requires_grad=True)
        y = x
        steps = 0
        while (y * y).sum().sqrt() < 100:  # a data-dependent loop: the graph depends on x
            y = y * 2 if steps % 2 == 0 else y.tanh() * 5 + y
            steps += 1
        if y.sum() > 0:
            y = y.relu()
        y.sum().backward()
        return x.grad, steps

    for start in ([0.5, 1.0], [3.0, -1.0], [40.0, 50.0], [-0.1, 0.05]):
        (g, n), (tg, tn) = f(ac, start), f(torch, start)
        assert n == tn
        assert_same(g, tg)


def test_a_chain_of_10000_ops_does_not_hit_the_recursion_limit():
    x = ac.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-3)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: (x**3).sum(),
        lambda lib, x: x.tanh().sum(),
        lambda lib, x: (x.sigmoid() * x).sum(),
        lambda lib, x: x.exp().log_softmax(0).sum() + (x * x).mean(),
        lambda lib, x: (x.unsqueeze(0) @ x.unsqueeze(1)).sum(),
        lambda lib, x: lib.where(x > 0, x * x, -x).sum(),
        lambda lib, x: x.softmax(0)[0],
    ],
)
def test_double_backward_matches_torch(fn):
    def run(lib):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum(), x)
        return g, h

    (g, h), (tg, th) = both(run)
    assert_same(g, tg)
    assert_same(h, th)


def test_third_derivative_of_tanh():
    def run(lib):
        x = lib.linspace(-2, 2, 9, dtype=lib.float64, requires_grad=True)
        y = x.tanh()
        out = []
        for _ in range(3):
            (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
            out.append(y)
        return out

    for o, t in zip(*both(run)):
        assert_same(o, t)


def test_autograd_grad_allow_unused_and_no_accumulation():
    for lib in (torch, ac):
        x = lib.ones(2, requires_grad=True)
        u = lib.ones(2, requires_grad=True)
        y = (x * 3).sum()
        with pytest.raises(RuntimeError, match="allow_unused=True"):
            lib.autograd.grad(y, [x, u], retain_graph=True)
        gx, gu = lib.autograd.grad(y, [x, u], allow_unused=True)
        assert gu is None and gx.tolist() == [3.0, 3.0] and x.grad is None


def test_backward_with_create_graph_builds_a_differentiable_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (x**3).sum().backward(create_graph=True)
        g = x.grad  # 3x^2, itself differentiable
        (h,) = lib.autograd.grad(g.sum(), x)
        return h

    assert_same(*both(run))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=1, max_size=5))
def test_gradcheck_agrees_on_a_composite(values):
    x = ac.tensor(values, dtype=ac.float64, requires_grad=True)
    assert ac.autograd.gradcheck(lambda t: (t.tanh() * t.exp()).softmax(0) * 3, (x,))


def test_gradcheck_reports_which_element_is_wrong():
    class BadSquare(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, dz):
            (x,) = ctx.saved_tensors
            return dz * x  # wrong: should be 2 * x * dz

    x = ac.tensor([1.0, 2.0], dtype=ac.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 0, element 0.*numerical 2 vs analytical 1"):
        ac.autograd.gradcheck(lambda t: BadSquare.apply(t), (x,))
    with pytest.raises(ValueError, match="float64"):
        ac.autograd.gradcheck(lambda t: t * 2, (ac.ones(2, requires_grad=True),))


def test_a_custom_function_gets_broadcasting_undone_for_it():
    class Scale(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, dz):
            x, s = ctx.saved_tensors
            return dz * s, dz * x

    x = ac.tensor(np.ones((3, 2)), requires_grad=True)
    s = ac.tensor(np.array([2.0, 3.0]), requires_grad=True)
    Scale.apply(x, s).sum().backward()
    assert s.grad.tolist() == [3.0, 3.0] and x.grad.shape == (3, 2)


def test_mixed_dtype_gradients_keep_each_inputs_dtype():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, dtype=lib.float64, requires_grad=True)
        (a * b * 2).sum().backward()
        return a.grad, b.grad

    (a, b), (ta, tb) = both(run)
    assert_same(a, ta)
    assert_same(b, tb)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda lib, w, x: w.detach().__setitem__(0, 5.0),  # through a detached alias
        lambda lib, w, x: x.add_(1),  # an input that does not require grad
        lambda lib, w, x: x[0].fill_(2.0),  # through a view of it
        lambda lib, w, x: x.view(3).mul_(2),
    ],
)
def test_modifying_a_saved_value_in_place_makes_backward_raise(mutate):
    for lib in (torch, ac):
        w = lib.ones(3, requires_grad=True)
        x = lib.tensor([1.0, 2.0, 3.0])
        loss = (w * x * w).sum()  # MulBackward saves w and x
        mutate(lib, w, x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


def test_versions_count_in_place_changes_like_torch():
    for lib in (torch, ac):
        x = lib.zeros(4)
        v = x[1:]
        d = x.detach()
        start = x._version
        x.add_(1)
        v.mul_(2)
        d[0] = 3.0
        x.zero_()
        assert x._version - start == v._version - start == d._version - start == 4
        assert lib.ones(2)._version == 0


def test_unrelated_in_place_changes_do_not_disturb_backward():
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        x = lib.tensor([1.0, 2.0, 3.0])
        loss = (w + x).sum()  # AddBackward saves nothing: torch lets x change
        x.add_(1)
        other = x.clone()
        other.mul_(3)
        loss.backward()
        return w.grad

    assert_same(*both(run))
