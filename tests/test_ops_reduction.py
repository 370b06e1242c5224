"""The reduction ops against torch, generated from the registry (``opinfo/ops.py``, ``REDUCTION``):
values, dtype, shape and strides; gradients and second derivatives; float64 central
differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import (
    Arg,
    Sample,
    check_grad,
)
from opinfo.ops import REDUCTION as OPS
from opinfo.suite import op_tests

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)


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
