r"""Checkers for chapter 9's exercises (text generation).

1. :func:`check_top_k_filter`: keep the $k$ largest logits of each row, against transformers'
   ``TopKLogitsWarper``.
2. :func:`check_top_p_filter`: nucleus filtering, against transformers' ``TopPLogitsWarper``.
3. :func:`check_greedy_generate`: a greedy decoding loop around a model, against transformers'
   ``generate``.
4. :func:`check_cached_attention`: one head's causal attention computed one position at a time
   from a growing key/value cache, against torch's ``scaled_dot_product_attention``.
5. :func:`check_cached_generate`: greedy decoding that runs GPT-2's layers itself with a
   key/value cache, around a given attention function, against transformers' ``generate``.
6. :func:`check_milestone_gpt2`: milestone 3, your encoder (chapter 7), attention (chapter 8)
   and cached decoding loop (5) reproduce the shipped GPT-2's greedy continuation.

Your functions receive ``aigc_course`` Tensors (and, for 3, our ``GPT2LMHeadModel``). When your
answer equals that of a known mistake (off by one, zeros instead of $-\infty$, the crossing
token dropped, the first position's logits...), the message says which. See chapter 9.
"""

from __future__ import annotations

import numpy as np

from .._creation import from_numpy
from ._checking import ExerciseError, as_numpy, passed, run_learner, seeded

__all__ = [
    "check_cached_attention",
    "check_cached_generate",
    "check_greedy_generate",
    "check_milestone_gpt2",
    "check_top_k_filter",
    "check_top_p_filter",
]


def _same(got: np.ndarray, expected: np.ndarray) -> bool:
    """Equal shapes, the same -inf pattern, and close finite values."""
    if got.shape != expected.shape:
        return False
    if not np.array_equal(np.isneginf(got), np.isneginf(expected)):
        return False
    finite = ~np.isneginf(expected)
    return np.allclose(got[finite], expected[finite], rtol=1e-5, atol=1e-6)


def _logits_cases(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seeded(seed))
    cases = [rng.standard_normal((2, 10)).astype(np.float32) * 2 for _ in range(3)]
    cases.append(rng.standard_normal((3, 50)).astype(np.float32) * 3)
    ties = np.array([[1.0, 3.0, 2.0, 3.0, 0.5, 2.0, -1.0, 2.0]], dtype=np.float32)
    return cases + [ties]


def _describe(got: np.ndarray, expected: np.ndarray) -> str:
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    kept, want = (~np.isneginf(got)).sum(-1), (~np.isneginf(expected)).sum(-1)
    if not np.array_equal(kept, want):
        return f"you keep {kept.tolist()} token(s) per row, transformers keeps {want.tolist()}"
    return "the kept logits must be left unchanged (the others become -inf)"


# ------------------------------------------------------------------ 1. top-k


