"""Diffusion: a class-conditional DDPM that draws the 8x8 digit you ask for, with
diffusers' scheduler semantics.

- :class:`DDPMScheduler`: the noise tables, ``add_noise`` (forward) and ``step`` (reverse);
- :class:`Denoiser`: the residual-MLP noise predictor on ``aigc_course.nn``;
- :func:`sample`: the reverse process with classifier-free guidance;
- :func:`pretrained_digits`: the shipped model;
- :func:`quality_report`: guidance accuracy and distance to the training set.

See chapter 10.
"""

from .denoiser import Denoiser, ResidualBlock
from .embeddings import timestep_embedding
from .pretrained import pretrained_digits
from .quality import quality_report
from .sampling import guided_noise, sample
from .scheduler import DDPMScheduler

__all__ = [
    "DDPMScheduler",
    "Denoiser",
    "ResidualBlock",
    "guided_noise",
    "pretrained_digits",
    "quality_report",
    "sample",
    "timestep_embedding",
]
