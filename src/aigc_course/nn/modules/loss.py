"""Losses as modules: ``MSELoss``, ``NLLLoss`` and ``CrossEntropyLoss`` (thin wrappers over
:mod:`aigc_course.nn.functional`, where the math is)."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class MSELoss(Module):
    r"""Mean squared error $\frac1n\sum_i (x_i - y_i)^2$. See chapter 3."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        F._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(Module):
    r"""Negative log-likelihood of class indices, given log-probabilities. See chapter 3."""

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ):
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)  # a buffer, as in torch: saved in state_dict
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(Module):
    r"""Cross-entropy of logits with class indices (or probabilities): log_softmax then NLL.

    >>> import aigc_course as ac
    >>> loss = CrossEntropyLoss()(ac.zeros(2, 4), ac.tensor([0, 3]))
    >>> round(loss.item(), 4)  # log 4: uniform logits
    1.3863

    See chapter 3.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction = ignore_index, reduction
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )
