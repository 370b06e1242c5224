"""Activation functions as modules: ``ReLU``, ``GELU``, ``Tanh``, ``Sigmoid``, ``Softmax``,
``SiLU``, ``LeakyReLU``, ``ELU`` and ``Softplus``.

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


class SiLU(Module):
    r"""$x\,\sigma(x)$ elementwise (also called swish). See chapter 3.

    >>> import aigc_course as ac
    >>> SiLU()(ac.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r"""$x$ where $x > 0$, else ``negative_slope`` $\cdot\, x$. See chapter 3.

    >>> import aigc_course as ac
    >>> LeakyReLU(0.1)(ac.tensor([-2.0, 3.0]))
    tensor([-0.2000,  3.0000])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    r"""$x$ where $x > 0$, else $\alpha(e^x - 1)$. See chapter 3."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Softplus(Module):
    r"""$\frac1\beta\log(1 + e^{\beta x})$, the identity where $\beta x >$ ``threshold``.
    See chapter 3."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
