"""Batch normalisation, the activations SiLU, LeakyReLU, ELU and Softplus, and the binary
cross-entropy losses against torch: generated from the registry (``opinfo/nn.py``:
``NORM_FUNCTIONAL``, ``ACTIVATION_FUNCTIONAL``, ``BCE_LOSSES``, their layers), then the
running statistics, train/eval modes and state dicts, which one call cannot show."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import assert_same, check_error, check_grad, check_module, check_values, error_cases
from opinfo.core import value_cases
from opinfo.nn import (
    ACTIVATION_FUNCTIONAL,
    BCE_LOSS_MODULES,
    BCE_LOSSES,
    LAYER_MODULE_ERRORS,
    LAYER_MODULES,
    NORM_FUNCTIONAL,
)
from opinfo.suite import op_tests

import aigc_course as ac
import aigc_course.nn as nn
import aigc_course.nn.functional as F

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(
    NORM_FUNCTIONAL + ACTIVATION_FUNCTIONAL + BCE_LOSSES
)


@pytest.mark.parametrize("op, sample", value_cases(BCE_LOSS_MODULES))
def test_loss_module_values(op, sample):
    check_values(op, sample)
    check_grad(op, sample)


@pytest.mark.parametrize(
    "info, dtype, x",
    [
        pytest.param(info, dtype, x, id=f"{info.name}-{dtype}-{i}:{x!r}")
        for info in LAYER_MODULES
        for i, (dtype, x) in enumerate(info.cases())
    ],
)
def test_module_parity(info, dtype, x):
    check_module(info, dtype, x)


NORM_ERRORS = [op for op in LAYER_MODULE_ERRORS if op.name.startswith("BatchNorm")]


@pytest.mark.parametrize("op, error", error_cases(NORM_ERRORS))
def test_module_errors(op, error):
    check_error(op, error)


# ---------------------------------------------------------------- batch norm's state


def _pair(lib, *args, **kwargs):
    return lib.nn.BatchNorm2d(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{}, dict(momentum=None), dict(momentum=0.5, eps=1e-3), dict(affine=False)],
    ids=repr,
)
def test_batchnorm2d_running_stats_follow_torch_through_train_and_eval(kwargs):
    """Three training batches move the running statistics (unbiased variance) as in torch;
    then evaluation normalises with them, and so gives torch's output and gradients."""
    rng = np.random.default_rng(0)
    theirs, ours = torch.nn.BatchNorm2d(3, **kwargs), nn.BatchNorm2d(3, **kwargs)
    if theirs.affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    ours.load_state_dict(theirs.state_dict())
    for _ in range(3):
        x = (rng.standard_normal((4, 3, 5, 5)) * 2 + 1).astype(np.float32)
        assert_same(ours(ac.tensor(x)), theirs(torch.tensor(x)), 1e-5, 1e-5)
    for name, buf in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], buf, 1e-5, 1e-6, what=name)
    theirs.eval(), ours.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    xt, xo = torch.tensor(x, requires_grad=True), ac.tensor(x, requires_grad=True)
    out_t, out_o = theirs(xt), ours(xo)
    assert_same(out_o, out_t, 1e-5, 1e-5)
    g = rng.standard_normal(x.shape).astype(np.float32)
    out_t.backward(torch.tensor(g)), out_o.backward(ac.tensor(g))
    assert_same(xo.grad, xt.grad, 1e-5, 1e-5)
    if theirs.affine:
        assert_same(ours.weight.grad, theirs.weight.grad, 1e-4, 1e-5)
    assert ours.num_batches_tracked.item() == 3  # not counted in eval


def test_batchnorm_buffers_and_repr_are_torchs():
    for kwargs in [{}, dict(momentum=None, affine=False, track_running_stats=False)]:
        theirs, ours = torch.nn.BatchNorm2d(3, **kwargs), nn.BatchNorm2d(3, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
    bn = nn.BatchNorm2d(3)
    assert bn.num_batches_tracked.dtype == ac.int64 and bn.num_batches_tracked.ndim == 0
    assert bn.running_mean.requires_grad is False


def test_batchnorm_without_running_stats_uses_the_batch_in_eval_too():
    x = np.random.default_rng(1).standard_normal((4, 3, 2, 2)).astype(np.float32)
    theirs = torch.nn.BatchNorm2d(3, track_running_stats=False).eval()
    ours = nn.BatchNorm2d(3, track_running_stats=False).eval()
    assert_same(ours(ac.tensor(x)), theirs(torch.tensor(x)), 1e-5, 1e-5)


def test_batch_norm_training_updates_the_buffers_in_place():
    rm, rv = ac.zeros(3), ac.ones(3)
    before = (rm, rv)
    x = ac.randn(8, 3, 2, 2)
    F.batch_norm(x, rm, rv, training=True, momentum=0.1)
    assert (rm, rv) == before  # the same tensors, changed in place
    want_mean = 0.1 * x.numpy().mean(axis=(0, 2, 3))
    assert np.allclose(rm.numpy(), want_mean, atol=1e-6)


def test_train_and_eval_modes_differ():
    ac.manual_seed(0)
    bn = nn.BatchNorm2d(2)
    x = ac.randn(4, 2, 3, 3) * 5 + 3
    train_out = bn(x)
    bn.eval()
    assert not np.allclose(bn(x).detach().numpy(), train_out.detach().numpy())


# ---------------------------------------------------------------- activations and BCE


def test_activation_reprs_match_torch():
    for name, args in [
        ("SiLU", ()),
        ("LeakyReLU", ()),
        ("LeakyReLU", (0.2,)),
        ("ELU", ()),
        ("ELU", (0.5,)),
        ("Softplus", ()),
        ("Softplus", (2.0, 5.0)),
    ]:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_softplus_is_stable_where_the_naive_formula_overflows():
    x = ac.tensor([-1000.0, 80.0, 1000.0], requires_grad=True)
    y = F.softplus(x, threshold=float("inf"))  # never the identity shortcut
    assert np.all(np.isfinite(y.detach().numpy()))
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), [0.0, 1.0, 1.0])


def test_bce_with_logits_equals_bce_of_sigmoid_where_both_are_finite():
    rng = np.random.default_rng(2)
    x = ac.tensor(rng.standard_normal(20) * 3)
    y = ac.tensor(rng.random(20))
    a = F.binary_cross_entropy_with_logits(x, y)
    b = F.binary_cross_entropy(x.sigmoid(), y)
    assert abs(a.item() - b.item()) < 1e-12


def test_bce_logits_pos_weight_broadcasts_over_the_last_axis_like_torch():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((5, 3)), (rng.random((5, 3)) > 0.5).astype(np.float64)
    pw = np.array([1.0, 2.0, 5.0])
    ours = nn.BCEWithLogitsLoss(pos_weight=ac.tensor(pw))(ac.tensor(x), ac.tensor(y))
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw))(
        torch.tensor(x), torch.tensor(y)
    )
    assert_same(ours, theirs)
    assert "pos_weight" in dict(nn.BCEWithLogitsLoss(pos_weight=ac.tensor(pw)).named_buffers())
