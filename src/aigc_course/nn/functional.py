r"""``nn.functional``: the layers and losses as plain functions of tensors.

Almost everything here is *composed* from Tensor operations, so it inherits autograd for free
and needs no backward rule of its own; ``linear``, ``gelu``, ``layer_norm`` and ``nll_loss`` call
one primitive each (in :mod:`aigc_course.ops`), for speed, and ``conv2d`` (im2col and one matrix
product, :mod:`aigc_course.nn._conv`), ``softplus`` and ``binary_cross_entropy``
(:mod:`aigc_course.nn._pointwise`) have their own. Layout conventions follow torch: class
scores are ``(N, C)`` or ``(N, C, d1, ...)`` with class indices ``(N,)`` or ``(N, d1, ...)``;
attention tensors are ``(B, nh, T, hs)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._checks import broadcast_shapes
from .._dtypes import bool_, int64
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops import elementwise as _elementwise
from ..ops import linalg as _linalg
from ..ops import normalization as _normalization
from ..ops.elementwise import where
from ..ops.loss import NllLoss
from ..random import _numpy_generator
from . import _conv
from ._pointwise import BinaryCrossEntropy, Softplus


def erf(input: Tensor) -> Tensor:
    """The error function, differentiable (:class:`aigc_course.ops.elementwise.Erf`).
    See chapter 3."""
    return _elementwise.erf(input)


# ---------------------------------------------------------------------- layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""$y = x W^\top + b$, with ``weight`` of shape (out_features, in_features). See chapter 3.

    >>> import aigc_course as ac
    >>> linear(ac.ones(2, 3), ac.ones(4, 3), ac.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    return _linalg.linear(input, weight, bias)  # one node, LinearBackward: (*, out_features)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""$\max(x, 0)$. See chapter 3."""
    return input.relu()


