"""Chapter 6's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch06
from aigc_course.exercises._verdict import run_checker
from aigc_course.nn.functional import cross_entropy, mse_loss, one_hot
from aigc_course.optim import Optimizer
from aigc_course.utils.data import BatchSampler

# ------------------------------------------------------------------ accuracy


def good_accuracy(logits, targets):
    return (logits.argmax(1) == targets).float().mean().item()


def todo(*args):
    raise NotImplementedError


def test_accuracy_checker(capsys):
    ch06.check_accuracy(good_accuracy)
    assert capsys.readouterr().out.startswith("✓")
    ch06.check_accuracy(lambda z, t: (z.argmax(1) == t).float().mean())  # a 0-d Tensor is fine
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch06.check_accuracy(todo)
    with pytest.raises(ExerciseError, match="divide by N"):
        ch06.check_accuracy(lambda z, t: (z.argmax(1) == t).float().sum().item())
    with pytest.raises(ExerciseError, match="not dim=0"):
        ch06.check_accuracy(lambda z, t: (z.argmax(0) == t).float().mean().item())
    with pytest.raises(ExerciseError, match="expected a number"):
        ch06.check_accuracy(lambda z, t: "high")


# ------------------------------------------------------------------ train step


def _chunks(x, y, k):
    return zip(x.chunk(k), y.chunk(k))


def good_step(model, optimizer, x, y, micro_batches=1):
    optimizer.zero_grad()
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        share = len(xc) / len(x)
        loss = cross_entropy(model(xc), yc)
        (loss * share).backward()
        total += loss.item() * share
    optimizer.step()
    return total


def float64_step(model, optimizer, x, y, micro_batches=1):
    """Correct, with the loss computed in float64 and the running total a Python float."""
    optimizer.zero_grad()
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        loss = cross_entropy(model(xc).to(ac.float64), yc)
        (loss / micro_batches).backward()
        total += loss.item() / micro_batches
    optimizer.step()
    return total


def mse_one_hot(model, optimizer, x, y, micro_batches=1):
    optimizer.zero_grad()
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        loss = mse_loss(model(xc), one_hot(yc, 3).float())
        (loss / micro_batches).backward()
        total += loss.item() / micro_batches
    optimizer.step()
    return total


def step_per_micro_batch(model, optimizer, x, y, micro_batches=1):
    optimizer.zero_grad()
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        loss = cross_entropy(model(xc), yc)
        (loss / micro_batches).backward()
        optimizer.step()  # inside the loop: one step per micro-batch
        total += loss.item() / micro_batches
    return total


def step_twice(model, optimizer, x, y, micro_batches=1):
    total = good_step(model, optimizer, x, y, micro_batches)
    optimizer.step()
    return total


def no_zero_grad(model, optimizer, x, y, micro_batches=1):
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        loss = cross_entropy(model(xc), yc)
        (loss / micro_batches).backward()
        total += loss.item() / micro_batches
    optimizer.step()
    return total


def zero_grad_in_loop(model, optimizer, x, y, micro_batches=1):
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        optimizer.zero_grad()
        loss = cross_entropy(model(xc), yc)
        (loss / micro_batches).backward()
        total += loss.item() / micro_batches
    optimizer.step()
    return total


def unscaled(model, optimizer, x, y, micro_batches=1):
    optimizer.zero_grad()
    total = 0.0
    for xc, yc in _chunks(x, y, micro_batches):
        loss = cross_entropy(model(xc), yc)
        loss.backward()
        total += loss.item() / micro_batches
    optimizer.step()
    return total


def zero_grad_after_backward(model, optimizer, x, y, micro_batches=1):
    loss = cross_entropy(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def returns_tensor(model, optimizer, x, y, micro_batches=1):
    good_step(model, optimizer, x, y, micro_batches)
    return cross_entropy(model(x), y)


def loss_after_step(model, optimizer, x, y, micro_batches=1):
    good_step(model, optimizer, x, y, micro_batches)
    with ac.no_grad():
        return cross_entropy(model(x), y).item()


def summed_losses(model, optimizer, x, y, micro_batches=1):
    return good_step(model, optimizer, x, y, micro_batches) * micro_batches


def test_train_step_checker(capsys):
    ch06.check_train_step(good_step)
    assert capsys.readouterr().out.startswith("✓")
    ch06.check_train_step(float64_step)  # correct arithmetic in float64 passes too
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch06.check_train_step(todo)
    with pytest.raises(
        ExerciseError, match="(?s)differ.*squared error between the logits and one-hot"
    ):
        ch06.check_train_step(mse_one_hot)
    with pytest.raises(ExerciseError, match="(?s)differ.*step\\(\\) runs more than once"):
        ch06.check_train_step(step_per_micro_batch)
    with pytest.raises(ExerciseError, match="(?s)differ.*step\\(\\) runs more than once"):
        ch06.check_train_step(step_twice)
    with pytest.raises(ExerciseError, match="without optimizer.zero_grad"):
        ch06.check_train_step(no_zero_grad)
    with pytest.raises(ExerciseError, match="only the last micro-batch"):
        ch06.check_train_step(zero_grad_in_loop)
    with pytest.raises(ExerciseError, match="micro_batches times too large"):
        ch06.check_train_step(unscaled)
    with pytest.raises(ExerciseError, match="have not moved.*after them, it wipes"):
        ch06.check_train_step(zero_grad_after_backward)
    with pytest.raises(ExerciseError, match="returned a Tensor; return a Python number"):
        ch06.check_train_step(returns_tensor)
    with pytest.raises(ExerciseError, match="computed before the step"):
        ch06.check_train_step(loss_after_step)
    with pytest.raises(ExerciseError, match="sum of the micro-batches' mean losses"):
        ch06.check_train_step(summed_losses)


# ------------------------------------------------------------------ clip_grad_norm


def _total_norm(parameters):
    return sum((p.grad**2).sum() for p in parameters).sqrt().item()


def good_clip(parameters, max_norm):
    total = _total_norm(parameters)
    coef = min(1.0, max_norm / (total + 1e-6))
    with ac.no_grad():
        for p in parameters:
            p.grad.mul_(coef)
    return total


def no_in_place(parameters, max_norm):
    total = _total_norm(parameters)
    for p in parameters:
        _ = p.grad * min(1.0, max_norm / (total + 1e-6))
    return total


def always_scale(parameters, max_norm):
    total = _total_norm(parameters)
    with ac.no_grad():
        for p in parameters:
            p.grad.mul_(max_norm / (total + 1e-6))
    return total


def per_parameter(parameters, max_norm):
    total = _total_norm(parameters)
    with ac.no_grad():
        for p in parameters:
            p.grad.mul_(min(1.0, max_norm / ((p.grad**2).sum().sqrt().item() + 1e-6)))
    return total


def norm_after(parameters, max_norm):
    good_clip(parameters, max_norm)
    return _total_norm(parameters)


def largest_norm(parameters, max_norm):
    good_clip(parameters, max_norm)
    return max((p.grad**2).sum().sqrt().item() for p in parameters)


def test_clip_grad_norm_checker(capsys):
    ch06.check_clip_grad_norm(good_clip)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch06.check_clip_grad_norm(todo)
    with pytest.raises(ExerciseError, match="not changed: scale them in place"):
        ch06.check_clip_grad_norm(no_in_place)
    with pytest.raises(ExerciseError, match="below max_norm, so the gradients must stay"):
        ch06.check_clip_grad_norm(always_scale)
    with pytest.raises(ExerciseError, match="by its own norm"):
        ch06.check_clip_grad_norm(per_parameter)
    with pytest.raises(ExerciseError, match="from \\*before\\* clipping"):
        ch06.check_clip_grad_norm(norm_after)


# ------------------------------------------------------------------ checkpoint


def good_save(path, model, optimizer, scheduler, sampler, epoch):
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "sampler_rng": sampler.rng.bit_generator.state,
        "epoch": epoch,
    }
    with open(path, "wb") as f:
        pickle.dump(checkpoint, f)


def good_load(path, model, optimizer, scheduler, sampler):
    with open(path, "rb") as f:
        checkpoint = pickle.load(f)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    sampler.rng.bit_generator.state = checkpoint["sampler_rng"]
    return checkpoint["epoch"]


def _load_without(*skipped):
    def load(path, model, optimizer, scheduler, sampler):
        with open(path, "rb") as f:
            checkpoint = pickle.load(f)
        if "model" not in skipped:
            model.load_state_dict(checkpoint["model"])
        if "optimizer" not in skipped:
            optimizer.load_state_dict(checkpoint["optimizer"])
        if "scheduler" not in skipped:
            scheduler.load_state_dict(checkpoint["scheduler"])
        if "sampler" not in skipped:
            sampler.rng.bit_generator.state = checkpoint["sampler_rng"]
        return None if "epoch" in skipped else checkpoint["epoch"]

    return load


def no_write(path, model, optimizer, scheduler, sampler, epoch):
    pass


def test_checkpoint_checker(capsys):
    ch06.check_checkpoint(good_save, good_load)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="your save_checkpoint is not implemented yet"):
        ch06.check_checkpoint(todo, good_load)
    with pytest.raises(ExerciseError, match="your load_checkpoint is not implemented yet"):
        ch06.check_checkpoint(good_save, todo)
    with pytest.raises(ExerciseError, match="did not write a file"):
        ch06.check_checkpoint(no_write, good_load)
    with pytest.raises(ExerciseError, match="returned None; expected the epoch"):
        ch06.check_checkpoint(good_save, _load_without("epoch"))
    with pytest.raises(ExerciseError, match="optimizer was not.*load_state_dict"):
        ch06.check_checkpoint(good_save, _load_without("optimizer"))
    with pytest.raises(ExerciseError, match="scheduler was not restored"):
        ch06.check_checkpoint(good_save, _load_without("scheduler"))
    with pytest.raises(ExerciseError, match="data order was not restored"):
        ch06.check_checkpoint(good_save, _load_without("sampler"))
    with pytest.raises(ExerciseError, match="does not continue like the uninterrupted run"):
        ch06.check_checkpoint(good_save, _load_without("model"))


# ------------------------------------------------------------------ milestone 2


class GoodAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["t"], state["m"], state["v"] = 0, ac.zeros_like(p), ac.zeros_like(p)
                    state["t"] += 1
                    t, m, v, g = state["t"], state["m"], state["v"], p.grad
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    p.sub_(lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps))


class TodoAdam(GoodAdam):
    def step(self):
        raise NotImplementedError


class FrozenAdam(GoodAdam):
    def step(self):
        pass  # never moves anything


class GoodRandomSampler:
    def __init__(self, data_source, generator=None):
        self.data_source, self.generator = data_source, generator

    def __iter__(self):
        yield from ac.randperm(len(self.data_source), generator=self.generator).tolist()

    def __len__(self):
        return len(self.data_source)


class TodoSampler(GoodRandomSampler):
    def __iter__(self):
        raise NotImplementedError


def collate(batch):
    return [ac.tensor(np.stack([x for x, _ in batch])), ac.tensor([y for _, y in batch])]


PIECES = dict(
    optimizer_cls=GoodAdam,
    sampler_cls=GoodRandomSampler,
    batch_sampler_cls=BatchSampler,  # ours: the batch sampler is checked in chapter 5
    collate_fn=collate,
    train_step=good_step,
)


def test_milestone_passes_with_correct_pieces(capsys):
    ch06.check_milestone_digits(**PIECES)
    out = capsys.readouterr().out
    assert out.startswith("✓ milestone 2")
    accuracy = float(re.search(r"to (\d+\.\d)% test accuracy", out).group(1))
    assert accuracy >= 95.0


def test_milestone_names_the_missing_pieces_and_is_not_attempted():
    pieces = {**PIECES, "optimizer_cls": TodoAdam, "sampler_cls": TodoSampler, "train_step": todo}
    with pytest.raises(ExerciseError) as e:
        ch06.check_milestone_digits(**pieces)
    message = str(e.value)
    assert "TodoAdam.step (chapter 4) is not implemented yet" in message
    assert "sampler TodoSampler (chapter 5) is not implemented yet" in message
    assert "your todo (exercise 1 of this chapter) is not implemented yet" in message
    assert "collate" not in message.split("Paste")[0]  # pieces that work are not named
    assert run_checker("milestone_digits", ch06.check_milestone_digits, **pieces).status == (
        "not attempted"
    )


def test_milestone_fails_when_the_pieces_do_not_learn():
    with pytest.raises(ExerciseError, match=r"(?s)to \d+\.\d% test accuracy.*barely fell"):
        ch06.check_milestone_digits(**{**PIECES, "optimizer_cls": FrozenAdam})
