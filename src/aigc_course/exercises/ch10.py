r"""Checkers for chapter 10's exercises (diffusion).

1. :func:`check_add_noise`: the forward process in closed form, against
   ``diffusers.DDPMScheduler.add_noise``.
2. :func:`check_ddpm_step`: one reverse step (epsilon prediction, clipped $\hat x_0$, the
   posterior mean and ``fixed_small`` variance), against ``diffusers.DDPMScheduler.step`` with
   the same Gaussian draw.
3. :func:`check_cfg`: classifier-free guidance, against the formula on a small random denoiser.
4. :func:`check_cosine_betas`: the cosine schedule's betas, against diffusers'
   ``"squaredcos_cap_v2"``.

When a wrong answer equals a known mistake (no square roots, signal and noise swapped, no
clipping, noise added at the last step, the forward variance $\beta_t$ instead of the
posterior's, the guidance direction reversed...), the feedback says which. See chapter 10.
"""

from __future__ import annotations

import numpy as np

from .._creation import from_numpy, tensor
from ..autograd.grad_mode import no_grad
from ._checking import ExerciseError, check_tensor, passed, run_learner

__all__ = ["check_add_noise", "check_cfg", "check_cosine_betas", "check_ddpm_step"]

BROADCAST_HINT = (
    "alphas_cumprod[t] has shape (N,), which broadcasts against the LAST dimension of x0; "
    "reshape it to (N, 1, 1) first"
)


def _torch():
    import torch

    return torch


def _reference_scheduler():
    from diffusers import DDPMScheduler

    return DDPMScheduler()


def _matches(got, expected) -> bool:
    try:
        check_tensor(got, expected)
    except ExerciseError:
        return False
    return True


def check_add_noise(add_noise) -> None:
    r"""``add_noise(x0, noise, t, alphas_cumprod)`` returns
    $\sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$ for a batch (N, 8, 8) with one
    timestep per image."""
    torch = _torch()
    ref = _reference_scheduler()
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 8, 8, generator=g) * 2 - 1
    noise = torch.randn(6, 8, 8, generator=g)
    t = torch.tensor([0, 1, 10, 250, 600, 999])
    abar = ref.alphas_cumprod
    expected = ref.add_noise(x0, noise, t)
    args = (from_numpy(x0.numpy()), from_numpy(noise.numpy()), from_numpy(t.numpy()))
    got = run_learner(
        add_noise,
        *args,
        from_numpy(abar.numpy()),
        what="add_noise(x0, noise, t, alphas_cumprod)",
        broadcast_hint=BROADCAST_HINT,
    )
    a = abar[t].reshape(-1, 1, 1)
    mistakes = [
        (
            a * x0 + (1 - a) * noise,
            "you used alphas_cumprod itself; the coefficients are its square roots, "
            "sqrt(abar_t) and sqrt(1 - abar_t), so that the variance of x_t stays 1",
        ),
        (
            a.sqrt() * noise + (1 - a).sqrt() * x0,
            "signal and noise are swapped: sqrt(abar_t) multiplies x0 (abar_t is near 1 at "
            "small t, when x_t should be nearly clean)",
        ),
        (
            x0 + (1 - a).sqrt() * noise,
            "the signal must shrink as noise is added: multiply x0 by sqrt(abar_t)",
        ),
    ]
    if hasattr(got, "shape") and tuple(got.shape) == tuple(expected.shape):
        for wrong, hint in mistakes:
            if not _matches(got, expected) and _matches(got, wrong):
                raise ExerciseError(f"add_noise: {hint}")
    check_tensor(got, expected, what="add_noise(x0, noise, t, alphas_cumprod)")
    passed("add_noise matches diffusers.DDPMScheduler.add_noise at t = 0, 1, 10, 250, 600, 999")


