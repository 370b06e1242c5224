"""The creation functions against torch, generated from the registry (``opinfo/creation.py``,
``CREATION``, with broadcast_shapes, result_type, is_tensor and from_numpy): values, dtype
and shape (random ones: shape, dtype and range); and bad arguments, which must raise the
exception type torch raises, naming the value."""

from __future__ import annotations

import pytest
from opinfo import check_error, check_values, error_cases, value_cases
from opinfo.creation import CREATION as OPS


@pytest.mark.parametrize("op, sample", value_cases(OPS))
def test_values(op, sample):
    check_values(op, sample)


@pytest.mark.parametrize("op, error", error_cases(OPS))
def test_errors(op, error):
    check_error(op, error)
