"""Optimizer state under torch's keys (``step``, ``exp_avg``, ``exp_avg_sq``,
``max_exp_avg_sq``, ``momentum_buffer``, ``square_avg``, ``grad_avg``): a state dict from
``torch.optim`` loads into ours and keeps stepping exactly as torch does, and ours loads into
torch (through a file in torch's format, or directly) and keeps stepping as ours does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aigc_course as ac

CONFIGS = {
    "SGD momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "SGD nesterov wd": ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "Adam": ("Adam", dict(lr=0.05, betas=(0.8, 0.95))),
    "Adam amsgrad": ("Adam", dict(lr=0.05, amsgrad=True)),
    "AdamW": ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    "RMSprop centered momentum": ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    "RMSprop": ("RMSprop", dict(lr=0.01)),
}

RNG = np.random.default_rng(0)
START = [RNG.standard_normal((3, 2)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)]
GRADS = [[RNG.standard_normal(p.shape).astype(np.float32) for p in START] for _ in range(6)]


def make(lib, name, kwargs):
    params = [lib.tensor(p.copy(), requires_grad=True) for p in START]
    return params, getattr(lib.optim, name)(params, **kwargs)


def run(lib, params, opt, grads):
    for g in grads:
        for p, gi in zip(params, g):
            p.grad = lib.tensor(gi)
        opt.step()


def values(params):
    return [np.array(p.detach().numpy()) for p in params]


def check_same_state(ours, theirs):
    assert set(ours) == set(theirs)
    for i in theirs:
        assert set(ours[i]) == set(theirs[i]), (set(ours[i]), set(theirs[i]))
        for k, v in theirs[i].items():
            o = ours[i][k]
            if isinstance(v, torch.Tensor):
                assert isinstance(o, ac.Tensor) and o.dtype.name == str(v.dtype)[6:], (k, o)
                np.testing.assert_allclose(o.numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
            else:
                assert o == v


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_state_keys_and_values_are_torch(config):
    (tp, topt), (op, oopt) = make(torch, *config), make(ac, *config)
    run(torch, tp, topt, GRADS[:3])
    run(ac, op, oopt, GRADS[:3])
    check_same_state(oopt.state_dict()["state"], topt.state_dict()["state"])


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_torch_state_dict_loads_and_steps_in_ours(config):
    tp, topt = make(torch, *config)
    run(torch, tp, topt, GRADS[:3])
    op = [ac.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    oopt = getattr(ac.optim, config[0])(op, lr=123.0)
    oopt.load_state_dict(topt.state_dict())  # torch tensors in it, loaded as they are
    run(torch, tp, topt, GRADS[3:])
    run(ac, op, oopt, GRADS[3:])
    for o, t in zip(values(op), values(tp)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
    check_same_state(oopt.state_dict()["state"], topt.state_dict()["state"])


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_our_state_dict_loads_and_steps_in_torch(config, tmp_path):
    op, oopt = make(ac, *config)
    run(ac, op, oopt, GRADS[:3])
    ac.save({"params": [p.detach() for p in op], "optim": oopt.state_dict()}, tmp_path / "c.pt")
    checkpoint = torch.load(tmp_path / "c.pt")  # torch's weights_only loader
    tp = [p.clone().requires_grad_() for p in checkpoint["params"]]
    topt = getattr(torch.optim, config[0])(tp, lr=123.0)
    topt.load_state_dict(checkpoint["optim"])
    run(ac, op, oopt, GRADS[3:])
    run(torch, tp, topt, GRADS[3:])
    for o, t in zip(values(op), values(tp)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


def test_torch_checkpoint_file_resumes_in_ours(tmp_path):
    tp, topt = make(torch, "Adam", dict(lr=0.05))
    run(torch, tp, topt, GRADS[:2])
    torch.save({"optim": topt.state_dict()}, tmp_path / "t.pt")
    op = [ac.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    oopt = ac.optim.Adam(op)
    oopt.load_state_dict(ac.load(tmp_path / "t.pt")["optim"])
    run(torch, tp, topt, GRADS[2:])
    run(ac, op, oopt, GRADS[2:])
    for o, t in zip(values(op), values(tp)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "config",
    [*CONFIGS.values(), ("SGD", dict(lr=0.1)), ("Adam", dict(lr=0.05, maximize=True))],
    ids=[*CONFIGS, "SGD plain", "Adam maximize"],
)
def test_state_is_created_for_the_parameters_that_step_as_torch(config):
    """The shared step preamble (``Optimizer._gradients``): a parameter without a gradient
    gets no state and does not move; SGD without momentum keeps no state at all; the others
    keep torch's keys from their first step."""
    (tp, topt), (op, oopt) = make(torch, *config), make(ac, *config)
    for lib, params, opt in ((torch, tp, topt), (ac, op, oopt)):
        for _ in range(2):
            params[0].grad = lib.tensor(GRADS[0][0])  # params[1] has no gradient
            opt.step()
    check_same_state(oopt.state_dict()["state"], topt.state_dict()["state"])
    for o, t in zip(values(op), values(tp)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(values(op)[1], START[1])
