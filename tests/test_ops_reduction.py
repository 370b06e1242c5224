"""The reduction ops against torch, generated from the registry (``opinfo/ops.py``, ``REDUCTION``):
values, dtype, shape and strides; gradients and second derivatives; float64 central
differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import pytest
from opinfo import (
    check_central_differences,
    check_error,
    check_grad,
    check_gradgrad,
    check_values,
    error_cases,
    grad_cases,
    value_cases,
)
from opinfo.ops import REDUCTION as OPS


@pytest.mark.parametrize("op, sample", value_cases(OPS))
def test_values(op, sample):
    check_values(op, sample)


# float64 everywhere; float32 (the dtype of the gradients) on the first samples of each op
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
