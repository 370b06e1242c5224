"""Losses against torch: values and input gradients for every reduction, ignore_index,
label_smoothing, class weights, the (N, C, d1, ...) layout, probability targets, huge logits,
and the bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import aigc_course as ac
import aigc_course.nn as nn
import aigc_course.nn.functional as F
from aigc_course.testing import assert_close

SETTINGS = settings(max_examples=30, deadline=None)
TF = torch.nn.functional


def check_loss(ours_fn, theirs_fn, x: np.ndarray, target: np.ndarray, rtol=1e-5, atol=1e-5):
    xt, xo = torch.tensor(x, requires_grad=True), ac.tensor(x, requires_grad=True)
    tt, to = torch.tensor(target), ac.tensor(target)
    lt, lo = theirs_fn(xt, tt), ours_fn(xo, to)
    assert_close(lo, lt, rtol=rtol, atol=atol)
    g = np.random.default_rng(2).standard_normal(tuple(lt.shape)).astype(x.dtype)
    lt.backward(torch.tensor(g))
    lo.backward(ac.tensor(g))
    assert_close(xo.grad, xt.grad, rtol=rtol, atol=atol)


def class_problem(N, C, extra, seed, ignore_frac=0.0, scale=3.0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, C, *extra)) * scale).astype(np.float32)
    target = rng.integers(0, C, size=(N, *extra))
    if ignore_frac:
        target[rng.random(target.shape) < ignore_frac] = -100
        target.flat[0] = 0  # keep at least one
    return x, target


@SETTINGS
@given(
    N=st.integers(1, 5),
    C=st.integers(1, 5),
    extra=st.lists(st.integers(1, 3), max_size=2),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    smoothing=st.sampled_from([0.0, 0.1, 0.5]),
    ignore=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 100),
)
def test_cross_entropy(N, C, extra, reduction, smoothing, ignore, weighted, seed):
    x, target = class_problem(N, C, extra, seed, ignore_frac=0.3 if ignore else 0.0)
    w = np.random.default_rng(seed + 1).random(C).astype(np.float32) + 0.5 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check_loss(
        lambda a, t: nn.CrossEntropyLoss(None if w is None else ac.tensor(w), **kw)(a, t),
        lambda a, t: torch.nn.CrossEntropyLoss(None if w is None else torch.tensor(w), **kw)(a, t),
        x,
        target,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(reduction, smoothing):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    p = rng.random((4, 3, 2)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    w = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    check_loss(
        lambda a, t: F.cross_entropy(
            a, t, ac.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        lambda a, t: TF.cross_entropy(
            a, t, torch.tensor(w), reduction=reduction, label_smoothing=smoothing
        ),
        x,
        p,
    )


def test_cross_entropy_unbatched():
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    for smoothing in (0.0, 0.3):
        check_loss(
            lambda a, t, s=smoothing: F.cross_entropy(a, t, label_smoothing=s),
            lambda a, t, s=smoothing: TF.cross_entropy(a, t, label_smoothing=s),
            x,
            np.array(2),
        )


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_cross_entropy_huge_logits_are_finite(scale):
    x = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]], dtype=np.float32) * scale
    target = np.array([1, 2])
    xo = ac.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xo, ac.tensor(target))
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(xo.grad._data))
    check_loss(F.cross_entropy, TF.cross_entropy, x, target, rtol=1e-6, atol=1e-3)


def test_cross_entropy_gpt_layout():
    """GPT training flattens (B, T, V) logits to (B*T, V)."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 5, 11)).astype(np.float32)
    ids = rng.integers(0, 11, size=(2, 5))
    check_loss(
        lambda a, t: F.cross_entropy(a.view(-1, 11), t.view(-1)),
        lambda a, t: TF.cross_entropy(a.view(-1, 11), t.view(-1)),
        logits,
        ids,
    )


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), dtype=np.float32)
    t = np.array([-100, -100])
    ours = F.cross_entropy(ac.tensor(x), ac.tensor(t)).item()
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert np.isnan(ours) and np.isnan(theirs)