def check_top_k_filter(top_k_filter) -> None:
    """``top_k_filter(logits, k)`` on (B, V) logits must equal ``TopKLogitsWarper(k)``."""
    import torch
    from transformers import TopKLogitsWarper

    for n, z in enumerate(_logits_cases(0)):
        for k in (1, 3, 5):
            expected = TopKLogitsWarper(top_k=k)(None, torch.from_numpy(z)).numpy()
            what = f"top_k_filter(logits of shape {z.shape}, k={k})"
            got = as_numpy(run_learner(top_k_filter, from_numpy(z.copy()), k, what=what))
            if _same(got, expected):
                continue
            kth = np.sort(z, axis=-1)[:, ::-1][:, k - 1 : k]
            order = np.argsort(-z, axis=-1, kind="stable")
            exactly_k = np.full_like(z, -np.inf)
            np.put_along_axis(exactly_k, order[:, :k], np.take_along_axis(z, order[:, :k], -1), -1)
            if got.shape == z.shape and np.array_equal(got, np.where(z < kth, 0.0, z)):
                hint = "the dropped logits are 0, not -inf: exp(0) = 1 still gives them mass"
            elif got.shape == z.shape and np.array_equal(np.isneginf(got), z <= kth):
                hint = "off by one: the k-th largest logit itself is kept (drop z < kth, not <=)"
            elif _same(got, exactly_k) and not _same(exactly_k, expected):
                hint = (
                    "ties: logits equal to the k-th largest are all kept, as transformers does "
                    "(compare with the k-th value rather than keeping exactly k indices)"
                )
            elif k < z.shape[-1] and got.shape == z.shape:
                k1 = np.sort(z, axis=-1)[:, ::-1][:, k : k + 1]
                hint = (
                    "off by one: you keep k + 1 tokens (the k-th largest is index k - 1 of the "
                    "sorted row)"
                    if np.array_equal(np.isneginf(got), z < k1)
                    else _describe(got, expected)
                )
            else:
                hint = _describe(got, expected)
            raise ExerciseError(f"{what} (case {n}): {hint}")
    passed("top_k_filter matches transformers' TopKLogitsWarper (k = 1, 3, 5, ties included)")


# ------------------------------------------------------------------ 2. top-p


