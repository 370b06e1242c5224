r"""``nn.functional``: the layers and losses as plain functions of tensors.

Almost everything here is *composed* from Tensor operations, so it inherits autograd for free
and needs no backward rule of its own; ``linear``, ``gelu``, ``layer_norm`` and ``nll_loss`` call
one primitive each (in :mod:`aigc_course.ops`), for speed. Layout conventions follow torch: class
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
from ..ops import elementwise as _elementwise
from ..ops import linalg as _linalg
from ..ops import normalization as _normalization
from ..ops.elementwise import where
from ..ops.loss import NllLoss
from ..random import _numpy_generator


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
    ``is_causal``: position $i$ attends only to $j \le i$. Note: torch's documentation says
    that setting both ``is_causal`` and ``attn_mask`` is an error, but torch 2.13 on the CPU
    combines them (both masks apply), and so do we, so that torch code runs unchanged.
    A query row whose every key is masked gives zeros, with zero gradient, as torch 2.13 does
    (not the nan of a softmax over nothing). Shapes (B, nh, T, hs). See chapter 8.
    """
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
