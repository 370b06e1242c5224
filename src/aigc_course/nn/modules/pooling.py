"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d`` (thin wrappers over
:func:`~aigc_course.nn.functional.max_pool2d` and :func:`~aigc_course.nn.functional.avg_pool2d`,
where the math is)."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class MaxPool2d(Module):
    r"""The maximum of each ``kernel_size`` window, moving by ``stride`` (default: the kernel
    size, so windows do not overlap and each side shrinks by that factor).

    >>> import aigc_course as ac
    >>> MaxPool2d(2)(ac.randn(32, 16, 8, 8)).shape
    aigc_course.Size([32, 16, 4, 4])

    See chapter 3.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None and stride != [] else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    r"""The mean of each ``kernel_size`` window, moving by ``stride`` (default: the kernel
    size). See chapter 3."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None and stride != [] else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