def _top_p_variants(z: np.ndarray, p: float) -> dict[str, np.ndarray]:
    probs = np.exp(z - z.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_probs = np.take_along_axis(probs, order, -1)
    cum = np.cumsum(sorted_probs, -1)

    def keep_to_logits(sorted_keep):
        keep = np.zeros_like(sorted_keep)
        np.put_along_axis(keep, order, sorted_keep, -1)
        return np.where(keep, z, -np.inf).astype(np.float32)

    sorted_z = np.take_along_axis(z, order, -1)
    return {
        "the token that takes the cumulative probability past p is dropped; it must be kept "
        "(keep while the mass *before* a token is below p)": keep_to_logits(cum < p),
        "the cumulative sum runs over the logits; take the softmax first, so that it sums "
        "probabilities": keep_to_logits(np.cumsum(sorted_z, -1) - sorted_z < p),
        "the probabilities are summed in vocabulary order; sort them in descending order "
        "first, so the nucleus is made of the most likely tokens": np.where(
            np.cumsum(probs, -1) - probs < p, z, -np.inf
        ).astype(np.float32),
    }


def check_top_p_filter(top_p_filter) -> None:
    """``top_p_filter(logits, p)`` on (B, V) logits must equal ``TopPLogitsWarper(p)``."""
    import torch
    from transformers import TopPLogitsWarper

    for n, z in enumerate(_logits_cases(1)[:4]):
        for p in (0.3, 0.75, 0.95):
            expected = TopPLogitsWarper(top_p=p)(None, torch.from_numpy(z)).numpy()
            what = f"top_p_filter(logits of shape {z.shape}, p={p})"
            got = as_numpy(run_learner(top_p_filter, from_numpy(z.copy()), p, what=what))
            if _same(got, expected):
                continue
            hint = _describe(got, expected)
            for text, wrong in _top_p_variants(z, p).items():
                if _same(got, wrong) and not _same(wrong, expected):
                    hint = text
                    break
            raise ExerciseError(f"{what} (case {n}): {hint}")
    passed("top_p_filter matches transformers' TopPLogitsWarper (p = 0.3, 0.75, 0.95)")


# ------------------------------------------------------------------ 3. greedy generation


def _greedy_problem():
    """A small random GPT-2 with well-separated logits, in transformers and in ours."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from ..models import GPT2LMHeadModel as Ours

    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=97,
        n_positions=48,
        n_embd=32,
        n_layer=2,
        n_head=4,
        initializer_range=0.3,
        bos_token_id=None,  # the defaults (50256) lie outside this vocabulary
        eos_token_id=None,
    )
    hf = GPT2LMHeadModel(config).eval()
    return hf, Ours.from_hf(hf)


def check_greedy_generate(greedy_generate) -> None:
    """``greedy_generate(model, ids, max_new_tokens)`` must return the prompt followed by the
    greedy tokens, (B, T + max_new_tokens), as transformers' ``generate(do_sample=False)``."""
    import torch

    hf, ours = _greedy_problem()
    rng = np.random.default_rng(seeded(2))
    for B, T, n in [(1, 4, 12), (2, 7, 10)]:
        prompt = rng.integers(0, 97, (B, T))
        with torch.no_grad():
            expected = hf.generate(
                torch.from_numpy(prompt), max_new_tokens=n, do_sample=False, pad_token_id=0
            ).numpy()
        what = f"greedy_generate(model, ids of shape {(B, T)}, {n})"
        got = as_numpy(run_learner(greedy_generate, ours, from_numpy(prompt.copy()), n, what=what))
        if got.shape == expected.shape and np.array_equal(got, expected):
            continue
        new = expected[:, T:]
        if got.shape == new.shape and np.array_equal(got, new):
            hint = "you return only the new tokens; return the prompt followed by them"
        elif got.shape != expected.shape:
            hint = f"shape {got.shape}, expected {expected.shape} (the prompt plus {n} tokens)"
        elif np.array_equal(got[:, :T], prompt) and (got[:, T:] == got[:, T : T + 1]).all():
            hint = (
                "every new token is the same: feed the growing sequence back in (append each "
                "token), and take the logits of the *last* position, logits[:, -1]"
            )
        else:
            b, t = np.argwhere(got != expected)[0]
            hint = (
                f"row {b} first differs at position {t}: yours {got[b, t]}, transformers' "
                f"{expected[b, t]}; take argmax over the vocabulary (dim=-1) of logits[:, -1]"
            )
        raise ExerciseError(f"{what}: {hint}")
    passed("greedy_generate gives transformers' greedy ids (batch 1 and 2)")


# ------------------------------------------------------------------ 4. attention with a cache


def _cached_variants(q, k, v):
    """The causal head and the usual mistakes of an incremental version, with torch."""
    import torch

    T, d = q.shape
    F = torch.nn.functional
    good = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True)[0]
    strict = torch.ones(T, T, dtype=torch.bool).tril(-1)  # keys before the query only
    scores = q @ k.T / d**0.5
    before = torch.softmax(scores.masked_fill(~strict, float("-inf")), dim=-1) @ v
    before[0] = 0.0  # nothing cached yet at the first position
    unscaled = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True, scale=1.0)
    return good, {
        "each position attends only to its own key and value (the output equals v): the "
        "query must attend to every cached key, k[0..t], not just the newest": v,
        "the new key and value are appended after attending, so position t misses itself; "
        "append k[t] and v[t] to the cache first, then attend": before,
        "no scaling: divide the scores by sqrt(d)": unscaled[0],
        "the whole cache is attended at every step, including later positions (that is no "
        "cache at all, and the future leaks in): at step t the cache holds positions 0..t "
        "only": torch.softmax(scores, dim=-1) @ v,
    }


def check_cached_attention(cached_attention) -> None:
    """``cached_attention(q, k, v)`` with (T, d) inputs must process positions 0..T-1 one at a
    time, appending to a key/value cache, and return the (T, d) outputs of the causal head."""
    import torch

    rng = np.random.default_rng(seeded(3))
    for T, d in [(1, 4), (5, 8), (9, 6)]:
        arrays = [rng.standard_normal((T, d)).astype(np.float32) for _ in range(3)]
        good, mistakes = _cached_variants(*map(torch.from_numpy, arrays))
        what = f"cached_attention(q, k, v) with T, d = {T, d}"
        inputs = [from_numpy(a.copy()) for a in arrays]
        got = as_numpy(run_learner(cached_attention, *inputs, what=what))
        if got.shape == good.shape and np.allclose(got, good.numpy(), rtol=1e-4, atol=1e-5):
            continue
        hint = f"shape {got.shape}, expected {tuple(good.shape)}"
        if got.shape == tuple(good.shape):
            hint = "the values differ from the causal head's"
            for text, wrong in mistakes.items():
                close = np.allclose(got, wrong.numpy(), rtol=1e-4, atol=1e-5)
                if close and not np.allclose(wrong.numpy(), good.numpy(), rtol=1e-4, atol=1e-5):
                    hint = text
                    break
        raise ExerciseError(f"{what}: {hint}")
    passed("cached_attention equals the full causal head, position by position")


