r"""Checkers for chapter 6's exercises (training end to end).

1. :func:`check_accuracy`: the fraction of correct predictions from logits.
2. :func:`check_train_step`: one step of the article's training loop, in the right order.
3. :func:`check_clip_grad_norm`: gradient clipping by the global norm, in place.
4. :func:`check_checkpoint`: save and restore model *and* optimizer, so training resumes exactly.

Each compares your code with torch (or with an uninterrupted run) and prints one ``✓`` line or
raises :class:`~aigc_course.exercises.ExerciseError` naming the likely mistake. See chapter 6.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .. import nn
from .._creation import from_torch, tensor
from .._tensor import Tensor
from ..optim import SGD, Adam
from ._checking import ExerciseError, passed, run_learner

__all__ = ["check_accuracy", "check_checkpoint", "check_clip_grad_norm", "check_train_step"]


def _torch():
    import torch

    return torch


def _as_float(value, what: str) -> float:
    if isinstance(value, Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, int | float | np.floating | np.integer):
        return float(value)
    raise ExerciseError(f"{what} returned {type(value).__name__}; expected a number")


# ------------------------------------------------------------------ 1. accuracy


def check_accuracy(fn) -> None:
    """``fn(logits (N, C), targets (N,)) -> float``: the fraction of rows whose largest logit
    is at the target class."""
    rng = np.random.default_rng(0)
    cases = [(6, 6), (8, 3), (5, 10), (1, 4)]  # (N, C); the square case catches the wrong dim
    for n, c in cases:
        logits = rng.standard_normal((n, c)).astype(np.float32)
        targets = rng.integers(0, c, n)
        targets[: n // 2] = logits[: n // 2].argmax(1)  # about half right
        want = float((logits.argmax(1) == targets).mean())
        what = f"your accuracy on logits of shape {(n, c)}"
        got = _as_float(
            run_learner(
                fn,
                tensor(logits),
                tensor(targets),
                what="your accuracy",
                broadcast_hint="argmax over dim=1 gives one class per row; dim=0 one per column",
            ),
            what,
        )
        if abs(got - want) > 1e-6:
            hint = ""
            if abs(got - want * n) < 1e-6 and n > 1:
                hint = "you returned the number of correct rows; divide by N for a fraction"
            elif n == c and abs(got - float((logits.argmax(0) == targets).mean())) < 1e-6:
                hint = "argmax over dim=1 (the classes of each row), not dim=0"
            message = f"{what} is {got:.6g}; expected {want:.6g}"
            raise ExerciseError(message + (f"\nHint: {hint}" if hint else ""))
    passed("your accuracy matches (logits.argmax(1) == targets).float().mean() on 4 batches")


# ------------------------------------------------------------------ 2. train step


class _TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(4, 8)
        self.linear2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def _tiny_pair(seed: int = 0):
    """The same small network in torch and in aigc_course."""
    torch = _torch()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = _TinyNet()
    ours.linear1.weight.data = from_torch(ref[0].weight.detach().clone())
    ours.linear1.bias.data = from_torch(ref[0].bias.detach().clone())
    ours.linear2.weight.data = from_torch(ref[2].weight.detach().clone())
    ours.linear2.bias.data = from_torch(ref[2].bias.detach().clone())
    return ours, ref


def _batches(n: int = 5, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)) for _ in range(n)
    ]


def _torch_train(ref, batches, zero_grad: bool = True):
    torch = _torch()
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in batches:
        loss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in ref.parameters()]


def check_train_step(fn) -> None:
    """``fn(model, optimizer, x, y) -> float``: forward, cross-entropy, zero_grad, backward,
    step (the article's loop body); returns the loss as a Python number."""
    ours, ref = _tiny_pair()
    _, ref_no_zero = _tiny_pair()
    batches = _batches()
    opt = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    start = [p.detach().numpy().copy() for p in ours.parameters()]
    losses = []
    for x, y in batches:
        out = run_learner(fn, ours, opt, tensor(x), tensor(y), what="your train_step")
        if isinstance(out, Tensor):
            raise ExerciseError(
                "your train_step returned a Tensor; return loss.item(), a Python number (keeping "
                "the tensor would also keep its whole graph alive)"
            )
        losses.append(_as_float(out, "your train_step"))
    want_losses, want_params = _torch_train(ref, batches)
    params = [p.detach().numpy() for p in ours.parameters()]
    if all(np.array_equal(a, b) for a, b in zip(params, start)):
        raise ExerciseError(
            "after 5 calls of your train_step the parameters have not moved: call "
            "optimizer.step() after loss.backward(), and optimizer.zero_grad() before "
            "backward (after it, it wipes the gradients step() needs)"
        )

    def close(xs, ys):
        return all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(xs, ys))

    if not close(params, want_params):
        _, no_zero_params = _torch_train(ref_no_zero, batches, zero_grad=False)
        if close(params, no_zero_params):
            raise ExerciseError(
                "your parameters follow a loop without optimizer.zero_grad(): backward() adds "
                "to .grad, so each step used the sum of all gradients so far. Call "
                "optimizer.zero_grad() before loss.backward()"
            )
        raise ExerciseError("after 5 steps your parameters differ from torch's loop")
    if not np.allclose(losses, want_losses, rtol=1e-4, atol=1e-5):
        raise ExerciseError(
            f"your train_step returned the losses {np.round(losses, 4).tolist()}; torch's loop "
            f"gives {np.round(want_losses, 4).tolist()} (return the loss of the batch, computed "
            "before the step)"
        )
    passed("your train_step matches torch's loop for 5 steps: losses and parameters")


