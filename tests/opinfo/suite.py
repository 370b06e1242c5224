"""The five generated tests that every ``tests/test_ops_<topic>.py`` file runs on its ops.

A topic file binds them by name, so that pytest collects them there::

    test_values, test_grad, test_gradgrad, test_central_differences, test_errors = (
        op_tests(OPS)
    )
"""

from __future__ import annotations

import pytest

from .core import (
    check_central_differences,
    check_error,
    check_grad,
    check_gradgrad,
    check_values,
    error_cases,
    grad_cases,
    value_cases,
)


def op_tests(ops: list) -> tuple:
    """Values, gradients, second derivatives, central differences and errors for ``ops``."""

    @pytest.mark.parametrize("op, sample", value_cases(ops))
    def test_values(op, sample):
        check_values(op, sample)

    # float64 everywhere; float32 (the dtype of the gradients) on the first samples of each op
    @pytest.mark.parametrize(
        "op, sample", grad_cases(ops, ("float64",)) + grad_cases(ops, ("float32",), limit=3)
    )
    def test_grad(op, sample):
        check_grad(op, sample)

    @pytest.mark.parametrize("op, sample", grad_cases(ops, ("float64",), second=True, limit=6))
    def test_gradgrad(op, sample):
        check_gradgrad(op, sample)

    @pytest.mark.parametrize("op, sample", grad_cases(ops, ("float64",), max_numel=40, limit=4))
    def test_central_differences(op, sample):
        check_central_differences(op, sample)

    @pytest.mark.parametrize("op, error", error_cases(ops))
    def test_errors(op, error):
        check_error(op, error)

    return test_values, test_grad, test_gradgrad, test_central_differences, test_errors
