"""Learning-rate schedulers against torch.optim.lr_scheduler: the lr sequence of each group over
many steps, SequentialLR (warm-up then cosine), state_dict resume, and bad input."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course import optim
from aigc_course.optim import lr_scheduler


def _warmup(t):
    return min(1.0, (t + 1) / 10)


def _halving(t):
    return 0.5 ** (t // 7)


CASES = [
    ("StepLR", {"step_size": 10}),
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("StepLR", {"step_size": 1, "gamma": 0.9}),
    ("LambdaLR", {"lr_lambda": _warmup}),
    ("LambdaLR", {"lr_lambda": [_warmup, _halving]}),
    ("CosineAnnealingLR", {"T_max": 50}),
    ("CosineAnnealingLR", {"T_max": 20, "eta_min": 1e-3}),  # past T_max it rises again
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 30}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 25}),
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.5, "total_iters": 4}),
]


def _optimizer(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, momentum=0.9)


def _lrs(lib, build, steps=100):
    opt = _optimizer(lib)
    sched = build(lib, opt)
    lrs = []
    for _ in range(steps):
        lrs.append(list(sched.get_last_lr()))
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
        opt.step()  # (no gradients: nothing moves, but torch wants step before sched.step)
        sched.step()
    return np.array(lrs)


def _case_id(name: str, kwargs: dict) -> str:
    """A stable test id: functions by name, not by address (pytest-xdist's workers must agree)."""

    def show(v):
        if callable(v):
            return v.__name__
        if isinstance(v, list):
            return "[" + ",".join(show(x) for x in v) + "]"
        return repr(v)

    return name + "-" + ",".join(f"{k}={show(v)}" for k, v in kwargs.items())


@pytest.mark.parametrize("name, kwargs", CASES, ids=[_case_id(n, k) for n, k in CASES])
def test_lr_sequence_matches_torch(name, kwargs):
    def build(lib, opt):
        return getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)

    np.testing.assert_allclose(_lrs(ac, build), _lrs(torch, build), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("milestone", [0, 1, 10, 60])
def test_sequential_warmup_then_cosine_matches_torch(milestone):
    def build(lib, opt):
        S = lib.optim.lr_scheduler
        warmup = S.LinearLR(opt, start_factor=0.01, total_iters=10)
        cosine = S.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4)
        return S.SequentialLR(opt, [warmup, cosine], milestones=[milestone])

    np.testing.assert_allclose(_lrs(ac, build), _lrs(torch, build), rtol=1e-12, atol=1e-15)


def test_sequential_three_phases_matches_torch():
    def build(lib, opt):
        S = lib.optim.lr_scheduler
        phases = [
            S.LinearLR(opt, start_factor=0.2, total_iters=5),
            S.StepLR(opt, step_size=4, gamma=0.5),
            S.CosineAnnealingLR(opt, T_max=30),
        ]
        return S.SequentialLR(opt, phases, milestones=[5, 20])

    np.testing.assert_allclose(_lrs(ac, build), _lrs(torch, build), rtol=1e-12, atol=1e-15)


def test_cosine_closed_form():
    opt = _optimizer(ac)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    for _ in range(5):
        sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi / 2)) / 2)


def test_scheduler_drives_the_optimizer_like_torch():
    """The lr the scheduler sets is the one the next step uses."""

    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
        for _ in range(6):
            w.grad = lib.ones(2)
            opt.step()
            sched.step()
        return w.detach().numpy()

    np.testing.assert_allclose(run(ac), run(torch), rtol=1e-6)


@pytest.mark.parametrize("sequential", [False, True])
def test_state_dict_resume_continues_exactly(sequential):
    def build(opt):
        if not sequential:
            return lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=1e-3)
        warmup = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=30)
        return lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[5])

    opt = _optimizer(ac)
    sched = build(opt)
    full = []
    for t in range(40):
        if t == 12:
            saved = pickle.dumps((opt.state_dict(), sched.state_dict()))
        full.append(sched.get_last_lr())
        sched.step()

    opt2 = _optimizer(ac)
    sched2 = build(opt2)
    opt_sd, sched_sd = pickle.loads(saved)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    resumed = []
    for _ in range(12, 40):
        resumed.append(sched2.get_last_lr())
        sched2.step()
    assert resumed == full[12:]


def test_lambda_lr_state_dict_leaves_functions_out():
    opt = _optimizer(ac)
    sd = lr_scheduler.LambdaLR(opt, _warmup).state_dict()
    assert "lr_lambdas" not in sd and "optimizer" not in sd
    pickle.dumps(lr_scheduler.LambdaLR(opt, lambda t: 1.0).state_dict())  # a lambda is fine


BAD = [
    ("LinearLR", {"start_factor": 0.0}, ValueError, "start_factor=0.0"),
    ("LinearLR", {"start_factor": 1.5}, ValueError, "start_factor=1.5"),
    ("LinearLR", {"end_factor": -0.1}, ValueError, "end_factor=-0.1"),
    ("LambdaLR", {"lr_lambda": [_warmup]}, ValueError, "Expected 2 lr_lambdas, but got 1"),
]


@pytest.mark.parametrize("name, kwargs, exc, message", BAD, ids=[_case_id(b[0], b[1]) for b in BAD])
def test_bad_arguments(name, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        getattr(lr_scheduler, name)(_optimizer(ac), **kwargs)
    with pytest.raises(exc):
        getattr(torch.optim.lr_scheduler, name)(_optimizer(torch), **kwargs)


def test_our_bad_arguments_torch_accepts_late():
    with pytest.raises(ValueError, match="step_size must be a positive integer, but got 0"):
        lr_scheduler.StepLR(_optimizer(ac), step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer, but got 0"):
        lr_scheduler.CosineAnnealingLR(_optimizer(ac), T_max=0)


def test_sequential_bad_arguments():
    opt = _optimizer(ac)
    a = lr_scheduler.LinearLR(opt)
    b = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones"):
        lr_scheduler.SequentialLR(opt, [a, b], milestones=[1, 2])
    other = lr_scheduler.StepLR(_optimizer(ac), step_size=1)
    with pytest.raises(ValueError, match="index 1 \\(StepLR\\)"):
        lr_scheduler.SequentialLR(opt, [a, other], milestones=[3])
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=1)


def test_scheduler_module_is_reachable_like_torch():
    assert optim.lr_scheduler is lr_scheduler
