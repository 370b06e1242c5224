r"""The DDPM noise scheduler (Ho et al., 2020), with ``diffusers.DDPMScheduler``'s semantics.

**Forward process.** A clean image $x_0$ is noised over $T$ steps, each adding a little
Gaussian noise with variance $\beta_t$:

$$q(x_t \mid x_{t-1}) = \mathcal N\!\big(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t I\big).$$

With $\alpha_t = 1-\beta_t$ and $\bar\alpha_t = \prod_{s\le t}\alpha_s$, the Gaussians compose
into one closed form, so any $x_t$ is drawn in one step (:meth:`DDPMScheduler.add_noise`):

$$q(x_t \mid x_0) = \mathcal N\!\big(\sqrt{\bar\alpha_t}\,x_0,\ (1-\bar\alpha_t) I\big),
\qquad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon.$$

**Reverse step.** Given the model's noise prediction $\hat\epsilon$, the clean image is
estimated as $\hat x_0 = (x_t - \sqrt{1-\bar\alpha_t}\,\hat\epsilon)/\sqrt{\bar\alpha_t}$
(clipped to $[-1, 1]$ when ``clip_sample``), and $x_{t'}$ (the previous timestep $t'$) is drawn
from the posterior $q(x_{t'} \mid x_t, x_0)$ at $x_0 = \hat x_0$ (:meth:`DDPMScheduler.step`):

$$\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t'}}\,\tilde\beta_t}{1-\bar\alpha_t}\,\hat x_0
+ \frac{\sqrt{\tilde\alpha_t}\,(1-\bar\alpha_{t'})}{1-\bar\alpha_t}\,x_t, \qquad
\tilde\sigma^2_t = \frac{1-\bar\alpha_{t'}}{1-\bar\alpha_t}\,\tilde\beta_t,$$

where $\tilde\alpha_t = \bar\alpha_t/\bar\alpha_{t'}$ and $\tilde\beta_t = 1-\tilde\alpha_t$
(with all $T$ steps, $t' = t-1$ and $\tilde\beta_t = \beta_t$). This variance is diffusers'
``fixed_small``. See chapter 10.
"""

from __future__ import annotations

import math

import numpy as np

from .._creation import from_numpy, randn
from .._tensor import Tensor
from ..random import Generator

BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")


