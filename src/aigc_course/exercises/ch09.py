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

Your functions receive ``aigc_course`` Tensors (and, for 3 and 5, our ``GPT2LMHeadModel``). When
your answer equals that of a known mistake (off by one, zeros instead of $-\infty$, the crossing
token dropped, the first position's logits...), the message says which. See chapter 9.

3, 5 and the milestone are protocols (:class:`~aigc_course.exercises._checking.Protocol`): the
inputs are plain data drawn from the seed (a small GPT-2's weights and prompts; the milestone's
prompt and the calls that chapters 7 and 8's checks make), your code runs on them where it
lives and sends back plain data (ids, the shapes of its attention calls, each answer of your
``encode`` and ``attention``), and the comparison with transformers is made apart from it (in
the grader, in its judge, with a secret seed). The milestone replays chapters 7 and 8's checks
on the recorded answers.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from .._creation import from_numpy
from ._checking import ExerciseError, Protocol, as_numpy, passed, run_learner, seeded, uses
from ._plain import to_plain

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


# ------------------------------------------------------------------ plain-data records


def _value_record(fn, *args, what: str, lists: bool = True) -> dict:
    """``fn(*args)``'s answer as plain data, in the kernel: ``{"value": array}``,
    ``{"returned": type name}`` for something that is not a tensor of numbers (nor, with
    ``lists``, a list of them), or ``{"error": feedback}`` when it raised (the feedback of
    :func:`run_learner`)."""
    try:
        got = run_learner(fn, *args, what=what)
    except ExerciseError as e:
        return {"error": str(e)}
    if not hasattr(got, "shape") and not (lists and isinstance(got, (list, tuple))):
        return {"returned": type(got).__name__}
    try:
        value = np.array(as_numpy(got))
    except Exception:
        return {"returned": type(got).__name__}
    if value.dtype.kind not in "biuf":
        return {"returned": f"{type(got).__name__} of dtype {value.dtype}"}
    return {"value": value}


def _records(records, n: int, name: str, extra: dict | None = None) -> list[dict]:
    """The kernel's records as the judge received them, refused unless they are ``n`` records
    of :func:`_value_record`'s form, each with the ``extra`` keys whose checks pass."""
    extra = extra or {}
    kinds = {"value", "returned", "error"}

    def well_formed(record) -> bool:
        if not isinstance(record, dict) or set(record) - kinds - set(extra):
            return False
        if len(kinds & set(record)) != 1 or not all(k in record for k in extra):
            return False
        if "value" in record:
            value = record["value"]
            if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"):
                return False
        text = record.get("returned", record.get("error", ""))
        return isinstance(text, str) and all(ok(record[k]) for k, ok in extra.items())

    if not (isinstance(records, list) and len(records) == n and all(map(well_formed, records))):
        raise ExerciseError(
            f"{name}'s answers did not come back as {n} records (a tensor, or the error your "
            "code raised)"
        )
    return records


def _learner_array(record: dict, what: str) -> np.ndarray:
    """The learner's answer from its record (its error raised as feedback)."""
    if "error" in record:
        raise ExerciseError(record["error"])
    if "returned" in record:
        raise ExerciseError(f"{what} returned {record['returned']}; expected a tensor")
    return record["value"]


# ------------------------------------------------------------------ 3. greedy generation

#: A small random GPT-2 with well-separated logits (transformers' initialisation with a
#: large std); its weights are drawn from the seed.
SMALL_GPT2 = dict(
    vocab_size=97,
    n_positions=48,
    n_embd=32,
    n_layer=2,
    n_head=4,
    initializer_range=0.3,
    bos_token_id=None,  # the defaults (50256) lie outside this vocabulary
    eos_token_id=None,
)
#: (batch, prompt length, new tokens) of each generation case
GENERATION_CASES = ((1, 4, 12), (2, 7, 10))
#: a greedy step whose two best logits are closer than this could go either way in float32
CLEAR_GAP = 1e-3


class _OwnRandomStreams:
    """Leaves the learner's random streams (torch's and ``aigc_course``'s) as they were: building
    a model draws its initial weights from them."""

    def __enter__(self):
        import torch

        from .. import random

        self.torch_state = torch.random.get_rng_state()
        self.state = random._rng.bit_generator.state

    def __exit__(self, *exc):
        import torch

        from .. import random

        torch.random.set_rng_state(self.torch_state)
        random._rng.bit_generator.state = self.state


def _small_weights(seed: int) -> dict[str, np.ndarray]:
    """transformers' random initialisation of :data:`SMALL_GPT2`, from ``seed`` (torch's seed 0
    in a notebook), as numpy arrays in transformers' layout."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    with _OwnRandomStreams():
        torch.manual_seed(seed)
        hf = GPT2LMHeadModel(GPT2Config(**SMALL_GPT2))
    return {k: v.detach().numpy().copy() for k, v in hf.state_dict().items()}


def _hf_model(config: dict, weights: dict):
    """transformers' GPT-2 with the given configuration and weights."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    with _OwnRandomStreams():
        hf = GPT2LMHeadModel(GPT2Config(**config))
    hf.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return hf.eval()


def _our_model(config: dict, weights: dict):
    """Our ``GPT2LMHeadModel`` with the same weights (what the learner's code is handed)."""
    from ..models import GPT2LMHeadModel

    hf = _hf_model(config, weights)
    with _OwnRandomStreams():
        return GPT2LMHeadModel.from_hf(hf)


#: transformers' models and greedy answers, by a digest of their inputs: the judge draws the
#: inputs (checking for near ties) and then judges with the same weights and prompts
_REFERENCE_CACHE: dict = {}


def _digest(config: dict, weights: dict, *arrays: np.ndarray) -> str:
    h = hashlib.blake2b(repr(sorted(config.items())).encode(), digest_size=16)
    for key in sorted(weights):
        h.update(key.encode())
        h.update(np.ascontiguousarray(weights[key]).tobytes())
    for a in arrays:
        h.update(repr((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _hf_greedy(config: dict, weights: dict, prompt: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """transformers' greedy ids (B, T + n) and the smallest gap between the two best logits
    over the n steps."""
    import torch

    key = _digest(config, weights, prompt, np.array(n))
    if key in _REFERENCE_CACHE:
        return _REFERENCE_CACHE[key]
    model_key = _digest(config, weights)
    if model_key not in _REFERENCE_CACHE:
        _REFERENCE_CACHE.clear()  # one model at a time
        _REFERENCE_CACHE[model_key] = _hf_model(config, weights)
    hf = _REFERENCE_CACHE[model_key]
    with torch.no_grad():  # the mask says no token is padding, though some ids are 0
        out = hf.generate(
            torch.from_numpy(prompt),
            attention_mask=torch.ones(prompt.shape, dtype=torch.long),
            max_new_tokens=n,
            do_sample=False,
            pad_token_id=0,
            output_scores=True,
            return_dict_in_generate=True,
        )
    best_two = torch.stack(out.scores).topk(2, dim=-1).values  # (n, B, 2)
    gap = float((best_two[..., 0] - best_two[..., 1]).min())
    _REFERENCE_CACHE[key] = (out.sequences.numpy(), gap)
    return _REFERENCE_CACHE[key]


def _generation_inputs(seed: int, offset: int) -> dict:
    """The small GPT-2's weights (from ``seed``) and a prompt per case (from ``seed +
    offset``), redrawn until no greedy step is a near tie."""
    weights = _small_weights(seed)
    rng = np.random.default_rng(seed + offset)
    cases = []
    for B, T, n in GENERATION_CASES:
        for _ in range(20):
            prompt = rng.integers(0, SMALL_GPT2["vocab_size"], (B, T))
            if _hf_greedy(SMALL_GPT2, weights, prompt, n)[1] > CLEAR_GAP:
                break
        cases.append({"prompt": prompt, "steps": n})
    return {"config": dict(SMALL_GPT2), "weights": weights, "cases": cases}


def _greedy_what(prompt: np.ndarray, n: int) -> str:
    return f"greedy_generate(model, ids of shape {tuple(prompt.shape)}, {n})"


def _greedy_run(data: dict, greedy_generate) -> list[dict]:
    """The kernel's half: the learner's ids for each prompt, on our GPT-2 with the given
    weights, as plain data."""
    model = _our_model(data["config"], data["weights"])
    return [
        _value_record(
            greedy_generate,
            model,
            from_numpy(case["prompt"].copy()),
            case["steps"],
            what=_greedy_what(case["prompt"], case["steps"]),
        )
        for case in data["cases"]
    ]


def _greedy_judge(data: dict, records) -> str:
    """The judge's half: each answer against transformers' ``generate(do_sample=False)`` with
    the same weights, with the hints of the known mistakes."""
    records = _records(records, len(data["cases"]), "greedy_generate")
    for case, record in zip(data["cases"], records):
        prompt, n = case["prompt"], case["steps"]
        T = prompt.shape[1]
        expected = _hf_greedy(data["config"], data["weights"], prompt, n)[0]
        what = _greedy_what(prompt, n)
        got = _learner_array(record, what)
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
    return "greedy_generate gives transformers' greedy ids (batch 1 and 2)"


#: The protocol: a small GPT-2's weights and prompts (drawn from the seed) in; the learner's
#: ids out; compared with transformers' greedy ``generate`` with the same weights.
GREEDY_PROTOCOL = Protocol(lambda seed: _generation_inputs(seed, 2), _greedy_run, _greedy_judge)


@uses(GREEDY_PROTOCOL)
def check_greedy_generate(greedy_generate) -> None:
    """``greedy_generate(model, ids, max_new_tokens)`` must return the prompt followed by the
    greedy tokens, (B, T + max_new_tokens), as transformers' ``generate(do_sample=False)``."""
    GREEDY_PROTOCOL.check(greedy_generate)


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


def _cached_record(generate, model, prompt: np.ndarray, n: int, attention, what: str) -> dict:
    """The kernel's half of a cached-generation case: the learner's ids as plain data, with the
    (T, S) of each call to the attention function it was given."""
    recorder = _Recorder(attention)
    ids = from_numpy(prompt.copy())
    # a closure, so that a failure's message names the ids' shape, not the model's repr
    record = _value_record(lambda: generate(model, ids, n, recorder), what=what)
    return {**record, "calls": [list(call) for call in recorder.calls]}


def _is_calls(calls) -> bool:
    """Whether ``calls`` is a list of (T, S) pairs of ints, as :func:`_cached_record` sends."""
    return isinstance(calls, list) and all(
        isinstance(c, (list, tuple)) and len(c) == 2 and all(type(x) is int for x in c)
        for c in calls
    )


def _cached_generate_error(
    record: dict, prompt: np.ndarray, expected: np.ndarray, n_layer: int, variant, what: str
) -> str | None:
    """What is wrong with a cached-generation record, or None; ``variant(**mistake)`` gives
    the ids of a known mistake (computed in the judge with the reference attention)."""
    got = _learner_array(record, what)
    n = expected.shape[1] - prompt.shape[1]
    T = prompt.shape[1]
    calls = record["calls"]
    if not calls:
        return (
            f"{what} never called the attention function it was given: use it in every layer, "
            "attention(q, k, v) on the heads (B, n_head, T, hs)"
        )
    if got.shape == expected.shape and np.array_equal(got, expected):
        later = [t for t, _ in calls[n_layer:]]
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
    # On a small model two mistakes can give the same ids; then name every one that fits.
    fits = []
    for hint, kwargs in variants.items():
        wrong = variant(**kwargs)
        if np.array_equal(got, wrong) and not np.array_equal(wrong, expected):
            fits.append(hint)
    if len(fits) == 1:
        return f"{what}: {fits[0]}"
    if fits:
        return f"{what}: the ids fit more than one known mistake; either " + "; or ".join(fits)
    b, t = np.argwhere(got != expected)[0]
    return (
        f"{what}: row {b} first differs at position {t}: yours {got[b, t]}, transformers' "
        f"{expected[b, t]}"
    )


def _variants_of(model, prompt: np.ndarray, n: int):
    """``variant(**mistake)``: the ids of a known mistake on ``model`` (built when first
    needed), with the reference attention."""
    built = []

    def variant(**kwargs) -> np.ndarray:
        if not built:
            built.append(model())
        ids = from_numpy(prompt.copy())
        return as_numpy(_cached_variant(built[0], ids, n, reference_attention, **kwargs))

    return variant


def _cached_what(prompt: np.ndarray, n: int) -> str:
    return f"cached_generate(model, ids of shape {tuple(prompt.shape)}, {n}, attention)"


def _cached_run(data: dict, cached_generate) -> list[dict]:
    """The kernel's half: the learner's ids for each prompt, with the reference attention, and
    the shapes its attention calls had."""
    model = _our_model(data["config"], data["weights"])
    return [
        _cached_record(
            cached_generate,
            model,
            case["prompt"],
            case["steps"],
            reference_attention,
            _cached_what(case["prompt"], case["steps"]),
        )
        for case in data["cases"]
    ]


def _cached_judge(data: dict, records) -> str:
    """The judge's half: each answer against transformers' greedy ``generate``, then the use
    of the cache (queries of length 1 after the prompt), with the hints of the known
    mistakes."""
    records = _records(records, len(data["cases"]), "cached_generate", {"calls": _is_calls})
    for case, record in zip(data["cases"], records):
        prompt, n = case["prompt"], case["steps"]
        expected = _hf_greedy(data["config"], data["weights"], prompt, n)[0]
        variant = _variants_of(lambda: _our_model(data["config"], data["weights"]), prompt, n)
        what = _cached_what(prompt, n)
        error = _cached_generate_error(
            record, prompt, expected, data["config"]["n_layer"], variant, what
        )
        if error:
            raise ExerciseError(error)
    return "cached_generate gives transformers' greedy ids, one position per step after the prompt"


#: The protocol: a small GPT-2's weights and prompts (drawn from the seed) in; the learner's
#: ids and the (T, S) of its attention calls out; compared with transformers' greedy
#: ``generate`` with the same weights.
CACHED_PROTOCOL = Protocol(lambda seed: _generation_inputs(seed, 5), _cached_run, _cached_judge)


@uses(CACHED_PROTOCOL)
def check_cached_generate(cached_generate) -> None:
    """``cached_generate(model, ids, max_new_tokens, attention)`` must return what
    transformers' greedy ``generate`` returns, (B, T + max_new_tokens), running our GPT-2's
    layers itself with a key/value cache: the prompt once, then one token per step, every
    layer's attention computed by ``attention(q, k, v)`` (given; chapter 8's exercise 2)."""
    CACHED_PROTOCOL.check(cached_generate)


# ------------------------------------------------------------------ milestone 3

#: The milestone's prompts: "The <subject> <predicate>", the sort of sentence the shipped GPT-2
#: was trained on (Python's documentation). A notebook (seed 0) uses the first,
#: "The for statement is used to"; the grader draws one from its secret seed.
PROMPT_SUBJECTS = (
    "for statement",
    "while loop",
    "list",
    "dictionary",
    "function",
    "module",
    "class",
    "file object",
    "iterator",
    "string",
    "exception",
    "tuple",
    "generator",
    "decorator",
    "method",
    "set",
)
PROMPT_PREDICATES = (
    "is used to",
    "returns",
    "can be",
    "is a",
    "must be",
    "is called when",
    "will raise",
    "contains",
)
MILESTONE_TOKENS = 24
#: a drawn prompt is redrawn when fewer of its greedy steps than this are clear calls
MILESTONE_MIN_CLEAR = 8
MILESTONE_PIECES = (
    "encode (chapter 7, exercise 6)",
    "attention (chapter 8, exercise 2)",
    "cached_generate (exercise 5)",
)


def _missing(encode, attention, cached_generate, model) -> list[str]:
    """The pieces that still raise NotImplementedError, on tiny inputs (in the kernel)."""
    from .. import randn, tensor
    from ..tokenizers import BYTE_TO_UNICODE

    vocab = {BYTE_TO_UNICODE[b]: b for b in range(256)}
    probes = {
        MILESTONE_PIECES[0]: lambda: encode("a", vocab, []),
        MILESTONE_PIECES[1]: lambda: attention(*(randn(1, 1, 2, 4) for _ in "qkv")),
        MILESTONE_PIECES[2]: lambda: cached_generate(
            model, tensor([[1, 2]]), 1, reference_attention
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


@functools.lru_cache(maxsize=1)
def _shipped():
    """The shipped GPT-2 in transformers, its fast tokenizer, and its files (vocab, merges)."""
    import transformers

    from ..models.hub import SHIPPED_MODEL_DIR
    from ..tokenizers import BPETokenizer

    hf = transformers.GPT2LMHeadModel.from_pretrained(SHIPPED_MODEL_DIR).eval()
    tokenizer = transformers.GPT2TokenizerFast.from_pretrained(SHIPPED_MODEL_DIR)
    return hf, tokenizer, BPETokenizer.from_pretrained(SHIPPED_MODEL_DIR)


@functools.lru_cache(maxsize=16)
def _shipped_greedy(ids: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """transformers' greedy continuation of ``ids`` by the shipped GPT-2, (1, T + n), cut
    before the first step whose two best logits are under 1e-3 apart (too close to call),
    and that number of clear steps n."""
    import torch

    hf = _shipped()[0]
    with torch.no_grad():
        out = hf.generate(
            torch.tensor([list(ids)]),
            max_new_tokens=MILESTONE_TOKENS,
            do_sample=False,
            pad_token_id=hf.generation_config.eos_token_id,
            output_scores=True,
            return_dict_in_generate=True,
        )
    scores = torch.stack(out.scores)[:, 0]  # (steps, V)
    best_two = scores.topk(2, dim=-1).values
    clear = (best_two[:, 0] - best_two[:, 1] > CLEAR_GAP).tolist() + [False]
    n = clear.index(False)  # the steps before the first too-close call
    return out.sequences[:, : len(ids) + n].numpy(), n


def _milestone_prompt(seed: int) -> tuple[str, int]:
    """A prompt drawn from ``seed`` (the first one for seed 0) and its number of clear steps;
    redrawn while fewer than :data:`MILESTONE_MIN_CLEAR` steps are clear."""
    P = len(PROMPT_PREDICATES)
    count = len(PROMPT_SUBJECTS) * P
    tokenizer = _shipped()[1]
    best = (-1, "")
    for k in [seed % count, *np.random.default_rng(seed).permutation(count)[:9]]:
        prompt = f"The {PROMPT_SUBJECTS[k // P]} {PROMPT_PREDICATES[k % P]}"
        n = _shipped_greedy(tuple(tokenizer(prompt)["input_ids"]))[1]
        if n >= MILESTONE_MIN_CLEAR:
            return prompt, n
        best = max(best, (n, prompt))
    return best[1], best[0]


class _Capture:
    """Stands in for the learner's function while a chapter's check runs on a right answer
    (``oracle``), and records the arguments of every call: the calls that the judge's
    :class:`_Replay` will make."""

    def __init__(self, oracle):
        self.oracle = oracle
        self.calls: list[tuple] = []

    def __call__(self, *args):
        self.calls.append(args)
        return self.oracle(*args)


class _Replay:
    """The learner's function as the judge sees it: the i-th call is answered with the kernel's
    record of the i-th call, provided its arguments are the ones the kernel was given."""

    def __init__(self, name: str, calls: list, records: list, same):
        self.__name__ = name
        self.calls, self.records, self.same = calls, records, same
        self.i = 0

    def __call__(self, *args):
        i, self.i = self.i, self.i + 1
        if i >= len(self.calls) or not self.same(args, self.calls[i]):
            raise ExerciseError(
                f"the kernel's record of your {self.__name__}'s answers does not match the "
                "calls that the check makes"
            )
        return _replayed(self.records[i])


def _call_record(fn, *args) -> dict:
    """One call of the learner's function, in the kernel: ``{"result": plain data}`` (a tensor
    as a numpy array), ``{"raise": name, "message": ...}``, or ``{"notplain": type name}``."""
    try:
        result = fn(*args)
    except Exception as e:
        return {"raise": type(e).__name__, "message": str(e)[:2000]}
    try:
        if hasattr(result, "shape") and not isinstance(result, np.ndarray):
            result = np.array(as_numpy(result))
        return {"result": to_plain(result)}
    except Exception:
        return {"notplain": type(result).__name__}


class _NotPlain:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<a {self.name}>"


def _replayed(record: dict):
    """What the learner's function gave, as recorded: its result, or its exception raised
    again (as an exception of the same name and message: the judge runs none of its code)."""
    if "result" in record:
        return record["result"]
    if "notplain" in record:
        return _NotPlain(str(record["notplain"])[:100])
    name, message = str(record["raise"])[:100], str(record["message"])
    if name == "NotImplementedError":
        raise NotImplementedError(message)
    cls = type(name if name.isidentifier() else "Exception", (Exception,), {})
    cls.__str__ = lambda self: message
    raise cls()


def _is_call_record(record) -> bool:
    if not isinstance(record, dict) or len(record) not in (1, 2):
        return False
    if set(record) == {"raise", "message"}:
        return isinstance(record["raise"], str) and isinstance(record["message"], str)
    return set(record) == {"result"} or (
        set(record) == {"notplain"} and isinstance(record["notplain"], str)
    )


def _same_encode_call(vocabularies):
    def same(args, call) -> bool:
        text, vocab, merges = args
        want_text, k = call
        return text == want_text and (vocab, list(merges)) == tuple(vocabularies[k])

    return same


def _same_arrays(args, call) -> bool:
    return len(args) == len(call) and all(
        np.array_equal(as_numpy(a), c) for a, c in zip(args, call)
    )


def _oracle_encode():
    """The course's encoder (``BPETokenizer``), one per vocabulary."""
    from ..tokenizers import BPETokenizer

    made: list = []

    def encode(text, vocab, merges):
        for v, m, tokenizer in made:
            if v == vocab and m == merges:
                return tokenizer.encode(text)
        made.append((vocab, merges, BPETokenizer(vocab, merges)))
        return made[-1][2].encode(text)

    return encode


def _milestone_inputs(seed: int) -> dict:
    """A prompt (from ``seed``) and its number of clear greedy steps; the calls that chapter
    7's check of ``encode`` and chapter 8's check of ``attention`` make (captured on the
    course's own answers; chapter 8's inputs come from the seed), the vocabularies once each."""
    from .ch07 import _encode_error
    from .ch08 import _attention_error

    prompt, n = _milestone_prompt(seed)
    encodes, attentions = _Capture(_oracle_encode()), _Capture(reference_attention)
    if _encode_error(encodes) or _attention_error(attentions):
        raise RuntimeError("the course's own encode or attention fails its chapter's check")
    files = _shipped()[2]
    vocabularies: list[list] = []

    def index(vocab, merges) -> int:
        for k, (v, m) in enumerate(vocabularies):
            if v == vocab and m == list(merges):
                return k
        vocabularies.append([dict(vocab), list(merges)])
        return len(vocabularies) - 1

    encode_calls = [[text, index(vocab, merges)] for text, vocab, merges in encodes.calls]
    return {
        "prompt": prompt,
        "prompt_vocabulary": index(files.get_vocab(), files.merges),
        "steps": n,
        "vocabularies": vocabularies,
        "encode_calls": encode_calls,
        "attention_calls": [[as_numpy(a).copy() for a in call] for call in attentions.calls],
    }


def _milestone_what() -> str:
    return "your cached_generate (exercise 5) with your attention (chapter 8)"


def _milestone_run(data: dict, encode, attention, cached_generate) -> dict:
    """The kernel's half: which pieces are missing; every answer of ``encode`` and
    ``attention`` on the calls their chapters' checks make; the prompt's ids by the learner's
    ``encode``; and the learner's greedy continuation of them on the shipped GPT-2, with the
    learner's attention and with the reference one. All plain data."""
    from ..models import GPT2LMHeadModel
    from ..models.hub import SHIPPED_MODEL_DIR

    model = GPT2LMHeadModel.from_pretrained(str(SHIPPED_MODEL_DIR)).eval()
    vocabularies = data["vocabularies"]

    def encoded(text: str, k: int) -> dict:
        vocab, merges = vocabularies[k]
        return _call_record(encode, text, dict(vocab), list(merges))

    out = {
        "missing": _missing(encode, attention, cached_generate, model),
        "encode": [encoded(text, k) for text, k in data["encode_calls"]],
        "attention": [
            _call_record(attention, *(from_numpy(a.copy()) for a in call))
            for call in data["attention_calls"]
        ],
        "prompt": encoded(data["prompt"], data["prompt_vocabulary"]),
        "generation": None,
    }
    ids = out["prompt"].get("result")
    if isinstance(ids, (list, tuple)) and ids and all(type(i) is int for i in ids):
        prompt, n, what = np.array([list(ids)]), data["steps"], _milestone_what()
        out["generation"] = {
            "yours": _cached_record(cached_generate, model, prompt, n, attention, what),
            "reference": _cached_record(
                cached_generate, model, prompt, n, reference_attention, what
            ),
        }
    return out


def _milestone_outputs(data: dict, out) -> dict:
    """The kernel's outputs as the judge received them, refused unless well formed."""
    ok = isinstance(out, dict) and set(out) == {
        "missing",
        "encode",
        "attention",
        "prompt",
        "generation",
    }
    ok = ok and isinstance(out["missing"], list) and set(out["missing"]) <= set(MILESTONE_PIECES)
    for key, calls in (("encode", "encode_calls"), ("attention", "attention_calls")):
        ok = ok and isinstance(out[key], list) and len(out[key]) == len(data[calls])
        ok = ok and all(map(_is_call_record, out[key]))
    ok = ok and _is_call_record(out["prompt"])
    generation = out["generation"] if ok else None
    if generation is not None:
        ok = isinstance(generation, dict) and set(generation) == {"yours", "reference"}
        for record in generation.values() if ok else []:
            _records([record], 1, "cached_generate", {"calls": _is_calls})
    if not ok:
        raise ExerciseError("the milestone's answers did not come back in the protocol's form")
    return out


def _milestone_judge(data: dict, out) -> str:
    """The judge's half: the missing pieces; each piece against its own chapter's check
    (replayed from the kernel's records); the prompt's ids against transformers' tokenizer;
    the continuation against transformers' greedy ``generate`` on the shipped GPT-2."""
    from .ch07 import _encode_error
    from .ch08 import _attention_error

    out = _milestone_outputs(data, out)
    missing = [piece for piece in MILESTONE_PIECES if piece in out["missing"]]
    if missing:
        raise ExerciseError(
            "milestone 3 is not implemented yet: write (or paste) " + ", ".join(missing)
        )
    vocabularies = data["vocabularies"]

    def encode():
        return _Replay(
            "encode", data["encode_calls"], out["encode"], _same_encode_call(vocabularies)
        )

    def attention():
        return _Replay("attention", data["attention_calls"], out["attention"], _same_arrays)

    # each piece on its own first, with its chapter's checks: a piece can be wrong in a way
    # that one prompt does not show (a mask that sees one token ahead changes only the prompt's
    # earlier positions, which a weak model may ignore)
    for piece, error in [
        (MILESTONE_PIECES[0], lambda: _encode_error(encode())),
        (MILESTONE_PIECES[1], lambda: _attention_error(attention())),
    ]:
        message = error()
        if message:
            raise ExerciseError(f"your {piece} is not right yet: {message}")
    hf, tokenizer, files = _shipped()
    prompt, k = data["prompt"], data["prompt_vocabulary"]
    expected_ids = tokenizer(prompt)["input_ids"]
    replay = _Replay("encode", [[prompt, k]], [out["prompt"]], _same_encode_call(vocabularies))
    vocab, merges = vocabularies[k]
    ids = run_learner(replay, prompt, dict(vocab), list(merges), what="your encode (chapter 7)")
    if not isinstance(ids, (list, tuple)) or list(ids) != expected_ids:
        raise ExerciseError(
            f"your encode (chapter 7) gives {ids} for {prompt!r}; transformers' tokenizer on "
            f"the shipped files gives {expected_ids}."
        )
    if out["generation"] is None:
        raise ExerciseError("the milestone's answers did not come back in the protocol's form")
    expected, n = _shipped_greedy(tuple(expected_ids))
    if n != data["steps"]:
        raise RuntimeError(f"the shipped GPT-2 gave {n} clear steps, {data['steps']} before")
    prompt_ids = np.array([expected_ids])

    def ours():
        from ..models import GPT2LMHeadModel
        from ..models.hub import SHIPPED_MODEL_DIR

        return GPT2LMHeadModel.from_pretrained(str(SHIPPED_MODEL_DIR)).eval()

    variant = _variants_of(ours, prompt_ids, n)
    n_layer, what = hf.config.n_layer, _milestone_what()
    generation = out["generation"]
    error = _cached_generate_error(
        generation["yours"], prompt_ids, expected, n_layer, variant, what
    )
    if error:
        if _cached_generate_error(
            generation["reference"], prompt_ids, expected, n_layer, variant, what
        ):
            raise ExerciseError(error)
        raise ExerciseError(
            f"{error}. With a reference attention your cached_generate is right, so the "
            f"difference is in your attention (chapter 8): {_attention_error(attention())}"
        )
    text = files.decode(expected[0, len(expected_ids) :].tolist())
    return (
        f"milestone 3: your encode, attention and cached_generate reproduce transformers' "
        f"greedy continuation of the shipped GPT-2, {n} of {n} tokens\n{prompt!r} + {text!r}"
    )


#: The protocol: a prompt (drawn from the seed), the calls of chapters 7 and 8's checks, in;
#: every answer of the learner's encode and attention, the prompt's ids and its greedy
#: continuation by the learner's cached_generate on the shipped GPT-2, out; judged against
#: chapters 7 and 8's checks (replayed) and transformers' tokenizer and ``generate``.
MILESTONE_PROTOCOL = Protocol(_milestone_inputs, _milestone_run, _milestone_judge)


@uses(MILESTONE_PROTOCOL)
def check_milestone_gpt2(encode, attention, cached_generate) -> None:
    """Milestone 3: your tokenizer, attention and decoding loop reproduce GPT-2.

    The shipped GPT-2's files are read (``vocab.json``, ``merges.txt``, the weights); a prompt
    is encoded with your ``encode(text, vocab, merges)`` (chapter 7) and must give the ids of
    transformers' tokenizer; then your ``cached_generate(model, ids, n, attention)`` (this
    chapter), with your ``attention(q, k, v)`` (chapter 8) in every layer, must continue it
    token for token as transformers' greedy ``GPT2LMHeadModel.generate`` does. Steps where the
    two best logits are too close to call (under 1e-3 apart) end the comparison there. Each
    piece is first checked on its own, with its chapter's checks.
    """
    MILESTONE_PROTOCOL.check(encode, attention, cached_generate)
