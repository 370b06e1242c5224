"""aigc_course.generation against transformers' logits warpers, and the sampler's distribution.

Our random numbers come from numpy, so sampled tokens cannot equal torch's; sampling is tested
by its distribution instead (frequencies against the softmax, support against the filters).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import pytest
import torch
from opinfo import assert_same
from transformers.generation.logits_process import (
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

import aigc_course as ac
from aigc_course.generation import (
    apply_temperature,
    next_token,
    top_k_filter,
    top_p_filter,
)

SHAPES = [(1, 7), (3, 50), (2, 1000), (4, 50257)]


def random_logits(shape, seed=0, scale=3.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_temperature_matches_transformers(shape, temperature):
    z = random_logits(shape)
    expected = TemperatureLogitsWarper(temperature)(None, torch.from_numpy(z))
    assert_same(apply_temperature(ac.tensor(z), temperature), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("k", [1, 2, 5, 40, 100000])
def test_top_k_matches_transformers(shape, k):
    z = random_logits(shape, seed=k)
    expected = TopKLogitsWarper(k)(None, torch.from_numpy(z))
    got = top_k_filter(ac.tensor(z), k)
    assert_same(got, expected, rtol=1e-6, atol=1e-6)
    assert ((got.numpy() > -np.inf).sum(-1) == min(k, shape[1])).all()


def test_top_k_keeps_ties_with_the_kth_like_transformers():
    z = np.array([[1.0, 3.0, 2.0, 2.0, 0.0], [5.0, 5.0, 5.0, 1.0, 1.0]], dtype=np.float32)
    for k in (1, 2, 3, 4):
        expected = TopKLogitsWarper(k)(None, torch.from_numpy(z))
        assert_same(top_k_filter(ac.tensor(z), k), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("p", [0.05, 0.3, 0.9, 0.999, 1.0])
def test_top_p_matches_transformers(shape, p):
    z = random_logits(shape, seed=int(p * 1000))
    expected = TopPLogitsWarper(p)(None, torch.from_numpy(z))
    assert_same(top_p_filter(ac.tensor(z), p), expected, rtol=1e-6, atol=1e-6)


def test_top_p_keeps_at_least_the_most_likely_token():
    z = np.array([[0.0, 10.0, 1.0]], dtype=np.float32)  # the best token alone holds > 99.9%
    expected = TopPLogitsWarper(1e-6)(None, torch.from_numpy(z))
    got = top_p_filter(ac.tensor(z), 1e-6)
    assert_same(got, expected, rtol=1e-6, atol=1e-6)
    assert got.tolist() == [[-np.inf, 10.0, -np.inf]]


def test_filters_compose_in_transformers_order():
    z = random_logits((3, 300), seed=5)
    t = torch.from_numpy(z)
    for warper in (TemperatureLogitsWarper(0.7), TopKLogitsWarper(50), TopPLogitsWarper(0.8)):
        t = warper(None, t)
    ours = top_p_filter(top_k_filter(apply_temperature(ac.tensor(z), 0.7), 50), 0.8)
    assert_same(ours, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda z: apply_temperature(z, 0.0), "temperature .* 0.0"),
        (lambda z: apply_temperature(z, -1.0), "temperature .* -1.0"),
        (lambda z: top_k_filter(z, 0), "top_k .* 0"),
        (lambda z: top_k_filter(z, 2.5), "top_k .* 2.5"),
        (lambda z: top_p_filter(z, 0.0), "top_p .* 0.0"),
        (lambda z: top_p_filter(z, 1.01), "top_p .* 1.01"),
    ],
)
def test_filters_reject_bad_values(call, match):
    z = ac.tensor(random_logits((1, 5)))
    before = z.numpy().copy()
    with pytest.raises(ValueError, match=match):
        call(z)
    np.testing.assert_array_equal(z.numpy(), before)  # the input is untouched


def test_filters_do_not_modify_their_input():
    z = ac.tensor(random_logits((2, 30)))
    before = z.numpy().copy()
    top_p_filter(top_k_filter(apply_temperature(z, 0.5), 3), 0.5)
    np.testing.assert_array_equal(z.numpy(), before)


# ---------------------------------------------------------------------- sampling


def test_greedy_next_token_is_the_argmax():
    z = random_logits((5, 100), seed=3)
    assert next_token(ac.tensor(z)).tolist() == torch.from_numpy(z).argmax(-1).tolist()


def test_sampling_frequencies_follow_the_softmax():
    """20,000 draws from one row: every token's frequency lies within 5 standard errors of
    its probability (computed by torch)."""
    z = random_logits((1, 8), seed=4, scale=1.0)
    rows = ac.tensor(np.repeat(z, 20_000, axis=0))
    draws = next_token(rows, do_sample=True, generator=ac.Generator().manual_seed(0)).numpy()
    p = torch.from_numpy(z[0]).softmax(-1).numpy().astype(np.float64)
    freq = np.bincount(draws, minlength=8) / draws.size
    stderr = np.sqrt(p * (1 - p) / draws.size)
    assert (np.abs(freq - p) < 5 * stderr + 1e-12).all(), (freq, p)


def test_sampling_with_temperature_follows_the_tempered_softmax():
    z = random_logits((1, 6), seed=6, scale=1.0)
    rows = ac.tensor(np.repeat(z, 20_000, axis=0))
    draws = next_token(rows, True, temperature=0.5, generator=ac.Generator().manual_seed(1)).numpy()
    p = (torch.from_numpy(z[0]) / 0.5).softmax(-1).numpy().astype(np.float64)
    freq = np.bincount(draws, minlength=6) / draws.size
    assert (np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / draws.size) + 1e-12).all()


def test_sampling_stays_inside_the_filters_support():
    z = random_logits((2000, 64), seed=7)
    t = torch.from_numpy(z)
    allowed = TopPLogitsWarper(0.7)(None, TopKLogitsWarper(10)(None, t)) > -np.inf
    draws = next_token(
        ac.tensor(z), True, top_k=10, top_p=0.7, generator=ac.Generator().manual_seed(2)
    )
    assert draws.dtype is ac.int64
    assert allowed[torch.arange(2000), torch.from_numpy(draws.numpy())].all()
    assert len(np.unique(draws.numpy())) > 10  # not degenerate: many different tokens drawn


def test_sampling_repeats_with_the_same_seed_and_uses_the_global_generator():
    z = ac.tensor(random_logits((50, 40), seed=8))
    a = next_token(z, True, generator=ac.Generator().manual_seed(5))
    b = next_token(z, True, generator=ac.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()
    ac.manual_seed(3)
    c = next_token(z, True)
    ac.manual_seed(3)
    assert next_token(z, True).tolist() == c.tolist()
