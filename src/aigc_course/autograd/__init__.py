"""Reverse-mode automatic differentiation: ``backward``, ``grad`` and ``gradcheck`` (chapter 2).

The graph is dynamic: every operation on a tensor that requires grad records a node
(:class:`Function`) as it runs, so Python control flow builds a different graph on each call.
:func:`backward` walks that graph from the output back to the leaves (see ``engine``).
"""

from __future__ import annotations

from .engine import backward, grad, run_backward
from .function import AccumulateGrad, Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = [
    "AccumulateGrad",
    "Function",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
