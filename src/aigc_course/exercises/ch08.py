r"""Checkers for chapter 8's exercises (GPT-2 from scratch).

1. ★ :func:`check_causal_mask`: the (T, T) boolean mask, True where query $i$ may see key
   $j \le i$.
2. ★★ :func:`check_attention`: causal attention $\operatorname{softmax}(QK^\top/\sqrt{hs} + M)V$
   on heads, with keys and values that may be longer than the queries (chapter 9's cache),
   against torch in float64. Milestone 3 (chapter 9) uses it.
3. ★★★ :func:`check_grouped_query_attention`: the attention layer with fewer key/value heads
   than query heads (``c_attn``, head groups, ``c_proj``); GPT-2's own when they are equal.
4. ★★ :func:`check_num_params`: GPT-2's parameter count from its configuration, against
   transformers' ``GPT2LMHeadModel``.

Your functions receive ``aigc_course`` Tensors and may use any Tensor operations, in any
precision. When your answer equals that of a known mistake (the upper triangle, a mask that
sees one token ahead, an inverted mask, scores as k @ qᵀ, no scaling, head groups tiled
instead of repeated, an untied output layer...), the message says which.
See chapter 8.
"""

from __future__ import annotations

import math

import numpy as np

from .._creation import from_numpy
from ._checking import (
    ExerciseError,
    Protocol,
    as_numpy,
    check_tensor,
    passed,
    run_learner,
    seeded,
    uses,
)

__all__ = [
    "check_attention",
    "check_causal_mask",
    "check_grouped_query_attention",
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
        elif np.array_equal(got, np.tril(np.ones((T, T), dtype=bool), 1)):
            hint = (
                "the mask sees one token ahead (tril(1)): query t may read key t + 1, the very "
                "token it must predict; keep the diagonal and below only, tril() or tril(0)"
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


# ------------------------------------------------------------------ 2. attention


def _positions_keep(T: int, S: int, ahead: int = 0, first: int | None = None) -> np.ndarray:
    """(T, S): True where key j <= the position of query i, which is S - T + i (or
    ``first + i``), plus ``ahead`` (a mask that sees ``ahead`` tokens too far)."""
    start = S - T if first is None else first
    return np.arange(S)[None, :] <= np.arange(start, start + T)[:, None] + ahead


def _attention_variants(q, k, v):
    """The causal attention (float64, torch) and the usual mistakes, by their hints."""
    import torch

    q, k, v = (t.double() for t in (q, k, v))
    T, S, hs = q.shape[-2], k.shape[-2], q.shape[-1]
    keep = torch.from_numpy(_positions_keep(T, S))
    scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B, nh, T, S)

    def attend(s, mask=keep, dim=-1):
        if mask is not None:
            s = s.masked_fill(~mask, float("-inf"))
        return torch.softmax(s, dim=dim) @ v

    mistakes = {
        "no scaling: divide the scores by sqrt(hs), the head size, so that softmax does not "
        "saturate as hs grows": attend(scores * math.sqrt(hs)),
        "no causal mask: every position attends to later ones (the future leaks into the "
        "prediction); fill the scores of later keys with -inf before the softmax": attend(
            scores, mask=None
        ),
        "the mask sees one token ahead (tril(1)): query t may read key t + 1, the very token it "
        "must predict; keep key j only for j <= t, tril() with the diagonal 0": attend(
            scores, mask=torch.from_numpy(_positions_keep(T, S, ahead=1))
        ),
        "softmax over the wrong axis: each query's row of weights (the last axis, over keys) "
        "must sum to 1, use softmax(dim=-1)": attend(scores, dim=-2),
        "the mask is applied after the softmax (weights multiplied by 0 do not sum to 1 any "
        "more); put -inf into the scores before the softmax": (torch.softmax(scores, dim=-1) * keep)
        @ v,
    }
    if T == S:
        mistakes[
            "the scores are k @ qᵀ, the transpose of q @ kᵀ: entry (t, j) must be q_t · k_j, "
            "query t's row against every key, so compute q @ k.transpose(-2, -1)"
        ] = attend(scores.transpose(-2, -1))
    if S > T:
        mistakes[
            "with a cache, k and v are longer than q: the T queries are the *last* T of the S "
            "positions (query i sits at S - T + i), so take the last T rows of the (S, S) mask, "
            "causal_mask(S)[S - T:], not its first T"
        ] = attend(scores, mask=torch.from_numpy(_positions_keep(T, S, first=0)))
    return attend(scores), mistakes, keep


def _nan_hint(got: np.ndarray, keep) -> str | None:
    """A NaN row is a query whose every score is -inf: say which mask mistake gives that."""
    if not np.isnan(got).any():
        return None
    keep = keep.numpy()
    rows = np.isnan(got).any(axis=(0, 1, 3))  # (T,): the queries that came out NaN
    if np.array_equal(rows, keep.all(axis=-1)):
        return (
            "NaN in the last query's output: the mask is inverted. masked_fill(mask, -inf) "
            "fills where the mask is True, so with True = 'may attend' it removes exactly the "
            "keys a query may see, and the last query, which sees every key, is left with only "
            "-inf scores (softmax 0/0 = NaN); fill where the mask is False: masked_fill(~mask, ...)"
        )
    if np.array_equal(rows, keep.sum(axis=-1) == 1):
        return (
            "NaN in the first query's output: its row of scores is all -inf, so softmax is "
            "0/0. A token must attend to itself: keep the diagonal (tril(), not tril(-1))"
        )
    return "your output has NaN: some query's scores are all -inf before the softmax"


def _attention_cases():
    rng = np.random.default_rng(seeded(0))
    # T = S = 1 last: there several mistakes look alike
    shapes = [(2, 3, 5, 5, 4), (1, 2, 7, 7, 8), (2, 2, 3, 6, 4), (1, 2, 1, 5, 4), (1, 1, 1, 1, 2)]
    for B, nh, T, S, hs in shapes:
        yield (
            (B, nh, T, S, hs),
            [
                rng.standard_normal(shape).astype(np.float32)
                for shape in [(B, nh, T, hs), (B, nh, S, hs), (B, nh, S, hs)]
            ],
        )


def _attention_error(attention) -> str | None:
    """What is wrong with ``attention(q, k, v)``, or None when it is right on every case."""
    import torch

    for dims, arrays in _attention_cases():
        good, mistakes, keep = _attention_variants(*map(torch.from_numpy, arrays))
        inputs = [from_numpy(a.copy()) for a in arrays]
        what = f"attention(q, k, v) with (B, nh, T, S, hs) = {dims}"
        got = as_numpy(run_learner(attention, *inputs, what=what)).astype(np.float64)
        if _close(got, good.numpy()):
            continue
        if got.shape != tuple(good.shape):
            return f"{what}: your output has shape {got.shape}, expected {tuple(good.shape)}"
        hint = _nan_hint(got, keep)
        if hint:
            return f"{what}: {hint}"
        for text, wrong in mistakes.items():
            if _close(got, wrong.numpy()) and not _close(wrong.numpy(), good.numpy()):
                return f"{what}: {text}"
        try:
            check_tensor(got, good, what=what, rtol=1e-4, atol=1e-5, check_dtype=False)
        except ExerciseError as err:
            return str(err)
    return None


def check_attention(attention) -> None:
    r"""``attention(q, k, v)``: causal scaled dot-product attention,
    $\operatorname{softmax}(QK^\top/\sqrt{hs} + M)V$. ``q`` is (B, nh, T, hs); ``k`` and ``v``
    are (B, nh, S, hs) with S >= T: the T queries are the last T of the S positions (S = T
    without a cache), and query i may attend to keys j <= S - T + i. Compared with a float64
    reference (torch), with a tolerance for float32 rounding."""
    error = _attention_error(attention)
    if error:
        raise ExerciseError(error)
    passed("attention matches torch's causal attention (float64), with and without a cache")


# ------------------------------------------------------------------ 3. grouped-query attention


def _gqa_variants(x, w_attn, b_attn, w_proj, b_proj, n_head, n_kv_head):
    import torch

    x, w_attn, b_attn, w_proj, b_proj = (t.double() for t in (x, w_attn, b_attn, w_proj, b_proj))
    B, T, C = x.shape
    hs, g = C // n_head, n_head // n_kv_head
    F = torch.nn.functional
    q, k, v = F.linear(x, w_attn, b_attn).split([C, n_kv_head * hs, n_kv_head * hs], dim=2)
    q = q.view(B, T, n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
    k = k.view(B, T, n_kv_head, hs).transpose(1, 2)  # (B, n_kv, T, hs)
    v = v.view(B, T, n_kv_head, hs).transpose(1, 2)

    def finish(y, merge=True, proj=True):
        y = y.transpose(1, 2).reshape(B, T, C) if merge else y.reshape(B, T, C)
        return F.linear(y, w_proj, b_proj) if proj else y

    def sdpa(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    good = finish(sdpa(q, k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)))
    mistakes = {
        "query head h must share key/value head h // (n_head // n_kv_head): neighbouring query "
        "heads form a group (repeat_interleave), while k.repeat(...) or a tiled expand gives "
        "head h the key/value head h % n_kv_head": finish(
            sdpa(q, k.repeat(1, g, 1, 1), v.repeat(1, g, 1, 1))
        ),
        "the heads are merged with y.reshape(B, T, C) straight from (B, n_head, T, hs); "
        "transpose back to (B, T, n_head, hs) first, so each position's heads sit side by "
        "side": finish(
            sdpa(q, k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)), merge=False
        ),
        "the output projection c_proj (w_proj, b_proj) is missing": finish(
            sdpa(q, k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)), proj=False
        ),
    }
    return good, mistakes


