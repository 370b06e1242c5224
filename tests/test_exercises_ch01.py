"""Chapter 1's checkers: they pass correct solutions (written with aigc_course or with torch)
and give specific feedback for each kind of wrong answer."""

from __future__ import annotations

import re

import pytest
import torch

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch01


def not_written(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- broadcast_shapes


def broadcast_shapes(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"sizes {x} and {y} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def test_broadcast_shapes_accepts_a_correct_solution(capsys):
    ch01.check_broadcast_shapes(broadcast_shapes)
    ch01.check_broadcast_shapes(lambda a, b: list(ac.broadcast_shapes(a, b)))  # lists are fine
    assert capsys.readouterr().out.startswith("✓ broadcast_shapes agrees with torch")


def test_broadcast_shapes_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_broadcast_shapes(not_written)
    # aligning from the left instead of padding: wrong number of dimensions
    with pytest.raises(ExerciseError, match=r"returned \(5,\).*expected \(5, 3\).*pad"):
        ch01.check_broadcast_shapes(lambda a, b: tuple(max(x, y) for x, y in zip(a, b)))

    # taking the max: right until a size-0 dimension meets a 1
    def with_max(a, b):
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        return tuple(max(x, y) for x, y in zip(a, b, strict=True))

    with pytest.raises(ExerciseError, match=r"dimension 0 is wrong \(yours 1, expected 0\)"):
        ch01.check_broadcast_shapes(with_max)

    # never raising: the incompatible pairs must raise RuntimeError
    def never_raises(a, b):
        try:
            return broadcast_shapes(a, b)
        except RuntimeError:
            return (0,)

    with pytest.raises(ExerciseError, match=re.escape("(2, 3) and (3, 2) cannot broadcast")):
        ch01.check_broadcast_shapes(never_raises)

    def wrong_type(a, b):
        return "nope"

    with pytest.raises(ExerciseError, match="returned str 'nope'; return a tuple"):
        ch01.check_broadcast_shapes(wrong_type)


# ---------------------------------------------------------------- pairwise distances


def pairwise_sq_dists(X, Y):
    return ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)


def test_pairwise_sq_dists_accepts_both_libraries(capsys):
    ch01.check_pairwise_sq_dists(pairwise_sq_dists)
    ch01.check_pairwise_sq_dists(pairwise_sq_dists, lib="torch")
    ch01.check_pairwise_sq_dists(lambda X, Y: torch.cdist(X, Y) ** 2, lib="torch")
    out = capsys.readouterr().out
    assert out.count("✓ pairwise_sq_dists matches torch") == 3


def test_pairwise_sq_dists_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_pairwise_sq_dists(not_written)
    # no new axes: the shapes (N, D) and (M, D) do not broadcast; the hint says what to do
    with pytest.raises(
        ExerciseError,
        match=r"raised RuntimeError on input\(s\) \(4, 3\), "
        r"\(5, 3\).*X\[:, None, :\]",
    ):
        ch01.check_pairwise_sq_dists(lambda X, Y: ((X - Y) ** 2).sum(-1))
    # distances instead of squared distances: wrong values, at a named index
    with pytest.raises(ExerciseError, match=r"values differ: .* worst at index \(\d+, \d+\)"):
        ch01.check_pairwise_sq_dists(lambda X, Y: pairwise_sq_dists(X, Y).sqrt())
    # summing over the wrong axis: wrong shape
    with pytest.raises(ExerciseError, match=r"shape differs: yours \(4, 5, 3\), expected \(4, 5\)"):
        ch01.check_pairwise_sq_dists(lambda X, Y: (X[:, None, :] - Y[None, :, :]) ** 2)
    # float64 answer: wrong dtype
    with pytest.raises(ExerciseError, match="dtype differs: yours float64, expected float32"):
        ch01.check_pairwise_sq_dists(lambda X, Y: pairwise_sq_dists(X, Y).double())
    with pytest.raises(ValueError, match="lib must be one of"):
        ch01.check_pairwise_sq_dists(pairwise_sq_dists, lib="jax")


# ---------------------------------------------------------------- standardize rows


def standardize_rows(x):
    mu = x.mean(dim=1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
    return (x - mu) / (var + 1e-5).sqrt()


def test_standardize_rows_accepts_both_libraries(capsys):
    ch01.check_standardize_rows(standardize_rows)
    ch01.check_standardize_rows(standardize_rows, lib="torch")
    ch01.check_standardize_rows(
        lambda x: torch.nn.functional.layer_norm(x, x.shape[-1:]), lib="torch"
    )
    assert capsys.readouterr().out.count("✓ standardize_rows matches") == 3


def test_standardize_rows_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_standardize_rows(not_written)
    with pytest.raises(ExerciseError, match="unbiased variance"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1, keepdim=True)) / (x.var(1, keepdim=True) + 1e-5).sqrt()
        )
    with pytest.raises(ExerciseError, match="RuntimeError .* keepdim=True"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1)) / (x.var(1, unbiased=False) + 1e-5).sqrt()
        )
    with pytest.raises(ExerciseError, match=r"columns \(dim=0\) instead of the rows"):
        ch01.check_standardize_rows(
            lambda x: (
                (x - x.mean(0, keepdim=True))
                / (x.var(0, keepdim=True, unbiased=False) + 1e-5).sqrt()
            )
        )
    with pytest.raises(ExerciseError, match=r"shape \(3, 1\).*yours nan.*left out eps"):
        ch01.check_standardize_rows(
            lambda x: (x - x.mean(1, keepdim=True)) / x.var(1, keepdim=True, unbiased=False).sqrt()
        )
    with pytest.raises(ExerciseError, match=r"shape differs: yours \(4,\), expected \(4, 5\)"):
        ch01.check_standardize_rows(lambda x: x.mean(1))


# ---------------------------------------------------------------- causal mask


def causal_mask(T):
    i = ac.arange(T)
    return i[None, :] > i[:, None]


def test_causal_mask_accepts_both_libraries(capsys):
    ch01.check_causal_mask(causal_mask)
    ch01.check_causal_mask(lambda T: torch.ones(T, T, dtype=torch.bool).triu(1), lib="torch")
    assert capsys.readouterr().out.count("✓ causal_mask matches torch.triu") == 2


def test_causal_mask_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch01.check_causal_mask(not_written)
    with pytest.raises(ExerciseError, match="lower triangle"):
        ch01.check_causal_mask(lambda T: ac.arange(T)[None, :] < ac.arange(T)[:, None])
    with pytest.raises(ExerciseError, match="diagonal must be False"):
        ch01.check_causal_mask(lambda T: ac.arange(T)[None, :] >= ac.arange(T)[:, None])
    with pytest.raises(ExerciseError, match="inverted"):
        ch01.check_causal_mask(lambda T: ac.arange(T)[None, :] <= ac.arange(T)[:, None])
    with pytest.raises(ExerciseError, match="dtype differs: yours float32, expected bool"):
        ch01.check_causal_mask(lambda T: causal_mask(T).float())
    with pytest.raises(
        ExerciseError, match=r"T = 3, your mask: shape differs: yours \(3,\), expected \(3, 3\)"
    ):
        ch01.check_causal_mask(lambda T: ac.zeros(T, dtype=ac.bool))
