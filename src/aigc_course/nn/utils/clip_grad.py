r"""``clip_grad_norm_``: rescale gradients so that their overall norm is at most ``max_norm``.

.. math::

    \lVert g \rVert = \Big(\sum_{p} \lVert g_p \rVert^q\Big)^{1/q}, \qquad
    g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}\Big)

The norm is taken over *all* parameters together (as if their gradients were one long
vector), so clipping keeps the gradient's direction and only shortens it. ``q = inf`` uses
the largest absolute value. Used against exploding gradients, e.g. in GPT training.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..._tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the ``.grad`` of ``parameters`` in place so that their total norm is at most
    ``max_norm``; return the total norm from before the scaling, as
    ``torch.nn.utils.clip_grad_norm_`` does.

    >>> import aigc_course as ac
    >>> w = ac.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()      # grad (6, 8): norm 10
    >>> clip_grad_norm_([w], max_norm=5.0)
    tensor(10.)
    >>> w.grad
    tensor([3.0000, 4.0000])

    See chapter 6.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad._data for p in parameters if p.grad is not None]
    if not grads:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    q = float(norm_type)
    norms = np.stack([np.linalg.norm(g.ravel(), ord=q) for g in grads])  # one norm per parameter
    total_norm = np.linalg.norm(norms, ord=q).astype(grads[0].dtype)
    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = min(max_norm / (total_norm + 1e-6), 1.0)
    for g in grads:
        g *= clip_coef  # in place, like torch: the gradient tensors are shared with .grad
    return Tensor._make(total_norm)