def _reference_step(ref, eps, t, x, noise, clip=True, add_noise=True, variance="small"):
    """diffusers' step (the default), or a known mistake."""
    torch = _torch()
    if clip and add_noise and variance == "small":
        return ref.step(eps, t, x, generator=torch.Generator().manual_seed(t)).prev_sample
    abar = ref.alphas_cumprod
    a_t, a_prev = abar[t], (abar[t - 1] if t > 0 else torch.tensor(1.0))
    beta = 1 - a_t / a_prev
    x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t**0.5
    if clip:
        x0 = x0.clamp(-1, 1)
    mean = (a_prev**0.5 * beta / (1 - a_t)) * x0 + (
        (1 - beta) ** 0.5 * (1 - a_prev) / (1 - a_t)
    ) * x
    var = (1 - a_prev) / (1 - a_t) * beta if variance == "small" else beta
    if t > 0 and add_noise:
        mean = mean + var.clamp(min=1e-20) ** 0.5 * noise
    return mean


def check_ddpm_step(ddpm_step) -> None:
    r"""``ddpm_step(eps, t, x_t, noise, alphas_cumprod)`` returns $x_{t-1}$ (all 1,000 steps,
    epsilon prediction, $\hat x_0$ clipped to [-1, 1], posterior variance, no noise at
    $t = 0$), checked against ``diffusers.DDPMScheduler().step`` with the same noise."""
    torch = _torch()
    ref = _reference_scheduler()
    abar = from_numpy(ref.alphas_cumprod.numpy())
    g = torch.Generator().manual_seed(1)
    for t in [999, 500, 100, 5, 1, 0]:
        x = torch.randn(4, 8, 8, generator=g) * (1.0 if t > 100 else 0.6)
        eps = torch.randn(4, 8, 8, generator=g) * 1.5  # large enough that x0 needs clipping
        noise = torch.randn(4, 8, 8, generator=torch.Generator().manual_seed(t))
        expected = _reference_step(ref, eps, t, x, noise)
        what = f"ddpm_step(eps, {t}, x_t, noise, alphas_cumprod)"
        args = (from_numpy(eps.numpy()), t, from_numpy(x.numpy()), from_numpy(noise.numpy()))
        got = run_learner(ddpm_step, *args, abar, what=what)
        if hasattr(got, "shape") and tuple(got.shape) == tuple(expected.shape):
            mistakes = [
                (dict(clip=False), "clip the predicted x0 to [-1, 1] before the posterior mean"),
                (
                    dict(add_noise=False),
                    "for t > 0 the step is a draw, not just the mean: add sqrt(variance) * noise",
                ),
                (
                    dict(variance="large"),
                    "the variance is the posterior's, (1 - abar_{t-1}) / (1 - abar_t) * beta_t "
                    "(diffusers' fixed_small), not beta_t",
                ),
            ]
            for kwargs, hint in mistakes:
                wrong = _reference_step(ref, eps, t, x, noise, **kwargs)
                if not _matches(got, expected) and _matches(got, wrong):
                    raise ExerciseError(f"{what}: {hint}")
        check_tensor(got, expected, what=what, atol=1e-5, rtol=1e-5)
    passed("ddpm_step matches diffusers.DDPMScheduler.step at t = 999, 500, 100, 5, 1, 0")


