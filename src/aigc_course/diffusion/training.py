r"""Training the denoiser: the batches, the loss and the learning-rate schedule.

Ho et al.'s simplified objective: pick a clean image $x_0$, a timestep $t \sim U\{0..T-1\}$ and
noise $\epsilon \sim \mathcal N(0, I)$, form $x_t$ in closed form, and regress the noise:

$$L = \mathbb E_{x_0, t, \epsilon}\,\big\|\epsilon - \epsilon_\theta(x_t, t, y)\big\|^2,
\qquad x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\epsilon.$$

With probability ``label_dropout`` the label $y$ is replaced by "no label", so that the same
network also learns the unconditional model that classifier-free guidance needs.

The batches are numpy arrays drawn from one seeded numpy generator, so that torch and
aigc_course can be trained on exactly the same data. See chapter 10.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from .._creation import from_numpy
from .scheduler import DDPMScheduler


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits as float32 images in [-1, 1] (pixel 0 → -1, 16 → 1), and
    their int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 8.0 - 1.0).astype(np.float32)  # (N, 8, 8)
    return images, digits.target.astype(np.int64)


def one_cycle(
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Callable[[int], float]:
    r"""The factor of ``torch.optim.lr_scheduler.OneCycleLR`` (cosine annealing, two phases) as
    a function of the step, for :class:`~aigc_course.optim.lr_scheduler.LambdaLR` with the
    optimizer's lr set to ``max_lr``: it rises from $1/d$ to 1 over the first ``pct_start`` of
    the steps, then falls to $1/(d\,d_f)$, each half a cosine.

    Note: aigc_course.optim has no OneCycleLR; this lambda gives the same learning rates.
    """
    if total_steps < 2:
        raise ValueError(f"one_cycle needs total_steps >= 2, but got {total_steps}")
    start, peak, end = 1.0 / div_factor, 1.0, 1.0 / (div_factor * final_div_factor)
    warmup_end = float(pct_start * total_steps) - 1  # the step at which the peak is reached
    last = total_steps - 1

    def cosine(a: float, b: float, fraction: float) -> float:
        return b + (a - b) / 2.0 * (math.cos(math.pi * fraction) + 1)

    def factor(step: int) -> float:
        if step <= warmup_end:
            return cosine(start, peak, step / warmup_end)
        return cosine(peak, end, (step - warmup_end) / (last - warmup_end))

    return factor


def training_batches(
    images: np.ndarray,
    labels: np.ndarray,
    scheduler: DDPMScheduler,
    num_steps: int,
    batch_size: int = 256,
    label_dropout: float = 0.1,
    null_label: int = 10,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``num_steps`` batches ``(x_t, t, labels, noise)`` as numpy arrays: random images,
    timesteps, noise, and labels with a fraction ``label_dropout`` set to ``null_label``."""
    rng = np.random.default_rng(seed)
    T = scheduler.num_train_timesteps
    for _ in range(num_steps):
        i = rng.integers(0, len(images), batch_size)  # (B,)
        x0 = images[i]  # (B, 8, 8)
        t = rng.integers(0, T, batch_size)  # (B,)
        noise = rng.standard_normal(x0.shape).astype(np.float32)  # (B, 8, 8)
        y = np.where(rng.random(batch_size) < label_dropout, null_label, labels[i])  # (B,)
        x_t = scheduler.add_noise(from_numpy(x0), from_numpy(noise), from_numpy(t)).numpy()
        yield x_t, t, y, noise
