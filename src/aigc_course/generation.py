r"""Text generation: decoding strategies and the key/value cache.

A language model gives, at each step, logits $z \in \mathbb R^V$ for the next token. Greedy
decoding takes $\arg\max_i z_i$. Sampling draws from $\operatorname{softmax}(z)$ after
reshaping it, in transformers' order:

- temperature $\tau$: $z / \tau$ (sharper for $\tau < 1$, flatter for $\tau > 1$);
- top-k: keep the $k$ largest logits, set the rest to $-\infty$;
- top-p (nucleus): keep the smallest set of most likely tokens whose probabilities add up
  to at least $p$.

The three filters give the same logits as transformers' ``TemperatureLogitsWarper``,
``TopKLogitsWarper`` and ``TopPLogitsWarper``, and are written with the same Tensor
operations (``topk``, ``sort``, ``cumsum``, ``scatter``, ``masked_fill``). See chapter 9.
"""

from __future__ import annotations

import numpy as np

from ._creation import zeros
from ._tensor import Tensor
from .ops.sampling import multinomial
from .random import Generator


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ValueError(f"temperature has to be a strictly positive float, but is {temperature}")


def _check_top_k(top_k: int) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k has to be a strictly positive integer, but is {top_k}")


def _check_top_p(top_p: float) -> None:
    if not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p has to be a float in (0, 1], but is {top_p}")


def apply_temperature(logits: Tensor, temperature: float) -> Tensor:
    r"""$z / \tau$: below 1 sharpens the distribution, above 1 flattens it.

    >>> import aigc_course as ac
    >>> apply_temperature(ac.tensor([[1.0, 2.0]]), 0.5)
    tensor([[2., 4.]])
    """
    _check_temperature(temperature)
    return logits / float(temperature)


def top_k_filter(logits: Tensor, top_k: int) -> Tensor:
    r"""Keep the ``top_k`` largest logits of each row (ties with the k-th are kept too, as in
    transformers); set the others to $-\infty$.

    >>> import aigc_course as ac
    >>> top_k_filter(ac.tensor([[1.0, 3.0, 2.0]]), 2)
    tensor([[-inf, 3., 2.]])
    """
    _check_top_k(top_k)
    k = min(int(top_k), logits.shape[-1])
    kth = logits.topk(k)[0][..., -1, None]  # (B, 1): the k-th largest of each row
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: Tensor, top_p: float) -> Tensor:
    r"""Nucleus filtering: sort the probabilities in ascending order and drop every token whose
    cumulative probability is at most $1 - p$; the rest, the most likely tokens holding
    at least $p$ of the mass, are kept (always at least one).

    >>> import aigc_course as ac
    >>> top_p_filter(ac.tensor([[0.0, 1.0, 3.0]]), 0.8)  # probabilities .04, .11, .84
    tensor([[-inf, -inf, 3.]])
    """
    _check_top_p(top_p)
    sorted_logits, sorted_indices = logits.sort(dim=-1)  # (B, V) each, ascending
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)  # (B, V)
    sorted_remove = cumulative <= 1.0 - top_p
    sorted_remove[..., -1:] = False  # keep at least the most likely token
    remove = sorted_remove.scatter(-1, sorted_indices, sorted_remove)  # vocabulary order
    return logits.masked_fill(remove, float("-inf"))


def check_generate_args(
    shape: tuple[int, ...],
    n_positions: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> None:
    """Raise ``ValueError`` naming the value for arguments ``generate`` cannot honour."""
    B, T = shape
    if B == 0 or T == 0:
        raise ValueError(
            f"the prompt is empty (input_ids of shape {tuple(shape)}); give at least one token"
        )
    if (
        isinstance(max_new_tokens, bool)
        or not isinstance(max_new_tokens, (int, np.integer))
        or (max_new_tokens < 0)
    ):
        raise ValueError(
            f"max_new_tokens has to be a non-negative integer, but is {max_new_tokens}"
        )
    if T > n_positions:
        raise ValueError(f"the prompt has {T} tokens, more than n_positions={n_positions}")
    if T + max_new_tokens > n_positions:
        raise ValueError(
            f"the prompt's {T} tokens plus max_new_tokens={max_new_tokens} make "
            f"{T + max_new_tokens}, more than n_positions={n_positions}"
        )
    _check_temperature(temperature)
    if top_k is not None:
        _check_top_k(top_k)
    if top_p is not None:
        _check_top_p(top_p)


def next_token(
    logits: Tensor,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Generator | None = None,
) -> Tensor:
    """The next token of each row of ``logits`` (B, V): the argmax, or a draw from the
    filtered softmax (with ``generator``, or aigc_course's global one if None). Returns (B,)."""
    if not do_sample:
        return logits.argmax(dim=-1)  # (B,)
    if temperature != 1.0:
        logits = apply_temperature(logits, temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None and top_p < 1.0:
        logits = top_p_filter(logits, top_p)
    probs = logits.softmax(dim=-1)  # (B, V)
    return multinomial(probs, num_samples=1, generator=generator).squeeze(1)  # (B,)


class KVCache:
    r"""Keys and values of every layer, preallocated once for ``max_length`` positions.

    Attention at position $t$ needs the keys and values of positions $0..t$. They do not
    change once computed, so incremental decoding stores them and feeds the model one new
    token per step: each step costs one row of work instead of a whole recompute. The
    buffers are allocated once, so no step allocates anything the size of the sequence.
    It is meant for inference, under ``no_grad``: with autograd on, the writes are recorded
    as in-place copies, and a backward through an earlier step refuses to run, because the
    buffer it saved has been written since (autograd's version check, chapter 2).

    A forward pass of T new positions calls :meth:`update` once per layer, each writing at
    the same positions ``length .. length + T - 1``, then :meth:`advance` once, after the last
    layer. Both check the positions with :meth:`positions`.
    """

    def __init__(self, config, batch_size: int, max_length: int):
        nh, hs = config.n_head, config.n_embd // config.n_head
        shape = (config.n_layer, batch_size, nh, max_length, hs)  # (L, B, nh, maxT, hs)
        self.k, self.v = zeros(shape), zeros(shape)
        self.max_length = max_length
        self.length = 0  # positions filled: only advance() moves it

    def positions(self, T: int) -> slice:
        """The next ``T`` positions, after the filled ones; ``ValueError`` if they do not fit."""
        end = self.length + T
        if end > self.max_length:
            raise ValueError(f"the cache holds {self.max_length} positions, but {end} were asked")
        return slice(self.length, end)

    def update(self, layer: int, k: Tensor | np.ndarray, v: Tensor | np.ndarray):
        """Store ``k`` and ``v`` (B, nh, T, hs) of ``layer`` at the next T positions and return
        every key and value so far, (B, nh, length + T, hs) each: Tensors for Tensors, numpy
        arrays (views of the buffers) for numpy arrays."""
        new = self.positions(k.shape[2])
        if isinstance(k, Tensor):
            keys, values = self.k, self.v
        else:  # numpy arrays, from the decoding path: written into the buffers' own arrays
            keys, values = self.k.numpy(), self.v.numpy()
        keys[layer, :, :, new] = k
        values[layer, :, :, new] = v
        return keys[layer, :, :, : new.stop], values[layer, :, :, : new.stop]  # 2 x (B, nh, S, hs)

    def advance(self, T: int) -> None:
        """Count the ``T`` positions that every layer has now written as filled."""
        self.length = self.positions(T).stop
