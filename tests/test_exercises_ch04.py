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


# ------------------------------------------------------------------ any precision


class Float64Adam(GoodAdam):
    """Correct Adam whose averages and update are computed in float64 (m, v float64 tensors,
    beta**t as Python floats); only the final update is rounded to the parameter's float32."""

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g, state = p.grad.to(ac.float64), self.state[p]
                    if not state:
                        state["t"] = 0
                        state["m"] = ac.zeros(p.shape, dtype=ac.float64)
                        state["v"] = ac.zeros(p.shape, dtype=ac.float64)
                    state["t"] += 1
                    t, m, v = state["t"], state["m"], state["v"]
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    update = lr * (m / (1 - beta1**t)) / ((v / (1 - beta2**t)).sqrt() + eps)
                    p.sub_(update.to(ac.float32))


def test_adam_checker_passes_float64_arithmetic(capsys):
    ch04.check_adam(Float64Adam)
    assert capsys.readouterr().out.startswith("✓")


# ------------------------------------------------------------------ Adam: a shared step count


class SharedCounterAdam(GoodAdam):
    """The step count kept on the optimizer and bumped once per parameter with a gradient."""

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self.t = getattr(self, "t", 0) + 1
                    state = self.state[p]
                    if not state:
                        state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                    m, v, g = state["m"], state["v"], p.grad
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


class SharedCounterEveryParamAdam(SharedCounterAdam):
    """... bumped for every parameter, before the check for a missing gradient."""

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    self.t = getattr(self, "t", 0) + 1
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                    m, v, g = state["m"], state["v"], p.grad
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


class OncePerStepCounterAdam(GoodAdam):
    """A counter on the optimizer bumped once per step(): the same t as torch's, so correct."""

    def step(self):
        self.t = getattr(self, "t", 0) + 1
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                    m, v, g = state["m"], state["v"], p.grad
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat, v_hat = m / (1 - beta1**self.t), v / (1 - beta2**self.t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


@pytest.mark.parametrize("cls", [SharedCounterAdam, SharedCounterEveryParamAdam])
def test_adam_shared_step_count_is_named(cls):
    with pytest.raises(ExerciseError, match=r"(?s)step 1, parameter 1.*shared by all the param"):
        ch04.check_adam(cls)


def test_adam_counter_bumped_once_per_step_passes(capsys):
    ch04.check_adam(OncePerStepCounterAdam)
    assert capsys.readouterr().out.startswith("✓")


# ------------------------------------------------------------------ warm-up + cosine, held at 0


def test_warmup_cosine_held_at_zero_after_t_max_is_named():
    def held(t):
        return good_lambda(t) if t <= 25 else 0.0

    with pytest.raises(ExerciseError, match=r"(?s)lr_lambda\(26\) = 0,.*rises again"):
        ch04.check_warmup_cosine(held)
    # clamping the cosine's argument at T_max holds the factor at 0 too
    with pytest.raises(ExerciseError, match="rises again"):
        ch04.check_warmup_cosine(
            lambda t: (
                good_lambda(t) if t < 5 else 0.5 * (1 + math.cos(math.pi * min(t - 5, 20) / 20))
            )
        )


# ------------------------------------------------------------------ RAdam


class GoodRAdam(Optimizer):
    """RAdam from Liu et al. (2020), Algorithm 2, as torch.optim.RAdam computes it."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def step(self):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                rho_inf = 2 / (1 - beta2) - 1
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g, state = p.grad, self.state[p]
                    if not state:
                        state["t"] = 0
                        state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                    state["t"] += 1
                    t, m, v = state["t"], state["m"], state["v"]
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat = self.corrected(m, beta1, t)
                    rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
                    p.sub_(lr * m_hat * self.scale(v, rho_t, rho_inf, beta2, t, eps))

    def corrected(self, m, beta1, t):
        return m / (1 - beta1**t)

    def scale(self, v, rho_t, rho_inf, beta2, t, eps):
        if not self.rectify(rho_t):
            return 1.0
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return self.adaptive(v, beta2, t, eps) * r

    def rectify(self, rho_t):
        return rho_t > 5

    def adaptive(self, v, beta2, t, eps):
        return math.sqrt(1 - beta2**t) / (v.sqrt() + eps)


class AlwaysRectifiedRAdam(GoodRAdam):
    def rectify(self, rho_t):
        return True

    def scale(self, v, rho_t, rho_inf, beta2, t, eps):
        ratio = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        r = float("nan") if ratio < 0 else math.sqrt(ratio)  # what a tensor sqrt gives
        return self.adaptive(v, beta2, t, eps) * r


class AdamDenominatorRAdam(GoodRAdam):
    def adaptive(self, v, beta2, t, eps):
        return 1 / ((v / (1 - beta2**t)).sqrt() + eps)


class NoBiasCorrectionRAdam(GoodRAdam):
    def corrected(self, m, beta1, t):
        return m  # the momentum used without its bias correction


class TodoRAdam(GoodRAdam):
    def step(self):
        raise NotImplementedError


def test_radam_checker(capsys):
    ch04.check_radam(GoodRAdam)
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch04.check_radam(TodoRAdam)
    with pytest.raises(ExerciseError, match=r"(?s)at step 1.*rectified update at every step"):
        ch04.check_radam(AlwaysRectifiedRAdam)
    with pytest.raises(ExerciseError, match=r"(?s)step 1, .*m is not bias-corrected"):
        ch04.check_radam(NoBiasCorrectionRAdam)
    with pytest.raises(ExerciseError, match="you used Adam's denominator"):
        ch04.check_radam(AdamDenominatorRAdam)
    with pytest.raises(ExerciseError, match="(?s)step 1, parameter 1.*shared by all the param"):
        ch04.check_radam(type("SharedRAdam", (GoodRAdam,), {"step": _shared_counter_step}))
    with pytest.raises(ExerciseError, match="step 1, parameter 0, element") as e:
        ch04.check_radam(GoodAdam)  # Adam is not RAdam: no hint fits, none is given
    assert "Hint" not in str(e.value)


def _shared_counter_step(self):
    """RAdam with the step count kept on the optimizer, bumped once per parameter."""
    with ac.no_grad():
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.t = getattr(self, "t", 0) + 1
                t, g, state = self.t, p.grad, self.state[p]
                if not state:
                    state["m"], state["v"] = ac.zeros_like(p), ac.zeros_like(p)
                m, v = state["m"], state["v"]
                m.mul_(beta1).add_((1 - beta1) * g)
                v.mul_(beta2).add_((1 - beta2) * g * g)
                rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
                p.sub_(lr * (m / (1 - beta1**t)) * self.scale(v, rho_t, rho_inf, beta2, t, eps))
