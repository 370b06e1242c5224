"""Chapter 8's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import math

import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch08

pytest.importorskip("transformers")

# ------------------------------------------------------------------ causal mask


def good_mask(T):
    return ac.ones(T, T, dtype=ac.bool).tril()


def test_causal_mask_passes(capsys):
    ch08.check_causal_mask(good_mask)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda T: ac.ones(T, T, dtype=ac.bool).triu(), "upper triangle"),
        (lambda T: ac.ones(T, T, dtype=ac.bool).tril(-1), "diagonal is missing"),
        (lambda T: ~good_mask(T), "swapped"),
        (lambda T: ac.ones(T, T).tril(), "dtype"),
        (lambda T: ac.ones(T, T + 1, dtype=ac.bool).tril(), "shape"),
        (lambda T: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_causal_mask_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_causal_mask(wrong)


# ------------------------------------------------------------------ one head


def make_head(scale="hs", mask="before", dim=-1):
    def head(x, wq, wk, wv):
        q, k, v = x @ wq, x @ wk, x @ wv  # (B, T, hs)
        T, hs, C = x.shape[1], q.shape[-1], x.shape[-1]
        s = q @ k.transpose(-2, -1)
        s = s / {"hs": math.sqrt(hs), "C": math.sqrt(C), "none": 1.0}[scale]
        keep = ac.ones(T, T, dtype=ac.bool).tril()
        if mask == "before":
            s = s.masked_fill(~keep, float("-inf"))
        w = s.softmax(dim=dim)
        if mask == "after":
            w = w * keep
        return w @ v

    return head


def test_attention_head_passes(capsys):
    ch08.check_attention_head(make_head())
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_head(scale="none"), "no scaling"),
        (make_head(scale="C"), "sqrt\\(C\\)"),
        (make_head(mask="none"), "no causal mask"),
        (make_head(dim=-2), "wrong axis"),
        (make_head(mask="after"), "after the softmax"),
    ],
)
def test_attention_head_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_attention_head(wrong)


# ------------------------------------------------------------------ multi-head


def make_mha(split="good", merge="good", proj=True, order="qkv"):
    def mha(x, w_attn, b_attn, w_proj, b_proj, n_head):
        B, T, C = x.shape
        hs = C // n_head
        q, k, v = (x @ w_attn.T + b_attn).split(C, dim=2)
        if order == "kqv":
            q, k = k, q

        def heads(t):
            if split == "good":
                return t.view(B, T, n_head, hs).transpose(1, 2)
            return t.reshape(B, n_head, T, hs)

        q, k, v = heads(q), heads(k), heads(v)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        s = s.masked_fill(~ac.ones(T, T, dtype=ac.bool).tril(), float("-inf"))
        y = s.softmax(dim=-1) @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C) if merge == "good" else y.reshape(B, T, C)
        return y @ w_proj.T + b_proj if proj else y

    return mha


def test_multi_head_attention_passes(capsys):
    ch08.check_multi_head_attention(make_mha())
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_mha(split="bad"), "split with view\\(B, n_head, T, hs\\)"),
        (make_mha(merge="bad"), "merged with y.reshape"),
        (make_mha(proj=False), "c_proj"),
        (make_mha(order="kqv"), "wrong order"),
    ],
)
def test_multi_head_attention_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_multi_head_attention(wrong)


# ------------------------------------------------------------------ parameter count


def count(c, tied=True, wpe=True, biases=True, norms=True, inner=None):
    V, P, C, L = c.vocab_size, c.n_positions, c.n_embd, c.n_layer
    inner = inner(c) if inner else (c.n_inner or 4 * C)
    per_block = 3 * C * C + C * C + 2 * C * inner
    if biases:
        per_block += 3 * C + C + inner + C
    if norms:
        per_block += 4 * C
    total = V * C + L * per_block + (2 * C if norms else 0)
    return total + (0 if tied else V * C) + (P * C if wpe else 0)


def test_num_params_passes(capsys):
    ch08.check_num_params(count)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda c: count(c, tied=False), "tied to wte"),
        (lambda c: count(c, wpe=False), "wpe"),
        (lambda c: count(c, biases=False), "biases"),
        (lambda c: count(c, norms=False), "LayerNorms"),
        (lambda c: count(c, inner=lambda c: 4 * c.n_embd), "n_inner"),
        (lambda c: count(c) + 1, "difference \\+1"),
    ],
)
def test_num_params_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_num_params(wrong)
