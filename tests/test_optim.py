"""Optimizers against torch.optim: 200-step parameter trajectories over a grid of every option,
param groups, skipped parameters, zero_grad, closures, state_dict resume, and bad input.

Both libraries get the same starting parameters and the same sequence of gradients (random,
and also the gradient of a quadratic, which feeds each library's own parameters back in);
torch's parameters after each step are the oracle.
"""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course import optim

SHAPES = [(3, 4), (5,)]
STEPS = 200


def _grid(**options):
    """Every combination of the given option values, as dicts."""
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*options.values())]


def _valid_sgd(o):
    return not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)


GRID = {
    "SGD": [
        o
        for o in _grid(
            lr=[0.01, 0.1],
            momentum=[0.0, 0.9],
            dampening=[0.0, 0.5],
            weight_decay=[0.0, 0.1],
            nesterov=[False, True],
            maximize=[False, True],
        )
        if _valid_sgd(o)
    ],
    "Adam": _grid(
        lr=[1e-3, 0.1],
        betas=[(0.9, 0.999), (0.5, 0.9)],
        eps=[1e-8, 1e-3],
        weight_decay=[0.0, 0.1],
        amsgrad=[False, True],
        maximize=[False, True],
    ),
    "AdamW": _grid(
        lr=[1e-3, 0.1],
        betas=[(0.9, 0.999), (0.5, 0.9)],
        weight_decay=[0.0, 0.01, 0.1],
        amsgrad=[False, True],
        maximize=[False, True],
    ),
    "RMSprop": _grid(
        lr=[1e-3, 0.01],
        alpha=[0.99, 0.5],
        eps=[1e-8, 1e-3],
        weight_decay=[0.0, 0.1],
        momentum=[0.0, 0.9],
        centered=[False, True],
        maximize=[False, True],
    ),
}
CASES = [(name, opts) for name, grid in GRID.items() for opts in grid]


def _start(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _gradients(seed=1, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]


def _run(lib, name, opts, start, grads, quadratic=False):
    """Parameters after each step, as numpy arrays: [[p0, p1], ...] for each step."""
    params = [lib.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(lib.optim, name)(params, **opts)
    trajectory = []
    for g in grads:
        if quadratic:  # the gradient of sum(p**2)/2 + noise: feeds the parameters back in
            for p, noise in zip(params, g):
                p.grad = lib.tensor(p.detach().numpy() + 0.1 * noise)
        else:
            for p, gi in zip(params, g):
                p.grad = lib.tensor(gi)
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def _assert_same_trajectory(ours, theirs, rtol=1e-5, atol=1e-5):
    for t, (o, th) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(o, th, strict=True)):
            assert a.dtype == b.dtype == np.float32
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=atol, err_msg=f"step {t + 1}, parameter {i}"
            )


def _case_id(case):
    name, opts = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in opts.items())


def test_grid_covers_every_option_both_ways():
    assert len(CASES) >= 200
    for name, grid in GRID.items():
        for key in grid[0]:
            assert len({repr(o[key]) for o in grid}) >= 2, (name, key)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_trajectory_matches_torch(case):
    name, opts = case
    start, grads = _start(), _gradients()
    ours = _run(ac, name, opts, start, grads)
    theirs = _run(torch, name, opts, start, grads)
    _assert_same_trajectory(ours, theirs)


@pytest.mark.parametrize("name", list(GRID))
def test_trajectory_matches_torch_with_feedback(name):
    """Gradients that depend on the parameters: a drift would feed back and grow."""
    opts = {"lr": 0.05, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})}
    start, grads = _start(2), _gradients(3)
    ours = _run(ac, name, opts, start, grads, quadratic=True)
    theirs = _run(torch, name, opts, start, grads, quadratic=True)
    _assert_same_trajectory(ours, theirs)


def test_defaults_match_torch():
    for name in GRID:
        p = [ac.zeros(1, requires_grad=True)]
        q = [torch.zeros(1, requires_grad=True)]
        ours = getattr(optim, name)(p).defaults
        theirs = getattr(torch.optim, name)(q).defaults
        for key, value in ours.items():
            assert theirs[key] == value, (name, key)


# ------------------------------------------------------------------ groups, skipping, zero_grad


def test_param_groups_with_their_own_options():
    start, grads = _start(), _gradients(steps=20)

    def run(lib):
        a, b = [lib.tensor(x.copy(), requires_grad=True) for x in start]
        opt = lib.optim.SGD(
            [{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.5}], lr=0.1, momentum=0.9
        )
        for g in grads:
            a.grad, b.grad = lib.tensor(g[0]), lib.tensor(g[1])
            opt.step()
        return [[a.detach().numpy(), b.detach().numpy()]], opt

    (ours, opt), (theirs, _) = run(ac), run(torch)
    _assert_same_trajectory(ours, theirs)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]


