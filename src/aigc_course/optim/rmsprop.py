r"""``RMSprop``: divide the gradient by a running root-mean-square of its recent values
(Hinton's lecture 6e, 2012).

.. math::

    \begin{aligned}
    &\textbf{input}: \gamma \text{ (lr)},\ \alpha \text{ (smoothing)},\ \theta_0,\
        \lambda \text{ (weight decay)},\ \mu \text{ (momentum)},\ \epsilon,\
        \textit{centered},\ \textit{maximize} \\
    &\textbf{initialize}: v_0 \leftarrow 0,\ b_0 \leftarrow 0,\ g^{ave}_0 \leftarrow 0 \\
    &\textbf{for}\ t = 1, 2, \ldots \\
    &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
        \quad (\textbf{if}\ \textit{maximize}:\ g_t \leftarrow -g_t) \\
    &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
    &\quad v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
    &\quad \tilde{v}_t \leftarrow v_t \\
    &\quad \textbf{if}\ \textit{centered}:\
        g^{ave}_t \leftarrow \alpha g^{ave}_{t-1} + (1 - \alpha) g_t,\
        \tilde{v}_t \leftarrow v_t - (g^{ave}_t)^2 \\
    &\quad \textbf{if}\ \mu > 0:\
        b_t \leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde{v}_t} + \epsilon),\
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t \\
    &\quad \textbf{else}:\
        \theta_t \leftarrow \theta_{t-1} - \gamma g_t / (\sqrt{\tilde{v}_t} + \epsilon)
    \end{aligned}

``v`` is torch's ``square_avg``, ``g_avg`` its ``grad_avg`` and ``b`` its ``momentum_buffer``.
Note: unlike Adam, there is no bias correction, so the first steps are large (v starts at 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    >>> import aigc_course as ac
    >>> w = ac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward()
    >>> opt.step()   # v = 0.25 g^2, so each coordinate moves by lr / 0.5
    >>> w
    tensor([ 0.9800, -1.9800], requires_grad=True)

    See chapter 4.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        check_hyperparameter("alpha value", alpha)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _state_keys(self, group):
        # torch's names: v is square_avg, b momentum_buffer, g_avg grad_avg
        momentum = ("momentum_buffer",) if group["momentum"] > 0 else ()
        return ("square_avg",) + momentum + (("grad_avg",) if group["centered"] else ())

    def step(self, closure: Callable[[], float] | None = None):
        """One update of every parameter that has a ``.grad``; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        for group, theta, g, state in self._gradients():  # g: maximize and weight decay applied
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            v = state["square_avg"]._data
            v *= alpha
            v += (1 - alpha) * (g * g)
            v_tilde = v
            if group["centered"]:
                g_avg = state["grad_avg"]._data
                g_avg *= alpha
                g_avg += (1 - alpha) * g
                v_tilde = v - g_avg * g_avg
            denom = np.sqrt(v_tilde) + eps
            if mu > 0:
                b = state["momentum_buffer"]._data
                b *= mu
                b += g / denom
                theta -= lr * b
            else:
                theta -= lr * g / denom
        return loss
