"""Chapter 10's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch10

# ------------------------------------------------------------------ add_noise


def add_noise(x0, noise, t, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def test_add_noise_passes(capsys):
    ch10.check_add_noise(add_noise)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (
            lambda x0, n, t, a: a[t].reshape(-1, 1, 1) * x0 + (1 - a[t].reshape(-1, 1, 1)) * n,
            "square roots",
        ),
        (lambda x0, n, t, a: add_noise(n, x0, t, a), "swapped"),
        (lambda x0, n, t, a: x0 + (1 - a[t].reshape(-1, 1, 1)).sqrt() * n, "shrink"),
        (lambda x0, n, t, a: a[t].sqrt() * x0 + (1 - a[t]).sqrt() * n, "reshape it to"),
        (lambda x0, n, t, a: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_add_noise_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_add_noise(wrong)


# ------------------------------------------------------------------ one reverse step


def ddpm_step(eps, t, x, noise, alphas_cumprod, clip=True, with_noise=True, small=True):
    a_t = alphas_cumprod[t]
    a_prev = alphas_cumprod[t - 1] if t > 0 else ac.tensor(1.0)
    beta = 1 - a_t / a_prev
    x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    if clip:
        x0 = x0.clamp(-1, 1)
    mean = (a_prev.sqrt() * beta / (1 - a_t)) * x0 + (
        (1 - beta).sqrt() * (1 - a_prev) / (1 - a_t)
    ) * x
    if t == 0 or not with_noise:
        return mean
    var = (1 - a_prev) / (1 - a_t) * beta if small else beta
    return mean + var.sqrt() * noise


def test_ddpm_step_passes(capsys):
    ch10.check_ddpm_step(ddpm_step)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    "kwargs,hint",
    [
        (dict(clip=False), "clip the predicted x0"),
        (dict(with_noise=False), "add sqrt"),
        (dict(small=False), "fixed_small"),
    ],
)
def test_ddpm_step_hints(kwargs, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_ddpm_step(lambda *args: ddpm_step(*args, **kwargs))


def test_ddpm_step_wrong_shape_is_reported():
    with pytest.raises(ExerciseError, match="shape"):
        ch10.check_ddpm_step(lambda eps, t, x, noise, a: x.reshape(4, 64))


# ------------------------------------------------------------------ classifier-free guidance


def cfg(model, x, t, labels, w):
    null = ac.full_like(labels, model.null_label)
    return model(x, t, null) + w * (model(x, t, labels) - model(x, t, null))


def cfg_batched(model, x, t, labels, w):
    null = ac.full_like(labels, model.null_label)
    cond, uncond = model(ac.cat([x, x]), t, ac.cat([labels, null])).chunk(2)
    return uncond + w * (cond - uncond)


def test_cfg_passes_and_keeps_the_global_rng(capsys):
    ac.manual_seed(5)
    before = ac.rand(3)
    ac.manual_seed(5)
    ch10.check_cfg(cfg)
    assert bool((ac.rand(3) == before).all())
    out = capsys.readouterr().out
    assert out.startswith("✓")
    assert "you made 3 model calls" in out  # passes, and says how to batch


def test_cfg_one_batched_call_is_acknowledged(capsys):
    ch10.check_cfg(cfg_batched)
    assert capsys.readouterr().out.strip().endswith("with one batched model call")


@pytest.mark.parametrize(
    "wrong,hint",
    [
        (
            lambda m, x, t, y, w: m(x, t, y) + w * (m(x, t, ac.full_like(y, 10)) - m(x, t, y)),
            "reversed",
        ),
        (lambda m, x, t, y, w: w * m(x, t, y), "not w \\* eps_cond"),
        (lambda m, x, t, y, w: m(x, t, y) + w * (m(x, t, y) - m(x, t, y)), "null_label"),
    ],
)
def test_cfg_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_cfg(wrong)


# ------------------------------------------------------------------ the cosine schedule


def cosine_betas(T, s=0.008, cap=0.999, alphas=False):
    import math

    def abar(x):
        return math.cos((x + s) / (1 + s) * math.pi / 2) ** 2

    betas = [1 - abar((t + 1) / T) / abar(t / T) for t in range(T)]
    betas = [min(b, cap) if cap else b for b in betas]
    return ac.tensor([1 - b for b in betas] if alphas else betas)


def test_cosine_betas_passes(capsys):
    ch10.check_cosine_betas(cosine_betas)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    "kwargs,hint",
    [
        (dict(cap=None), "cap each beta"),
        (dict(s=0.0), "offset"),
        (dict(alphas=True), "not the alphas"),
    ],
)
def test_cosine_betas_hints(kwargs, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_cosine_betas(lambda T: cosine_betas(T, **kwargs))


def test_cosine_betas_wrong_length_is_reported():
    with pytest.raises(ExerciseError, match="shape"):
        ch10.check_cosine_betas(lambda T: cosine_betas(T)[:-1])
