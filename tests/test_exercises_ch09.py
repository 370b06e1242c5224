"""Chapter 9's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch09

pytest.importorskip("transformers")

# ------------------------------------------------------------------ top-k


def topk(logits, k, fill=float("-inf"), strict=True, shift=0, exact=False):
    if exact:
        values, indices = logits.topk(k, dim=-1)
        out = ac.full(tuple(logits.shape), float("-inf"))
        return out.scatter(-1, indices, values)
    kth = logits.topk(min(k + shift, logits.shape[-1]), dim=-1)[0][..., -1:]
    drop = logits < kth if strict else logits <= kth
    return logits.masked_fill(drop, fill)


def test_top_k_passes(capsys):
    ch09.check_top_k_filter(topk)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda z, k: topk(z, k, fill=0.0), "not -inf"),
        (lambda z, k: topk(z, k, strict=False), "k-th largest logit itself is kept"),
        (lambda z, k: topk(z, k, exact=True), "ties"),
        (lambda z, k: topk(z, k, shift=1), "k \\+ 1"),
        (lambda z, k: z, "you keep"),
    ],
)
def test_top_k_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch09.check_top_k_filter(wrong)


# ------------------------------------------------------------------ top-p


def topp(logits, p, mode="good"):
    sorted_logits, idx = logits.sort(dim=-1, descending=True)
    if mode == "logits":
        cum = sorted_logits.cumsum(dim=-1)
        before = cum - sorted_logits
    else:
        probs = sorted_logits.softmax(dim=-1)
        cum = probs.cumsum(dim=-1)
        before = cum - probs
    sorted_remove = cum >= p if mode == "drop_crossing" else before >= p
    remove = sorted_remove.scatter(-1, idx, sorted_remove)
    if mode == "unsorted":
        probs = logits.softmax(dim=-1)
        remove = probs.cumsum(dim=-1) - probs >= p
    return logits.masked_fill(remove, float("-inf"))


def test_top_p_passes(capsys):
    ch09.check_top_p_filter(topp)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mode, hint",
    [
        ("drop_crossing", "past p is dropped"),
        ("logits", "softmax first"),
        ("unsorted", "vocabulary order"),
    ],
)
def test_top_p_hints(mode, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch09.check_top_p_filter(lambda z, p: topp(z, p, mode))


def test_top_p_not_implemented():
    def skeleton(z, p):
        raise NotImplementedError

    with pytest.raises(ExerciseError, match="not implemented"):
        ch09.check_top_p_filter(skeleton)


# ------------------------------------------------------------------ greedy generation


def greedy(model, ids, n, position=-1, grow=True, only_new=False, steps=None, pick="argmax"):
    prompt = ids
    with ac.no_grad():
        for _ in range(n if steps is None else steps):
            logits = model(ids if grow else prompt)  # (B, T, V)
            new = getattr(logits[:, position], pick)(dim=-1, keepdim=True)  # (B, 1)
            ids = ac.cat([ids, new], dim=1)
    return ids[:, prompt.shape[1] :] if only_new else ids


def test_greedy_passes(capsys):
    ch09.check_greedy_generate(greedy)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda m, i, n: greedy(m, i, n, only_new=True), "only the new tokens"),
        (lambda m, i, n: greedy(m, i, n, grow=False), "every new token is the same"),
        (lambda m, i, n: greedy(m, i, n, steps=n - 1), "shape"),
        (lambda m, i, n: greedy(m, i, n, position=0), "logits of the \\*last\\* position"),
        (lambda m, i, n: greedy(m, i, n, pick="argmin"), "first differs"),
    ],
)
def test_greedy_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch09.check_greedy_generate(wrong)


# ------------------------------------------------------------------ attention with a cache


def cached(q, k, v, self_first=True, scale=True, whole=False, only_new=False):
    T, d = q.shape
    keys, values, outputs = [], [], []
    for t in range(T):
        if self_first:
            keys.append(k[t])
            values.append(v[t])
        K = k if whole else (ac.stack([k[t]]) if only_new else ac.stack(keys)) if keys else None
        V = v if whole else (ac.stack([v[t]]) if only_new else ac.stack(values)) if values else None
        if K is None:
            outputs.append(ac.zeros(d))
        else:
            s = K @ q[t] / (d**0.5 if scale else 1.0)  # (S,)
            outputs.append(s.softmax(dim=-1) @ V)  # (d,)
        if not self_first:
            keys.append(k[t])
            values.append(v[t])
    return ac.stack(outputs)


def test_cached_attention_passes(capsys):
    ch09.check_cached_attention(cached)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda q, k, v: cached(q, k, v, only_new=True), "only to its own key"),
        (lambda q, k, v: cached(q, k, v, self_first=False), "appended after attending"),
        (lambda q, k, v: cached(q, k, v, scale=False), "no scaling"),
        (lambda q, k, v: cached(q, k, v, whole=True), "future leaks"),
        (lambda q, k, v: cached(q, k, v)[:-1], "shape"),
    ],
)
def test_cached_attention_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch09.check_cached_attention(wrong)


# ------------------------------------------------------------------ generation with a cache


def attention(q, k, v, ahead=0, dtype=None):
    """Causal attention from the formula (the T queries are the last T of S positions)."""
    import math

    if dtype is not None:
        q, k, v = (t.to(dtype) for t in (q, k, v))
    T, S = q.shape[-2], k.shape[-2]
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    keep = ac.ones(S, S, dtype=ac.bool).tril(ahead)[S - T :]
    return s.masked_fill(~keep, float("-inf")).softmax(dim=-1) @ v


def cached_generate(model, ids, n, attend, positions="right", extend=True, cache=True):
    """Greedy decoding with a list of per-layer (k, v), written from GPT-2's block."""
    tr, nh = model.transformer, model.config.n_head
    kv = [None] * len(tr.h)

    def forward(new):
        B, T = new.shape
        past = 0 if kv[0] is None else kv[0][0].shape[2]
        start = past if positions == "right" else 0
        h = tr.wte(new) + tr.wpe(ac.arange(start, start + T))
        C = h.shape[-1]
        for i, block in enumerate(tr.h):
            q, k, v = block.attn.c_attn(block.ln_1(h)).split(C, dim=2)
            q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in (q, k, v))
            if kv[i] is not None and extend:
                k, v = ac.cat([kv[i][0], k], dim=2), ac.cat([kv[i][1], v], dim=2)
            kv[i] = (k, v)
            h = h + block.attn.c_proj(attend(q, k, v).transpose(1, 2).reshape(B, T, C))
            h = h + block.mlp(block.ln_2(h))
        return model.lm_head(tr.ln_f(h))

    with ac.no_grad():
        for _ in range(n):
            if not cache:
                kv[:] = [None] * len(tr.h)  # recompute everything: no cache
            logits = forward(ids if (not cache or kv[0] is None) else ids[:, -1:])
            ids = ac.cat([ids, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return ids


def test_cached_generate_passes_in_float32_and_float64(capsys):
    ch09.check_cached_generate(cached_generate)

    def in_float64(q, k, v, given):  # the learner's layers in float64 around the given attention
        return given(*(t.to(ac.float64) for t in (q, k, v))).to(q.dtype)

    ch09.check_cached_generate(
        lambda m, i, n, a: cached_generate(m, i, n, lambda q, k, v: in_float64(q, k, v, a))
    )
    assert capsys.readouterr().out.count("✓ cached_generate gives") == 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda m, i, n, a: cached_generate(m, i, n, a, cache=False), "uses no cache"),
        (lambda m, i, n, a: cached_generate(m, i, n, a, positions="zero"), "wpe must get"),
        (lambda m, i, n, a: cached_generate(m, i, n, a, extend=False), "not extended"),
        (lambda m, i, n, a: cached_generate(m, i, n, a)[:, i.shape[1] :], "only the new"),
        (lambda m, i, n, a: cached_generate(m, i, n, attention), "never called the attention"),
        (lambda m, i, n, a: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_cached_generate_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch09.check_cached_generate(wrong)


# ------------------------------------------------------------------ milestone 3


def encode(text, vocab, merges):
    """GPT-2's encoder, written independently of BPETokenizer."""
    import re

    from aigc_course.tokenizers import BYTE_TO_UNICODE, merge_pair, split_words

    byte_ids = [vocab[BYTE_TO_UNICODE[b]] for b in range(256)]
    rank = {(vocab[a], vocab[b]): r for r, (a, b) in enumerate(merges)}
    made = set(byte_ids) | {vocab[a + b] for a, b in merges}
    specials = [t for t, i in vocab.items() if i not in made]
    pattern = "(" + "|".join(map(re.escape, specials)) + ")"
    ids = []
    for k, piece in enumerate(re.split(pattern, text) if specials else [text]):
        if k % 2:
            ids.append(vocab[piece])
            continue
        for chunk in split_words(piece):
            word = [byte_ids[b] for b in chunk.encode("utf-8")]
            while len(word) > 1:
                pair = min(zip(word, word[1:]), key=lambda p: rank.get(p, len(rank)))
                if pair not in rank:
                    break
                a, b = merges[rank[pair]]
                word = merge_pair(word, pair, vocab[a + b])
            ids += word
    return ids


def not_written(*args):
    raise NotImplementedError


def test_milestone_passes(capsys):
    ch09.check_milestone_gpt2(encode, attention, cached_generate)
    out = capsys.readouterr().out
    assert out.startswith("✓ milestone 3: your encode, attention and cached_generate reproduce")


def test_milestone_names_the_missing_pieces_and_the_faulty_one():
    with pytest.raises(
        ExerciseError,
        match=r"milestone 3 is not implemented yet: .*encode .*"
        r"cached_generate \(exercise 5\)",
    ) as err:
        ch09.check_milestone_gpt2(not_written, attention, not_written)
    assert "attention" not in str(err.value)
    with pytest.raises(
        ExerciseError, match="your encode \\(chapter 7, exercise 6\\) is not right yet"
    ):
        ch09.check_milestone_gpt2(lambda t, v, m: [v[c] for c in "The"], attention, cached_generate)
    with pytest.raises(
        ExerciseError,
        match="your attention \\(chapter 8, exercise 2\\) is not right yet: .*tril\\(1\\)",
    ):
        ch09.check_milestone_gpt2(encode, lambda q, k, v: attention(q, k, v, 1), cached_generate)
    with pytest.raises(ExerciseError, match="wpe must get"):
        ch09.check_milestone_gpt2(
            encode, attention, lambda m, i, n, a: cached_generate(m, i, n, a, positions="zero")
        )
