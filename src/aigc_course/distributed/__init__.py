"""``aigc_course.distributed``: data parallelism on ``torch.distributed`` (gloo, loopback).

- :func:`launch` runs an importable function in several processes, each in a process group;
- :func:`all_reduce_gradients` averages an ``aigc_course`` module's gradients across them;
- :func:`broadcast_parameters` makes every rank start from rank 0's parameters.

The workers that chapter 11 launches live in :mod:`aigc_course.distributed.workers`. See
chapter 11.
"""

from .data_parallel import all_reduce_gradients, broadcast_parameters, flat_buffer
from .launch import launch

__all__ = ["all_reduce_gradients", "broadcast_parameters", "flat_buffer", "launch"]
