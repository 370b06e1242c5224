"""Chapter 11's checkers: each passes a correct solution, and names the likely cause of each
common mistake, tested here with the wrong answer that triggers it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.distributed as dist

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch11
from aigc_course.exercises._verdict import run_checker

# ------------------------------------------------------------------ 1. average gradients


def good_average(model):
    for p in model.parameters():
        g = torch.from_numpy(p.grad.numpy())
        dist.all_reduce(g)
        g /= dist.get_world_size()


def avg_op(model):
    for p in model.parameters():
        dist.all_reduce(torch.from_numpy(p.grad.numpy()), op=dist.ReduceOp.AVG)


def sum_only(model):
    for p in model.parameters():
        dist.all_reduce(torch.from_numpy(p.grad.numpy()))


def on_a_copy(model):
    for p in model.parameters():
        g = torch.tensor(p.grad.numpy())
        dist.all_reduce(g)
        g /= dist.get_world_size()


def divided_twice(model):
    for p in model.parameters():
        g = torch.from_numpy(p.grad.numpy())
        g /= dist.get_world_size()
        dist.all_reduce(g)
        g /= dist.get_world_size()


def no_all_reduce(model):
    for p in model.parameters():
        p.grad.numpy()[...] /= dist.get_world_size()


def averages_parameters(model):
    for p in model.parameters():
        w = torch.from_numpy(p.detach().numpy())
        dist.all_reduce(w)
        w /= dist.get_world_size()


def only_rank_zero_reduces(model):
    if dist.get_rank() == 0:
        good_average(model)


def real_all_reduce(model, _real=dist.all_reduce):
    for p in model.parameters():
        _real(torch.from_numpy(p.grad.numpy()))


def not_written(model):
    raise NotImplementedError


@pytest.mark.parametrize("solution", [good_average, avg_op])
def test_average_gradients_passes(solution, capsys):
    ch11.check_average_gradients(solution)
    assert capsys.readouterr().out.startswith("✓")
    assert dist.all_reduce is not None and not dist.is_initialized()


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (sum_only, "this is the sum over the ranks"),
        (on_a_copy, "torch.tensor(array) makes a copy"),
        (divided_twice, "divided by the world size twice"),
        (no_all_reduce, "the other ranks' gradients never arrived"),
        (averages_parameters, "average the gradients (p.grad), not the parameters"),
        (only_rank_zero_reduces, "every rank must make the same all_reduce calls"),
        (real_all_reduce, "the real all_reduce was called"),
        (not_written, "not implemented yet"),
    ],
)
def test_average_gradients_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseError) as e:
        ch11.check_average_gradients(wrong)
    assert hint in str(e.value)
    # the stand-ins are gone afterwards
    assert dist.all_reduce.__module__.startswith("torch")


class GraderSignal(BaseException):
    """Like the grader's "judge this in the kernel" signal: not an Exception, not feedback."""


def test_average_gradients_passes_a_base_exception_through():
    def signals(model):
        raise GraderSignal("a Sequential")

    with pytest.raises(GraderSignal):
        ch11.check_average_gradients(signals)
    assert dist.all_reduce.__module__.startswith("torch")


# ------------------------------------------------------------------ 2. index split


def good_split(n, N, rank, drop_last):
    if drop_last and n % N:
        m = math.ceil((n - N) / N)
    else:
        m = math.ceil(n / N)
    total = m * N
    indices = list(range(n))
    if drop_last:
        indices = indices[:total]
    else:
        pad = total - n
        while len(indices) < total:
            indices += indices[: min(pad, n)]
            pad = total - len(indices)
    return indices[rank:total:N]


def blocks(n, N, rank, drop_last):
    return ch11._split_mistake("blocks", n, N, rank, drop_last)


def no_padding(n, N, rank, drop_last):
    return list(range(rank, n, N)) if not drop_last else good_split(n, N, rank, drop_last)


def pad_with_last(n, N, rank, drop_last):
    return ch11._split_mistake("pad_with_last", n, N, rank, drop_last)


def floor_split(n, N, rank, drop_last):
    return list(range(n // N * N))[rank::N]


def ignores_drop_last(n, N, rank, drop_last):
    return good_split(n, N, rank, False)


def test_split_passes(capsys):
    ch11.check_split_indices(good_split)
    assert "in all 280 cases" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (blocks, "torch interleaves"),
        (no_padding, "pad the list by repeating its start"),
        (pad_with_last, "not its last index"),
        (floor_split, "you dropped the tail without drop_last"),
        (ignores_drop_last, "with drop_last=True, cut the list"),
    ],
)
def test_split_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseError) as e:
        ch11.check_split_indices(wrong)
    assert hint in str(e.value)


