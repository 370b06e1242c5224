r"""Batch normalisation: ``BatchNorm1d`` and ``BatchNorm2d`` (chapter 3).

Each channel is normalised with the mean and variance of the current batch in training, and
with running averages of them in evaluation, so that one sample's output never depends on the
rest of its batch at inference time. That makes ``model.train()`` and ``model.eval()``
matter: the same input gives different outputs in the two modes.
"""

from __future__ import annotations

from ..._creation import ones, tensor, zeros
from ..._dtypes import int64
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class _BatchNorm(Module):
    r"""$y = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}\,\gamma_c + \beta_c$ per channel $c$
    (:func:`~aigc_course.nn.functional.batch_norm`). Buffers, named as torch's (so its
    state dicts load): ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked``. ``momentum=None`` makes the running statistics a plain average
    over all batches seen ($m = 1/\text{num\_batches\_tracked}$)."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))  # gamma
            if bias:
                self.bias = Parameter(zeros(num_features, dtype=dtype))  # beta
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average over every batch so far
                momentum = 1.0 / self.num_batches_tracked.item()
        # batch statistics in training, and in evaluation when there are no running ones
        use_batch = self.training or self.running_mean is None
        update = not self.training or self.track_running_stats  # else pass no buffers
        return F.batch_norm(
            input,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    >>> import aigc_course as ac
    >>> BatchNorm1d(4)(ac.randn(8, 4)).shape
    aigc_course.Size([8, 4])

    See chapter 3.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    r"""Batch normalisation of images (N, C, H, W), per channel C, over N, H and W.

    >>> import aigc_course as ac
    >>> bn = BatchNorm2d(3)
    >>> bn
    BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> [name for name, _ in bn.named_buffers()]
    ['running_mean', 'running_var', 'num_batches_tracked']

    See chapter 3.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")