# ------------------------------------------------------------------ 3. clip_grad_norm


def check_clip_grad_norm(fn) -> None:
    """``fn(parameters, max_norm) -> total norm``: scale every ``.grad`` in place by
    ``min(1, max_norm / (total_norm + 1e-6))``, where the norm is over all gradients together,
    like ``torch.nn.utils.clip_grad_norm_``."""
    torch = _torch()
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (2, 2)]
    for max_norm, scale in [(1.0, 3.0), (100.0, 1.0), (0.5, 0.1)]:
        grads = [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]
        ours = [tensor(np.zeros(s, np.float32), requires_grad=True) for s in shapes]
        theirs = [torch.zeros(s, requires_grad=True) for s in shapes]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = tensor(g.copy()), torch.tensor(g)
        what = f"your clip_grad_norm(max_norm={max_norm})"
        total = _as_float(run_learner(fn, ours, max_norm, what=what), what)
        want = torch.nn.utils.clip_grad_norm_(theirs, max_norm).item()
        norms = [float(np.linalg.norm(g)) for g in grads]
        if abs(total - want) > 1e-5 * max(1.0, want):
            hint = ""
            if abs(total - min(want, max_norm)) < 1e-4:
                hint = "\nHint: return the total norm from *before* clipping, as torch does"
            elif any(abs(total - n) < 1e-5 for n in norms) or abs(total - max(norms)) < 1e-5:
                hint = "\nHint: the total norm is over all gradients together: sqrt(sum of squares)"
            raise ExerciseError(
                f"{what} returned {total:.6g}; torch's total norm is {want:.6g}{hint}"
            )
        got = [p.grad.numpy() for p in ours]
        expected = [q.grad.numpy() for q in theirs]
        if all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, expected)):
            continue
        if all(np.array_equal(a, g) for a, g in zip(got, grads)):
            hint = (
                "the gradients were not changed: scale them in place, "
                "e.g. p.grad.mul_(coef), so that the optimizer sees the clipped values"
            )
        elif want < max_norm:
            hint = (
                "the total norm is below max_norm, so the gradients must stay as they are: "
                "coef = min(1, max_norm / (total_norm + 1e-6))"
            )
        else:
            per_param = [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
            if all(np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(got, per_param)):
                hint = (
                    "you clipped each parameter by its own norm; clip_grad_norm_ scales all of "
                    "them by one factor, from the norm of all gradients together, so the "
                    "direction is kept"
                )
            else:
                hint = "scale every gradient by max_norm / (total_norm + 1e-6)"
        raise ExerciseError(
            f"{what}: the gradients differ from torch's after clipping\nHint: {hint}"
        )
    passed("your clip_grad_norm matches torch.nn.utils.clip_grad_norm_ (clipped and not)")


# ------------------------------------------------------------------ 4. checkpoint


def _adam_steps(model, opt, batches):
    for x, y in batches:
        loss = nn.functional.cross_entropy(model(tensor(x)), tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def check_checkpoint(save, load) -> None:
    """``save(model, optimizer, path)`` writes a checkpoint file; ``load(model, optimizer,
    path)`` restores it into a *freshly built* model and optimizer. Training then continues
    exactly as if it had never stopped (checked with Adam, whose state matters)."""
    batches = _batches(10, seed=2)
    model, _ = _tiny_pair(0)
    opt = Adam(model.parameters(), lr=0.05)
    _adam_steps(model, opt, batches[:5])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.pkl"
        run_learner(save, model, opt, path, what="your save")
        if not path.exists():
            raise ExerciseError(f"your save did not write a file at the given path ({path.name})")
        uninterrupted = _adam_steps(model, opt, batches[5:])

        fresh, _ = _tiny_pair(1)  # other initial weights, and a new optimizer with no state
        fresh_opt = Adam(fresh.parameters(), lr=0.05)
        run_learner(load, fresh, fresh_opt, path, what="your load")
    resumed = _adam_steps(fresh, fresh_opt, batches[5:])
    if all(np.array_equal(a, b) for a, b in zip(resumed, uninterrupted)):
        passed("training resumed from your checkpoint continues exactly (5 more Adam steps)")
        return
    # what went wrong? replay the resume with the model restored but a fresh optimizer
    replay, _ = _tiny_pair(0)
    _adam_steps(replay, Adam(replay.parameters(), lr=0.05), batches[:5])
    no_opt_state = _adam_steps(replay, Adam(replay.parameters(), lr=0.05), batches[5:])
    if all(np.allclose(a, b, rtol=1e-5) for a, b in zip(resumed, no_opt_state)):
        raise ExerciseError(
            "the model was restored but the optimizer was not: Adam's step count and its "
            "averages m and v start again from 0, so the steps after resuming differ. Save "
            "optimizer.state_dict() and restore it with optimizer.load_state_dict()"
        )
    raise ExerciseError(
        "training resumed from your checkpoint does not continue like the uninterrupted run: "
        "save model.state_dict() and optimizer.state_dict() (e.g. in one dict, with pickle) "
        "and load both"
    )
