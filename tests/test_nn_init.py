"""Initialisers: exact bounds from torch's formulas, mean and std within statistical
tolerance, fans and gains against torch, in-place and no_grad behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import aigc_course as ac
import aigc_course.nn as nn
from aigc_course.nn import init

F32_EPS = float(np.finfo(np.float32).eps)


def within_bound(t, bound):
    # float32 rounding of a draw just below the bound may land on float32(bound)
    return float(t.abs().max()) <= bound * (1 + F32_EPS)


def stats_ok(a: np.ndarray, mean: float, std: float, z: float = 5.0):
    """Sample mean within z standard errors; sample std within z of its standard error."""
    n = a.size
    assert abs(a.mean() - mean) < z * std / math.sqrt(n)
    assert abs(a.std() - std) < z * std / math.sqrt(2 * n) * 1.5  # looser: kurtosis of U


@pytest.mark.parametrize(
    "name, param",
    [
        ("linear", None),
        ("relu", None),
        ("tanh", None),
        ("sigmoid", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ],
)
def test_calculate_gain(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param)
    )


def test_calculate_gain_unknown():
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (2, 3, 4, 5)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(
        ac.empty(*shape)
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError):
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(3))
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(got shape \[3\]\)"):
        init._calculate_fan_in_and_fan_out(ac.empty(3))


def test_linear_default_init():
    ac.manual_seed(0)
    fan_in, fan_out = 256, 300
    layer = nn.Linear(fan_in, fan_out)
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2/6), bound sqrt(3)*gain/sqrt(fan_in) = 1/sqrt(fan_in)
    bound = math.sqrt(3) * math.sqrt(2 / (1 + 5)) / math.sqrt(fan_in)
    assert bound == pytest.approx(1 / math.sqrt(fan_in))
    assert within_bound(layer.weight, bound) and within_bound(layer.bias, bound)
    assert float(layer.weight.abs().max()) > 0.99 * bound  # uses the whole range
    stats_ok(layer.weight._data, 0.0, bound / math.sqrt(3))


def test_embedding_and_layernorm_default_init():
    ac.manual_seed(0)
    stats_ok(nn.Embedding(400, 250).weight._data, 0.0, 1.0)
    ln = nn.LayerNorm(7)
    assert np.all(ln.weight._data == 1) and np.all(ln.bias._data == 0)


@pytest.mark.parametrize(
    "kind", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_xavier_and_kaiming_std(kind, mode):
    ac.manual_seed(1)
    fan_out, fan_in = 300, 200
    w = ac.empty(fan_out, fan_in)
    if kind.startswith("xavier"):
        getattr(init, kind)(w, gain=init.calculate_gain("tanh"))
        std = 5 / 3 * math.sqrt(2 / (fan_in + fan_out))
    else:
        getattr(init, kind)(w, a=0.0, mode=mode, nonlinearity="relu")
        std = math.sqrt(2) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    stats_ok(w._data, 0.0, std)
    if kind.endswith("uniform_"):
        assert within_bound(w, math.sqrt(3) * std)


def test_kaiming_bad_mode():
    with pytest.raises(ValueError):
        torch.nn.init.kaiming_uniform_(torch.empty(2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_uniform_(ac.empty(2, 2), mode="fan_avg")


def test_uniform_normal_constant():
    ac.manual_seed(2)
    t = ac.empty(100_000)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert float(t.min()) >= -2 and float(t.max()) < 3
    stats_ok(t._data, 0.5, 5 / math.sqrt(12))
    init.normal_(t, 1.0, 0.5)
    stats_ok(t._data, 1.0, 0.5)
    init.constant_(t, 0.25)
    assert np.all(t._data == 0.25)
    init.ones_(t)
    assert np.all(t._data == 1)
    init.zeros_(t)
    assert np.all(t._data == 0)


def test_init_is_in_place_on_parameters_and_not_recorded():
    p = nn.Parameter(ac.empty(3, 4))
    data = p._data
    init.xavier_uniform_(p)
    assert p._data is data and p.grad_fn is None and p.requires_grad and p.is_leaf


def test_init_respects_generator():
    a = init.normal_(ac.empty(5), generator=ac.Generator().manual_seed(7))
    b = init.normal_(ac.empty(5), generator=ac.Generator().manual_seed(7))
    assert np.array_equal(a._data, b._data)
