r"""``Linear`` (a fully connected layer, $y = x W^\top + b$) and ``Identity``."""

from __future__ import annotations

import math

from ..._creation import empty
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to switch a layer off). See chapter 3."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    r"""$y = x W^\top + b$, with ``weight`` $W$ of shape (out_features, in_features).

    Initialised as torch does: $W \sim U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$ (that is
    ``kaiming_uniform_(a=sqrt(5))``) and $b$ from the same range.

    >>> import aigc_course as ac
    >>> layer = Linear(64, 128)
    >>> layer
    Linear(in_features=64, out_features=128, bias=True)
    >>> layer(ac.randn(32, 64)).shape
    aigc_course.Size([32, 128])

    See chapter 3.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)  # (*, out_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
