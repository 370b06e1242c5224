r"""Learning-rate schedules: ``StepLR``, ``LambdaLR``, ``CosineAnnealingLR``, ``LinearLR`` and
``SequentialLR`` (warm-up then cosine decay, as GPT training uses).

A scheduler rewrites ``group["lr"]`` of its optimizer each time ``scheduler.step()`` is
called (once per epoch, or once per batch: the unit of :math:`t` is yours to choose). Each
one here is a closed-form function of the step count :math:`t` (``last_epoch``) and of the
group's starting rate :math:`\eta_0` (``base_lrs``):

.. math::

    \begin{aligned}
    \text{StepLR:}\quad & \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor} \\
    \text{LambdaLR:}\quad & \eta_t = \eta_0\, \lambda(t) \\
    \text{CosineAnnealingLR:}\quad & \eta_t = \eta_{min}
        + \tfrac{1}{2} (\eta_0 - \eta_{min}) \left(1 + \cos \tfrac{\pi t}{T_{max}}\right) \\
    \text{LinearLR:}\quad & \eta_t = \eta_0 \left(f_{start} + (f_{end} - f_{start})
        \tfrac{\min(t,\, T)}{T}\right)
    \end{aligned}

Note: torch computes most of these recursively, from the previous ``group["lr"]``, so that
schedulers can be chained; the closed forms give the same values (up to float64 rounding)
and say what the schedule *is*. Chapter 4 plots them.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from .optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "SequentialLR",
    "StepLR",
]


class LRScheduler:
    """Base class: remembers ``base_lrs`` and the step count ``last_epoch``, and writes
    :meth:`get_lr`'s values into the optimizer's groups on each :meth:`step`.

    Building a scheduler already takes step 0, so the optimizer's lr becomes the schedule's
    first value at once (as in torch).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming an optimizer"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at step ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance the step count by one and set each group's ``lr`` to the new value."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last :meth:`step` set."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (which has a ``state_dict`` of its own)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps, as torch's ``StepLR``.

    >>> import aigc_course as ac
    >>> from aigc_course.optim import SGD
    >>> opt = SGD([ac.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]

    See chapter 4.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch=-1):
        if step_size < 1:
            raise ValueError(f"step_size must be a positive integer, but got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            eta_0 * self.gamma ** (self.last_epoch // self.step_size) for eta_0 in self.base_lrs
        ]


class LambdaLR(LRScheduler):
    """The rate is ``base_lr * lr_lambda(t)``: any schedule you can write as a function.

    ``lr_lambda`` may be one function or a list with one per parameter group. As in torch,
    plain functions are not saved in :meth:`state_dict` (they cannot be pickled); pass the
    same ones again when rebuilding the scheduler. See chapter 4.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            eta_0 * lam(self.last_epoch)
            for lam, eta_0 in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}


class CosineAnnealingLR(LRScheduler):
    r"""Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    :math:`\eta_t = \eta_{min} + \frac{1}{2}(\eta_0 - \eta_{min})(1 + \cos(\pi t / T_{max}))`;
    past ``T_max`` it rises again, as torch's does (SGDR without restarts). See chapter 4.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        if T_max < 1:
            raise ValueError(f"T_max must be a positive integer, but got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [
            eta_min + (eta_0 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
            for eta_0 in self.base_lrs
        ]


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor`` to ``end_factor`` of ``base_lr`` over
    ``total_iters`` steps, then hold it: a linear warm-up. See chapter 4."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        if not 0 < start_factor <= 1:
            raise ValueError(
                f"Starting multiplicative factor expected to be greater than 0 and less or "
                f"equal to 1, but got start_factor={start_factor}"
            )
        if not 0 <= end_factor <= 1:
            raise ValueError(
                f"Ending multiplicative factor expected to be between 0 and 1, but got "
                f"end_factor={end_factor}"
            )
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        T = self.total_iters
        progress = min(self.last_epoch, T) / T if T > 0 else 1.0
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [eta_0 * factor for eta_0 in self.base_lrs]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its own step
    0, and so on: warm-up then decay.

    >>> import aigc_course as ac
    >>> from aigc_course.optim import SGD
    >>> opt = SGD([ac.zeros(1, requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> decay = CosineAnnealingLR(opt, T_max=2)
    >>> sched = SequentialLR(opt, [warmup, decay], milestones=[3])
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 3))
    ...     sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.0]

    See chapter 4.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(
                    "SequentialLR expects all schedulers to belong to the same optimizer, but "
                    f"the scheduler at index {i} ({type(s).__name__}) has a different one"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than "
                f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}"
            )
        self.optimizer = optimizer
        self._schedulers, self._milestones = schedulers, list(milestones)
        self.last_epoch = last_epoch + 1
        # building each scheduler took its step 0; undo that, then take step 0 of the first
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:
            s.last_epoch -= 1
        first = schedulers[bisect_right(self._milestones, 0)]
        first.step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler.last_epoch = -1  # a new phase starts at its own step 0
        scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        for s, sd in zip(self._schedulers, state_dict.pop("_schedulers"), strict=True):
            s.load_state_dict(sd)
        self.__dict__.update(state_dict)
