r"""Checkers for chapter 8's exercises (GPT-2 from scratch).

1. :func:`check_causal_mask`: the (T, T) boolean mask, True where query $i$ may see key $j \le i$.
2. :func:`check_attention_head`: one causal attention head,
   $\operatorname{softmax}(QK^\top/\sqrt{hs} + M)V$, against torch's
   ``scaled_dot_product_attention``.
3. :func:`check_multi_head_attention`: GPT-2's whole attention layer (``c_attn``, heads,
   ``c_proj``) against torch.
4. :func:`check_num_params`: GPT-2's parameter count from its configuration, against
   transformers' ``GPT2LMHeadModel``.

Your functions receive ``aigc_course`` Tensors and may use any Tensor operations. When your
answer equals that of a known mistake (the upper triangle, no scaling, softmax over the wrong
axis, heads split without a transpose, an untied output layer...), the message says which.
See chapter 8.
"""

from __future__ import annotations

import math

import numpy as np

from .._creation import from_numpy
from ._checking import ExerciseError, as_numpy, check_tensor, passed, run_learner

__all__ = [
    "check_attention_head",
    "check_causal_mask",
    "check_multi_head_attention",
    "check_num_params",
]


def _close(got: np.ndarray, expected: np.ndarray) -> bool:
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ 1. the causal mask


def check_causal_mask(causal_mask) -> None:
    """``causal_mask(T)`` must return a (T, T) bool Tensor, True on and below the diagonal."""
    for T in (2, 5, 8, 1):  # T = 1 last: there every mistake looks alike
        got = as_numpy(run_learner(causal_mask, T, what=f"causal_mask({T})"))
        expected = np.tril(np.ones((T, T), dtype=bool))
        if got.shape != (T, T):
            raise ExerciseError(f"causal_mask({T}) has shape {got.shape}, expected ({T}, {T})")
        if got.dtype != np.bool_:
            raise ExerciseError(
                f"causal_mask({T}) has dtype {got.dtype}; return a bool Tensor (True = may "
                "attend), e.g. with `ones(T, T, dtype=bool)` and `.tril()`"
            )
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, expected.T):
            hint = (
                "you returned the upper triangle: row i (a query) may see the columns j <= i "
                "(the keys up to it), which is the lower triangle, tril(); with triu() every "
                "token sees the future"
            )
        elif np.array_equal(got, np.tril(expected, -1)):
            hint = (
                "the diagonal is missing: a token must attend to itself (row 0 would otherwise "
                "be all False, and its softmax 0/0 = NaN); use tril() rather than tril(-1)"
            )
        elif np.array_equal(got, ~expected):
            hint = (
                "True and False are swapped: here True means 'may attend' (keep), as in "
                "torch's scaled_dot_product_attention attn_mask, not 'masked out'"
            )
        else:
            i, j = np.argwhere(got != expected)[0]
            hint = (
                f"entry ({i}, {j}) is {got[i, j]}, expected {expected[i, j]} (key {j} vs query {i})"
            )
        raise ExerciseError(f"causal_mask({T}) is wrong: {hint}")
    passed("causal_mask matches torch.ones(T, T, dtype=torch.bool).tril() for T = 1, 2, 5, 8")


# ------------------------------------------------------------------ 2. one attention head


