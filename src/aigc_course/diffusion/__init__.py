"""Diffusion: a class-conditional DDPM on 8x8 digits, with diffusers' scheduler semantics.

See chapter 10.
"""

from .scheduler import DDPMScheduler

__all__ = ["DDPMScheduler"]
