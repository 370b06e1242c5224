"""The one parity helper: run the same lambda on torch and on aigc_course, compare everything.

``parity(fn, *arrays)`` builds a torch tensor and an aigc_course tensor from each numpy array,
calls ``fn(lib, *tensors)`` with ``lib`` = torch, then aigc_course, and checks that the outputs
agree in shape, dtype and values. If the output is floating point and ``grad`` is set, it also
back-propagates the same random upstream gradient through both and compares every input's
``.grad``. torch is the oracle; aigc_course's own earlier outputs never are.
"""

from __future__ import annotations

import numpy as np
import torch

import aigc_course as ac


def _pair(a, requires_grad):
    a = np.asarray(a)
    rg = requires_grad and a.dtype.kind == "f"
    return torch.tensor(a, requires_grad=rg), ac.tensor(a, requires_grad=rg)


def assert_same(ours, theirs, rtol=None, atol=None, what="output"):
    assert isinstance(ours, ac.Tensor), f"{what}: expected an aigc_course Tensor, got {type(ours)}"
    assert tuple(ours.shape) == tuple(theirs.shape), (
        f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    )
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), (
        f"{what}: dtype {ours.dtype.name} != torch's {theirs.dtype}"
    )
    torch.testing.assert_close(
        torch.from_numpy(np.array(ours.detach().numpy())),
        theirs.detach(),
        rtol=rtol,
        atol=atol,
        equal_nan=True,
        msg=lambda m: f"{what}: {m}",
    )


def parity(fn, *arrays, grad=True, rtol=None, atol=None, seed=0):
    """Compare ``fn`` on torch and aigc_course; returns (ours, theirs) outputs."""
    pairs = [_pair(a, grad) for a in arrays]
    t_in = [p[0] for p in pairs]
    o_in = [p[1] for p in pairs]
    theirs = fn(torch, *t_in)
    ours = fn(ac, *o_in)
    assert_same(ours, theirs, rtol, atol)
    if grad and theirs.requires_grad:
        assert ours.requires_grad, "output should require grad"
        g = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
        g = g.astype(np.dtype(str(theirs.dtype).removeprefix("torch.")))
        theirs.backward(torch.tensor(g))
        ours.backward(ac.tensor(g))
        for i, (t, o) in enumerate(zip(t_in, o_in)):
            if t.requires_grad:
                if t.grad is None:
                    assert o.grad is None or not np.any(o.grad.numpy()), f"input {i}: grad"
                    continue
                assert o.grad is not None, f"input {i}: torch has a gradient, ours is None"
                assert_same(o.grad, t.grad, rtol, atol, what=f"gradient of input {i}")
    return ours, theirs