def _head_variants(x, wq, wk, wv):
    """The correct head and the usual mistakes, computed with torch."""
    import torch

    q, k, v = x @ wq, x @ wk, x @ wv  # (B, T, hs)
    B, T, hs = q.shape
    C = x.shape[-1]
    keep = torch.ones(T, T, dtype=torch.bool).tril()
    scores = q @ k.transpose(-2, -1)  # (B, T, T)

    def attend(s, mask=True, dim=-1):
        if mask:
            s = s.masked_fill(~keep, float("-inf"))
        return torch.softmax(s, dim=dim) @ v

    good = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    mistakes = {
        "no scaling: divide the scores by sqrt(hs), the head size, so that softmax does not "
        "saturate as hs grows": attend(scores),
        f"scaled by sqrt(C) = sqrt({C}), the model width; the scale is sqrt(hs) = sqrt({hs}), "
        "the size of one head's query and key vectors": attend(scores / math.sqrt(C)),
        "no causal mask: every position attends to later ones (the future leaks into the "
        "prediction); fill the scores above the diagonal with -inf before the softmax": attend(
            scores / math.sqrt(hs), mask=False
        ),
        "softmax over the wrong axis: each query's row of weights (the last axis, over keys) "
        "must sum to 1, use softmax(dim=-1)": attend(scores / math.sqrt(hs), dim=-2),
        "the mask is applied after the softmax (weights multiplied by 0 do not sum to 1 any "
        "more); put -inf into the scores before the softmax": (
            torch.softmax(scores / math.sqrt(hs), dim=-1) * keep
        )
        @ v,
    }
    return good, mistakes


def check_attention_head(attention_head) -> None:
    """``attention_head(x, w_q, w_k, w_v)`` with ``x`` (B, T, C) and weights (C, hs) must return
    the causal head's output (B, T, hs)."""
    import torch

    rng = np.random.default_rng(0)
    for B, T, C, hs in [(1, 1, 4, 2), (2, 5, 8, 4), (3, 7, 12, 6)]:
        arrays = [rng.standard_normal((B, T, C)).astype(np.float32)]
        arrays += [rng.standard_normal((C, hs)).astype(np.float32) for _ in range(3)]
        good, mistakes = _head_variants(*map(torch.from_numpy, arrays))
        inputs = [from_numpy(a.copy()) for a in arrays]
        got = as_numpy(
            run_learner(attention_head, *inputs, what="attention_head(x, w_q, w_k, w_v)")
        )
        if _close(got, good.numpy()):
            continue
        for hint, wrong in mistakes.items():
            if _close(got, wrong.numpy()) and not _close(wrong.numpy(), good.numpy()):
                raise ExerciseError(f"attention_head for B, T, C, hs = {B, T, C, hs}: {hint}")
        check_tensor(got, good, what=f"attention_head for B, T, C, hs = {B, T, C, hs}")
    passed("attention_head matches torch's scaled_dot_product_attention(is_causal=True)")


# ------------------------------------------------------------------ 3. multi-head attention


def _mha_variants(x, w_attn, b_attn, w_proj, b_proj, n_head):
    import torch

    B, T, C = x.shape
    hs = C // n_head
    F = torch.nn.functional
    q, k, v = F.linear(x, w_attn, b_attn).split(C, dim=2)  # 3 x (B, T, C)

    def heads(t):
        return t.view(B, T, n_head, hs).transpose(1, 2)  # (B, nh, T, hs)

    y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True)
    good = F.linear(y.transpose(1, 2).reshape(B, T, C), w_proj, b_proj)

    wrong_split = F.scaled_dot_product_attention(
        q.reshape(B, n_head, T, hs),
        k.reshape(B, n_head, T, hs),
        v.reshape(B, n_head, T, hs),
        is_causal=True,
    )
    mistakes = {
        "the heads are split with view(B, n_head, T, hs) directly, which mixes time steps and "
        "channels; split the channels with view(B, T, n_head, hs), then transpose(1, 2)": F.linear(
            wrong_split.transpose(1, 2).reshape(B, T, C), w_proj, b_proj
        ),
        "the heads are merged with y.reshape(B, T, C) straight from (B, nh, T, hs); transpose "
        "back to (B, T, nh, hs) first, so each position's heads sit side by side": F.linear(
            y.reshape(B, T, C), w_proj, b_proj
        ),
        "the output projection c_proj (w_proj, b_proj) is missing": y.transpose(1, 2).reshape(
            B, T, C
        ),
        "q, k and v are taken in the wrong order from c_attn's output: it is [q | k | v] along "
        "the last axis": F.linear(
            F.scaled_dot_product_attention(heads(k), heads(q), heads(v), is_causal=True)
            .transpose(1, 2)
            .reshape(B, T, C),
            w_proj,
            b_proj,
        ),
    }
    return good, mistakes


