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
        (lambda T: ac.ones(T, T, dtype=ac.bool).tril(1), "sees one token ahead \\(tril\\(1\\)\\)"),
        (lambda T: ~good_mask(T), "swapped"),
        (lambda T: ac.ones(T, T).tril(), "dtype"),
        (lambda T: ac.ones(T, T + 1, dtype=ac.bool).tril(), "shape"),
        (lambda T: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_causal_mask_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_causal_mask(wrong)


# ------------------------------------------------------------------ attention


def make_attention(scale=True, mask="good", dim=-1, scores="qk", dtype=None):
    """Causal attention written from the formula, or with one usual mistake."""

    def attention(q, k, v):
        if dtype is not None:
            q, k, v = (t.to(dtype) for t in (q, k, v))
        T, S, hs = q.shape[-2], k.shape[-2], q.shape[-1]
        s = q @ k.transpose(-2, -1) if scores == "qk" else (k @ q.transpose(-2, -1))
        if scale:
            s = s / math.sqrt(hs)
        full = ac.ones(S, S, dtype=ac.bool)
        keep = {
            "good": full.tril()[S - T :],
            "ahead": full.tril(1)[S - T :],
            "first_rows": full.tril()[:T],
            "none": full[S - T :],
            "inverted": ~full.tril()[S - T :],
            "no_diagonal": full.tril(-1)[S - T :],
            "after": full.tril()[S - T :],
        }[mask]
        if mask != "after":
            s = s.masked_fill(~keep, float("-inf"))
        w = s.softmax(dim=dim)
        if mask == "after":
            w = w * keep
        return w @ v

    return attention


def test_attention_passes_in_float32_and_float64(capsys):
    ch08.check_attention(make_attention())
    ch08.check_attention(make_attention(dtype=ac.float64))

    def torch_sdpa(q, k, v):  # torch's fused kernel, fed the (T, S) mask
        import torch

        T, S = q.shape[-2], k.shape[-2]
        keep = torch.ones(S, S, dtype=torch.bool).tril()[S - T :]
        y = torch.nn.functional.scaled_dot_product_attention(
            *(ac.to_torch(t) for t in (q, k, v)), attn_mask=keep
        )
        return ac.from_torch(y)

    ch08.check_attention(torch_sdpa)
    assert capsys.readouterr().out.count("✓ attention matches") == 3


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_attention(scale=False), "no scaling"),
        (make_attention(mask="none"), "no causal mask"),
        (make_attention(mask="ahead"), "sees one token ahead \\(tril\\(1\\)\\)"),
        (make_attention(mask="inverted"), "NaN in the last query's output: the mask is inverted"),
        (make_attention(mask="no_diagonal"), "NaN in the first query's output"),
        (make_attention(scores="kq"), "the scores are k @ qᵀ"),
        (make_attention(dim=-2), "wrong axis"),
        (make_attention(mask="after"), "after the softmax"),
        (make_attention(mask="first_rows"), "the \\*last\\* T of the S"),
        (lambda q, k, v: q[..., :1], "shape"),
        (lambda q, k, v: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
    ],
)
def test_attention_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_attention(wrong)


# ------------------------------------------------------------------ grouped-query attention


def make_gqa(groups="interleave", merge="good", proj=True, dtype=None):
    attend = make_attention()

    def gqa(x, w_attn, b_attn, w_proj, b_proj, n_head, n_kv_head):
        if dtype is not None:
            x, w_attn, b_attn, w_proj, b_proj = (
                t.to(dtype) for t in (x, w_attn, b_attn, w_proj, b_proj)
            )
        B, T, C = x.shape
        hs, g = C // n_head, n_head // n_kv_head
        qkv = x @ w_attn.T + b_attn
        q = qkv[:, :, :C].reshape(B, T, n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = qkv[:, :, C : C + n_kv_head * hs].reshape(B, T, n_kv_head, hs).transpose(1, 2)
        v = qkv[:, :, C + n_kv_head * hs :].reshape(B, T, n_kv_head, hs).transpose(1, 2)
        if groups == "interleave":
            index = [h // g for h in range(n_head)]
        else:
            index = [h % n_kv_head for h in range(n_head)]
        y = attend(q, k[:, index], v[:, index])  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C) if merge == "good" else y.reshape(B, T, C)
        return y @ w_proj.T + b_proj if proj else y

    return gqa


def test_grouped_query_attention_passes(capsys):
    ch08.check_grouped_query_attention(make_gqa())
    ch08.check_grouped_query_attention(make_gqa(dtype=ac.float64))
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_gqa(groups="tile"), "h // \\(n_head // n_kv_head\\)"),
        (make_gqa(merge="bad"), "merged with y.reshape"),
        (make_gqa(proj=False), "c_proj"),
    ],
)
def test_grouped_query_attention_hints(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        ch08.check_grouped_query_attention(wrong)


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
