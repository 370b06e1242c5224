r"""``Conv2d``: a learned 2-D convolution (the layer of every image model, chapter 3)."""

from __future__ import annotations

import math

from ..._creation import empty
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from .._conv import pair
from ..parameter import Parameter
from .module import Module


class Conv2d(Module):
    r"""$y = W \star x + b$: each of ``out_channels`` kernels of shape
    (in_channels/groups, kh, kw) slides over the image (:func:`~aigc_course.nn.functional.conv2d`
    has the formula). Input (B, C, H, W) or (C, H, W).

    Initialised as torch does: ``kaiming_uniform_(a=sqrt(5))``, that is
    $W \sim U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})$ with $n_{in}$ = in_channels/groups·kh·kw,
    and $b$ from the same range.

    >>> import aigc_course as ac
    >>> conv = Conv2d(1, 8, 3, padding=1)
    >>> conv
    Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(ac.randn(32, 1, 8, 8)).shape
    aigc_course.Size([32, 8, 8, 8])

    See chapter 3.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if groups <= 0:
            raise ValueError(f"groups must be a positive integer, got groups={groups}")
        if in_channels % groups != 0:
            raise ValueError(
                f"in_channels must be divisible by groups, got in_channels={in_channels} and "
                f"groups={groups}"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"out_channels must be divisible by groups, got out_channels={out_channels} and "
                f"groups={groups}"
            )
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding")
        modes = ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ValueError(
                "padding_mode must be one of {'reflect', 'circular', 'replicate', 'zeros'}, but "
                f"got padding_mode={padding_mode!r}"
            )
        if padding_mode != "zeros":  # a teaching simplification: zero padding only
            raise NotImplementedError(f"padding_mode={padding_mode!r}: only 'zeros' is supported")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(
            empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype)
        )  # (O, C/G, kh, kw)
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
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
        return F.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )  # (B, O, oh, ow)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
