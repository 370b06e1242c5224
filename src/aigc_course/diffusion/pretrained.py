"""The shipped denoiser: ``pretrained_digits()`` loads it, ``scripts/train_digits_ddpm.py`` makes
it (see ``pretrained/README.md``, the model card). See chapter 10.
"""

from __future__ import annotations

import json
from pathlib import Path

from .denoiser import Denoiser
from .scheduler import DDPMScheduler

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
WEIGHTS = "digits_ddpm.safetensors"
CONFIG = "config.json"


def pretrained_digits() -> tuple[Denoiser, DDPMScheduler]:
    """The class-conditional denoiser trained on scikit-learn's digits, in eval mode, and its
    scheduler (linear betas, 1000 steps).

    >>> model, scheduler = pretrained_digits()
    >>> model.null_label, len(scheduler)
    (10, 1000)
    """
    from safetensors.numpy import load_file

    config = json.loads((PRETRAINED_DIR / CONFIG).read_text())
    model = Denoiser(**config["model"])
    model.load_state_dict(load_file(str(PRETRAINED_DIR / WEIGHTS)))
    model.eval()
    return model, DDPMScheduler(**config["scheduler"])


def write_model_card(directory: Path, recipe: dict, report: dict) -> None:
    """Write ``README.md``: the data, the recipe, the training time and the two quality numbers."""
    n_params = "564,288"
    card = f"""# digits_ddpm: a class-conditional DDPM for 8x8 digits

A residual-MLP noise predictor (`aigc_course.diffusion.Denoiser`, {n_params} parameters:
hidden size 256, 3 residual blocks, sinusoidal timestep embedding, label embedding with an 11th
"no label" row for classifier-free guidance), loaded by `aigc_course.diffusion.pretrained_digits()`.

- **Data**: scikit-learn's `load_digits` (1,797 images of 8x8 pixels, values 0..16), scaled to
  [-1, 1]. All of them are used for training; there is no held-out set (the quality numbers
  below do not need one).
- **Objective**: epsilon prediction (mean squared error) on the linear schedule, betas 1e-4 to
  0.02 over 1,000 steps; labels replaced by "no label" with probability 0.1.
- **Recipe**: {recipe["steps"]} steps of batch {recipe["batch_size"]}, {recipe["optimizer"]}
  (torch's `OneCycleLR` shape, as `aigc_course.diffusion.training.one_cycle` for `LambdaLR`),
  seed {recipe["seed"]}. Trained with the torch twin (`torch_denoiser.TorchDenoiser`, the same
  parameter names) on one CPU thread: {recipe["train_seconds"]} s wall clock
  ({recipe["train_cpu_seconds"]} s CPU) on a shared 2-core machine. Final training loss (mean of
  the last 200 steps): {recipe["final_loss_last_200"]}.
- **Reproduce**: `python scripts/train_digits_ddpm.py`.

## Quality

Measured with aigc_course: {report["num_samples"]} samples (10 per digit), guidance scale
{report["guidance_scale"]}, {report["num_inference_steps"]} sampling steps, seed 0.

- **Guidance accuracy**: an RBF SVC trained on the real digits labels
  **{report["accuracy"]:.0%}** of the samples as the digit that was asked for.
- **Not copies**: mean distance from a sample to its nearest training image
  {report["sample_nn"]:.2f}, against {report["real_nn"]:.2f} from a real digit to its nearest
  other real digit (ratio **{report["nn_ratio"]:.2f}**; a copying model would score near 0).

Both are recomputed by `tests/test_diffusion_model.py` and live in chapter 10.
"""
    (Path(directory) / "README.md").write_text(card)
