r"""Drawing digits: the reverse process with classifier-free guidance (Ho & Salimans, 2022).

Starting from pure noise $x_T \sim \mathcal N(0, I)$, each step asks the denoiser for the noise
twice, with the label $y$ and with the "no label" class $\varnothing$, and extrapolates from
the unconditional prediction towards the conditional one with guidance scale $w$:

$$\hat\epsilon = \epsilon_\theta(x_t, t, \varnothing)
+ w\,\big(\epsilon_\theta(x_t, t, y) - \epsilon_\theta(x_t, t, \varnothing)\big).$$

$w = 0$ ignores the label, $w = 1$ is the plain conditional model, and $w > 1$ trades variety
for digits that look more like their class. The scheduler's :meth:`~.DDPMScheduler.step` then
moves $x_t$ to $x_{t'}$. Both predictions come from one batched forward pass. See chapter 10.
"""

from __future__ import annotations

from .._creation import as_tensor, randn
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.shape import cat
from ..random import Generator
from .scheduler import DDPMScheduler


def guided_noise(model, x: Tensor, t: int, labels: Tensor, guidance_scale: float) -> Tensor:
    r"""$\hat\epsilon = \epsilon_\varnothing + w(\epsilon_y - \epsilon_\varnothing)$, with one model
    call (the conditional and unconditional halves stacked in one batch)."""
    if guidance_scale == 1.0:  # the conditional model alone
        return model(x, t, labels)
    null = labels * 0 + model.null_label
    if guidance_scale == 0.0:  # the unconditional model alone
        return model(x, t, null)
    eps_cond, eps_uncond = model(cat([x, x]), t, cat([labels, null])).chunk(2)  # (N, ...) each
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


def sample(
    model,
    scheduler: DDPMScheduler,
    labels,
    guidance_scale: float = 2.0,
    num_inference_steps: int | None = None,
    seed: int = 0,
    return_trajectory: bool = False,
) -> Tensor | tuple[Tensor, list[Tensor]]:
    """Draw one image per label: a (N, 8, 8) tensor with values in [-1, 1].

    ``num_inference_steps`` (default: all ``num_train_timesteps``) calls
    ``scheduler.set_timesteps``, as a diffusers pipeline does. ``seed`` seeds a private
    generator for the initial noise and every step's draw. With ``return_trajectory``, also
    returns the list of every $x_t$ (the initial noise first).
    """
    if guidance_scale < 0:
        raise ValueError(f"guidance_scale must be >= 0, but got {guidance_scale}")
    labels = as_tensor(labels).long().reshape(-1)
    if labels.numel() and (labels.min().item() < 0 or labels.max().item() >= model.num_classes):
        raise IndexError(
            f"labels must be in [0, {model.num_classes - 1}], but got {labels.tolist()}"
        )
    scheduler.set_timesteps(num_inference_steps or scheduler.num_train_timesteps)
    generator = Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    x = randn(labels.shape[0], 8, 8, generator=generator) * scheduler.init_noise_sigma
    trajectory = [x]
    with no_grad():
        for t in scheduler.timesteps.tolist():
            eps = guided_noise(model, x, t, labels, guidance_scale)
            x = scheduler.step(eps, t, x, generator=generator)
            if return_trajectory:
                trajectory.append(x)
    model.train(was_training)
    x = x.clamp(-1.0, 1.0)  # already so with clip_sample; the promise holds without it too
    return (x, trajectory) if return_trajectory else x