def check_grouped_query_attention(grouped_query_attention) -> None:
    """``grouped_query_attention(x, w_attn, b_attn, w_proj, b_proj, n_head, n_kv_head)``:
    causal self-attention in which ``n_head`` query heads share ``n_kv_head`` key/value heads
    (Llama 2 70B, Mistral), with ``nn.Linear`` shapes: ``w_attn`` is (C + 2 * n_kv_head * hs,
    C), its rows making [q | k | v], hs = C // n_head; ``w_proj`` is (C, C). Query head h
    uses key/value head h // (n_head // n_kv_head). Compared with torch in float64 for
    n_kv_head = n_head (GPT-2's multi-head attention), 1 (multi-query) and in between."""
    import torch

    rng = np.random.default_rng(seeded(1))
    what = "grouped_query_attention(x, w_attn, b_attn, w_proj, b_proj, n_head, n_kv_head)"
    for B, T, C, nh, nkv in [(1, 3, 8, 2, 2), (2, 6, 12, 4, 2), (2, 5, 16, 4, 1), (1, 4, 24, 6, 3)]:
        hs = C // nh
        out = C + 2 * nkv * hs
        shapes = [(B, T, C), (out, C), (out,), (C, C), (C,)]
        arrays = [
            rng.standard_normal(s).astype(np.float32) / (1 if i == 0 else math.sqrt(C))
            for i, s in enumerate(shapes)
        ]
        good, mistakes = _gqa_variants(*map(torch.from_numpy, arrays), nh, nkv)
        inputs = [from_numpy(a.copy()) for a in arrays]
        case = f"{what} for B, T, C, n_head, n_kv_head = {B, T, C, nh, nkv}"
        got = as_numpy(run_learner(grouped_query_attention, *inputs, nh, nkv, what=what))
        if _close(got.astype(np.float64), good.numpy()):
            continue
        for hint, wrong in mistakes.items():
            if _close(got, wrong.numpy()) and not _close(wrong.numpy(), good.numpy()):
                raise ExerciseError(f"{case}: {hint}")
        if np.isnan(got).any():
            raise ExerciseError(
                f"{case}: your output has NaN; check your attention alone first "
                "(ch08.check_attention): an inverted mask leaves a query with only -inf scores"
            )
        check_tensor(got, good, what=case, rtol=1e-4, atol=1e-5, check_dtype=False)
    passed(
        "grouped_query_attention matches torch for n_kv_head = n_head (GPT-2), 1 (multi-query) "
        "and groups of 2"
    )


# ------------------------------------------------------------------ 4. the parameter count


def _configs(seed: int) -> list[dict]:
    """Three small GPT-2 configurations drawn from ``seed``; the third sets ``n_inner`` (not
    4 * n_embd), so that a count that ignores it is caught."""
    rng = np.random.default_rng(seed)
    configs = []
    for k in range(3):
        n_head, head_size = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        config = dict(
            vocab_size=int(rng.integers(30, 200)),
            n_positions=int(rng.integers(8, 64)),
            n_embd=n_head * head_size,
            n_layer=int(rng.integers(1, 4)),
            n_head=n_head,
        )
        if k == 2:
            config["n_inner"] = 4 * n_head * head_size + int(rng.integers(1, 30))
        configs.append(config)
    return configs


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


def _num_params_run(configs: list[dict], num_params) -> list:
    """The kernel's half: the learner's counts for the given configurations (plain numbers)."""
    from transformers import GPT2Config

    return [
        run_learner(num_params, GPT2Config(**kwargs), what=f"num_params(GPT2Config({kwargs}))")
        for kwargs in configs
    ]


def _num_params_judge(configs: list[dict], counts) -> str:
    """The judge's half: each count against transformers' ``GPT2LMHeadModel``, with hints."""
    import numbers

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    if not (isinstance(counts, list) and len(counts) == len(configs)):
        raise ExerciseError(f"expected {len(configs)} counts back, one per configuration")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for kwargs, got in zip(configs, counts):
            config = GPT2Config(**kwargs)
            expected = sum(p.numel() for p in GPT2LMHeadModel(config).parameters())
            if not isinstance(got, numbers.Number) or isinstance(got, bool):
                raise ExerciseError(
                    f"num_params(GPT2Config({kwargs})) returned a {type(got).__name__}; "
                    "expected an int"
                )
            if got == expected:
                continue
            variants = _count_variants(config)
            assert variants.pop("good") == expected  # the hints come from the right formula
            for hint, wrong in variants.items():
                if got == wrong and wrong != expected:
                    raise ExerciseError(f"num_params(GPT2Config({kwargs})) = {got}: {hint}")
            raise ExerciseError(
                f"num_params(GPT2Config({kwargs})) = {got}, transformers' model has "
                f"{expected} (difference {got - expected:+g})"
            )
    return "num_params matches transformers' GPT2LMHeadModel on 3 configurations"


#: The protocol: three configurations (drawn from the seed) in; the learner's three counts
#: out; compared with transformers' models in the judge.
NUM_PARAMS_PROTOCOL = Protocol(_configs, _num_params_run, _num_params_judge)


@uses(NUM_PARAMS_PROTOCOL)
def check_num_params(num_params) -> None:
    """``num_params(config)`` for a ``transformers.GPT2Config`` must equal the number of
    parameters of ``transformers.GPT2LMHeadModel(config)``."""
    NUM_PARAMS_PROTOCOL.check(num_params)