# ------------------------------------------------------------------ 5. generation with a cache


def reference_attention(q, k, v):
    """Causal attention for (B, nh, T, hs) queries and (B, nh, S, hs) keys and values, the T
    queries being the last T of the S positions: what chapter 8's exercise 2 builds, here from
    the package's ``scaled_dot_product_attention``."""
    from .. import arange
    from ..nn import functional as F

    T, S = q.shape[-2], k.shape[-2]
    keep = arange(S).view(1, S) <= arange(S - T, S).view(T, 1)  # (T, S)
    return F.scaled_dot_product_attention(q, k, v, keep)


class _Recorder:
    """Wraps an attention function and records the (T, S) of each call."""

    def __init__(self, attention):
        self.attention = attention
        self.calls: list[tuple[int, int]] = []

    def __call__(self, q, k, v):
        self.calls.append((int(q.shape[-2]), int(k.shape[-2])))
        return self.attention(q, k, v)


def _cached_variant(model, ids, n, attention, positions="right", extend=True):
    """Greedy decoding with a key/value cache around ``attention``, or a usual mistake of it."""
    from .. import arange, cat, no_grad

    tr, nh = model.transformer, model.config.n_head
    cache: list = [None] * len(tr.h)

    def forward(new):
        B, T = new.shape
        past = 0 if cache[0] is None else cache[0][0].shape[2]
        start = past if positions == "right" else 0
        h = tr.wte(new) + tr.wpe(arange(start, start + T))  # (B, T, C)
        C = h.shape[-1]
        for i, block in enumerate(tr.h):
            q, k, v = block.attn.c_attn(block.ln_1(h)).split(C, dim=2)
            q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in (q, k, v))
            if cache[i] is not None and extend:
                k, v = cat([cache[i][0], k], dim=2), cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
            y = attention(q, k, v).transpose(1, 2).reshape(B, T, C)
            h = h + block.attn.c_proj(y)
            h = h + block.mlp(block.ln_2(h))
        return model.lm_head(tr.ln_f(h))

    with no_grad():
        logits = forward(ids)
        for step in range(n):
            new = logits[:, -1].argmax(dim=-1, keepdim=True)
            ids = cat([ids, new], dim=1)
            if step < n - 1:
                logits = forward(new)
    return ids