def test_split_reports_a_non_list():
    with pytest.raises(ExerciseError, match="expected a list of ints"):
        ch11.check_split_indices(lambda n, N, r, d: None)


# ------------------------------------------------------------------ 3. scaling efficiency


def good_efficiency(
    n_gpus, n_params, compute_s, bandwidth_gb_s, bytes_per_grad, latency_us, bucket_mb
):
    n_bytes = n_params * bytes_per_grad
    n_buckets = math.ceil(n_bytes / (bucket_mb * 1e6))
    t_latency = n_buckets * 2 * (n_gpus - 1) * latency_us * 1e-6
    t_bandwidth = 2 * (n_gpus - 1) / n_gpus * n_bytes / (bandwidth_gb_s * 1e9)
    return compute_s / (compute_s + t_latency + t_bandwidth)


def test_efficiency_passes(capsys):
    ch11.check_scaling_efficiency(good_efficiency)
    assert capsys.readouterr().out.startswith("✓")


def test_efficiency_known_answer():
    # 124M fp32 gradients over 100 GB/s on 8 GPUs: 2·7/8·496e6 B / 1e11 B/s = 8.68 ms;
    # in 20 buckets of 25 MB (19.84, rounded up), each 14 rounds of 10 us: 2.8 ms more
    t = ch11.ring_bandwidth_time(8, 124e6 * 4, 100.0)
    assert t == pytest.approx(8.68e-3)
    got = good_efficiency(8, 124e6, 0.25, 100.0, 4, 10.0, 25.0)
    assert got == pytest.approx(0.25 / (0.25 + 8.68e-3 + 20 * 14 * 10e-6))


def _mistake(kind):
    # right at N = 1 (where the checker has its own hint), wrong as `kind` elsewhere
    return lambda *case: 1.0 if case[0] == 1 else ch11._efficiency(*case, kind=kind)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (_mistake("no_latency"), "you left out the latency"),
        (_mistake("one_all_reduce"), "each bucket is its own all-reduce"),
        (_mistake("latency_once"), "each round pays the latency"),
        (_mistake("floor_buckets"), "a partly filled last bucket is still a bucket"),
        (_mistake("mebibytes"), "powers of ten"),
        (_mistake("no_factor_2"), "sends each byte twice"),
        (_mistake("naive_n"), "each step sends only a 1/N chunk"),
        (_mistake("bits"), "do not multiply the bytes by 8"),
        (_mistake("no_bytes"), "n_params × bytes_per_grad"),
        (_mistake("speedup"), "you returned the speed-up"),
        (lambda n, *rest: 0.5 if n == 1 else good_efficiency(n, *rest), "exactly 1"),
    ],
)
def test_efficiency_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseError) as e:
        ch11.check_scaling_efficiency(wrong)
    assert hint in str(e.value)


# ------------------------------------------------------------------ 4. ring all-reduce


