r"""Weight initialisation, with torch's formulas. Every function fills a tensor *in place*
under ``no_grad`` and returns it.

Why the scale matters: a layer $y = Wx$ with $n_{in}$ inputs of variance 1 and weights of
variance $\sigma^2$ gives outputs of variance $n_{in}\sigma^2$. Keeping signals from exploding
or vanishing through many layers needs $\sigma^2 \approx 1 / n_{in}$, times a *gain* that
compensates for the activation (ReLU halves the variance, so its gain is $\sqrt 2$).

- Xavier/Glorot: $\sigma = g\sqrt{2 / (n_{in} + n_{out})}$.
- Kaiming/He: $\sigma = g / \sqrt{n_{mode}}$, with $g = \sqrt{2 / (1 + a^2)}$ for leaky ReLU
  of slope $a$.
- A uniform $U(-b, b)$ has standard deviation $b / \sqrt 3$, so $b = \sqrt 3\,\sigma$.
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation (torch's table).

    >>> round(calculate_gain("relu"), 4), round(calculate_gain("tanh"), 4)
    (1.4142, 1.6667)

    See chapter 3.
    """
    linear = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``fan_in`` = inputs per output unit, ``fan_out`` = outputs per input unit.

    A Linear weight has shape (out_features, in_features), so fan_in = in_features.
    """
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {list(tensor.shape)})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with $U(a, b)$. See chapter 3."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    r"""Fill with $\mathcal N(\text{mean}, \text{std}^2)$. See chapter 3."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``. See chapter 3."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros (biases, LayerNorm's shift). See chapter 3."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones (LayerNorm's scale). See chapter 3."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    r"""Glorot: $U(-b, b)$ with $b = g\sqrt{6 / (n_{in} + n_{out})}$. See chapter 3."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    r"""Glorot: $\mathcal N(0, \sigma^2)$ with $\sigma = g\sqrt{2 / (n_{in} + n_{out})}$.
    See chapter 3."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    r"""He's standard deviation $g / \sqrt{n_{mode}}$, shared by both kaiming initialisers."""
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    r"""He: $U(-b, b)$ with $b = \sqrt 3\, g / \sqrt{n_{mode}}$.

    ``nn.Linear`` calls it with ``a=sqrt(5)``, so $g = \sqrt{2/6}$ and
    $b = \sqrt{3}\sqrt{1/3}/\sqrt{n_{in}} = 1/\sqrt{n_{in}}$.

    >>> import aigc_course as ac
    >>> w = kaiming_uniform_(ac.empty(128, 64), a=math.sqrt(5))
    >>> bool(w.abs().max() <= 1 / 8)
    True

    See chapter 3.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    r"""He: $\mathcal N(0, \sigma^2)$ with $\sigma = g / \sqrt{n_{mode}}$. See chapter 3."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator)
