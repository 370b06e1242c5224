"""Random programs: Hypothesis composes 3-8 ops (elementwise, broadcasting binary ops,
reductions with keepdim, shape round trips) over 1-3 float64 leaves of broadcastable shapes,
runs the same program on torch and on aigc_course, and compares the output and the gradient of
every leaf. Derandomised in CI by the Hypothesis profile in conftest.py."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from opinfo import assert_same

import aigc_course as ac

UNARY = {
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "sin": lambda lib, x: lib.sin(x),
    "cos": lambda lib, x: x.cos(),
    "relu": lambda lib, x: lib.relu(x),
    "abs": lambda lib, x: x.abs(),
    "neg": lambda lib, x: -x,
    "exp(tanh)": lambda lib, x: x.tanh().exp(),
    "sqrt(x²+1)": lambda lib, x: (x * x + 1).sqrt(),
    "log(x²+1)": lambda lib, x: (x**2 + 1).log(),
    "softmax": lambda lib, x: x.softmax(-1),
    "log_softmax": lambda lib, x: x.log_softmax(dim=-1),
    "x/2": lambda lib, x: x / 2,
    "1-x": lambda lib, x: 1 - x,
    "clamp": lambda lib, x: x.clamp(-1, 1),
    "masked write": lambda lib, x: _masked_write(x),
}
BINARY = {
    "+": lambda lib, a, b: a + b,
    "-": lambda lib, a, b: a - b,
    "*": lambda lib, a, b: a * b,
    "/": lambda lib, a, b: a / (b * b + 1),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "where": lambda lib, a, b: lib.where(a > b, a, b * 2),
    "*= (in place)": lambda lib, a, b: _in_place_product(a, b),
}


def _in_place_product(a, b):
    out = a + b * 0  # a non-leaf of the broadcast shape
    out.mul_(b)  # recorded in place
    return out


def _masked_write(x):
    out = x * 1
    out[out > 0.5] = 0.5  # a masked write into a value that requires grad
    return out


REDUCE = {  # keepdim, so that every value stays broadcastable to the program's shape
    "sum": lambda lib, x, d: x.sum(dim=d, keepdim=True),
    "mean": lambda lib, x, d: x.mean(d, keepdim=True),
    "max": lambda lib, x, d: x.max(dim=d, keepdim=True)[0],
    "logsumexp": lambda lib, x, d: x.logsumexp(d, keepdim=True),
    "cumsum": lambda lib, x, d: x.cumsum(d),
}
SHAPE = {  # shape round trips through views and copies, and shape-preserving products
    "transpose": lambda lib, x: x.transpose(0, -1).contiguous().transpose(0, -1),
    "reshape": lambda lib, x: x.reshape(-1).reshape(tuple(x.shape)),
    "unsqueeze": lambda lib, x: x.unsqueeze(0).squeeze(0),
    "index": lambda lib, x: x[..., :] * 1,
    "cat/split": lambda lib, x: lib.cat([x, x], dim=-1).split(x.shape[-1], dim=-1)[1],
    "reverse": lambda lib, x: x[..., lib.tensor(list(range(x.shape[-1]))[::-1])],
    "@ matrix": lambda lib, x: x @ lib.tensor(MATRIX[: x.shape[-1], : x.shape[-1]]),
}
MATRIX = np.arange(9.0).reshape(3, 3) / 8 - 0.5  # a constant square factor


@st.composite
def programs(draw):
    base = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    leaves = []
    for _ in range(draw(st.integers(1, 3))):
        drop = draw(st.integers(0, len(base) - 1))  # leading dims dropped: broadcasting
        shape = [1 if draw(st.booleans()) else n for n in base[drop:]]
        leaves.append(tuple(shape))
    ndims = [len(s) for s in leaves]
    steps = []
    for _ in range(draw(st.integers(3, 8))):
        n = len(ndims)
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce", "shape"]))
        if kind == "unary":
            steps.append((kind, draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, n - 1))))
            ndims.append(ndims[steps[-1][2]])
        elif kind == "binary":
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            steps.append((kind, draw(st.sampled_from(sorted(BINARY))), i, j))
            ndims.append(max(ndims[i], ndims[j]))
        elif kind == "reduce":
            i = draw(st.integers(0, n - 1))
            if ndims[i] == 0:
                continue
            d = draw(st.integers(-ndims[i], -1))
            steps.append((kind, draw(st.sampled_from(sorted(REDUCE))), i, d))
            ndims.append(ndims[i])
        else:
            i = draw(st.integers(0, n - 1))
            if ndims[i] == 0:
                continue
            steps.append((kind, draw(st.sampled_from(sorted(SHAPE))), i))
            ndims.append(ndims[i])
    seed = draw(st.integers(0, 2**16))
    return leaves, steps, seed


def run(lib, leaves, steps):
    values = list(leaves)
    for step in steps:
        kind, name, *operands = step
        if kind == "unary":
            values.append(UNARY[name](lib, values[operands[0]]))
        elif kind == "binary":
            values.append(BINARY[name](lib, values[operands[0]], values[operands[1]]))
        elif kind == "reduce":
            values.append(REDUCE[name](lib, values[operands[0]], operands[1]))
        else:
            values.append(SHAPE[name](lib, values[operands[0]]))
    return values[-1]


@settings(max_examples=150, deadline=None)
@given(programs())
def test_random_program_matches_torch(program):
    shapes, steps, seed = program
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    leaves_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    leaves_o = [ac.tensor(a, requires_grad=True) for a in arrays]
    out_t, out_o = run(torch, leaves_t, steps), run(ac, leaves_o, steps)
    assert_same(out_o, out_t, 1e-9, 1e-9, what=f"output of {steps}")
    g = rng.standard_normal(tuple(out_t.shape))
    if not out_t.requires_grad:
        return
    grads_t = torch.autograd.grad(out_t, leaves_t, torch.tensor(g), allow_unused=True)
    grads_o = ac.autograd.grad(out_o, leaves_o, ac.tensor(g), allow_unused=True)
    for i, (go, gt) in enumerate(zip(grads_o, grads_t)):
        if gt is None:
            assert go is None or not np.any(go.numpy()), f"leaf {i}: torch has no gradient"
            continue
        assert go is not None, f"leaf {i}: no gradient, torch has one ({steps})"
        assert_same(go, gt, 1e-9, 1e-9, what=f"gradient of leaf {i} through {steps}")
