r"""``SGD``: stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

.. math::

    \begin{aligned}
    &\textbf{input}: \gamma \text{ (lr)},\ \theta_0 \text{ (params)},\ \lambda \text{ (weight
        decay)},\ \mu \text{ (momentum)},\ \tau \text{ (dampening)},\ \textit{nesterov},\
        \textit{maximize} \\
    &\textbf{for}\ t = 1, 2, \ldots \\
    &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
        \quad (\textbf{if}\ \textit{maximize}:\ g_t \leftarrow -g_t) \\
    &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
    &\quad \textbf{if}\ \mu \neq 0: \\
    &\quad\quad b_t \leftarrow g_t \ \textbf{if}\ t = 1\ \textbf{else}\
        \mu b_{t-1} + (1 - \tau) g_t \\
    &\quad\quad g_t \leftarrow g_t + \mu b_t \ \textbf{if}\ \textit{nesterov}\
        \textbf{else}\ b_t \\
    &\quad \theta_t \leftarrow \theta_{t-1} - \gamma g_t
    \end{aligned}

The state of each parameter is its momentum buffer ``b`` (torch calls it
``momentum_buffer``). Note: the article's section 4.4 gives only the last line, plain
gradient descent; momentum is the first improvement chapter 4 adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._tensor import Tensor
from .optimizer import Optimizer, check_hyperparameter

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    >>> import aigc_course as ac
    >>> w = ac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()   # gradient 2w
    >>> opt.step()
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)

    See chapter 4.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        check_hyperparameter("learning rate", lr)
        check_hyperparameter("momentum value", momentum)
        check_hyperparameter("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, "
                f"but got momentum={momentum} and dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One update of every parameter that has a ``.grad``; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        for group, theta, g, state in self._gradients():  # g: maximize and weight decay applied
            lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
            if mu != 0:
                if "momentum_buffer" not in state:  # b is torch's momentum_buffer
                    state["momentum_buffer"] = Tensor._make(g.copy())  # b_1 = g_1
                else:
                    b = state["momentum_buffer"]._data
                    b *= mu
                    b += (1 - tau) * g
                b = state["momentum_buffer"]._data
                g = g + mu * b if group["nesterov"] else b
            theta -= lr * g
        return loss
