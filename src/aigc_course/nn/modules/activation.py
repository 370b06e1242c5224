"""Activation functions as modules: ``ReLU``, ``GELU``, ``Tanh``, ``Sigmoid``, ``Softmax``.

They hold no parameters; they exist so that a network can be written as a list of layers
(``nn.Sequential(nn.Linear(4, 8), nn.ReLU(), ...)``) and print nicely.
"""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class ReLU(Module):
    r"""$\max(x, 0)$ elementwise. See chapter 3.

    >>> import aigc_course as ac
    >>> ReLU()(ac.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    r"""$x\,\Phi(x)$, exact (``approximate='none'``) or with GPT-2's tanh formula.
    See chapter 3."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    r"""$\tanh x$ elementwise. See chapter 3."""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Sigmoid(Module):
    r"""$1/(1 + e^{-x})$ elementwise. See chapter 3."""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class Softmax(Module):
    r"""$e^{x_i} / \sum_j e^{x_j}$ along ``dim``. See chapter 3."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
