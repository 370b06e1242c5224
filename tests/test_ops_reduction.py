"""The reduction ops against torch, generated from the registry (``opinfo/ops.py``, ``REDUCTION``):
values, dtype, shape and strides; gradients and second derivatives; float64 central
differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import (
    Arg,
    Sample,
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


# ---------------------------------------------------------------- Hypothesis shapes

BY_NAME = {op.name: op for op in OPS}


@st.composite
def reductions(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    name = draw(
        st.sampled_from(["sum", "mean", "max", "min", "logsumexp", "softmax", "cumsum", "var"])
    )
    if not shape or (name == "var" and draw(st.booleans())):
        return BY_NAME[name], shape, {}
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    if name in ("softmax", "cumsum"):
        return BY_NAME[name], shape, {"dim": dim}
    return BY_NAME[name], shape, {"dim": dim, "keepdim": draw(st.booleans())}


@settings(max_examples=60, deadline=None)
@given(reductions(), st.integers(0, 2**16))
def test_reductions_on_drawn_shapes_and_dims(reduction, seed):
    """Values and gradients of the reductions over Hypothesis-drawn shapes and dims."""
    op, shape, kwargs = reduction
    if op.name == "var" and int(np.prod(shape)) < 2:
        shape = (2, *shape)  # one element: a 0/0 variance, a separate case
    x = np.random.default_rng(seed).standard_normal(shape)
    if op.name == "logsumexp" and "dim" not in kwargs:
        kwargs = {"dim": 0} if shape else {"dim": ()}
    check_grad(op, Sample((Arg(x),), kwargs))