def _cached_generate_error(generate, model, prompt, expected, attention, what) -> str | None:
    """What is wrong with ``generate(model, prompt, n, attention)``, or None."""
    from .._creation import from_numpy as _from_numpy

    n = expected.shape[1] - prompt.shape[1]
    recorder = _Recorder(attention)
    ids = _from_numpy(prompt.copy())
    # a closure, so that a failure's message names the ids' shape, not the model's repr
    got = as_numpy(run_learner(lambda: generate(model, ids, n, recorder), what=what))
    T = prompt.shape[1]
    n_layer = len(model.transformer.h)
    if not recorder.calls:
        return (
            f"{what} never called the attention function it was given: use it in every layer, "
            "attention(q, k, v) on the heads (B, n_head, T, hs)"
        )
    if got.shape == expected.shape and np.array_equal(got, expected):
        later = [t for t, _ in recorder.calls[n_layer:]]
        if any(t != 1 for t in later):
            return (
                f"{what} gives the right tokens but uses no cache: after the prompt, feed only "
                f"the newest token (queries of length 1; yours had lengths up to {max(later)}) "
                "and append its keys and values to each layer's cache"
            )
        return None
    new = expected[:, T:]
    if got.shape == new.shape and np.array_equal(got, new):
        return f"{what} returns only the new tokens; return the prompt followed by them"
    if got.shape != expected.shape:
        return f"{what}: shape {got.shape}, expected {expected.shape} (the prompt plus {n} tokens)"
    variants = {
        "the new token's position: after the cached positions, wpe must get positions "
        "past .. past + T - 1 (past = the number of cached positions), not 0 .. T - 1": dict(
            positions="zero"
        ),
        "the cache is not extended: append each step's keys and values to the layer's cached "
        "ones (cat along the time axis, dim=2) before attending, so the new token sees every "
        "earlier position": dict(extend=False),
    }
    for hint, kwargs in variants.items():
        wrong = as_numpy(_cached_variant(model, _from_numpy(prompt.copy()), n, attention, **kwargs))
        if np.array_equal(got, wrong) and not np.array_equal(wrong, expected):
            return f"{what}: {hint}"
    b, t = np.argwhere(got != expected)[0]
    return (
        f"{what}: row {b} first differs at position {t}: yours {got[b, t]}, transformers' "
        f"{expected[b, t]}"
    )


def check_cached_generate(cached_generate) -> None:
    """``cached_generate(model, ids, max_new_tokens, attention)`` must return what
    transformers' greedy ``generate`` returns, (B, T + max_new_tokens), running our GPT-2's
    layers itself with a key/value cache: the prompt once, then one token per step, every
    layer's attention computed by ``attention(q, k, v)`` (given; chapter 8's exercise 2)."""
    import torch

    hf, ours = _greedy_problem()
    rng = np.random.default_rng(seeded(5))
    for B, T, n in [(1, 4, 12), (2, 7, 10)]:
        prompt = rng.integers(0, 97, (B, T))
        with torch.no_grad():  # the mask says no token is padding, though some ids are 0
            expected = hf.generate(
                torch.from_numpy(prompt),
                attention_mask=torch.ones(B, T, dtype=torch.long),
                max_new_tokens=n,
                do_sample=False,
                pad_token_id=0,
            ).numpy()
        what = f"cached_generate(model, ids of shape {(B, T)}, {n}, attention)"
        error = _cached_generate_error(
            cached_generate, ours, prompt, expected, reference_attention, what
        )
        if error:
            raise ExerciseError(error)
    passed("cached_generate gives transformers' greedy ids, one position per step after the prompt")


# ------------------------------------------------------------------ milestone 3


def _missing(encode, attention, cached_generate) -> list[str]:
    """The pieces that still raise NotImplementedError, on tiny inputs."""
    from .. import randn, tensor
    from ..tokenizers import BYTE_TO_UNICODE

    vocab = {BYTE_TO_UNICODE[b]: b for b in range(256)}
    hf, ours = _greedy_problem()
    probes = {
        "encode (chapter 7, exercise 6)": lambda: encode("a", vocab, []),
        "attention (chapter 8, exercise 2)": lambda: attention(*(randn(1, 1, 2, 4) for _ in "qkv")),
        "cached_generate (exercise 5)": lambda: cached_generate(
            ours, tensor([[1, 2]]), 1, reference_attention
        ),
    }
    missing = []
    for name, probe in probes.items():
        try:
            probe()
        except NotImplementedError:
            missing.append(name)
        except Exception:  # a real attempt that fails: judged below, with its feedback
            pass
    return missing