def test_add_param_group_takes_defaults_and_refuses_duplicates():
    a, b = ac.zeros(2, requires_grad=True), ac.zeros(3, requires_grad=True)
    opt = optim.Adam([a], lr=0.01)
    opt.add_param_group({"params": [b], "eps": 1e-3})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["eps"] == 1e-3
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert len(opt.param_groups) == 2  # the refused group left no trace
    t = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        torch.optim.Adam([{"params": [t]}, {"params": [t]}])
    with pytest.warns(UserWarning, match="duplicate parameters"):  # within a group: a warning
        optim.Adam([a, a])


@pytest.mark.parametrize("name", list(GRID))
def test_parameter_without_grad_is_skipped(name):
    a, b = ac.ones(2, requires_grad=True), ac.ones(3, requires_grad=True)
    opt = getattr(optim, name)([a, b], lr=0.1)
    a.grad = ac.ones(2)
    opt.step()
    assert b.tolist() == [1.0, 1.0, 1.0]
    assert b not in opt.state and a.tolist() != [1.0, 1.0]
    # torch agrees: no state for b
    ta, tb = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
    topt = getattr(torch.optim, name)([ta, tb], lr=0.1)
    ta.grad = torch.ones(2)
    topt.step()
    assert tb not in topt.state
    np.testing.assert_allclose(a.detach().numpy(), ta.detach().numpy(), rtol=1e-6)


def test_zero_grad():
    a = ac.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    (a * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.tolist() == [0.0, 0.0]
    (a * 3).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]  # accumulated onto the zeros
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    def run(lib):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)

        def closure():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        with lib.no_grad():  # step turns grad mode back on for the closure
            loss = opt.step(closure)
        return loss.item(), w.detach().numpy()

    (l1, w1), (l2, w2) = run(ac), run(torch)
    assert l1 == l2 == 5.0
    np.testing.assert_allclose(w1, w2)


def test_step_counts_as_an_in_place_change():
    """Backward refuses a graph whose saved parameter the optimizer has changed since."""
    w = ac.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = ac.ones(2)
    version = w._version
    opt.step()
    assert w._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_training_a_model_end_to_end_matches_torch():
    """A real use: Linear + cross-entropy, gradients from each library's own backward."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5)).astype(np.float32), rng.integers(0, 3, 16)
    w0 = rng.standard_normal((3, 5)).astype(np.float32)

    def run(lib):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = lib.optim.Adam([w], lr=0.05)
        losses = []
        for _ in range(30):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(lib.tensor(x) @ w.T, lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, w.detach().numpy()

    (lo, wo), (lt, wt) = run(ac), run(torch)
    np.testing.assert_allclose(lo, lt, rtol=1e-5)
    np.testing.assert_allclose(wo, wt, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ state_dict


@pytest.mark.parametrize(
    "name, opts",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
        ("AdamW", {"lr": 0.01}),
        ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ],
)
def test_state_dict_resume_continues_exactly(name, opts):
    start, grads = _start(), _gradients()
    uninterrupted = _run(ac, name, opts, start, grads)

    params = [ac.tensor(a.copy(), requires_grad=True) for a in start]
    opt = getattr(optim, name)(params, **opts)
    for g in grads[:100]:
        for p, gi in zip(params, g):
            p.grad = ac.tensor(gi)
        opt.step()
    # a checkpoint, through pickle as torch.save would: parameters and optimizer state
    saved = pickle.loads(pickle.dumps(([p.detach().numpy() for p in params], opt.state_dict())))
    for g in grads[100:110]:  # training goes on after the checkpoint; it must not leak into it
        for p, gi in zip(params, g):
            p.grad = ac.tensor(gi)
        opt.step()

    resumed = [ac.tensor(a.copy(), requires_grad=True) for a in saved[0]]
    opt2 = getattr(optim, name)(resumed, lr=123.0)  # options come from the state dict
    opt2.load_state_dict(saved[1])
    assert opt2.param_groups[0]["lr"] == opts["lr"]
    for t, g in enumerate(grads[100:], start=100):
        for p, gi in zip(resumed, g):
            p.grad = ac.tensor(gi)
        opt2.step()
        for a, b in zip(resumed, uninterrupted[t]):
            np.testing.assert_array_equal(a.detach().numpy(), b, err_msg=f"step {t + 1}")
    # and the resumed run is still torch's trajectory
    _assert_same_trajectory(
        [[p.detach().numpy() for p in resumed]], [_run(torch, name, opts, start, grads)[-1]]
    )


def test_state_dict_layout_follows_torch():
    a, b = ac.zeros(2, requires_grad=True), ac.zeros(3, requires_grad=True)
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}])
    topt = torch.optim.Adam([{"params": [ta]}, {"params": [tb], "lr": 0.1}])
    a.grad, ta.grad = ac.ones(2), torch.ones(2)
    opt.step(), topt.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert list(sd["state"]) == list(tsd["state"]) == [0]
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])


def test_load_state_dict_refuses_a_different_layout():
    a, b = ac.zeros(2, requires_grad=True), ac.zeros(3, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="number of parameter groups: 1 != 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


# ------------------------------------------------------------------ bad input

BAD = [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum"),
    (
        "SGD",
        {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1},
        "zero dampening.*dampening=0.1",
    ),
    ("Adam", {"lr": -1e-3}, "Invalid learning rate: -0.001"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("Adam", {"lr": float("nan")}, "Invalid learning rate: nan"),
    ("AdamW", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("RMSprop", {"alpha": -0.9}, "Invalid alpha value: -0.9"),
    ("RMSprop", {"momentum": -0.9}, "Invalid momentum value: -0.9"),
    ("RMSprop", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
]


@pytest.mark.parametrize("name, opts, message", BAD)
def test_invalid_hyperparameters_raise_value_error_naming_the_value(name, opts, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([ac.zeros(1, requires_grad=True)], **opts)
    with pytest.raises(ValueError):  # torch refuses it too, with the same exception type
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **opts)


@pytest.mark.parametrize("name", list(GRID))
def test_empty_parameter_list(name):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(optim, name)([])
    with pytest.raises(ValueError, match="empty parameter list"):
        getattr(torch.optim, name)([])


def test_params_must_be_an_iterable_of_leaf_tensors():
    w = ac.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(TypeError, match="one of the params is list"):
        optim.SGD([[w]], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)


def test_optimizer_state_is_deep_copied_on_load():
    w = ac.zeros(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = ac.ones(2)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    opt2 = optim.Adam([w], lr=0.1)
    opt2.load_state_dict(sd)
    opt2.step()
    assert sd["state"][0]["step"] == 1 and opt2.state[w]["step"] == 2


# ------------------------------------------------------------------ the article's loop

ARTICLE_LOOP = """
import {lib}.optim as optim
import {lib}.nn.functional as F

