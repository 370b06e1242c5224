"""The losses against torch, generated from the registry (``opinfo/nn.py``, ``LOSSES`` as
functions and ``LOSS_MODULES`` as layers): every reduction, ignore_index, label_smoothing, class
weights, the (N, C, d1, ...) layout, probability targets, huge logits, all targets ignored,
and the bad inputs (torch's exception type, a message naming the value)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import (
    assert_same,
    check_central_differences,
    check_error,
    check_grad,
    check_gradgrad,
    check_values,
    error_cases,
    grad_cases,
    value_cases,
)
from opinfo.nn import LOSS_MODULES, LOSSES

import aigc_course as ac
import aigc_course.nn as nn
import aigc_course.nn.functional as F

OPS = LOSSES + LOSS_MODULES


@pytest.mark.parametrize("op, sample", value_cases(OPS))
def test_values(op, sample):
    check_values(op, sample)


@pytest.mark.parametrize(
    "op, sample", grad_cases(OPS, ("float64",)) + grad_cases(OPS, ("float32",), limit=3)
)
def test_grad(op, sample):
    check_grad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(LOSSES, dtypes=("float64",), second=True))
def test_gradgrad(op, sample):
    check_gradgrad(op, sample)


@pytest.mark.parametrize("op, sample", grad_cases(LOSSES, dtypes=("float64",), max_numel=30))
def test_central_differences(op, sample):
    check_central_differences(op, sample)


@pytest.mark.parametrize("op, error", error_cases(OPS))
def test_errors(op, error):
    check_error(op, error)


# ---------------------------------------------------------------- what one comparison cannot say


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_cross_entropy_huge_logits_are_finite(scale):
    x = ac.tensor(np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]], np.float32) * scale)
    x.requires_grad_()
    loss = F.cross_entropy(x, ac.tensor([1, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))


def test_mse_broadcast_warns_like_torch():
    x, y = np.ones((3, 1), np.float32), np.arange(4, dtype=np.float32)
    with pytest.warns(UserWarning, match="different to the input size"):
        theirs = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
    with pytest.warns(UserWarning, match="different to the input size"):
        ours = F.mse_loss(ac.tensor(x), ac.tensor(y))
    assert_same(ours, theirs)


def test_weight_is_a_buffer_like_torch():
    w = [1.0, 2.0, 3.0]
    ours, theirs = nn.CrossEntropyLoss(ac.tensor(w)), torch.nn.CrossEntropyLoss(torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(
        torch.nn.CrossEntropyLoss().state_dict()
    )
