r"""``Adam``: adaptive moment estimation (Kingma and Ba, 2015), with bias correction.

.. math::

    \begin{aligned}
    &\textbf{input}: \gamma \text{ (lr)},\ \beta_1, \beta_2 \text{ (betas)},\ \theta_0
        \text{ (params)},\ \lambda \text{ (weight decay)},\ \epsilon,\ \textit{amsgrad},\
        \textit{maximize} \\
    &\textbf{initialize}: m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ v^{max}_0 \leftarrow 0 \\
    &\textbf{for}\ t = 1, 2, \ldots \\
    &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
        \quad (\textbf{if}\ \textit{maximize}:\ g_t \leftarrow -g_t) \\
    &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
    &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
    &\quad v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
    &\quad \widehat{m}_t \leftarrow m_t / (1 - \beta_1^t) \\
    &\quad \widehat{v}_t \leftarrow v_t / (1 - \beta_2^t)
        \quad (\textbf{if}\ \textit{amsgrad}:\ v^{max}_t \leftarrow \max(v^{max}_{t-1}, v_t),\
        \widehat{v}_t \leftarrow v^{max}_t / (1 - \beta_2^t)) \\
    &\quad \theta_t \leftarrow \theta_{t-1} - \gamma\, \widehat{m}_t
        / (\sqrt{\widehat{v}_t} + \epsilon)
    \end{aligned}

``m`` and ``v`` (torch's ``exp_avg`` and ``exp_avg_sq``) are running averages of the
gradient and of its square. Both start at 0, so in the first steps they are too small by the
factor :math:`1 - \beta^t`; dividing by it is the *bias correction*. Note: the article's
section 4.4 leaves it out, which multiplies each step by
:math:`(1 - \beta_1^t) / \sqrt{1 - \beta_2^t}`: with the default betas the early steps are
too *large*, 3.2 times at t = 1, 6.6 times at t = 12, still 1.26 times at t = 1000 (chapter 4
plots both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_betas, check_hyperparameter

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    >>> import aigc_course as ac
    >>> w = ac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()   # the first step moves each coordinate by lr, whatever the gradient's size
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)

    See chapter 4.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("epsilon value", eps)
        check_betas(betas)
        check_hyperparameter("weight_decay value", weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _state_keys(self, group):
        # torch's names: m is exp_avg, v is exp_avg_sq
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def step(self, closure: Callable[[], float] | None = None):
        """One update of every parameter that has a ``.grad``; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        for group, theta, g, state in self._gradients():  # g: maximize and weight decay applied
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            t = float(state["step"])  # this parameter's step count, 1 on its first step
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            if group["amsgrad"]:
                v_max = state["max_exp_avg_sq"]._data
                np.maximum(v_max, v, out=v_max)
                v = v_max
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            theta -= lr * m_hat / (np.sqrt(v_hat) + eps)
        return loss
