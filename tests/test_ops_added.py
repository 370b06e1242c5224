"""The ops added for real programs (``repeat``, ``index_select``, ``amax``/``amin``,
``unbind``, ``isnan``/``isinf``/``isfinite``, ``einsum``) against torch, generated from the
registry (``opinfo/new_ops.py``, ``NEW_OPS``): values, dtype, shape and strides; gradients and
second derivatives; float64 central differences; and bad inputs, which must raise the exception
type torch raises. A few calls the registry's two call forms cannot express follow."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo.new_ops import NEW_OPS as OPS
from opinfo.suite import op_tests

import aigc_course as ac

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_classifiers_refuse_a_number_as_torch_does(name):
    with pytest.raises(Exception) as theirs:
        getattr(torch, name)(3.0)
    with pytest.raises(theirs.type):
        getattr(ac, name)(3.0)


def test_unbind_returns_views_that_share_memory():
    x = ac.zeros(2, 3)
    rows = x.unbind()
    rows[1][0] = 5.0
    assert x[1, 0].item() == 5.0 and rows[1]._base is x


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(3, 3), (3, 3)]),
        ("ii->i", [(3, 3)]),
        ("ij,jk,kl->", [(2, 3), (3, 3), (3, 2)]),
    ],
)
def test_einsum_second_derivatives_match_central_differences(equation, shapes):
    rng = np.random.default_rng(0)
    xs = [ac.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]

    def first_grads(*xs):
        out = ac.einsum(equation, *[x * x for x in xs]).sum()
        return ac.autograd.grad(out, xs, create_graph=True)[0]

    assert ac.autograd.gradcheck(first_grads, xs)


def test_set_num_threads_limits_numpys_blas():
    from threadpoolctl import threadpool_info

    before = ac.get_num_threads()
    try:
        ac.set_num_threads(1)
        assert ac.get_num_threads() == 1
        assert all(
            lib["num_threads"] == 1 for lib in threadpool_info() if lib["user_api"] == "blas"
        )
    finally:
        ac.set_num_threads(before)
    assert ac.get_num_threads() == before


@pytest.mark.parametrize("n", [0, -1, 2.0, "a", True])
def test_set_num_threads_refuses_what_torch_refuses(n):
    with pytest.raises(Exception) as theirs:
        torch.set_num_threads(n)
    with pytest.raises(theirs.type):
        ac.set_num_threads(n)


def test_diagonal_is_a_writable_view():
    x = ac.zeros(3, 4)
    d = x.diagonal(1)
    d[0] = 7.0
    assert x[0, 1].item() == 7.0 and d._base is x


def test_bincount_backward_is_refused_as_torch_refuses_it():
    w = ac.ones(3, requires_grad=True)
    out = ac.bincount(ac.tensor([0, 1, 1]), w)
    assert out.requires_grad
    with pytest.raises(RuntimeError, match="not implemented"):
        out.sum().backward()
