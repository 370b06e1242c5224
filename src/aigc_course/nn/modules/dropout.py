"""``Dropout``: random zeroing in training, the identity in evaluation."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class Dropout(Module):
    r"""In training mode, zero each element with probability $p$ and multiply the rest by
    $1/(1-p)$ (so $\mathbb E[y] = x$); after ``model.eval()``, return the input unchanged.

    >>> import aigc_course as ac
    >>> drop = Dropout(0.5).eval()
    >>> bool((drop(ac.ones(4)) == 1).all())
    True

    See chapter 3.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