def _linspace_float32(start: float, end: float, steps: int) -> np.ndarray:
    """``torch.linspace(start, end, steps, dtype=torch.float32)``, bit for bit.

    torch fills the first half forwards from ``start`` and the second half backwards from
    ``end``, with a float32 step and a fused multiply-add (one rounding), which float64
    arithmetic rounded once to float32 reproduces exactly.
    """
    if steps == 1:
        return np.array([start], dtype=np.float32)
    start32, end32 = np.float32(start), np.float32(end)
    step = (end32 - start32) / np.float32(steps - 1)
    i = np.arange(steps, dtype=np.float64)
    forwards = np.float64(start32) + np.float64(step) * i
    backwards = np.float64(end32) - np.float64(step) * (steps - 1 - i)
    return np.where(i < steps // 2, forwards, backwards).astype(np.float32)


def _cosine_betas(num_steps: int, max_beta: float = 0.999) -> np.ndarray:
    r"""Nichol & Dhariwal's cosine schedule: $\bar\alpha(s) = \cos^2\!\big(\frac{s+0.008}{1.008}
    \frac{\pi}{2}\big)$ and $\beta_t = \min(1 - \bar\alpha(\frac{t+1}{T})/\bar\alpha(\frac{t}{T}),
    0.999)$."""

    def alpha_bar(s: float) -> float:
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [
        min(1 - alpha_bar((t + 1) / num_steps) / alpha_bar(t / num_steps), max_beta)
        for t in range(num_steps)
    ]
    return np.array(betas, dtype=np.float32)


class DDPMScheduler:
    r"""The noise tables of a DDPM, and its forward (:meth:`add_noise`) and reverse
    (:meth:`step`) processes, as ``diffusers.DDPMScheduler`` with ``variance_type="fixed_small"``
    and ``timestep_spacing="leading"``.

    >>> s = DDPMScheduler()
    >>> tuple(s.betas.shape), s.alphas_cumprod.dtype
    ((1000,), aigc_course.float32)
    >>> s.set_timesteps(4); s.timesteps.tolist()
    [750, 500, 250, 0]

    Note: unlike diffusers, ``step`` returns the previous sample itself (not an output object),
    takes its Gaussian draw as ``noise`` when given, and an unknown ``prediction_type`` is
    refused when the scheduler is built, not at the first step. See chapter 10.
    """

    def __init__(
        self,
        num_train_timesteps: int = 1000,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        beta_schedule: str = "linear",
        clip_sample: bool = True,
        prediction_type: str = "epsilon",
        clip_sample_range: float = 1.0,
    ):
        if not isinstance(num_train_timesteps, int) or num_train_timesteps < 1:
            raise ValueError(
                f"num_train_timesteps must be a positive int, but got {num_train_timesteps!r}"
            )
        if beta_schedule == "linear":
            betas = _linspace_float32(beta_start, beta_end, num_train_timesteps)
        elif beta_schedule == "scaled_linear":  # Stable Diffusion's: linear in sqrt(beta)
            betas = _linspace_float32(beta_start**0.5, beta_end**0.5, num_train_timesteps) ** 2
        elif beta_schedule == "squaredcos_cap_v2":
            betas = _cosine_betas(num_train_timesteps)
        else:  # diffusers raises NotImplementedError here too
            raise NotImplementedError(
                f"beta_schedule {beta_schedule!r} is not implemented; "
                f"choose one of {', '.join(BETA_SCHEDULES)}"
            )
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(
                f"prediction_type given as {prediction_type!r} must be one of "
                f"{', '.join(PREDICTION_TYPES)}"
            )
        self.num_train_timesteps = num_train_timesteps
        self.clip_sample = clip_sample
        self.clip_sample_range = clip_sample_range
        self.prediction_type = prediction_type
        self.init_noise_sigma = 1.0

        alphas = np.float32(1.0) - betas
        # subtle: the cumulative product is taken in float64 and rounded ONCE to float32, which
        # is what torch.cumprod does on the CPU (it accumulates float32 in a double). A float32
        # running product instead drifts by about one ulp (6e-8) per step, and step() later
        # takes 1 - abar_t / abar_t' of two neighbouring entries: near t = 5 that difference is
        # only ~2e-4, so the ulp drift becomes a relative error of ~3e-4 in beta~_t (measured
        # for t < 20). Taking beta~_t from the float32 tables (not from betas[t]) matches
        # diffusers.
        alphas_cumprod = np.cumprod(alphas.astype(np.float64)).astype(np.float32)
        self._alphas_cumprod = alphas_cumprod  # the numpy table that add_noise and step read
        self.betas: Tensor = from_numpy(betas.copy())
        self.alphas: Tensor = from_numpy(alphas.copy())
        self.alphas_cumprod: Tensor = from_numpy(alphas_cumprod.copy())
        self.num_inference_steps: int | None = None
        self.timesteps: Tensor = from_numpy(np.arange(num_train_timesteps)[::-1].copy())
        self._timesteps = np.arange(num_train_timesteps)[::-1].copy()

    def __len__(self) -> int:
        return self.num_train_timesteps

    def __repr__(self) -> str:
        return (
            f"DDPMScheduler(num_train_timesteps={self.num_train_timesteps}, "
            f"beta_schedule=..., clip_sample={self.clip_sample}, "
            f"prediction_type={self.prediction_type!r})"
        )

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Sample with ``num_inference_steps`` evenly spaced timesteps, diffusers' ``"leading"``
        spacing: ``0, k, 2k, ...`` with ``k = num_train_timesteps // num_inference_steps``,
        largest first."""
        if (
            not isinstance(num_inference_steps, int)
            or not 1 <= num_inference_steps <= self.num_train_timesteps
        ):
            raise ValueError(
                f"num_inference_steps must be an int in [1, {self.num_train_timesteps}] "
                f"(num_train_timesteps), but got {num_inference_steps!r}"
            )
        step_ratio = self.num_train_timesteps // num_inference_steps
        self.num_inference_steps = num_inference_steps
        self._timesteps = (np.arange(num_inference_steps) * step_ratio)[::-1].astype(np.int64)
        self.timesteps = from_numpy(self._timesteps.copy())

    def previous_timestep(self, timestep: int) -> int:
        """The timestep that :meth:`step` moves to from ``timestep`` (-1 after the last)."""
        if self.num_inference_steps is None:
            return timestep - 1
        (where,) = np.nonzero(self._timesteps == timestep)
        if where.size == 0:
            raise ValueError(
                f"timestep {timestep} is not one of the {self.num_inference_steps} inference "
                f"timesteps set by set_timesteps"
            )
        i = int(where[0])
        return int(self._timesteps[i + 1]) if i + 1 < len(self._timesteps) else -1

    def add_noise(self, original_samples: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        r"""$x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon$, with one $t$ per
        sample (``timesteps`` has shape (N,) and indexes the first dimension)."""
        t = np.asarray(timesteps.numpy() if isinstance(timesteps, Tensor) else timesteps)
        t = t.astype(np.int64).reshape(-1)
        if t.size and (t.min() < 0 or t.max() >= self.num_train_timesteps):
            bad = t[(t < 0) | (t >= self.num_train_timesteps)][0]
            raise IndexError(
                f"timestep {bad} is out of bounds for {self.num_train_timesteps} train timesteps"
            )
        abar = self._alphas_cumprod[t]  # (N,) float32
        broadcast = (-1,) + (1,) * (original_samples.dim() - 1)
        sqrt_abar = from_numpy((abar**0.5).reshape(broadcast))  # (N, 1, ...)
        sqrt_one_minus_abar = from_numpy(((np.float32(1) - abar) ** 0.5).reshape(broadcast))
        return sqrt_abar * original_samples + sqrt_one_minus_abar * noise

    def step(
        self,
        model_output: Tensor,
        timestep: int,
        sample: Tensor,
        noise: Tensor | None = None,
        generator: Generator | None = None,
    ) -> Tensor:
        r"""One reverse step $x_t \to x_{t'}$: estimate $\hat x_0$ from ``model_output``, then
        draw from the posterior $\mathcal N(\tilde\mu_t, \tilde\sigma^2_t I)$.

        ``noise`` is the standard Gaussian draw (the shape of ``sample``); without it, one is
        drawn from our RNG (``generator`` or the global one). No noise is added at $t = 0$.
        """
        t = int(timestep)
        if not 0 <= t < self.num_train_timesteps:
            raise IndexError(
                f"timestep {t} is out of bounds for {self.num_train_timesteps} train timesteps"
            )
        prev_t = self.previous_timestep(t)
        one = np.float32(1.0)
        # the scalars in float32, in diffusers' order, so that the roundings match
        abar_t = self._alphas_cumprod[t]
        abar_prev = self._alphas_cumprod[prev_t] if prev_t >= 0 else one
        beta_prod_t = one - abar_t
        beta_prod_prev = one - abar_prev
        alpha_t = abar_t / abar_prev  # alpha~_t
        beta_t = one - alpha_t  # beta~_t

        if self.prediction_type == "epsilon":
            x0 = (sample - float(beta_prod_t**0.5) * model_output) / float(abar_t**0.5)
        elif self.prediction_type == "sample":
            x0 = model_output
        else:  # v_prediction
            x0 = float(abar_t**0.5) * sample - float(beta_prod_t**0.5) * model_output
        if self.clip_sample:
            x0 = x0.clamp(-self.clip_sample_range, self.clip_sample_range)

        x0_coeff = (abar_prev**0.5 * beta_t) / beta_prod_t
        sample_coeff = alpha_t**0.5 * beta_prod_prev / beta_prod_t
        mean = float(x0_coeff) * x0 + float(sample_coeff) * sample  # mu~_t
        if t == 0:
            return mean
        variance = max(beta_prod_prev / beta_prod_t * beta_t, np.float32(1e-20))  # sigma~_t^2
        if noise is None:
            noise = randn(*sample.shape, generator=generator)
        elif tuple(noise.shape) != tuple(sample.shape):
            raise RuntimeError(
                f"noise has shape {tuple(noise.shape)}, but sample has shape {tuple(sample.shape)}"
            )
        return mean + float(np.float32(variance) ** 0.5) * noise
