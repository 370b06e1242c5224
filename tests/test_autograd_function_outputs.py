"""Custom ``autograd.Function``s with several outputs, ``ctx.mark_non_differentiable`` and
``ctx.set_materialize_grads``: each Function body below is written once and run under both
torch and aigc_course (``lib``), and what its backward receives and what the leaves get are
compared."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aigc_course as ac

LIBS = (ac, torch)


def make_functions(lib, materialize: bool = True, seen: list | None = None):
    """The same class bodies for ``lib``; ``seen`` records what each backward received."""
    seen = [] if seen is None else seen

    def note(*grads):
        seen.append(
            tuple(None if g is None else (tuple(g.shape), g.detach().numpy().copy()) for g in grads)
        )

    class ScaleAndExp(lib.autograd.Function):
        """(k x, e^x, 3): two tensor outputs and a Python int."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            ctx.k = k
            return x * k, x.exp(), 3

        @staticmethod
        def backward(ctx, da, db, dc):
            note(da, db, dc)
            (x,) = ctx.saved_tensors
            dx = None
            if da is not None:
                dx = da * ctx.k
            if db is not None:
                dx = db * x.exp() if dx is None else dx + db * x.exp()
            return dx, None

    class MaxWithIndex(lib.autograd.Function):
        """(max over the last dim, its index as float): the index is marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(-1, keepdim=True)
            values = x.gather(-1, idx)
            index = idx.to(x.dtype)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(idx)
            ctx.shape = x.shape
            return values, index

        @staticmethod
        def backward(ctx, dvalues, dindex):
            note(dvalues, dindex)
            (idx,) = ctx.saved_tensors
            return lib.zeros(ctx.shape, dtype=dvalues.dtype).scatter(-1, idx, dvalues)

    class Rounded(lib.autograd.Function):
        """One output, marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            out = x * 2
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("never called")

    return ScaleAndExp, MaxWithIndex, Rounded, seen


X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def leaf(lib):
    return lib.tensor(X, requires_grad=True)


def assert_same_records(ours, theirs):
    """What the custom Functions saw in each library: the same (name, values) records."""
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        if t is None:
            assert a is None
        else:
            assert a is not None and a[0] == t[0]
            np.testing.assert_allclose(a[1], t[1], rtol=1e-12, atol=0)


def run_both(program, materialize=True):
    results = []
    for lib in LIBS:
        functions = make_functions(lib, materialize)
        x = leaf(lib)
        out = program(lib, x, *functions[:3])
        results.append((x, out, functions[3]))
    (xa, oa, seen_a), (xt, ot, seen_t) = results
    return xa, xt, oa, ot, seen_a, seen_t


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("use", ["both", "first", "second"])
def test_several_outputs_one_gradient_each(use, materialize):
    def program(lib, x, ScaleAndExp, *_):
        a, b, c = ScaleAndExp.apply(x, 2.5)
        assert c == 3 and a.requires_grad and b.requires_grad
        loss = {"both": (a * b).sum(), "first": (a * a).sum(), "second": b.sum()}[use]
        loss.backward()
        return a.grad_fn is b.grad_fn

    xa, xt, same_a, same_t, seen_a, seen_t = run_both(program, materialize)
    assert same_a and same_t  # one node for both outputs
    assert_same_records(
        seen_a[0], seen_t[0]
    )  # zeros (or None) for the unused output, None for the int
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_outputs_reached_along_several_paths_are_summed():
    def program(lib, x, ScaleAndExp, *_):
        a, b, _ = ScaleAndExp.apply(x, -1.5)
        ((a * 3 + b) * a + b.exp()).sum().backward()

    xa, xt, _, _, seen_a, seen_t = run_both(program)
    assert_same_records(seen_a[0], seen_t[0])
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_mark_non_differentiable():
    def program(lib, x, _, MaxWithIndex, Rounded):
        values, index = MaxWithIndex.apply(x)
        assert values.requires_grad and not index.requires_grad and index.grad_fn is None
        r = Rounded.apply(x)
        assert not r.requires_grad and r.grad_fn is None
        (values * values).sum().backward()
        return index.detach().numpy()

    xa, xt, ia, it, seen_a, seen_t = run_both(program)
    np.testing.assert_array_equal(ia, it)
    assert_same_records(seen_a[0], seen_t[0])  # zeros for the index
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_grad_of_an_output_retain_grad_and_create_graph():
    def program(lib, x, ScaleAndExp, *_):
        a, b, _ = ScaleAndExp.apply(x, 2.0)
        b.retain_grad()
        y = (a * b).sum()
        (gb,) = lib.autograd.grad(y, b, retain_graph=True)  # = a
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), x, retain_graph=True)
        y.backward()
        return [gb.detach().numpy(), gx.detach().numpy(), ggx.numpy(), b.grad.numpy()]

    *_, ours, theirs, _, _ = run_both(program)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a, t, rtol=1e-12)


def test_a_wrong_number_of_gradients_names_the_function():
    class Two(ac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, da, db):
            return da, db  # two, for one input

    a, b = Two.apply(ac.tensor([1.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="TwoBackward.*expected 1, got 2"):
        (a + b).sum().backward()
