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
