"""``nn.functional`` against torch, generated from the registry (``opinfo/nn.py``,
``FUNCTIONAL``): values, dtype, shape and strides; gradients and second derivatives; float64
central differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import numpy as np
import torch
from opinfo import (
    assert_same,
)
from opinfo.nn import FUNCTIONAL as OPS
from opinfo.suite import op_tests

import aigc_course as ac
import aigc_course.nn.functional as F

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)


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
