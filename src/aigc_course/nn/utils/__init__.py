"""``aigc_course.nn.utils``: helpers around modules, here gradient clipping."""

from .clip_grad import clip_grad_norm_

__all__ = ["clip_grad_norm_"]
