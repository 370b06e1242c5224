"""The elementwise ops against torch, generated from the registry (``opinfo/ops.py``,
``ELEMENTWISE``): values, dtype, shape and strides; gradients and second derivatives; float64
central differences; and bad inputs, which must raise the exception type torch raises."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import (
    Arg,
    Sample,
    broadcast_pairs,
    check_grad,
    check_values,
)
from opinfo.ops import BINARY_OPS, UNARY_OPS
from opinfo.ops import ELEMENTWISE as OPS
from opinfo.suite import op_tests

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(OPS)


# ---------------------------------------------------------------- Hypothesis shapes

DIFFERENTIABLE_BINARY = [op for op in BINARY_OPS if op.grad]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DIFFERENTIABLE_BINARY), broadcast_pairs(), st.integers(0, 2**16))
def test_binary_ops_on_drawn_broadcast_shapes(op, shapes, seed):
    """Values and gradients of the binary ops over Hypothesis-drawn broadcast pairs."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shapes[0])  # positive: a valid base for pow, divisor for div
    b = rng.uniform(0.5, 2.0, shapes[1])
    check_grad(op, Sample((Arg(a), Arg(b))))


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([op for op in UNARY_OPS if op.grad]),
    st.lists(st.integers(0, 3), max_size=3),
    st.integers(0, 2**16),
)
def test_unary_ops_on_drawn_shapes(op, shape, seed):
    x = np.random.default_rng(seed).uniform(0.5, 2.0, shape)
    check_grad(op, Sample((Arg(x),)))


PROMOTING = [op for op in OPS if op.name in ("+", "-", "*", "/", "//", "%", "&", "|", "^", "**")]
PROMOTING += [op for op in BINARY_OPS if op.name in ("maximum", "eq", "lt")]
DTYPES = ["float32", "float64", "int64", "bool", "int32", "uint8", "float16"]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(PROMOTING),
    broadcast_pairs(),
    st.sampled_from(DTYPES),
    st.sampled_from([*DTYPES, "python int", "python float", "python bool"]),
    st.integers(0, 2**16),
)
def test_type_promotion_on_drawn_dtypes(op, shapes, dtype_a, dtype_b, seed):
    """Values and result dtype of the binary operators over drawn dtype pairs (tensors of
    any two dtypes, or a Python number): torch's promotion, or torch's refusal."""
    rng = np.random.default_rng(seed)

    def operand(shape, dtype):
        values = rng.integers(1, 4, shape)  # positive, nonzero: valid for //, % and **
        if dtype.startswith("python"):
            return {"python int": 2, "python float": 1.5, "python bool": True}[dtype]
        return Arg(values.astype(dtype))

    check_values(op, Sample((operand(shapes[0], dtype_a), operand(shapes[1], dtype_b))))
