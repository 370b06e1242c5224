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