# 创建模型和优化器实例
model = TwoLayerNet(D_in, H, D_out)
optimizer = optim.SGD(model.parameters(), lr=1e-4)

for epoch in range(num_epochs):
    for x, y in loader:
        # 前向传播
        y_pred = model(x)

        # 计算损失
        loss = F.cross_entropy(y_pred, y)

        # 反向传播
        optimizer.zero_grad()
        loss.backward()

        # 更新参数
        optimizer.step()
        losses.append(loss.item())
"""


def test_article_section_3_4_loop_runs_unchanged_and_matches_torch():
    """The article's section 3.4 code, verbatim but for the import and a loss record."""
    import aigc_course.utils.data as acdata

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6)).astype(np.float32)
    Y = rng.integers(0, 3, 40)

    def run(lib, nn, data):
        class TwoLayerNet(nn.Module):
            def __init__(self, D_in, H, D_out):
                super().__init__()
                self.linear1 = nn.Linear(D_in, H)
                self.linear2 = nn.Linear(H, D_out)

            def forward(self, x):
                h_relu = self.linear1(x).clamp(min=0)
                return self.linear2(h_relu)

        loader = data.DataLoader(data.TensorDataset(lib.tensor(X), lib.tensor(Y)), batch_size=8)
        torch.manual_seed(0)  # torch's default initialisation, copied into ours below
        reference = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3))
        env = dict(TwoLayerNet=TwoLayerNet, D_in=6, H=5, D_out=3, num_epochs=3, loader=loader)
        env["losses"] = []
        code = ARTICLE_LOOP.format(lib=lib.__name__)
        # build the model first, give it the reference weights, then run the loop itself
        head, loop = code.split("for epoch")
        exec(head, env)
        names = {"0": "linear1", "1": "linear2"}
        env["model"].load_state_dict(
            {f"{names[k[0]]}{k[1:]}": v for k, v in reference.state_dict().items()}
        )
        exec("for epoch" + loop, env)
        return env["losses"]

    ours = run(ac, ac.nn, acdata)
    theirs = run(torch, torch.nn, torch.utils.data)
    assert len(ours) == 15
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