@SETTINGS
@given(
    N=st.integers(1, 5),
    C=st.integers(1, 5),
    extra=st.lists(st.integers(1, 3), max_size=2),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    ignore=st.booleans(),
    weighted=st.booleans(),
    seed=st.integers(0, 100),
)
def test_nll_loss(N, C, extra, reduction, ignore, weighted, seed):
    x, target = class_problem(N, C, extra, seed, ignore_frac=0.3 if ignore else 0.0)
    w = np.random.default_rng(seed).random(C).astype(np.float32) + 0.5 if weighted else None
    check_loss(
        lambda a, t: nn.NLLLoss(None if w is None else ac.tensor(w), reduction=reduction)(
            a.log_softmax(1), t
        ),
        lambda a, t: torch.nn.NLLLoss(None if w is None else torch.tensor(w), reduction=reduction)(
            a.log_softmax(1), t
        ),
        x,
        target,
    )


@SETTINGS
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    reduction=st.sampled_from(["mean", "sum", "none"]),
)
def test_mse_loss(shape, reduction):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    check_loss(nn.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction), x, y)


def test_mse_broadcast_warns_like_torch():
    x = np.ones((3, 1), dtype=np.float32)
    y = np.arange(4, dtype=np.float32)
    with pytest.warns(UserWarning, match="different to the input size"):
        theirs = TF.mse_loss(torch.tensor(x), torch.tensor(y))
    with pytest.warns(UserWarning, match="different to the input size"):
        ours = F.mse_loss(ac.tensor(x), ac.tensor(y))
    assert_close(ours, theirs)
    with pytest.raises(RuntimeError), pytest.warns(UserWarning):
        TF.mse_loss(torch.ones(3), torch.ones(4))
    with pytest.raises(RuntimeError, match=r"\(3\).*\(4\)"), pytest.warns(UserWarning):
        F.mse_loss(ac.ones(3), ac.ones(4))


# ------------------------------------------------------------------ bad input


def test_batch_size_mismatch():
    msg = r"Expected input batch_size \(4\) to match target batch_size \(3\)\."
    with pytest.raises(ValueError, match=msg):
        TF.cross_entropy(torch.randn(4, 5), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=msg):
        F.cross_entropy(ac.randn(4, 5), ac.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=msg):
        nn.NLLLoss()(ac.randn(4, 5), ac.tensor([0, 1, 2]))


def test_target_out_of_bounds():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        TF.cross_entropy(torch.randn(2, 5), torch.tensor([0, 5]))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(ac.randn(2, 5), ac.tensor([0, 5]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.cross_entropy(ac.randn(2, 5), ac.tensor([0, -3]))


def test_bad_reduction_and_smoothing():
    with pytest.raises(ValueError):
        TF.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.cross_entropy(ac.randn(2, 3), ac.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="avg"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(RuntimeError):
        TF.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="1.5"):
        F.cross_entropy(ac.randn(2, 3), ac.tensor([0, 1]), label_smoothing=1.5)


def test_float_class_target_shape_mismatch():
    with pytest.raises(RuntimeError):
        TF.cross_entropy(torch.randn(2, 3), torch.rand(2, 4))
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[2, 4\]"):
        F.cross_entropy(ac.randn(2, 3), ac.rand(2, 4))


def test_nll_float_target():
    with pytest.raises(RuntimeError):
        TF.nll_loss(torch.randn(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Long.*float32"):
        F.nll_loss(ac.randn(2, 3), ac.tensor([0.0, 1.0]))


def test_weight_is_a_buffer_like_torch():
    w = [1.0, 2.0, 3.0]
    ours, theirs = nn.CrossEntropyLoss(ac.tensor(w)), torch.nn.CrossEntropyLoss(torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(
        torch.nn.CrossEntropyLoss().state_dict()
    )
