"""nn.utils.clip_grad_norm_ against torch: the returned total norm and the scaled gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.nn.utils import clip_grad_norm_

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def _pair(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    grads = [(scale * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
    ours = [ac.zeros(*s, requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(*s, requires_grad=True) for s in SHAPES]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = ac.tensor(g), torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])  # clipped, and left alone
def test_matches_torch(norm_type, max_norm):
    ours, theirs = _pair(0)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, ac.Tensor) and total.shape == () and total.dtype == ac.float32
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clipped_norm_is_max_norm_and_direction_kept():
    ours, _ = _pair(1, scale=10.0)
    before = np.concatenate([p.grad.numpy().ravel() for p in ours])
    clip_grad_norm_(ours, 2.0)
    after = np.concatenate([p.grad.numpy().ravel() for p in ours])
    assert np.linalg.norm(after) == pytest.approx(2.0, rel=1e-5)
    np.testing.assert_allclose(
        after / np.linalg.norm(after), before / np.linalg.norm(before), rtol=1e-5
    )


def test_single_tensor_and_missing_grads():
    w = ac.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()  # grad (6, 8)
    skipped = ac.zeros(2, requires_grad=True)  # no grad: ignored, as in torch
    assert clip_grad_norm_([w, skipped], 5.0).item() == pytest.approx(10.0)
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 4.0], rtol=1e-6)
    assert skipped.grad is None
    assert clip_grad_norm_(w, 100.0).item() == pytest.approx(5.0)
    assert clip_grad_norm_([skipped], 1.0).item() == 0.0
    assert torch.nn.utils.clip_grad_norm_([torch.zeros(1, requires_grad=True)], 1.0).item() == 0.0


def test_error_if_nonfinite():
    w = ac.zeros(2, requires_grad=True)
    w.grad = ac.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    t = torch.zeros(2, requires_grad=True)
    t.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