def check_multi_head_attention(multi_head_attention) -> None:
    """``multi_head_attention(x, w_attn, b_attn, w_proj, b_proj, n_head)`` with ``nn.Linear``
    shapes (w_attn (3C, C), w_proj (C, C)) must equal GPT-2's causal self-attention."""
    import torch

    rng = np.random.default_rng(1)
    for B, T, C, nh in [(1, 3, 8, 2), (2, 6, 12, 3), (2, 5, 16, 4)]:
        shapes = [(B, T, C), (3 * C, C), (3 * C,), (C, C), (C,)]
        arrays = [
            rng.standard_normal(s).astype(np.float32) / (1 if i == 0 else math.sqrt(C))
            for i, s in enumerate(shapes)
        ]
        good, mistakes = _mha_variants(*map(torch.from_numpy, arrays), nh)
        inputs = [from_numpy(a.copy()) for a in arrays]
        what = "multi_head_attention(x, w_attn, b_attn, w_proj, b_proj, n_head)"
        got = as_numpy(run_learner(multi_head_attention, *inputs, nh, what=what))
        if _close(got, good.numpy()):
            continue
        for hint, wrong in mistakes.items():
            if _close(got, wrong.numpy()) and not _close(wrong.numpy(), good.numpy()):
                raise ExerciseError(f"{what} for B, T, C, n_head = {B, T, C, nh}: {hint}")
        check_tensor(got, good, what=f"{what} for B, T, C, n_head = {B, T, C, nh}")
    passed("multi_head_attention matches torch (c_attn, causal heads, c_proj) on 3 shapes")


# ------------------------------------------------------------------ 4. the parameter count


_CONFIGS = [
    dict(vocab_size=50, n_positions=16, n_embd=8, n_layer=1, n_head=2),
    dict(vocab_size=101, n_positions=32, n_embd=12, n_layer=3, n_head=3),
    dict(vocab_size=64, n_positions=24, n_embd=16, n_layer=2, n_head=4, n_inner=40),
]


def _count_variants(c) -> dict[str, int]:
    V, P, C, L = c.vocab_size, c.n_positions, c.n_embd, c.n_layer
    inner = c.n_inner or 4 * C
    block = (3 * C * C + 3 * C) + (C * C + C) + (C * inner + inner) + (inner * C + C) + 4 * C
    good = V * C + P * C + L * block + 2 * C
    return {
        "good": good,
        "lm_head counted separately: it is tied to wte (the same (V, C) matrix), so it adds "
        "no parameters": good + V * C,
        "the position embedding wpe (n_positions x n_embd) is missing": good - P * C,
        "the biases are missing: every c_attn, c_proj and c_fc has one": good
        - L * (3 * C + C + inner + C),
        "the LayerNorms are missing: ln_1, ln_2 per block and ln_f, each with a weight and a "
        "bias of n_embd": good - (4 * L + 2) * C,
        "the MLP's width: it is n_inner, or 4 * n_embd when n_inner is None": good
        - L * (2 * C * inner + inner)
        + L * (2 * C * 4 * C + 4 * C),
    }


def check_num_params(num_params) -> None:
    """``num_params(config)`` for a ``transformers.GPT2Config`` must equal the number of
    parameters of ``transformers.GPT2LMHeadModel(config)``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    for kwargs in _CONFIGS:
        config = GPT2Config(**kwargs)
        expected = sum(p.numel() for p in GPT2LMHeadModel(config).parameters())
        got = run_learner(num_params, config, what=f"num_params(GPT2Config({kwargs}))")
        if got == expected:
            continue
        variants = _count_variants(config)
        assert variants.pop("good") == expected  # the hints are computed from the right formula
        for hint, wrong in variants.items():
            if got == wrong and wrong != expected:
                raise ExerciseError(f"num_params(GPT2Config({kwargs})) = {got}: {hint}")
        raise ExerciseError(
            f"num_params(GPT2Config({kwargs})) = {got}, transformers' model has {expected} "
            f"(difference {got - expected:+d})"
        )
    passed("num_params matches transformers' GPT2LMHeadModel on 3 configurations")
