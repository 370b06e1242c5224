"""Chapter 4's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import math

import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch04
from aigc_course.optim import Optimizer

# ------------------------------------------------------------------ SGD with momentum


class GoodSGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def update(self, b, g, momentum):
        return b.mul_(momentum).add_(g)

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    old = state.get("b", ac.zeros_like(p)).clone()
                    b = state.setdefault("b", ac.zeros_like(p))
                    self.update(b, p.grad, group["momentum"])
                    p.sub_(group["lr"] * self.direction(old, b))

    def direction(self, old, b):
        return b


class EmaSGD(GoodSGD):
    def update(self, b, g, momentum):
        return b.mul_(momentum).add_((1 - momentum) * g)


class StaleSGD(GoodSGD):
    def direction(self, old, b):
        return old


class NoSkipSGD(GoodSGD):
    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad)


class TouchesFrozenSGD(GoodSGD):
    def step(self):
        super().step()
        with ac.no_grad():
            for p in self.param_groups[0]["params"]:
                if p.grad is None:
                    p.mul_(0.5)


class TodoSGD(Optimizer):
    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    def step(self):
        raise NotImplementedError


def test_sgd_momentum_checker(capsys):
    ch04.check_sgd_momentum(GoodSGD)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch04.check_sgd_momentum(TodoSGD)
    with pytest.raises(ExerciseError, match="(?s)step 1, parameter 0.*averaged the gradient"):
        ch04.check_sgd_momentum(EmaSGD)
    with pytest.raises(ExerciseError, match="(?s)step 1, .*buffer from the previous step"):
        ch04.check_sgd_momentum(StaleSGD)
    with pytest.raises(ExerciseError, match="(?s)NoneType.*skip it"):
        ch04.check_sgd_momentum(NoSkipSGD)
    with pytest.raises(ExerciseError, match="changed a parameter whose .grad is None"):
        ch04.check_sgd_momentum(TouchesFrozenSGD)


# ------------------------------------------------------------------ Adam


class GoodAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    first_t = 1

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g, state = p.grad, self.state[p]
                    if not state:
                        state["t"] = self.first_t - 1
                        state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                    state["t"] += 1
                    t, m, v = state["t"], state["m"], state["v"]
                    g = self.decay(p, g, lr, group["weight_decay"])
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat, v_hat = self.correct(m, v, beta1, beta2, t)
                    p.sub_(lr * m_hat / self.denominator(v_hat, eps))
                    self.after(p, lr, group["weight_decay"])

    def decay(self, p, g, lr, wd):
        p.mul_(1 - lr * wd)  # decoupled (a no-op for Adam, whose wd is 0 here)
        return g

    def after(self, p, lr, wd):
        pass

    def correct(self, m, v, beta1, beta2, t):
        return m / (1 - beta1**t), v / (1 - beta2**t)

    def denominator(self, v_hat, eps):
        return v_hat.sqrt() + eps


class TodoAdam(GoodAdam):
    def step(self):
        raise NotImplementedError


class NoBiasCorrectionAdam(GoodAdam):
    def correct(self, m, v, beta1, beta2, t):
        return m, v


class EpsInsideAdam(GoodAdam):
    def denominator(self, v_hat, eps):
        return (v_hat + eps).sqrt()


class StepFromZeroAdam(GoodAdam):
    first_t = 0


class SlightlyOffAdam(GoodAdam):
    def denominator(self, v_hat, eps):
        return v_hat.sqrt() + 2 * eps


class DividesByZeroAdam(GoodAdam):
    def denominator(self, v_hat, eps):
        return v_hat.sqrt() * 0  # inf everywhere: no known mistake, but not finite


def test_adam_checker(capsys):
    ch04.check_adam(GoodAdam)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch04.check_adam(TodoAdam)
    with pytest.raises(ExerciseError, match=r"(?s)step 1, parameter 0, element \(0, 0\).*article"):
        ch04.check_adam(NoBiasCorrectionAdam)
    with pytest.raises(ExerciseError, match="eps is inside the square root"):
        ch04.check_adam(EpsInsideAdam)
    with pytest.raises(ExerciseError, match="(?s)step 1.*nan.*t starts at 0"):
        ch04.check_adam(StepFromZeroAdam)
    with pytest.raises(ExerciseError, match="step 1, parameter 0, element") as e:
        ch04.check_adam(SlightlyOffAdam)
    assert "Hint" not in str(e.value)  # no known mistake fits: no misleading hint
    with pytest.raises(ExerciseError, match="(?s)step 1.*inf.*Hint: a NaN or inf"):
        ch04.check_adam(DividesByZeroAdam)


# ------------------------------------------------------------------ warm-up + cosine


def good_lambda(t):
    if t < 5:
        return 0.1 + 0.9 * t / 5
    return 0.5 * (1 + math.cos(math.pi * (t - 5) / 20))


def test_warmup_cosine_checker(capsys):
    ch04.check_warmup_cosine(good_lambda)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match=r"(?s)lr_lambda\(0\) = 0,.*rises linearly"):
        ch04.check_warmup_cosine(lambda t: t / 5 if t < 5 else good_lambda(t))
    with pytest.raises(ExerciseError, match=r"(?s)lr_lambda\(6\).*own steps, t - 5"):
        ch04.check_warmup_cosine(
            lambda t: good_lambda(t) if t < 6 else 0.5 * (1 + math.cos(math.pi * t / 25))
        )
    with pytest.raises(ExerciseError, match=r"(?s)lr_lambda\(5\).*cosine phase starts"):
        ch04.check_warmup_cosine(  # the cosine counted from t - 4: one step ahead
            lambda t: good_lambda(t) if t < 5 else 0.5 * (1 + math.cos(math.pi * (t - 4) / 20))
        )
    with pytest.raises(ExerciseError, match="expected a number"):
        ch04.check_warmup_cosine(lambda t: None)
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch04.check_warmup_cosine(lambda t: (_ for _ in ()).throw(NotImplementedError))


# ------------------------------------------------------------------ AdamW


class CoupledAdamW(GoodAdam):
    def decay(self, p, g, lr, wd):
        return g + wd * p


class DecayAfterAdamW(GoodAdam):
    def decay(self, p, g, lr, wd):
        return g

    def after(self, p, lr, wd):
        p.mul_(1 - lr * wd)


def test_adamw_checker(capsys):
    ch04.check_adamw(GoodAdam)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="Adam's L2 penalty"):
        ch04.check_adamw(CoupledAdamW)
    with pytest.raises(ExerciseError, match="decayed the weights after"):
        ch04.check_adamw(DecayAfterAdamW)
    with pytest.raises(ExerciseError, match="(?s)AdamW's at step 1.*bias correction"):
        ch04.check_adamw(NoBiasCorrectionAdam)
