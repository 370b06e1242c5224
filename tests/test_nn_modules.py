"""Every layer against torch, generated from the registry (``opinfo/nn.py``, ``MODULES``):
torch's parameters are copied in with ``load_state_dict``, then the output and the gradients
of the input and of every parameter must equal torch's; and the layers' bad inputs raise the
exception type torch raises, with a message naming the value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from opinfo import check_error, check_module, error_cases
from opinfo.nn import MODULE_ERRORS, MODULES

import aigc_course as ac
import aigc_course.nn as nn


@pytest.mark.parametrize(
    "info, dtype, x",
    [
        pytest.param(info, dtype, x, id=f"{info.name}-{dtype}-{i}:{x!r}")
        for info in MODULES
        for i, (dtype, x) in enumerate(info.cases())
    ],
)
def test_module_parity(info, dtype, x):
    check_module(info, dtype, x)


@pytest.mark.parametrize("op, error", error_cases(MODULE_ERRORS))
def test_errors(op, error):
    check_error(op, error)


# ---------------------------------------------------------------- what one comparison cannot say


def test_embedding_padding_row_is_zero_at_init():
    ac.manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == torch.nn.Embedding(5, 3, padding_idx=-1).padding_idx == 4
    assert np.all(emb.weight.detach().numpy()[4] == 0)


def test_dropout_in_eval_mode_returns_its_input():
    x = ac.randn(10, 10, requires_grad=True)
    assert nn.Dropout(0.3).eval()(x) is x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    ac.manual_seed(0)
    n = 200_000
    x = ac.ones(n, requires_grad=True)
    drop = nn.Dropout(p)
    assert drop.training
    y = drop(x)
    values = y.detach().numpy()
    kept = values != 0
    std = math.sqrt(p * (1 - p) / n)  # binomial standard deviation of the zeroed fraction
    assert abs((1 - kept.mean()) - p) < 5 * std
    assert np.allclose(values[kept], 1 / (1 - p))  # survivors are scaled by 1/(1-p)
    # the mean is preserved: E[y] = 1, with std sqrt(p/(1-p)/n)
    assert abs(values.mean() - 1) < 5 * math.sqrt(p / (1 - p) / n)
    y.sum().backward()
    assert np.array_equal(x.grad.numpy(), values)  # the gradient passes through the same mask
