"""The ops real PyTorch programs reach for (issue 20): ``mm``, ``bmm``, ``norm``,
``linalg.norm``, ``unique``, ``roll``, ``flip``, ``repeat_interleave``, ``div(rounding_mode=)``,
``nelement``, ``type``, generated from the registry (``opinfo/ops.py``, ``COMPAT``): values,
dtype, shape and strides; gradients and second derivatives; float64 central differences; and
bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

from opinfo.ops import COMPAT as OPS
from opinfo.suite import op_tests

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)
