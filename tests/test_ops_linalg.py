"""The linalg ops against torch, generated from the registry (``opinfo/ops.py``, ``LINALG``):
values, dtype, shape and strides; gradients and second derivatives; float64 central
differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

from opinfo.ops import LINALG as OPS
from opinfo.suite import op_tests

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)
