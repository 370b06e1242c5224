"""``nn.functional`` against torch, generated from the registry (``opinfo/nn.py``,
``FUNCTIONAL``): values, dtype, shape and strides; gradients and second derivatives; float64
central differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import (
    assert_same,
    check_central_differences,
    check_error,
    check_grad,
    check_gradgrad,
    check_values,
    error_cases,
    grad_cases,
    value_cases,
)
from opinfo.nn import FUNCTIONAL as OPS

import aigc_course as ac
import aigc_course.nn.functional as F


@pytest.mark.parametrize("op, sample", value_cases(OPS))
def test_values(op, sample):
    check_values(op, sample)


@pytest.mark.parametrize(
    "op, sample", grad_cases(OPS, ("float64",)) + grad_cases(OPS, ("float32",), limit=3)
)
def test_grad(op, sample):
    check_grad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(OPS, ("float64",), second=True, limit=6))
def test_gradgrad(op, sample):
    check_gradgrad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(OPS, ("float64",), max_numel=40, limit=4))
def test_central_differences(op, sample):
    check_central_differences(op, sample)


@pytest.mark.parametrize("op, error", error_cases(OPS))
def test_errors(op, error):
    check_error(op, error)


# ---------------------------------------------------------------- what one comparison cannot say


def test_gelu_exact_float64_matches_to_1e_12():
    x = np.linspace(-6, 6, 101)
    assert_same(F.gelu(ac.tensor(x)), torch.nn.functional.gelu(torch.tensor(x)), 1e-12, 1e-12)


def test_dropout_p0_and_eval_return_the_input_itself_and_p1_zeros():
    x = ac.randn(10, 10, requires_grad=True)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert_same(F.dropout(x, 1.0), torch.nn.functional.dropout(torch.ones(10, 10), 1.0))


def test_dropout_uses_the_global_seed():
    ac.manual_seed(3)
    a = F.dropout(ac.ones(50), 0.5)
    ac.manual_seed(3)
    b = F.dropout(ac.ones(50), 0.5)
    assert np.array_equal(a.numpy(), b.numpy())
