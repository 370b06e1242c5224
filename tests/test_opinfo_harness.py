"""The harness's one-off forms (``both``, ``assert_same``, ``check_grads``, ``gradcheck``,
``raises_like``) catch what they are for: each is shown failing on a wrong answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import assert_same, both, check_grads, gradcheck, raises_like

import aigc_course as ac

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


class WrongDouble(ac.autograd.Function):
    """z = 2x with the derivative 3 instead of 2."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, dz):
        return dz * 3


def doubled(lib, t):
    return t * 2 if lib is torch else WrongDouble.apply(t)


def test_values_dtype_and_strides_are_compared():
    assert_same(*both(lambda lib, t: t * 2, X))
    with pytest.raises(AssertionError, match="Mismatched elements"):
        assert_same(*both(lambda lib, t: t * (2 if lib is torch else 2.001), X))
    with pytest.raises(AssertionError, match="dtype float32 != torch's float64"):
        assert_same(*both(lambda lib, t: t.float() if lib is ac else t, X))
    with pytest.raises(AssertionError, match="strides"):
        assert_same(
            *both(lambda lib, t: t.t() if lib is ac else t.t().contiguous(), X), strides=True
        )


def test_a_wrong_gradient_is_caught_by_torch_and_by_central_differences():
    check_grads(lambda lib, t: t * 2, X)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_grads(doubled, X)
    with pytest.raises(AssertionError):
        gradcheck(lambda lib, t: WrongDouble.apply(t) if lib is ac else t * 2, X)


def test_an_error_must_be_torch_s():
    ours, theirs = raises_like(lambda lib, t: t.view(4), X)
    assert type(ours) is type(theirs) is RuntimeError
    with pytest.raises(AssertionError, match="no error"):
        raises_like(lambda lib, t: t.view(4) if lib is torch else t.reshape(6), X)
    with pytest.raises(AssertionError, match="does not match"):
        raises_like(lambda lib, t: t.view(4), X, match="no such words")