def check_milestone_gpt2(encode, attention, cached_generate, max_new_tokens: int = 24) -> None:
    """Milestone 3: your tokenizer, attention and decoding loop reproduce GPT-2.

    The shipped GPT-2's files are read (``vocab.json``, ``merges.txt``, the weights); a prompt
    is encoded with your ``encode(text, vocab, merges)`` (chapter 7) and must give the ids of
    transformers' tokenizer; then your ``cached_generate(model, ids, n, attention)`` (this
    chapter), with your ``attention(q, k, v)`` (chapter 8) in every layer, must continue it
    token for token as transformers' greedy ``GPT2LMHeadModel.generate`` does. Steps where the
    two best logits are too close to call (under 1e-3 apart) end the comparison there.
    """
    import torch
    import transformers

    from ..models import GPT2LMHeadModel
    from ..models.hub import SHIPPED_MODEL_DIR
    from ..tokenizers import BPETokenizer
    from .ch07 import _encode_error
    from .ch08 import _attention_error

    missing = _missing(encode, attention, cached_generate)
    if missing:
        raise ExerciseError(
            "milestone 3 is not implemented yet: write (or paste) " + ", ".join(missing)
        )
    # each piece on its own first, with its chapter's checks: a piece can be wrong in a way
    # that one prompt does not show (a mask that sees one token ahead changes only the prompt's
    # earlier positions, which a weak model may ignore)
    for piece, error in [
        ("encode (chapter 7, exercise 6)", lambda: _encode_error(encode)),
        ("attention (chapter 8, exercise 2)", lambda: _attention_error(attention)),
    ]:
        message = error()
        if message:
            raise ExerciseError(f"your {piece} is not right yet: {message}")
    files = BPETokenizer.from_pretrained(SHIPPED_MODEL_DIR)
    vocab, merges = files.get_vocab(), files.merges
    hf_tokenizer = transformers.GPT2TokenizerFast.from_pretrained(SHIPPED_MODEL_DIR)
    prompt = "The for statement is used to"
    expected_ids = hf_tokenizer(prompt)["input_ids"]
    ids = run_learner(encode, prompt, dict(vocab), list(merges), what="your encode (chapter 7)")
    if not isinstance(ids, (list, tuple)) or list(ids) != expected_ids:
        detail = _encode_error(encode) or ""
        raise ExerciseError(
            f"your encode (chapter 7) gives {ids} for {prompt!r}; transformers' tokenizer on "
            f"the shipped files gives {expected_ids}. {detail}".strip()
        )
    hf = transformers.GPT2LMHeadModel.from_pretrained(SHIPPED_MODEL_DIR).eval()
    with torch.no_grad():
        out = hf.generate(
            torch.tensor([expected_ids]),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=hf.generation_config.eos_token_id,
            output_scores=True,
            return_dict_in_generate=True,
        )
    scores = torch.stack(out.scores)[:, 0]  # (steps, V)
    best_two = scores.topk(2, dim=-1).values
    clear = (best_two[:, 0] - best_two[:, 1] > 1e-3).tolist() + [False]
    n = clear.index(False)  # the steps before the first too-close call
    expected = out.sequences[:, : len(expected_ids) + n].numpy()
    ours = GPT2LMHeadModel.from_pretrained(str(SHIPPED_MODEL_DIR)).eval()
    what = "your cached_generate (exercise 5) with your attention (chapter 8)"
    prompt_ids = np.array([expected_ids])
    error = _cached_generate_error(cached_generate, ours, prompt_ids, expected, attention, what)
    if error:
        if _cached_generate_error(
            cached_generate, ours, prompt_ids, expected, reference_attention, what
        ):
            raise ExerciseError(error)
        raise ExerciseError(
            f"{error}. With a reference attention your cached_generate is right, so the "
            f"difference is in your attention (chapter 8): {_attention_error(attention)}"
        )
    text = files.decode(expected[0, len(expected_ids) :].tolist())
    passed(
        f"milestone 3: your encode, attention and cached_generate reproduce transformers' "
        f"greedy continuation of the shipped GPT-2, {n} of {n} tokens"
    )
    print(f"{prompt!r} + {text!r}")
