"""Convolution and pooling against torch: ``nn.functional.conv2d``, ``max_pool2d`` and
``avg_pool2d`` generated from the registry (``opinfo/nn.py``, ``CONV_FUNCTIONAL``: values,
strides, gradients, second derivatives, float64 central differences, torch's errors), the
layers with torch's weights copied in (``CONV_MODULES``), and what one comparison cannot say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from opinfo import assert_same, check_error, check_module, error_cases
from opinfo.nn import CONV_FUNCTIONAL, CONV_MODULES, LAYER_MODULE_ERRORS
from opinfo.suite import op_tests

import aigc_course as ac
import aigc_course.nn as nn
import aigc_course.nn.functional as F
from aigc_course.nn._conv import Col2im, Im2col

test_values, test_grad, test_gradgrad, test_central_differences, test_errors = op_tests(
    CONV_FUNCTIONAL
)


@pytest.mark.parametrize(
    "info, dtype, x",
    [
        pytest.param(info, dtype, x, id=f"{info.name}-{dtype}-{i}:{x!r}")
        for info in CONV_MODULES
        for i, (dtype, x) in enumerate(info.cases())
    ],
)
def test_module_parity(info, dtype, x):
    check_module(info, dtype, x)


CONV_ERRORS = [op for op in LAYER_MODULE_ERRORS if op.name.startswith("Conv2d")]


@pytest.mark.parametrize("op, error", error_cases(CONV_ERRORS))
def test_module_errors(op, error):
    check_error(op, error)


# ---------------------------------------------------------------- what one comparison cannot say


def test_conv2d_gradcheck_float64_central_differences():
    """A larger case than the registry's: stride, padding, dilation and groups at once."""
    rng = np.random.default_rng(0)
    x = ac.tensor(rng.standard_normal((2, 4, 7, 6)), requires_grad=True)
    w = ac.tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
    b = ac.tensor(rng.standard_normal(6), requires_grad=True)

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)

    assert ac.autograd.gradcheck(f, (x, w, b))


def test_im2col_and_col2im_are_adjoint():
    r"""$\langle \mathrm{im2col}(x), c\rangle = \langle x, \mathrm{col2im}(c)\rangle$: the
    reason each is the other's backward."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 8))
    geometry = dict(kernel=(3, 2), stride=(2, 3), dilation=(1, 2), padding=((1, 2), (0, 1)))
    cols = Im2col.apply(ac.tensor(x), **geometry).numpy()
    c = rng.standard_normal(cols.shape)
    back = Col2im.apply(ac.tensor(c), shape=x.shape, **geometry).numpy()
    assert np.isclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


def test_conv2d_loads_torch_weights_and_prints_like_torch():
    for args, kwargs in [
        ((1, 8, 3), dict(padding=1)),
        ((3, 8, (3, 5)), dict(stride=2, padding=1, dilation=2, bias=False)),
        ((4, 8, 3), dict(padding="same", groups=2)),
    ]:
        theirs, ours = torch.nn.Conv2d(*args, **kwargs), nn.Conv2d(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        ours.load_state_dict(theirs.state_dict())
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_conv2d_default_init_has_torchs_range():
    ac.manual_seed(0)
    conv = nn.Conv2d(2, 64, 3)
    bound = 1 / np.sqrt(2 * 3 * 3)  # 1/sqrt(fan_in)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound  # U(-a, a) has std a/sqrt(3)


def test_max_pool2d_indices_unpool_like_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 7)).astype(np.float32)
    out_o, idx_o = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(ac.tensor(x))
    out_t, idx_t = torch.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(torch.tensor(x))
    assert_same(out_o, out_t)
    assert_same(idx_o, idx_t)


def test_pooling_reprs_match_torch():
    for name, args, kwargs in [
        ("MaxPool2d", (2,), {}),
        ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, ceil_mode=True)),
        ("AvgPool2d", (2,), {}),
        ("AvgPool2d", (3, 2, 1), {}),
    ]:
        assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
            getattr(torch.nn, name)(*args, **kwargs)
        )


def test_a_small_cnn_trains_like_torch_for_three_steps():
    """Conv, batch norm, pooling and a linear head, trained with SGD for three steps in both
    libraries from the same weights: the losses agree step by step."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 8)

    def make(lib):
        return lib.nn.Sequential(
            lib.nn.Conv2d(1, 8, 3, padding=1),
            lib.nn.BatchNorm2d(8),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Conv2d(8, 16, 3, padding=1),
            lib.nn.ReLU(),
            lib.nn.MaxPool2d(2),
            lib.nn.Flatten(),
            lib.nn.Linear(16 * 2 * 2, 10),
        )

    theirs, ours = make(torch), make(ac)
    ours.load_state_dict(theirs.state_dict())
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt_o = ac.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(3):
        loss_t = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        loss_o = F.cross_entropy(ours(ac.tensor(x)), ac.tensor(y))
        assert abs(loss_o.item() - loss_t.item()) < 1e-5
        for opt, loss in ((opt_t, loss_t), (opt_o, loss_o)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    for name, buf in ours.named_buffers():
        assert_same(buf, theirs.state_dict()[name], 1e-5, 1e-6, what=name)
