"""Losses as modules: ``MSELoss``, ``NLLLoss``, ``CrossEntropyLoss``, ``BCELoss`` and
``BCEWithLogitsLoss`` (thin wrappers over
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


class BCELoss(Module):
    r"""Binary cross-entropy of probabilities: $-w\left(y\log x + (1-y)\log(1-x)\right)$, each
    log clamped at $-100$. ``weight`` rescales each element's loss. See chapter 3."""

    def __init__(
        self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    r"""Binary cross-entropy of logits, $\sigma$ and the log fused for stability;
    ``pos_weight`` (one per class, the last axis) scales the positive term. See chapter 3.

    >>> import aigc_course as ac
    >>> loss = BCEWithLogitsLoss()(ac.zeros(4), ac.ones(4))
    >>> round(loss.item(), 4)  # log 2: a logit of 0 is a probability of 1/2
    0.6931
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