def good_ring(ring):
    N = ring.world_size
    chunks = [np.array_split(d.copy(), N) for d in ring.data]
    for s in range(N - 1):  # reduce-scatter
        got = ring.send_right([chunks[r][(r - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s - 1) % N] = chunks[r][(r - s - 1) % N] + got[r]
    for s in range(N - 1):  # all-gather
        got = ring.send_right([chunks[r][(r + 1 - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s) % N] = got[r]
    return [np.concatenate(c) for c in chunks]


def reduce_scatter_only(ring):
    N = ring.world_size
    chunks = [np.array_split(d.copy(), N) for d in ring.data]
    for s in range(N - 1):
        got = ring.send_right([chunks[r][(r - s) % N] for r in range(N)])
        for r in range(N):
            chunks[r][(r - s - 1) % N] = chunks[r][(r - s - 1) % N] + got[r]
    return [np.concatenate(c) for c in chunks]


def naive(ring):
    N = ring.world_size
    total = [d.copy() for d in ring.data]
    passing = [d.copy() for d in ring.data]
    for _ in range(N - 1):
        passing = ring.send_right(passing)
        total = [t + p for t, p in zip(total, passing)]
    return total


def wrong_chunk(ring):
    N = ring.world_size
    chunks = [np.array_split(d.copy(), N) for d in ring.data]
    for _ in range(2 * (N - 1)):
        got = ring.send_right([chunks[r][r] for r in range(N)])
        for r in range(N):
            chunks[r][r] = chunks[r][r] + got[r]
    return [np.concatenate(c) for c in chunks]


def extra_rounds(ring):
    out = good_ring(ring)
    ring.send_right([np.zeros(1)] * ring.world_size)
    return out


def test_ring_passes(capsys):
    ch11.check_ring_all_reduce(good_ring)
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (reduce_scatter_only, "N-1 more rounds (the all-gather)"),
        (naive, "Sending whole vectors is the naive all-reduce"),
        (wrong_chunk, "rank r sends chunk (r - s) mod N"),
        (extra_rounds, "2(N-1) = 2"),
    ],
)
def test_ring_names_the_mistake(wrong, hint):
    with pytest.raises(ExerciseError) as e:
        ch11.check_ring_all_reduce(wrong)
    assert hint in str(e.value)


# ------------------------------------------------------------------ milestone 4


def ddpm_step(eps, t, x_t, noise, alphas_cumprod):
    abar_t = alphas_cumprod[t]
    abar_prev = alphas_cumprod[t - 1] if t > 0 else ac.tensor(1.0)
    beta_t = 1 - abar_t / abar_prev
    x0 = ((x_t - (1 - abar_t).sqrt() * eps) / abar_t.sqrt()).clamp(-1, 1)
    mean = (abar_prev.sqrt() * beta_t / (1 - abar_t)) * x0 + (
        (1 - beta_t).sqrt() * (1 - abar_prev) / (1 - abar_t)
    ) * x_t
    if t == 0:
        return mean
    return mean + ((1 - abar_prev) / (1 - abar_t) * beta_t).sqrt() * noise


def cfg(model, x, t, labels, w):
    null = ac.full_like(labels, model.null_label)
    cond, uncond = model(ac.cat([x, x]), t, ac.cat([labels, null])).chunk(2)
    return uncond + w * (cond - uncond)


def skeleton(*args):
    raise NotImplementedError


def test_milestone_passes(capsys):
    ch11.check_milestone_4(ddpm_step, cfg, good_ring)
    out = capsys.readouterr().out
    assert out.startswith("✓ milestone 4") and "one-process parameters" in out


def test_milestone_samples_are_the_digits_asked_for():
    """The learner's pieces with the shipped denoiser: an SVC reads every digit as asked."""
    images, predicted = ch11.milestone_samples(ddpm_step, cfg)
    assert images.shape == (10, 8, 8) and images.min() >= -1 and images.max() <= 1
    assert list(predicted) == list(range(10))


@pytest.mark.parametrize(
    "pieces, named",
    [
        ((skeleton, skeleton, skeleton), ["ddpm_step", "cfg", "ring_all_reduce"]),
        ((ddpm_step, skeleton, good_ring), ["cfg"]),
        ((ddpm_step, cfg, skeleton), ["ring_all_reduce"]),
    ],
)
def test_milestone_missing_pieces_are_not_attempted(pieces, named):
    verdict = run_checker("milestone_4", ch11.check_milestone_4, *pieces)
    assert verdict.status == "not attempted"
    listed = verdict.feedback.split("not implemented yet:")[1]
    for name in ("ddpm_step", "cfg", "ring_all_reduce"):
        assert (name in listed) == (name in named), verdict.feedback


def test_milestone_wrong_step_gets_its_hint():
    def flipped(eps, t, x_t, noise, a):
        if t == 0:
            return ddpm_step(eps, t, x_t, noise, a)
        mean = ddpm_step(eps, t, x_t, noise * 0, a)
        beta = 1 - a[t] / a[t - 1]
        return mean + ((1 - a[t]) / (1 - a[t - 1]) * beta).sqrt() * noise

    verdict = run_checker("milestone_4", ch11.check_milestone_4, flipped, cfg, good_ring)
    assert verdict.status == "failed"
    assert "your ddpm_step (chapter 10, exercise 3)" in verdict.feedback
    assert "upside down" in verdict.feedback


def test_milestone_samples_that_are_not_the_digits_fail():
    """Guidance that passes its own check (a small model) but ignores the label on the shipped
    denoiser: the classifier's verdict, computed from the samples, fails the milestone."""

    def label_blind(model, x, t, labels, w):
        if model.hidden == 32:  # the checker's small model
            return cfg(model, x, t, labels, w)
        return cfg(model, x, t, ac.full_like(labels, 1), w)  # always draws a 1

    with pytest.raises(ExerciseError, match="the classifier read only"):
        ch11.check_milestone_4(ddpm_step, label_blind, good_ring)


def test_milestone_ring_that_skips_the_exchange_fails_training():
    """A ring that passes the small exercise but, on the training-size vectors, keeps each
    rank's own gradient: the ranks drift from the one-process parameters."""

    def lazy_ring(ring):
        if ring.data[0].size > 100:
            ring.send_right([np.zeros(1)] * 2)
            ring.send_right([np.zeros(1)] * 2)
            return [2 * d for d in ring.data]
        return good_ring(ring)

    with pytest.raises(ExerciseError, match="differs from one process's"):
        ch11.check_milestone_4(ddpm_step, cfg, lazy_ring)
