"""``Flatten``: merge a range of axes into one (by default all but the batch axis)."""

from __future__ import annotations

from ..._tensor import Tensor
from .module import Module


class Flatten(Module):
    """``(N, C, H, W) -> (N, C*H*W)`` with the defaults ``start_dim=1, end_dim=-1``.

    >>> import aigc_course as ac
    >>> Flatten()(ac.zeros(2, 3, 4)).shape
    aigc_course.Size([2, 12])

    See chapter 3.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