def tanh(input: Tensor) -> Tensor:
    """See chapter 3."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    r"""$1 / (1 + e^{-x})$. See chapter 3."""
    return input.sigmoid()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""$\mathrm{GELU}(x) = x\,\Phi(x) = \frac x2\left(1 + \operatorname{erf}(x/\sqrt2)\right)$.

    ``approximate='tanh'`` (GPT-2's choice) uses
    $\frac x2\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)$.
    See chapter 3.
    """
    return _elementwise.gelu(input, approximate)  # one primitive: Gelu or GeluTanh


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""$\mathrm{SiLU}(x) = x\,\sigma(x)$ (also called swish), composed. See chapter 3.

    >>> import aigc_course as ac
    >>> silu(ac.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    return input * input.sigmoid()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    r"""$x$ where $x > 0$, else $a x$ (``negative_slope``): a ReLU that lets a little gradient
    through for negative inputs. See chapter 3."""
    return where(input > 0, input, input * negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""$x$ where $x > 0$, else $\alpha(e^x - 1)$. See chapter 3.

    Subtle: ``exp`` sees $\min(x, 0)$, not $x$. ``where`` sends a zero gradient into the branch
    it did not pick, but zero times $e^{1000} = \infty$ would be nan.
    """
    return where(input > 0, input, (input.clamp(max=0).exp() - 1) * alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""$\frac1\beta\log(1 + e^{\beta x})$, a smooth ReLU; the identity where
    $\beta x >$ ``threshold``. One primitive (:class:`aigc_course.nn._pointwise.Softplus`),
    stable for any $x$. See chapter 3.

    >>> import aigc_course as ac
    >>> softplus(ac.tensor([-1000.0, 0.0, 1000.0]))
    tensor([0.0000e+00, 6.9315e-01, 1.0000e+03])
    """
    return Softplus.apply(input, beta=beta, threshold=threshold)


def _softmax_dim(ndim: int) -> int:
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    r"""$e^{x_i} / \sum_j e^{x_j}$ along ``dim`` (shifted by the max, so it never overflows).
    See chapter 3."""
    x = input if dtype is None else input.to(dtype)
    return x.softmax(_softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    r"""$x_i - \log\sum_j e^{x_j}$ along ``dim``, via log-sum-exp. See chapter 3."""
    x = input if dtype is None else input.to(dtype)
    return x.log_softmax(_softmax_dim(x.ndim) if dim is None else dim)


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""$y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma + \beta$, with the mean $\mu$ and
    the *biased* variance $\sigma^2$ taken over the last ``len(normalized_shape)`` axes.
    See chapter 3."""
    return _normalization.layer_norm(input, normalized_shape, weight, bias, eps)  # LayerNorm


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    r"""2-D convolution (strictly, cross-correlation, as in every deep-learning library):

    $$y_{b,o,i,j} = b_o + \sum_{c,p,q} W_{o,c,p,q}\; x_{b,\,c,\; i s_h + p d_h - \text{pad}_h,\;
    j s_w + q d_w - \text{pad}_w},$$

    with ``input`` (B, C, H, W) or (C, H, W), ``weight`` (O, C/groups, kh, kw), and output size
    $\lfloor (H + 2\,\text{pad} - d(k - 1) - 1)/s \rfloor + 1$. ``padding`` is an int, a pair,
    ``'valid'`` (0) or ``'same'`` (the output keeps the input's size; stride 1 only). With
    ``groups`` = G the channels split into G independent convolutions. Computed as im2col and
    one matrix product (:class:`aigc_course.nn._conv.Conv2d`).

    >>> import aigc_course as ac
    >>> x = ac.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d(x, ac.ones(1, 1, 2, 2), stride=2)  # the sum of each 2x2 block
    tensor([[[[10., 18.],
              [42., 50.]]]])

    See chapter 3.
    """
    if input.ndim == 3:  # unbatched (C, H, W)
        out = conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)
        return out.squeeze(0)
    geometry = _conv.check_conv2d(input, weight, bias, stride, padding, dilation, groups)
    return _conv.Conv2d.apply(input, weight, bias, groups=groups, **geometry)  # (B, O, oh, ow)


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    r"""The maximum of each window: $y_{b,c,i,j} = \max_{p,q}\, x_{b,c,\,i s + p d - \text{pad},\,
    j s + q d - \text{pad}}$, with ``stride`` = ``kernel_size`` by default and padding that
    never wins (it is $-\infty$). The gradient goes to the first maximum of each window.
    ``return_indices=True`` also returns where each maximum sits, as an index into the
    flattened H·W plane. Composed: the windows (:class:`~aigc_course.nn._conv.Im2col`), then
    ``max`` over them.

    >>> import aigc_course as ac
    >>> max_pool2d(ac.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])

    See chapter 3.
    """
    if input.ndim == 3:
        out = max_pool2d(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices
        )
        return (out[0].squeeze(0), out[1].squeeze(0)) if return_indices else out.squeeze(0)
    geo = _conv.check_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    B, C, oh, ow = geo["out_shape"]
    kh, kw = geo["kernel"]
    low = -np.inf if input.dtype.is_floating_point else np.iinfo(input._data.dtype).min
    windows = _conv.Im2col.apply(
        input,
        kernel=geo["kernel"],
        stride=geo["stride"],
        dilation=geo["dilation"],
        padding=geo["pads"],
        value=low,
    )  # (B, C, kh, kw, oh, ow)
    out = windows.reshape(B, C, kh * kw, oh, ow).max(2)[0]  # (B, C, oh, ow)
    if not return_indices:
        return out
    tap = windows._data.reshape(B, C, kh * kw, oh, ow).argmax(2)  # (B, C, oh, ow)
    (sh, sw), (dh, dw) = geo["stride"], geo["dilation"]
    (pt, _), (pl, _) = geo["pads"]
    row = np.arange(oh)[:, None] * sh - pt + (tap // kw) * dh  # (B, C, oh, ow)
    col = np.arange(ow) * sw - pl + (tap % kw) * dw
    return out, Tensor._make(np.ascontiguousarray(row * input.shape[3] + col, dtype=np.int64))


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    r"""The mean of each window (``stride`` = ``kernel_size`` by default). The zero padding
    counts in the divisor unless ``count_include_pad=False``; ``divisor_override`` replaces the
    divisor. Composed: the windows, a sum, a division. See chapter 3.

    >>> import aigc_course as ac
    >>> avg_pool2d(ac.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    if input.ndim < 3:  # torch's own refusal: it looks for the channel axis at -3
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
            f"{max(input.ndim, 1) - 1}], but got -3)"
        )
    if input.ndim == 3:
        out = avg_pool2d(
            input.unsqueeze(0),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        )
        return out.squeeze(0)
    geo = _conv.check_pool2d(input, kernel_size, stride, padding, 1, ceil_mode, avg=True)
    B, C, oh, ow = geo["out_shape"]
    kh, kw = geo["kernel"]
    windows = _conv.Im2col.apply(
        input, kernel=geo["kernel"], stride=geo["stride"], dilation=(1, 1), padding=geo["pads"]
    )  # (B, C, kh, kw, oh, ow)
    sums = windows.reshape(B, C, kh * kw, oh, ow).sum(2)  # (B, C, oh, ow)
    if divisor_override is not None:
        divisor = np.asarray(float(divisor_override))
    else:
        divisor = _conv.pool_divisor(input.shape[2:], geo, count_include_pad)  # (oh, ow)
    return sums / Tensor._make(divisor.astype(input._data.dtype))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Normalise each channel (axis 1) over the batch and the spatial axes:
    $y = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}\,\gamma_c + \beta_c$.

    In training, $\mu_c$ and the *biased* $\sigma_c^2$ come from the batch, and the running
    statistics move towards the batch's, in place: $\hat\mu \leftarrow (1 - m)\hat\mu + m\,\mu$,
    $\hat\sigma^2 \leftarrow (1 - m)\hat\sigma^2 + m\,\frac{n}{n-1}\sigma^2$ (the *unbiased*
    variance, $n$ values per channel). In evaluation the running statistics are used instead.

    The training formula is layer norm's over other axes, so it reuses that primitive
    (:class:`aigc_course.ops.normalization.LayerNorm`, with ``dims`` = (0, 2, 3)); unlike
    torch, its ``grad_fn`` is therefore named ``LayerNormBackward``. See chapter 3.
    """
    C = input.shape[1] if input.ndim > 1 else 0
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {stat.numel()}")
    dims = (0, *range(2, input.ndim))  # every axis but the channels
    shape = (1, C) + (1,) * (input.ndim - 2)  # broadcasts along the channels
    w = None if weight is None else weight.reshape(shape)
    b = None if bias is None else bias.reshape(shape)
    if not training:
        y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
        y = y if w is None else y * w
        return y if b is None else y + b
    n = input.numel() // C if C else 0
    if n <= 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    if running_mean is not None or running_var is not None:
        x = input._data
        with no_grad():  # in place, as torch does: the buffers are the module's state
            if running_mean is not None:
                mean = Tensor._make(x.mean(axis=dims).astype(x.dtype))
                running_mean.mul_(1 - momentum).add_(mean * momentum)
            if running_var is not None:
                var = Tensor._make(x.var(axis=dims, ddof=1).astype(x.dtype))  # unbiased
                running_var.mul_(1 - momentum).add_(var * momentum)
    return _normalization.LayerNorm.apply(input, w, b, dims=dims, eps=eps)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""In training, zero each element with probability $p$ and scale the survivors by
    $1/(1-p)$, so that the expected value is unchanged; outside training, the identity.
    Uses aigc_course's global random generator (:func:`aigc_course.manual_seed`).
    See chapter 3."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = _numpy_generator().random(input.shape) >= p  # True with probability 1 - p
    scale = (keep / (1.0 - p)).astype(input._data.dtype)
    return input * Tensor._make(scale)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    r"""Row lookup: ``weight[input]``, of shape ``(*input.shape, embedding_dim)``.

    Its gradient adds each output row's gradient into the row it came from (repeated indices
    add up); the ``padding_idx`` row gets no gradient. See chapter 3.
    """
    if input.dtype.is_floating_point or input.dtype is bool_:
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.dtype.name} instead (while checking arguments "
            "for embedding)"
        )
    n = weight.shape[0]
    idx = input._data
    bad = idx[(idx < 0) | (idx >= n)]
    if bad.size:
        raise IndexError(
            f"index out of range in self: index {int(bad.flat[0])} is not in [0, {n - 1}] "
            f"(num_embeddings={n})"
        )
    if padding_idx is not None:
        row = np.zeros((n, 1), dtype=bool)
        row[padding_idx] = True
        weight = where(Tensor._make(row), weight.detach(), weight)  # same values, no gradient
    if input.ndim == 0:  # a 0-d index would give a view of the row; torch's lookup copies
        return weight[input.reshape(1)].reshape(weight.shape[1:])
    return weight[input]  # (*, embedding_dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices → int64 vectors with a single 1. See chapter 3.

    >>> import aigc_course as ac
    >>> one_hot(ac.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if tensor.dtype is not int64:
        raise RuntimeError(
            f"one_hot is only applicable to index tensor of type LongTensor, got {tensor.dtype}"
        )
    a = tensor._data
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size and a.min() < 0:
        raise RuntimeError(f"Class values must be non-negative, got {int(a.min())}.")
    if a.size and a.max() >= num_classes:
        raise RuntimeError(
            f"Class values must be smaller than num_classes ({num_classes}), got {int(a.max())}."
        )
    return Tensor._make((a[..., None] == np.arange(num_classes)).astype(np.int64))


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    r"""$\operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}} + M\right) V$.

    ``attn_mask``: a bool mask *keeps* positions where it is True; a float mask is added.
    ``is_causal``: position $i$ attends only to $j \le i$. Setting both ``is_causal`` and
    ``attn_mask`` is documented as an error; torch 2.13 on the CPU raises it except for 4-D
    inputs without dropout (its fused kernel then applies both masks), and so do we.
    A query row whose every key is masked gives zeros, with zero gradient, as torch 2.13 does
    (not the nan of a softmax over nothing). Shapes (B, nh, T, hs). See chapter 8.
    """
    if is_causal and attn_mask is not None and (query.ndim != 4 or dropout_p > 0):
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    att = (query @ key.transpose(-2, -1)) * scale  # (B, nh, T, T)
    if is_causal:
        keep = Tensor._make(np.tril(np.ones((L, S), dtype=bool)))  # (T, T)
        att = att.masked_fill(~keep, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype is bool_:
            att = att.masked_fill(~attn_mask, float("-inf"))
        else:
            att = att + attn_mask
    # rows with nothing to attend to: softmax them over zeros (finite), then zero the result
    empty = Tensor._make(np.all(att._data == -np.inf, axis=-1, keepdims=True))  # (B, nh, T, 1)
    if empty._data.any():
        att = att.masked_fill(empty, 0.0).softmax(-1).masked_fill(empty, 0.0)
        if dropout_p > 0.0:
            att = dropout(att, dropout_p)
        return att @ value  # (B, nh, T, hs)
    att = att.softmax(-1)
    if dropout_p > 0.0:
        att = dropout(att, dropout_p)
    return att @ value  # (B, nh, T, hs)


# ---------------------------------------------------------------------- losses


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    r"""$\frac1n\sum_i (x_i - y_i)^2$ (or the sum, or each term). Like torch, different shapes
    warn and broadcast, and shapes that cannot broadcast raise. See chapter 3."""
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=2,
        )
        broadcast_shapes(input.shape, target.shape)
    d = input - target
    loss = d * d
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    r"""Negative log-likelihood of class indices: $\ell_i = -w_{y_i}\, x_{i, y_i}$, where $x$ holds
    log-probabilities. ``mean`` divides by $\sum_i w_{y_i}$ over the non-ignored targets.
    See chapter 3."""
    _check_reduction(reduction)
    if target.dtype.is_floating_point or target.dtype is bool_:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name}")
    if input.ndim == 1:  # one unbatched sample: (C,) and a 0-d target
        out = nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction)
        return out.squeeze(0) if reduction == "none" else out
    N, C = input.shape[0], input.shape[1]
    if target.ndim == 0 or target.shape[0] != N:
        got = target.shape[0] if target.ndim else 0
        raise ValueError(f"Expected input batch_size ({N}) to match target batch_size ({got}).")
    if tuple(target.shape) != (N, *input.shape[2:]):
        raise RuntimeError(
            f"Expected target size {[N, *input.shape[2:]]}, got {list(target.shape)}"
        )
    if weight is not None and tuple(weight.shape) != (C,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}"
        )
    if input.ndim > 2:  # (N, C, d1, ...) -> (N, d1, ..., C): classes last
        input = input.permute(0, *range(2, input.ndim), 1)
    logp = input if input.ndim == 2 else input.reshape(-1, C)  # (M, C)
    t = target._data.reshape(-1)  # (M,)
    dtype = logp._data.dtype
    keep = t != ignore_index
    if t.size and (t.min() < 0 or t.max() >= C):  # one cheap test first, then find the culprit
        bad = t[keep & ((t < 0) | (t >= C))]
        if bad.size:
            raise IndexError(f"Target {int(bad[0])} is out of bounds (number of classes: {C}).")
    safe = np.where(keep, t, 0)
    if weight is None:
        w_t = keep.astype(dtype)  # weight of each term: 1, or 0 if ignored
    else:
        w_t = (weight._data[safe] * keep).astype(dtype)
    loss = NllLoss.apply(logp, safe, w_t, reduction)  # one node (ops/loss.py)
    return loss.reshape(target.shape) if reduction == "none" else loss


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Cross-entropy of logits: ``nll_loss(log_softmax(input, 1), target)``.

    $\ell_i = -\log \frac{e^{x_{i,y_i}}}{\sum_c e^{x_{i,c}}} = \log\sum_c e^{x_{i,c}} - x_{i,y_i}$,
    computed with log-sum-exp, so logits of $\pm 10^4$ are fine. With label smoothing
    $\varepsilon$ the target is $(1-\varepsilon)$ on the class plus $\varepsilon / C$ everywhere.
    ``target`` may also hold class probabilities (a float tensor shaped like ``input``).

    >>> import aigc_course as ac
    >>> round(cross_entropy(ac.tensor([[1e4, 0.0]]), ac.tensor([1])).item(), 1)
    10000.0

    See chapter 3.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    C = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    w_shape = [1] * input.ndim
    w_shape[class_dim] = C
    w = None if weight is None else weight.reshape(w_shape)  # broadcasts along class_dim
    if target.dtype.is_floating_point:  # class probabilities
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"Expected target size {list(input.shape)}, got {list(target.shape)}"
            )
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
        terms = logp * target if w is None else logp * target * w
        loss = -terms.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // C)
        return loss.sum() if reduction == "sum" else loss
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name}"
        )
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    # the uniform part: -sum_c w_c log p_c per element, normalised like nll_loss
    smooth = -(logp if w is None else logp * w).sum(class_dim)  # target's shape
    ignored = Tensor._make(target._data == ignore_index)
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        t = target._data[target._data != ignore_index]
        denom = t.size if weight is None else float(weight._data[t].sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            smooth = smooth.sum() / Tensor._make(np.asarray(denom, dtype=smooth._data.dtype))
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / C)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    r"""$\ell_i = -w_i\left(y_i \log x_i + (1 - y_i)\log(1 - x_i)\right)$ for probabilities
    $x_i \in [0, 1]$, with each log clamped at $-100$ as in torch, so that $x = 0$ or $1$ gives
    a finite loss (:class:`aigc_course.nn._pointwise.BinaryCrossEntropy`). Prefer
    :func:`binary_cross_entropy_with_logits` on logits: it never forms $\sigma(x)$.

    >>> import aigc_course as ac
    >>> binary_cross_entropy(ac.tensor([0.0, 1.0]), ac.tensor([1.0, 1.0]))  # (100 + 0) / 2
    tensor(50.)

    See chapter 3.
    """
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    x = input._data
    if x.size and ((x < 0) | (x > 1)).any():
        bad = x[(x < 0) | (x > 1)].flat[0]
        raise RuntimeError(f"all elements of input should be between 0 and 1, got {bad}")
    if weight is not None and broadcast_shapes(weight.shape, input.shape) != tuple(input.shape):
        raise RuntimeError(
            f"The size of weight {list(weight.shape)} must be broadcastable to the input's "
            f"{list(input.shape)}"
        )
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    r"""Binary cross-entropy of logits $x$ (probability $\sigma(x)$), with ``pos_weight``
    $p$ scaling the positive term:

    $$\ell = -w\left(p\,y\log\sigma(x) + (1 - y)\log(1 - \sigma(x))\right)
          = w\left((1 - y)\,x + (1 + (p - 1)\,y)\,\operatorname{softplus}(-x)\right),$$

    using $-\log\sigma(x) = \operatorname{softplus}(-x)$ and $\log(1-\sigma(x)) = -x +
    \log\sigma(x)$. Computed with the stable :func:`softplus`, so logits of $\pm 1000$ are
    fine. Its gradient is $w\left((1 + (p-1)y)\,\sigma(x) - p\,y\right)$, that is
    $w(\sigma(x) - y)$ when $p = 1$.

    >>> import aigc_course as ac
    >>> binary_cross_entropy_with_logits(ac.tensor([1000.0, -1000.0]), ac.tensor([0.0, 1.0]))
    tensor(1000.)

    See chapter 3.
    """
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None and t.requires_grad:  # torch has no derivative for them
            raise RuntimeError(
                "The function 'binary_cross_entropy_with_logits' is not differentiable with "
                f"respect to argument '{name}'. This input cannot have requires_grad True."
            )
    neg_log_sigmoid = Softplus.apply(-input, beta=1.0, threshold=math.inf)  # -log sigma(x)
    log_weight = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input + log_weight * neg_log_sigmoid
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