def check_cfg(cfg) -> None:
    r"""``cfg(model, x, t, labels, guidance_scale)`` returns
    $\epsilon_\varnothing + w(\epsilon_y - \epsilon_\varnothing)$, where the unconditional
    prediction uses the label ``model.null_label``."""
    from .. import random
    from ..diffusion.denoiser import Denoiser

    state = random._rng.bit_generator.state
    try:
        random.manual_seed(10)
        model = Denoiser(hidden=32, num_blocks=1)
        x = from_numpy(np.random.default_rng(0).standard_normal((4, 8, 8)).astype(np.float32))
    finally:
        random._rng.bit_generator.state = state  # the learner's global stream is unchanged
    labels = tensor([0, 3, 7, 9])
    null = tensor([model.null_label] * 4)
    with no_grad():
        cond, uncond = model(x, 300, labels), model(x, 300, null)
    calls = {}
    for w in [3.0, 0.0, 1.0]:  # w = 3 first: there the known mistakes all differ
        what = f"cfg(model, x, 300, labels, guidance_scale={w})"
        counting = _CountingModel(model)
        with no_grad():
            got = run_learner(cfg, counting, x, 300, labels, w, what=what)
        calls[w] = counting.calls
        expected = (uncond + w * (cond - uncond)).numpy()
        mistakes = [
            (
                cond + w * (uncond - cond),
                "the direction is reversed: start from the "
                "unconditional prediction and move towards the conditional one, "
                "eps_uncond + w * (eps_cond - eps_uncond)",
            ),
            (
                w * cond,
                "guidance extrapolates from the unconditional prediction: "
                "eps_uncond + w * (eps_cond - eps_uncond), not w * eps_cond",
            ),
            (
                cond,
                "the unconditional prediction needs the 'no label' class: call the model "
                "with labels set to model.null_label",
            ),
        ]
        if hasattr(got, "shape") and tuple(got.shape) == expected.shape:
            for wrong, hint in mistakes:
                if not _matches(got, expected) and _matches(got, wrong.numpy()):
                    raise ExerciseError(f"{what}: {hint}")
        check_tensor(got, expected, what=what, check_dtype=False)
    message = "cfg gives eps_uncond + w (eps_cond - eps_uncond) for w = 3, 0 and 1"
    if calls[3.0] == 1:
        passed(f"{message}, with one batched model call")
    else:
        passed(
            f"{message}; you made {calls[3.0]} model calls per guided prediction: one call on "
            "the images twice (cat([x, x]), with cat([labels, null])) does both at once"
        )


class _CountingModel:
    """The learner's view of the model: the same module, counting its calls."""

    def __init__(self, model):
        self._model = model
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._model(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._model, name)


def _cosine_variant(T: int, s: float = 0.008, cap: float | None = 0.999) -> np.ndarray:
    import math

    def abar(x):
        return math.cos((x + s) / (1 + s) * math.pi / 2) ** 2

    betas = [1 - abar((t + 1) / T) / abar(t / T) for t in range(T)]
    return np.array([min(b, cap) if cap else b for b in betas], dtype=np.float32)


def check_cosine_betas(cosine_betas) -> None:
    r"""``cosine_betas(T)`` returns the T betas of Nichol & Dhariwal's cosine schedule,
    $\beta_t = \min(1 - \bar\alpha(\frac{t+1}{T})/\bar\alpha(\frac{t}{T}), 0.999)$ with
    $\bar\alpha(x) = \cos^2(\frac{x + 0.008}{1.008}\frac{\pi}{2})$, against diffusers'
    ``"squaredcos_cap_v2"``."""
    from diffusers import DDPMScheduler

    for T in [1000, 50]:
        expected = DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2").betas
        what = f"cosine_betas({T})"
        got = run_learner(cosine_betas, T, what=what)
        got = got if hasattr(got, "shape") else tensor(np.asarray(got, dtype=np.float32))
        mistakes = [
            (
                _cosine_variant(T, cap=None),
                "cap each beta at 0.999: the last one is 1 otherwise "
                "(abar reaches 0 at t = T), and a step with beta = 1 erases everything",
            ),
            (
                _cosine_variant(T, s=0.0),
                "use the offset s = 0.008, (x + s) / (1 + s): without "
                "it the first betas are tiny and the first steps do nothing",
            ),
            (1 - _cosine_variant(T), "return the betas, 1 - abar(t+1)/abar(t), not the alphas"),
        ]
        if tuple(got.shape) == tuple(expected.shape):
            for wrong, hint in mistakes:
                if not _matches(got, expected.numpy()) and _matches(got, wrong):
                    raise ExerciseError(f"{what}: {hint}")
        check_tensor(got, expected.numpy(), what=what, check_dtype=False, rtol=1e-5, atol=1e-6)
    passed("cosine_betas matches diffusers' squaredcos_cap_v2 for T = 1000 and 50")
