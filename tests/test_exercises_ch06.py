"""Chapter 6's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import pickle

import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch06
from aigc_course.nn.functional import cross_entropy

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


def good_step(model, optimizer, x, y):
    loss = cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def no_zero_grad(model, optimizer, x, y):
    loss = cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def zero_grad_after_backward(model, optimizer, x, y):
    loss = cross_entropy(model(x), y)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def returns_tensor(model, optimizer, x, y):
    good_step(model, optimizer, x, y)
    return cross_entropy(model(x), y)


def loss_after_step(model, optimizer, x, y):
    good_step(model, optimizer, x, y)
    with ac.no_grad():
        return cross_entropy(model(x), y).item()


def test_train_step_checker(capsys):
    ch06.check_train_step(good_step)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch06.check_train_step(todo)
    with pytest.raises(ExerciseError, match="without optimizer.zero_grad"):
        ch06.check_train_step(no_zero_grad)
    with pytest.raises(ExerciseError, match="have not moved.*after it, it wipes"):
        ch06.check_train_step(zero_grad_after_backward)
    with pytest.raises(ExerciseError, match="returned a Tensor; return loss.item"):
        ch06.check_train_step(returns_tensor)
    with pytest.raises(ExerciseError, match="computed before the step"):
        ch06.check_train_step(loss_after_step)


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


def good_save(model, optimizer, path):
    with open(path, "wb") as f:
        pickle.dump({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, f)


def good_load(model, optimizer, path):
    with open(path, "rb") as f:
        checkpoint = pickle.load(f)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])


def model_only_save(model, optimizer, path):
    with open(path, "wb") as f:
        pickle.dump(model.state_dict(), f)


def model_only_load(model, optimizer, path):
    with open(path, "rb") as f:
        model.load_state_dict(pickle.load(f))


def no_write(model, optimizer, path):
    pass


def forgets_model_load(model, optimizer, path):
    with open(path, "rb") as f:
        optimizer.load_state_dict(pickle.load(f)["optimizer"])


def test_checkpoint_checker(capsys):
    ch06.check_checkpoint(good_save, good_load)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="your save is not implemented yet"):
        ch06.check_checkpoint(todo, good_load)
    with pytest.raises(ExerciseError, match="your load is not implemented yet"):
        ch06.check_checkpoint(good_save, todo)
    with pytest.raises(ExerciseError, match="did not write a file"):
        ch06.check_checkpoint(no_write, good_load)
    with pytest.raises(ExerciseError, match="optimizer was not.*load_state_dict"):
        ch06.check_checkpoint(model_only_save, model_only_load)
    with pytest.raises(ExerciseError, match="does not continue like the uninterrupted run"):
        ch06.check_checkpoint(good_save, forgets_model_load)
