"""Autograd plumbing through the harness (issue 7, section 1), generated from the registry
(``opinfo/autograd.py``): custom Functions written for torch run unchanged (values, gradients,
second derivatives, central differences; a backward with the wrong number or shape of
gradients raises torch's exception type, naming the Function); grad mode as a block, a call,
a decorator bare and called, inference_mode; .grad accumulates in place, does not alias, and
survives zero_grad(set_to_none=False); in-place ops on non-leaves and writes of grad-requiring
values into plain tensors are recorded."""

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
from opinfo.autograd import CUSTOM_FUNCTIONS, GRAD_MODE, IN_PLACE

OPS = CUSTOM_FUNCTIONS + GRAD_MODE + IN_PLACE


@pytest.mark.parametrize("op, sample", value_cases(OPS))
def test_values(op, sample):
    check_values(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(OPS))
def test_grad(op, sample):
    check_grad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(OPS, ("float64",), second=True))
def test_gradgrad(op, sample):
    check_gradgrad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(OPS, ("float64",), max_numel=40))
def test_central_differences(op, sample):
    check_central_differences(op, sample)


@pytest.mark.parametrize("op, error", error_cases(OPS))
def test_errors(op, error):
    check_error(op, error)
