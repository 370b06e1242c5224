r"""``AdamW``: Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

.. math::

    \begin{aligned}
    &\textbf{for}\ t = 1, 2, \ldots \\
    &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
        \quad (\textbf{if}\ \textit{maximize}:\ g_t \leftarrow -g_t) \\
    &\quad \theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1}
        \quad \text{(decay the weights directly, not through } g_t) \\
    &\quad m_t, v_t, \widehat{m}_t, \widehat{v}_t, \theta_t \ \text{as in Adam,
        with no } \lambda \theta \text{ added to } g_t
    \end{aligned}

Why it matters: Adam's L2 term :math:`\lambda\theta` is added to :math:`g_t`, so it is then
divided by :math:`\sqrt{\widehat{v}_t}` like the rest of the gradient; weights with large
gradients are barely decayed. AdamW shrinks every weight by the same factor
:math:`1 - \gamma\lambda`, which is what "weight decay" was meant to do (GPT training uses it).
"""

from __future__ import annotations

from collections.abc import Iterable

from .._tensor import Tensor
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW`` (note its default ``weight_decay=1e-2``).

    The update is :class:`~aigc_course.optim.Adam`'s, except where weight decay enters
    (``decoupled_weight_decay``). See chapter 4.
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
