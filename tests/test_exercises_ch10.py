"""Chapter 10's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import importlib
import math

import diffusers
import numpy as np
import pytest
import torch

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch10

# ------------------------------------------------------------------ add_noise


def add_noise(x0, noise, t, alphas_cumprod):
    a = alphas_cumprod[t].reshape(-1, 1, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def add_noise_python_floats(x0, noise, t, alphas_cumprod):
    """One image at a time, with math.sqrt: a float64 answer."""
    rows = []
    for i, step in enumerate(t.tolist()):
        a = alphas_cumprod[step].item()
        rows.append(
            math.sqrt(a) * x0[i].numpy().astype(np.float64) + math.sqrt(1 - a) * noise[i].numpy()
        )
    return ac.from_numpy(np.stack(rows))


@pytest.mark.parametrize("solution", [add_noise, add_noise_python_floats])
def test_add_noise_passes(solution, capsys):
    ch10.check_add_noise(solution)
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
        (lambda x0, n, t, a: add_noise(x0, n, t - 1, a), "alphas_cumprod\\[t - 1\\]"),
        (lambda x0, n, t, a: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_add_noise_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_add_noise(wrong)


# ------------------------------------------------------------------ one reverse step


def ddpm_step(eps, t, x, noise, alphas_cumprod, mistake=""):
    a_t = alphas_cumprod[t]
    a_prev = alphas_cumprod[t - 1] if t > 0 or mistake == "wrap" else ac.tensor(1.0)
    beta = 1 - a_t / a_prev
    x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    if mistake != "no_clip":
        x0 = x0.clamp(-1, 1)
    mean = (a_prev.sqrt() * beta / (1 - a_t)) * x0 + (
        (1 - beta).sqrt() * (1 - a_prev) / (1 - a_t)
    ) * x
    if t == 0 or mistake == "no_noise":
        return mean
    if mistake == "large":
        var = beta
    elif mistake == "flipped":
        var = (1 - a_t) / (1 - a_prev) * beta  # the ratio upside down
    else:
        var = (1 - a_prev) / (1 - a_t) * beta
    return mean + (var if mistake == "no_sqrt" else var.sqrt()) * noise


def ddpm_step_python_floats(eps, t, x, noise, alphas_cumprod):
    """Correct arithmetic on Python floats (float64 scalars): failed at t = 5 by 2e-5 when the
    checker compared with diffusers' float32 step at a fixed 1e-5."""
    a_t = alphas_cumprod[t].item()
    a_prev = alphas_cumprod[t - 1].item() if t > 0 else 1.0
    beta = 1 - a_t / a_prev
    x0 = ((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-1, 1)
    mean = (math.sqrt(a_prev) * beta / (1 - a_t)) * x0 + (
        math.sqrt(1 - beta) * (1 - a_prev) / (1 - a_t)
    ) * x
    if t == 0:
        return mean
    return mean + math.sqrt((1 - a_prev) / (1 - a_t) * beta) * noise


def ddpm_step_numpy_float64(eps, t, x, noise, alphas_cumprod):
    """The whole step in numpy float64, returned as a float64 tensor."""
    a = alphas_cumprod.numpy().astype(np.float64)
    a_t, a_prev = a[t], (a[t - 1] if t > 0 else 1.0)
    beta = 1 - a_t / a_prev
    x, eps, noise = (v.numpy().astype(np.float64) for v in (x, eps, noise))
    x0 = np.clip((x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t), -1, 1)
    mean = (
        np.sqrt(a_prev) * beta / (1 - a_t) * x0 + np.sqrt(1 - beta) * (1 - a_prev) / (1 - a_t) * x
    )
    if t > 0:
        mean = mean + np.sqrt((1 - a_prev) / (1 - a_t) * beta) * noise
    return ac.from_numpy(mean)


def diffusers_step(eps, t, x, noise, alphas_cumprod):
    """diffusers' own float32 DDPMScheduler.step, handed the checker's noise through a seeded
    generator whose first draw is replaced: the oracle the checker's float64 step stands for."""
    ref = diffusers.DDPMScheduler()
    assert np.array_equal(ref.alphas_cumprod.numpy(), alphas_cumprod.numpy())
    z = torch.from_numpy(noise.numpy().copy())
    module = importlib.import_module(type(ref).__module__)
    real = module.randn_tensor
    module.randn_tensor = lambda shape, **kw: z.reshape(shape)
    try:
        out = ref.step(torch.from_numpy(eps.numpy()), t, torch.from_numpy(x.numpy()))
    finally:
        module.randn_tensor = real
    return ac.from_numpy(out.prev_sample.numpy())


@pytest.mark.parametrize(
    "solution", [ddpm_step, ddpm_step_python_floats, ddpm_step_numpy_float64, diffusers_step]
)
def test_ddpm_step_passes_in_any_precision(solution, capsys):
    ch10.check_ddpm_step(solution)
    assert capsys.readouterr().out.startswith("✓")


def test_ddpm_step_tolerance_is_float32_sized():
    """At t = 5 the float64 and float32 answers differ by about 2e-5 (the cancellation in
    beta_t); the tolerance covers that, and stays far below the mistakes' differences."""
    abar = ch10._linear_alphas_cumprod().astype(np.float64)
    eps, x, z = (v.astype(np.float64) for v in ch10._step_inputs(5))
    tol = ch10._step_tolerance(eps, 5, x, z, abar)
    assert 1e-6 < tol.max() < 3e-4
    for mistake in ("large", "flipped", "no_sqrt"):
        wrong = ch10._step64(eps, 5, x, z, abar, mistake=mistake)
        assert (np.abs(wrong - ch10._step64(eps, 5, x, z, abar)) > 10 * tol).any()


def test_linear_table_is_diffusers():
    expected = diffusers.DDPMScheduler().alphas_cumprod.numpy()
    assert np.array_equal(ch10._linear_alphas_cumprod(), expected)


@pytest.mark.parametrize(
    "mistake,hint",
    [
        ("no_clip", "clip the predicted x0"),
        ("no_noise", "add sqrt"),
        ("large", "fixed_small"),
        ("flipped", "ratio is upside down"),
        ("no_sqrt", "not by the variance itself"),
        ("wrap", "wraps to the LAST entry"),
    ],
)
def test_ddpm_step_hints(mistake, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_ddpm_step(lambda *args: ddpm_step(*args, mistake=mistake))


def test_ddpm_step_wrong_shape_is_reported():
    with pytest.raises(ExerciseError, match="shape"):
        ch10.check_ddpm_step(lambda eps, t, x, noise, a: x.reshape(4, 64))


def test_ddpm_step_unknown_error_names_the_worst_value():
    with pytest.raises(ExerciseError, match="more than float32 rounding explains"):
        ch10.check_ddpm_step(lambda *args: ddpm_step(*args) * 1.001)


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
        (
            # Ho & Salimans' (1 + w) eps_c - w eps_u
            lambda m, x, t, y, w: (1 + w) * m(x, t, y) - w * m(x, t, ac.full_like(y, 10)),
            "Ho & Salimans' convention",
        ),
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


# ------------------------------------------------------------------ the sampler


def cfg_for_sampler(model, x, t, labels, w):
    null = ac.full_like(labels, model.null_label)
    cond, uncond = model(ac.cat([x, x]), t, ac.cat([labels, null])).chunk(2)
    return uncond + w * (cond - uncond)


def sample_digits(model, labels, w, alphas_cumprod, x, noises, mistake=""):
    T, n = len(alphas_cumprod), len(noises)
    k = T // n
    timesteps = [i * k for i in range(n)]  # leading spacing
    table = alphas_cumprod[ac.tensor(timesteps)]
    for j, i in enumerate(reversed(range(n))):
        t_model = i if mistake == "index_to_model" else timesteps[i]
        eps = cfg_for_sampler(model, x, t_model, labels, w)
        if mistake == "full_table":
            x = ddpm_step(eps, timesteps[i], x, noises[j], alphas_cumprod)
        else:
            x = ddpm_step(eps, i, x, noises[j], table)
    return x


def test_sample_digits_passes(capsys):
    ch10.check_sample_digits(sample_digits)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize("n,w", [(20, 3.0), (8, 1.5)])
def test_sampler_reference_is_diffusers(n, w):
    """The checker's float64 sampler equals diffusers' set_timesteps + step on the same draws."""
    model, digits = ch10._small_denoiser(), [0, 3, 7, 9]
    x_T, noises = ch10.sampler_inputs(n, digits, seed=n)
    ref = diffusers.DDPMScheduler()
    ref.set_timesteps(n)
    x = torch.from_numpy(x_T)
    for j, t in enumerate(ref.timesteps.tolist()):
        eps = ch10._guided64(model, x.numpy().astype(np.float64), t, ac.tensor(digits), w)
        g = torch.Generator().manual_seed(n + 1 + j)  # the draw sampler_inputs made
        x = ref.step(torch.from_numpy(eps.astype(np.float32)), t, x, generator=g).prev_sample
    abar = ch10._linear_alphas_cumprod().astype(np.float64)
    z64 = [z.astype(np.float64) for z in noises]
    expected = ch10._sample64(model, ac.tensor(digits), w, abar, x_T.astype(np.float64), z64)
    np.testing.assert_allclose(x.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize(
    "mistake,hint",
    [("full_table", "goes to t - k"), ("index_to_model", "trained on the real timesteps")],
)
def test_sample_digits_hints(mistake, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch10.check_sample_digits(lambda *a: sample_digits(*a, mistake=mistake))
