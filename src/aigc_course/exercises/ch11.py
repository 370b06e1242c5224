r"""Checkers for chapter 11's exercises (scaling out).

1. :func:`check_average_gradients`: average a module's gradients across ranks with
   ``torch.distributed.all_reduce``. A protocol: the judge draws the shared parameters and
   each rank's gradients; the kernel plays 3 ranks in 3 threads, with a stand-in for
   ``dist.all_reduce`` (and ``get_world_size``/``get_rank``) that has gloo's semantics (it
   reduces, in place, the tensors that all ranks pass), and sends back what every rank's
   parameters and gradients are afterwards; the judge compares them with the mean.
2. :func:`check_split_indices`: ``DistributedSampler``'s index split (``shuffle=False``), against
   torch's sampler for every dataset size 0-13, world size 1-4 and ``drop_last``.
3. :func:`check_scaling_efficiency`: the ring all-reduce cost model with latency and
   buckets, against the formula.
4. :func:`check_ring_all_reduce`: ring all-reduce, built from neighbour-to-neighbour
   messages on a simulated ring that counts rounds and bytes. A protocol: the judge draws the
   ranks' vectors; the kernel sends back what each rank returned and the ring's counts; the
   judge computes the sum.

Milestone 4, :func:`check_milestone_4`: the learner's pieces together. Their DDPM step and
guidance (chapter 10) draw one sample of each digit with the shipped denoiser, and an SVC
trained on the real digits must read at least 9 of the 10 as the digit asked for; their ring
all-reduce must train two (simulated) ranks to the parameters of one process (torch). A
protocol: the judge draws the seeds of the noise and of the training problem; the kernel sends
back the samples and the ranks' parameters; the judge classifies the samples, compares them
with the course's sampler's from the same noise, and trains the one process with torch.

Feedback names the first failing input and, when your answer equals a known mistake's, which.
See chapter 11.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from ._checking import ExerciseError, Protocol, passed, run_learner, uses

__all__ = [
    "Ring",
    "check_average_gradients",
    "check_milestone_4",
    "check_ring_all_reduce",
    "check_scaling_efficiency",
    "check_split_indices",
    "milestone_samples",
    "ring_bandwidth_time",
]

# ------------------------------------------------------------------ 1. average gradients

WORLD = 3


class _SimulatedGroup:
    """``WORLD`` ranks as threads; ``all_reduce`` waits for all of them, then reduces."""

    def __init__(self, world_size: int):
        self.world_size = world_size
        self.barrier = threading.Barrier(world_size, timeout=10)
        self.slots: list = [None] * world_size
        self.local = threading.local()

    def get_rank(self, group=None) -> int:
        return self.local.rank

    def get_world_size(self, group=None) -> int:
        return self.world_size

    def all_reduce(self, tensor, op=None, group=None, async_op=False):
        import torch
        import torch.distributed as dist

        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"all_reduce() needs a torch.Tensor, got {type(tensor).__name__}: wrap the "
                "numpy gradient with torch.from_numpy"
            )
        op = dist.ReduceOp.SUM if op is None else op
        self.slots[self.local.rank] = tensor.clone()
        self.barrier.wait()
        stacked = torch.stack(self.slots)
        if op == dist.ReduceOp.SUM:
            result = stacked.sum(0)
        elif op == dist.ReduceOp.AVG:
            result = stacked.mean(0)
        elif op == dist.ReduceOp.MAX:
            result = stacked.amax(0)
        else:
            raise ValueError(f"the checker's stand-in supports SUM, AVG and MAX, got {op}")
        self.barrier.wait()  # everyone has read every slot
        tensor.copy_(result)
        return None


@contextmanager
def _patched(group: _SimulatedGroup):
    import torch.distributed as dist

    saved = {name: getattr(dist, name) for name in ("all_reduce", "get_rank", "get_world_size")}
    try:
        for name in saved:
            setattr(dist, name, getattr(group, name))
        yield
    finally:
        for name, value in saved.items():
            setattr(dist, name, value)


#: The ranks' model, ``Linear(4, 3), Tanh, Linear(3, 2)``: its parameters' names and shapes.
NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")
SHAPES = ((3, 4), (3,), (2, 3), (2,))


def _average_inputs(seed: int) -> dict:
    """The parameters every rank shares, and each rank's own gradients (its shard's), as
    float32 arrays drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(WORLD)]
    return {"params": params, "grads": grads}


def _rank_model(params: list, grads: list):
    """A rank's copy of the small model, with the given parameters and ``.grad``; the
    learner's global random stream is left as it was."""
    from .. import nn, random, tensor

    state = random._rng.bit_generator.state
    try:
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    finally:
        random._rng.bit_generator.state = state
    for p, value, grad in zip(model.parameters(), params, grads):
        p.detach().numpy()[...] = value
        p.grad = tensor(np.array(grad, dtype=np.float32))
    return model


def _average_run(data: dict, average_gradients: Callable) -> list[dict]:
    """The kernel's half: ``WORLD`` ranks in threads, each with its model, call the learner's
    ``average_gradients`` with the stand-in ``all_reduce``; what each rank's parameters and
    gradients are afterwards comes back. A failure of the learner's code is raised here."""
    group = _SimulatedGroup(WORLD)
    models = [_rank_model(data["params"], data["grads"][r]) for r in range(WORLD)]
    errors: list = [None] * WORLD

    def rank_main(rank):
        group.local.rank = rank
        try:
            run_learner(average_gradients, models[rank], what=f"average_gradients on rank {rank}")
        except BaseException as e:
            errors[rank] = e
            group.barrier.abort()  # release the ranks waiting in all_reduce

    with _patched(group):
        threads = [threading.Thread(target=rank_main, args=(r,), daemon=True) for r in range(WORLD)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    # not an Exception (an interrupt, the grader's time limit): it is not feedback, so it
    # leaves the threads as it came
    control = next((e for e in errors if e is not None and not isinstance(e, Exception)), None)
    if control is not None:
        raise control
    first = next((e for e in errors if e is not None and not _is_abort(e)), None)
    if first is not None:
        if "process group has not been initialized" in str(first):
            raise ExerciseError(
                f"{first}\nHint: the real all_reduce was called; write `dist.all_reduce(...)` "
                "(with `import torch.distributed as dist`) so the checker's stand-in is used"
            ) from None
        raise first if isinstance(first, ExerciseError) else ExerciseError(str(first))
    if any(e is not None for e in errors):
        raise ExerciseError(
            "some ranks did not call all_reduce as often as the others (the checker's ranks "
            "timed out waiting): every rank must make the same all_reduce calls in the same order"
        )
    stuck = [r for r, t in enumerate(threads) if t.is_alive()]
    if stuck:
        raise ExerciseError(f"average_gradients on rank {stuck[0]} did not return in 30 s")
    return [
        {
            "params": [p.detach().numpy().copy() for p in model.parameters()],
            "grads": [p.grad.numpy().copy() for p in model.parameters()],
        }
        for model in models
    ]


def _arrays(value, shapes, what: str) -> list[np.ndarray]:
    """``value`` as the judge received it, refused unless it is one float array per shape."""
    ok = isinstance(value, list) and len(value) == len(shapes)
    ok = ok and all(
        isinstance(a, np.ndarray) and a.shape == tuple(s) and a.dtype.kind == "f"
        for a, s in zip(value, shapes)
    )
    if not ok:
        raise ExerciseError(
            f"{what} did not come back as {len(shapes)} float arrays of shapes {list(shapes)}"
        )
    return value


def _average_judge(data: dict, outputs) -> str:
    """The mean over the ranks, computed here from the gradients the judge drew; the hints
    compare the learner's gradients with the known mistakes' (the sum, a copy...)."""
    if not isinstance(outputs, list) or len(outputs) != WORLD:
        raise ExerciseError(f"the ranks' results did not come back as a list of {WORLD}")
    grads_before = [[np.asarray(g, dtype=np.float64) for g in rank] for rank in data["grads"]]
    mean = [np.mean([g[i] for g in grads_before], axis=0) for i in range(len(NAMES))]
    for rank, out in enumerate(outputs):
        if not isinstance(out, dict):
            raise ExerciseError(f"rank {rank}'s result did not come back as a dict")
        params = _arrays(out.get("params"), SHAPES, f"rank {rank}'s parameters")
        grads = _arrays(out.get("grads"), SHAPES, f"rank {rank}'s gradients")
        for i, name in enumerate(NAMES):
            if not np.array_equal(params[i], data["params"][i]):
                raise ExerciseError(
                    f"rank {rank}'s parameter {name!r} changed: average the gradients "
                    "(p.grad), not the parameters, and leave the step to the optimizer"
                )
            got = grads[i]
            if np.allclose(got, mean[i], rtol=1e-5, atol=1e-6):
                continue
            message = (
                f"rank {rank}'s gradient of {name!r} is not the mean over the {WORLD} ranks: "
                f"first element yours {got.flat[0]:.6g}, expected {mean[i].flat[0]:.6g}"
            )
            if np.array_equal(got, data["grads"][rank][i]):
                hint = (
                    "your gradients did not change. all_reduce works in place on the tensor "
                    "you pass, and torch.tensor(array) makes a copy: pass the zero-copy view "
                    "torch.from_numpy(p.grad.numpy()), or copy the result back into p.grad"
                )
            elif np.allclose(got, WORLD * mean[i], rtol=1e-5, atol=1e-6):
                hint = (
                    "this is the sum over the ranks: all_reduce sums (ReduceOp.SUM) by "
                    "default; divide by dist.get_world_size() afterwards"
                )
            elif np.allclose(got, mean[i] / WORLD, rtol=1e-5, atol=1e-6):
                hint = "you divided by the world size twice"
            elif np.allclose(got, grads_before[rank][i] / WORLD, rtol=1e-5, atol=1e-6):
                hint = (
                    "this is your own rank's gradient divided by N: the other ranks' "
                    "gradients never arrived; call dist.all_reduce on it before dividing"
                )
            else:
                hint = "check that every rank reduces the gradient of every parameter"
            raise ExerciseError(f"{message}\nHint: {hint}")
    return (
        f"every gradient of {len(NAMES)} parameters is the mean over {WORLD} (simulated) ranks, "
        "written in place"
    )


#: The protocol: shared parameters and each rank's gradients in; every rank's parameters and
#: gradients after the learner's ``average_gradients`` (run on ``WORLD`` threads with a
#: stand-in ``all_reduce``) out; compared with the mean over the ranks in the judge.
AVERAGE_GRADIENTS_PROTOCOL = Protocol(_average_inputs, _average_run, _average_judge)


@uses(AVERAGE_GRADIENTS_PROTOCOL)
def check_average_gradients(average_gradients: Callable) -> None:
    """``average_gradients(model)`` must replace every parameter's ``.grad`` by its mean over
    the ranks, in place, using ``dist.all_reduce`` (call it as ``dist.all_reduce`` or
    ``torch.distributed.all_reduce``, so that the checker's stand-in is the one called)."""
    AVERAGE_GRADIENTS_PROTOCOL.check(average_gradients)


def _is_abort(e: BaseException) -> bool:
    return isinstance(e, threading.BrokenBarrierError) or "BrokenBarrierError" in str(e)


# ------------------------------------------------------------------ 2. the index split


def _torch_split(n: int, num_replicas: int, rank: int, drop_last: bool) -> list[int]:
    from torch.utils.data.distributed import DistributedSampler

    return list(
        DistributedSampler(
            range(n), num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=drop_last
        )
    )


def _split_mistake(kind: str, n: int, N: int, rank: int, drop_last: bool) -> list[int]:
    if kind == "no_padding":
        return list(range(rank, n, N))
    if kind == "floor":  # drops the tail even without drop_last
        return list(range(n // N * N))[rank::N]
    m = math.ceil((n - N) / N) if drop_last and n % N else math.ceil(n / N)
    total = m * N
    indices = list(range(n))
    if kind == "ignore_drop_last":
        m = math.ceil(n / N)
        total = m * N
        drop_last = False
    if drop_last:
        indices = indices[:total]
    else:
        pad = total - n
        if kind == "pad_with_last":
            indices += [n - 1] * pad
        else:
            indices += (indices * math.ceil(pad / max(n, 1)))[:pad]
    if kind == "blocks":
        return indices[rank * m : (rank + 1) * m]
    return indices[rank:total:N]


SPLIT_HINTS = {
    "blocks": "you gave each rank a contiguous block; torch interleaves: rank r takes the "
    "positions r, r + N, r + 2N, ... of the (padded) index list",
    "no_padding": "without drop_last every rank must get the same number of indices, "
    "ceil(n / N): pad the list by repeating its start (indices[:padding]) before splitting",
    "pad_with_last": "torch pads by repeating the *start* of the index list, not its last index",
    "floor": "you dropped the tail without drop_last; torch pads instead (and drops only "
    "with drop_last=True)",
    "ignore_drop_last": "with drop_last=True, cut the list to N * ceil((n - N) / N) indices "
    "instead of padding it",
}


def check_split_indices(split_indices: Callable) -> None:
    """``split_indices(n, num_replicas, rank, drop_last)`` must return the list of indices that
    ``torch.utils.data.DistributedSampler(range(n), num_replicas, rank, shuffle=False,
    drop_last=drop_last)`` yields."""
    cases = 0
    for drop_last in (False, True):
        for N in range(1, 5):
            for n in range(14):
                for rank in range(N):
                    args = (n, N, rank, drop_last)
                    what = f"split_indices{args}"
                    got = run_learner(split_indices, *args, what=what)
                    expected = _torch_split(*args)
                    cases += 1
                    try:
                        ok = [int(i) for i in got] == expected
                    except TypeError:
                        raise ExerciseError(
                            f"{what} returned {got!r}; expected a list of ints"
                        ) from None
                    if ok:
                        continue
                    message = f"{what} returned {list(got)}; torch's sampler gives {expected}"
                    kinds = ("ignore_drop_last", "blocks") if drop_last else SPLIT_HINTS
                    for kind in kinds:
                        hint = SPLIT_HINTS[kind]
                        if [int(i) for i in got] == _split_mistake(kind, *args):
                            message += f"\nHint: {hint}"
                            break
                    raise ExerciseError(message)
    passed(f"your split equals torch's DistributedSampler(shuffle=False) in all {cases} cases")


# ------------------------------------------------------------------ 3. scaling efficiency


def ring_bandwidth_time(n_gpus: int, n_bytes: float, bandwidth_gb_s: float) -> float:
    r"""Seconds a ring all-reduce of ``n_bytes`` spends on bandwidth:
    $\frac{2(N-1)}{N} \cdot \frac{\text{bytes}}{\text{bandwidth}}$ (latency ignored)."""
    return 2 * (n_gpus - 1) / n_gpus * n_bytes / (bandwidth_gb_s * 1e9)


EFFICIENCY_CASES = [
    # (n_gpus, n_params, compute_s, bandwidth_gb_s, bytes_per_grad, latency_us, bucket_mb)
    (1, 124_000_000, 0.25, 100.0, 4, 10.0, 25.0),
    (2, 156_250_000, 0.25, 100.0, 4, 10.0, 25.0),  # exactly 25 buckets of 25 MB
    (2, 124_000_000, 0.25, 100.0, 4, 10.0, 25.0),
    (8, 124_000_000, 0.25, 100.0, 4, 0.0, 25.0),
    (8, 124_000_000, 0.25, 12.5, 2, 10.0, 25.0),
    (64, 1_240_000_000, 1.0, 25.0, 2, 5.0, 100.0),
    (1024, 124_000_000, 0.06, 50.0, 4, 10.0, 1.0),
    (3, 1_000_000, 0.001, 1.0, 4, 50.0, 0.3),
]


def _efficiency(n, p, c, bw, b, latency_us, bucket_mb, kind: str = "") -> float:
    n_bytes = p * b
    n_buckets = math.ceil(n_bytes / (bucket_mb * 1e6))
    alpha = latency_us * 1e-6
    rounds = 2 * (n - 1)  # per all-reduce: N-1 to reduce-scatter, N-1 to all-gather
    if kind == "floor_buckets":
        n_buckets = max(n_bytes // (bucket_mb * 1e6), 1)
    elif kind == "mebibytes":
        n_buckets = math.ceil(n_bytes / (bucket_mb * 2**20))
    elif kind == "one_all_reduce":
        n_buckets = 1
    if kind == "latency_once":
        rounds = 1
    if kind == "no_latency":
        alpha = 0.0
    t_latency = n_buckets * rounds * alpha
    if kind == "no_factor_2":
        t = (n - 1) / n * n_bytes / (bw * 1e9)
    elif kind == "naive_n":
        t = 2 * (n - 1) * n_bytes / (bw * 1e9)
    elif kind == "bits":
        t = ring_bandwidth_time(n, 8 * n_bytes, bw)
    elif kind == "no_bytes":
        t = ring_bandwidth_time(n, p, bw)
    else:
        t = ring_bandwidth_time(n, n_bytes, bw)
    eff = c / (c + t + t_latency)
    return n * eff if kind == "speedup" else eff


EFFICIENCY_HINTS = {
    "no_latency": "you left out the latency: every round of a ring all-reduce also pays "
    "alpha = latency_us microseconds, 2(N-1) rounds per bucket",
    "one_all_reduce": "each bucket is its own all-reduce and pays its own 2(N-1) rounds of "
    "latency: multiply by the number of buckets, ceil(bytes / bucket bytes)",
    "latency_once": "a ring all-reduce takes 2(N-1) rounds (N-1 reduce-scatter, N-1 all-gather), "
    "and each round pays the latency: 2(N-1) alpha per bucket, which grows with N",
    "floor_buckets": "a partly filled last bucket is still a bucket: ceil(bytes / bucket bytes)",
    "mebibytes": "MB and GB here are powers of ten: a bucket holds bucket_mb × 10^6 bytes",
    "no_factor_2": "a ring all-reduce sends each byte twice: once in the reduce-scatter and "
    "once in the all-gather, so the time is 2(N-1)/N · bytes / bandwidth",
    "naive_n": "that is 2(N-1) full copies of the gradients; in a ring each step sends only "
    "a 1/N chunk: 2(N-1)/N · bytes / bandwidth",
    "bits": "the bandwidth is in gigaBYTES per second: do not multiply the bytes by 8",
    "no_bytes": "the message size is n_params × bytes_per_grad bytes, not n_params",
    "speedup": "you returned the speed-up N · efficiency; the efficiency is "
    "t_compute / (t_compute + t_comm), at most 1",
}


def check_scaling_efficiency(scaling_efficiency: Callable) -> None:
    r"""``scaling_efficiency(n_gpus, n_params, compute_s, bandwidth_gb_s, bytes_per_grad,
    latency_us, bucket_mb)`` must return $t_\text{compute} / (t_\text{compute} +
    t_\text{comm})$, where the gradients (``n_params × bytes_per_grad`` bytes) travel in
    $k = \lceil \text{bytes} / (\text{bucket\_mb} \cdot 10^6) \rceil$ buckets, each a ring
    all-reduce of $2(N-1)$ rounds that each pay the latency $\alpha$:
    $t_\text{comm} = k \cdot 2(N-1)\alpha + \frac{2(N-1)}{N}\cdot\frac{\text{bytes}}{\beta}$
    (no overlap of communication with compute)."""
    for case in EFFICIENCY_CASES:
        what = f"scaling_efficiency{case}"
        got = run_learner(scaling_efficiency, *case, what=what)
        expected = _efficiency(*case)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise ExerciseError(f"{what} returned {got!r}; expected a float") from None
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        message = f"{what} returned {got:.6g}; the cost model gives {expected:.6g}"
        if case[0] == 1:
            message += "\nHint: one GPU communicates nothing, so its efficiency is exactly 1"
        else:
            for kind, hint in EFFICIENCY_HINTS.items():
                if math.isclose(got, _efficiency(*case, kind=kind), rel_tol=1e-6):
                    message += f"\nHint: {hint}"
                    break
        raise ExerciseError(message)
    passed(
        f"your scaling efficiency follows the ring cost model, latency and buckets included, "
        f"in {len(EFFICIENCY_CASES)} cases"
    )


# ------------------------------------------------------------------ 4. ring all-reduce


#: Each ring's size and counts, out of the learner's reach: the properties below only read
#: them, so ``ring.rounds = 6`` in a solution is an error, not a pass.
_COUNTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Ring:
    """A simulated ring of ``world_size`` ranks. ``data[r]`` is rank ``r``'s vector.

    ``send_right(messages)`` is one round: every rank ``r`` sends ``messages[r]`` (a numpy
    array) to its right neighbour ``(r + 1) % N``; it returns ``received``, where
    ``received[r]`` is what rank ``r`` got from its left neighbour ``(r - 1) % N``. The ring
    counts rounds and the largest message sent (read-only: ``rounds``, ``largest``).
    """

    def __init__(self, data: list[np.ndarray]):
        self.data = [np.array(d, dtype=np.float64) for d in data]
        _COUNTS[self] = {"world_size": len(data), "rounds": 0, "largest": 0}

    @property
    def world_size(self) -> int:
        return _COUNTS[self]["world_size"]

    @property
    def rounds(self) -> int:
        return _COUNTS[self]["rounds"]

    @property
    def largest(self) -> int:
        return _COUNTS[self]["largest"]

    def send_right(self, messages: list[np.ndarray]) -> list[np.ndarray]:
        counts = _COUNTS[self]
        N = counts["world_size"]
        if len(messages) != N:
            raise ValueError(f"send_right needs one message per rank ({N}), got {len(messages)}")
        messages = [np.array(m, dtype=np.float64) for m in messages]
        counts["rounds"] += 1
        counts["largest"] = max(counts["largest"], max(m.size for m in messages))
        return [messages[(r - 1) % N] for r in range(N)]


#: (ranks, vector length) of the ring exercise's cases.
RING_CASES = ((2, 4), (3, 6), (4, 8), (5, 15))


def _ring_inputs(seed: int) -> list[list[np.ndarray]]:
    """For each case, every rank's vector: small integers drawn from ``seed`` (as floats)."""
    rng = np.random.default_rng(seed)
    return [
        [rng.integers(-9, 10, size).astype(np.float64) for _ in range(N)] for N, size in RING_CASES
    ]


def _ring_what(N: int, size: int) -> str:
    return f"ring_all_reduce on {N} ranks with vectors of {size}"


def _ring_record(ring_all_reduce: Callable, data: list, what: str) -> dict:
    """Run the learner's ring all-reduce on a :class:`Ring` holding ``data``: what each rank
    returned (``got``, or ``bad``: the repr of what is not one vector per rank), and the
    rounds and the largest message the ring counted."""
    N = len(data)
    ring = Ring([np.array(d, dtype=np.float64) for d in data])
    got = run_learner(ring_all_reduce, ring, what=what)
    record: dict = {"rounds": int(ring.rounds), "largest": int(ring.largest)}
    try:
        if got is None or len(got) != N:
            raise TypeError
        record["got"] = [np.asarray(g, dtype=np.float64) for g in got]
    except (TypeError, ValueError):
        record["bad"] = repr(got)[:300]
    return record


def _ring_run(cases: list, ring_all_reduce: Callable) -> list[dict]:
    """The kernel's half: a record for each case; a failure is recorded and ends the run."""
    records = []
    for data in cases:
        try:
            records.append(_ring_record(ring_all_reduce, data, _ring_what(len(data), len(data[0]))))
        except ExerciseError as e:
            records.append({"error": str(e)})
            break
    return records


def _ring_judge_case(data: list, record, what: str) -> None:
    """Raise the hint for the first thing wrong in one case's record; the sum is computed
    here, from the vectors the judge drew."""
    if not isinstance(record, dict):
        raise ExerciseError(f"{what}: the protocol's record did not come back as a dict")
    if "error" in record:
        raise ExerciseError(str(record["error"]))
    N, size = len(data), len(data[0])
    rounds, largest = record.get("rounds"), record.get("largest")
    if type(rounds) is not int or type(largest) is not int:
        raise ExerciseError(f"{what}: the ring's counts did not come back as ints")
    got = record.get("got")
    if "bad" in record or not isinstance(got, list) or len(got) != N:
        raise ExerciseError(
            f"{what} must return one vector per rank ({N}), got {record.get('bad', got)!s}"
        )
    expected = np.sum(data, axis=0)
    for r, g in enumerate(got):
        if not isinstance(g, np.ndarray):
            raise ExerciseError(f"{what}: rank {r}'s vector did not come back as an array")
        if g.shape != expected.shape or not np.allclose(g, expected):
            message = f"{what}: rank {r} holds {g.tolist()}, expected the sum {expected.tolist()}"
            if rounds == N - 1:
                message += (
                    "\nHint: after N-1 rounds of reduce-scatter each rank owns one summed "
                    "chunk; N-1 more rounds (the all-gather) pass the summed chunks around"
                )
            else:
                message += (
                    "\nHint: in reduce-scatter round s, rank r sends chunk (r - s) mod N and "
                    "adds what it receives into chunk (r - s - 1) mod N"
                )
            raise ExerciseError(message)
    if largest > size // N:
        raise ExerciseError(
            f"{what}: a message carried {largest} numbers; a ring sends one chunk "
            f"({size // N} numbers) per round. Sending whole vectors is the naive "
            "all-reduce, whose time grows with N"
        )
    if rounds != 2 * (N - 1):
        raise ExerciseError(
            f"{what}: {rounds} rounds of send_right; a ring all-reduce takes "
            f"2(N-1) = {2 * (N - 1)}: N-1 to reduce-scatter, N-1 to all-gather"
        )


def _ring_judge(cases: list, records) -> str:
    if not isinstance(records, list):
        raise ExerciseError("the protocol's records did not come back as a list")
    for k, data in enumerate(cases):
        record = records[k] if k < len(records) else {"error": "the run stopped early"}
        _ring_judge_case(data, record, _ring_what(len(data), len(data[0])))
    return "your ring all-reduce sums correctly in 2(N-1) rounds of one chunk, for N = 2 to 5"


#: The protocol: every rank's vector for N = 2 to 5 in; what each rank returned, and the
#: rounds and largest message the :class:`Ring` counted, out; the sum is computed in the judge.
RING_PROTOCOL = Protocol(_ring_inputs, _ring_run, _ring_judge)


@uses(RING_PROTOCOL)
def check_ring_all_reduce(ring_all_reduce: Callable) -> None:
    """``ring_all_reduce(ring)`` must return, for every rank, the sum of all ranks' vectors,
    using only ``ring.send_right`` to communicate, in 2(N-1) rounds of messages of one chunk
    (``len(vector) / N`` numbers) each."""
    RING_PROTOCOL.check(ring_all_reduce)


# ------------------------------------------------------------------ milestone 4

MILESTONE_STEPS = 100  # sampling steps (leading spacing), as chapter 10's figures use
MILESTONE_SCALE = 2.0  # guidance scale
MILESTONE_TRAIN_STEPS = 20
#: How far the learner's samples may land from the course's sampler's: a correct float32 or
#: float64 step drifts about 1e-5 from it over the 100 steps; any mistake, far more.
SAMPLE_TOLERANCE = 1e-3
PIECES = {
    "ddpm_step": "chapter 10, exercise 3",
    "cfg": "chapter 10, exercise 4",
    "ring_all_reduce": "chapter 11, exercise 4",
}


def _not_written(fn, *args) -> bool:
    """Whether ``fn`` is still a skeleton (raises NotImplementedError on a small input)."""
    try:
        fn(*args)
    except NotImplementedError:
        return True
    except Exception:
        return False
    return False


def _probes():
    from .. import tensor, zeros
    from . import ch10

    abar = tensor(ch10._linear_alphas_cumprod())
    x = zeros(1, 8, 8)
    model = ch10._small_denoiser()
    return {
        "ddpm_step": (x, 5, x, x, abar),
        "cfg": (model, x, 500, tensor([3]), 2.0),
        "ring_all_reduce": (Ring([np.arange(4.0), np.arange(4.0)]),),
    }


def _draw(ddpm_step: Callable, cfg: Callable, seed: int) -> np.ndarray:
    """Draw 0, 1, ..., 9 with ``ddpm_step`` and ``cfg`` and the shipped denoiser, in
    ``MILESTONE_STEPS`` respaced steps, from the noise of ``Generator().manual_seed(seed)``:
    the (10, 8, 8) float64 images, clipped to [-1, 1]."""
    from .. import Generator, arange, no_grad, randn
    from ..diffusion import pretrained_digits

    model, scheduler = pretrained_digits()
    T, n = scheduler.num_train_timesteps, MILESTONE_STEPS
    k = T // n
    kept = [i * k for i in range(n)]  # leading spacing: 0, k, 2k, ...
    table = scheduler.alphas_cumprod[arange(0, T, k)]  # ddpm_step's "t - 1": the previous kept
    gen = Generator().manual_seed(seed)
    labels = arange(10)
    x = randn(10, 8, 8, generator=gen)
    with no_grad():
        for i in reversed(range(n)):
            eps = cfg(model, x, kept[i], labels, MILESTONE_SCALE)  # the network: real timesteps
            x = ddpm_step(eps, i, x, randn(10, 8, 8, generator=gen), table)
    return np.clip(np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64), -1, 1)


def milestone_samples(ddpm_step: Callable, cfg: Callable, seed: int = 0):
    """Draw 0, 1, ..., 9 with the learner's ``ddpm_step`` and ``cfg`` and the shipped denoiser,
    in ``MILESTONE_STEPS`` respaced steps; return ``(images, predicted)``: the (10, 8, 8) numpy
    images in [-1, 1], and the digit an SVC trained on the real digits reads in each."""
    images = _draw(ddpm_step, cfg, seed)
    return images, _digit_classifier().predict(images.reshape(10, 64))


@functools.lru_cache(maxsize=2)
def _reference_samples(seed: int) -> np.ndarray:
    """The same draw by the course's own sampler (``diffusion.sample``: the scheduler's step
    and guided noise), from the same noise (kept for the last seeds judged; read-only)."""
    from .. import arange
    from ..diffusion import pretrained_digits
    from ..diffusion.sampling import sample

    model, scheduler = pretrained_digits()
    x = sample(model, scheduler, arange(10), MILESTONE_SCALE, MILESTONE_STEPS, seed=seed)
    images = x.numpy().astype(np.float64)
    images.flags.writeable = False
    return images


@functools.lru_cache(maxsize=2)
def _one_process(seed: int) -> dict:
    """torch's parameters after the digits problem's steps in one process, on the full
    batches (kept for the last seeds judged; read-only)."""
    from ..distributed import workers

    one = workers.train_torch(_digits_problem(seed))
    for value in one.values():
        value.flags.writeable = False
    return one


_CLASSIFIER: list = []


def _digit_classifier():
    """scikit-learn's RBF SVC, fitted once on all 1,797 real digits scaled to [-1, 1]."""
    if not _CLASSIFIER:
        from sklearn.datasets import load_digits
        from sklearn.svm import SVC

        X, y = load_digits(return_X_y=True)
        _CLASSIFIER.append(SVC().fit(X / 8.0 - 1.0, y))  # pixels 0..16 -> [-1, 1]
    return _CLASSIFIER[0]


def _flat_grads(model) -> np.ndarray:
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


def _set_grads(model, flat: np.ndarray) -> None:
    start = 0
    for p in model.parameters():
        g = p.grad.numpy()
        g[...] = flat[start : start + g.size].reshape(g.shape)
        start += g.size


def _digits_problem(seed: int):
    from ..distributed import workers

    return workers.digits_problem(steps=MILESTONE_TRAIN_STEPS, seed=seed)


def _train_two_ranks(ring_all_reduce: Callable, seed: int) -> list[dict]:
    """Two ranks of chapter 11's digits MLP, each on its half of every batch of the digits
    problem drawn from ``seed``, averaging their gradients with the learner's ring all-reduce
    before every SGD step. Returns each rank's final parameters."""
    from .. import nn, optim, tensor
    from ..distributed import workers

    X, y, batches, state = _digits_problem(seed)
    models = [workers._our_mlp(state) for _ in range(2)]
    opts = [optim.SGD(m.parameters(), lr=0.1) for m in models]
    loss_fn = nn.CrossEntropyLoss()
    for step, batch in enumerate(batches):
        for rank, (model, opt) in enumerate(zip(models, opts)):
            idx = workers._shard(batch, rank, 2)
            opt.zero_grad()
            loss_fn(model(tensor(X[idx])), tensor(y[idx])).backward()
        ring = Ring([_flat_grads(m) for m in models])
        size = ring.data[0].size
        what = f"ring_all_reduce at training step {step + 1} (2 ranks, {size} gradients each)"
        out = run_learner(ring_all_reduce, ring, what=what)
        if out is None or len(out) != 2 or any(np.shape(o) != (size,) for o in out):
            raise ExerciseError(f"{what} must return one vector of {size} numbers per rank")
        if ring.rounds != 2 or ring.largest > math.ceil(size / 2):
            raise ExerciseError(
                f"{what}: {ring.rounds} rounds with messages of up to {ring.largest} numbers; a "
                f"ring on 2 ranks takes 2 rounds of one chunk ({math.ceil(size / 2)} numbers)"
            )
        for model, summed in zip(models, out):
            _set_grads(model, np.asarray(summed, dtype=np.float64) / 2)  # the mean of 2 ranks
        for opt in opts:
            opt.step()
    return [{k: p.detach().numpy().copy() for k, p in m.named_parameters()} for m in models]


def _milestone_inputs(seed: int) -> dict:
    """The seed of the samples' noise, and of the digits problem's batches and initial weights
    (one seed for both: 0 in a notebook, as chapter 11's figures use)."""
    return {"sample_seed": seed, "problem_seed": seed}


def _milestone_run(data: dict, ddpm_step: Callable, cfg: Callable, ring_all_reduce: Callable):
    """The kernel's half: which pieces are skeletons, and each piece's own checker (for its
    hint); then the 10 samples drawn with the learner's pieces from the given noise, and the
    two ranks' parameters after 20 steps averaged by the learner's ring."""
    probes = _probes()
    pieces = {"ddpm_step": ddpm_step, "cfg": cfg, "ring_all_reduce": ring_all_reduce}
    missing = [name for name, fn in pieces.items() if _not_written(fn, *probes[name])]
    if missing:
        listed = ", ".join(f"{name} ({PIECES[name]})" for name in missing)
        raise ExerciseError(
            f"milestone 4 uses your ddpm_step, cfg and ring_all_reduce; what is not "
            f"implemented yet: {listed}. Paste or write them in the cells above"
        )
    import contextlib
    import io

    from . import ch10

    for name, check in (
        ("ddpm_step", lambda: ch10.check_ddpm_step(ddpm_step)),
        ("cfg", lambda: ch10.check_cfg(cfg)),
        ("ring_all_reduce", lambda: check_ring_all_reduce(ring_all_reduce)),
    ):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check()
        except ExerciseError as e:
            raise ExerciseError(f"milestone 4, your {name} ({PIECES[name]}): {e}") from None
    return {
        "images": _draw(ddpm_step, cfg, data["sample_seed"]),
        "ranks": _train_two_ranks(ring_all_reduce, data["problem_seed"]),
    }


def _milestone_judge(data: dict, outputs) -> str:
    """The classifier reads the learner's samples here; they must also be the course's
    sampler's draw from the same noise; and the ranks' parameters, torch's one process."""
    if not isinstance(outputs, dict):
        raise ExerciseError("milestone 4's results did not come back as a dict")
    images = outputs.get("images")
    if not (
        isinstance(images, np.ndarray) and images.shape == (10, 8, 8) and images.dtype.kind == "f"
    ):
        raise ExerciseError("milestone 4's samples did not come back as (10, 8, 8) float images")
    if not np.isfinite(images).all():
        raise ExerciseError(
            "milestone 4: your samples contain NaN or inf: is something divided by zero in "
            "your ddpm_step (at t = 0, the previous abar is 1)?"
        )
    predicted = _digit_classifier().predict(np.clip(images, -1, 1).reshape(10, 64))
    right = int((predicted == np.arange(10)).sum())
    if right < 9:
        wrong = [f"{d} read as {p}" for d, p in enumerate(predicted) if p != d]
        raise ExerciseError(
            f"milestone 4: the classifier read only {right} of your 10 samples as the digit asked "
            f"for ({', '.join(wrong)}); at least 9 are needed"
        )
    worst = float(np.abs(images - _reference_samples(data["sample_seed"])).max())
    if worst > SAMPLE_TOLERANCE:
        raise ExerciseError(
            f"milestone 4: your samples differ by up to {worst:.3g} from the course's sampler's "
            "(diffusion.sample) from the same noise: your ddpm_step and cfg must compute the "
            "step and the guidance from their arguments alone (no noise of their own, no "
            "special cases for the shipped denoiser or the respaced table)"
        )
    one = _one_process(data["problem_seed"])
    ranks = outputs.get("ranks")
    if not isinstance(ranks, list) or len(ranks) != 2:
        raise ExerciseError("milestone 4's two ranks' parameters did not come back")
    for rank, params in enumerate(ranks):
        if not isinstance(params, dict) or sorted(params) != sorted(one):
            raise ExerciseError(
                f"milestone 4: rank {rank}'s parameters did not come back as {sorted(one)}"
            )
        for name, value in params.items():
            if not (
                isinstance(value, np.ndarray)
                and value.shape == one[name].shape
                and value.dtype.kind == "f"
            ):
                raise ExerciseError(
                    f"milestone 4: rank {rank}'s {name!r} did not come back as a float array "
                    f"of shape {one[name].shape}"
                )
            if not np.allclose(value, one[name], rtol=1e-4, atol=1e-5):
                worst = float(np.abs(value - one[name]).max())
                raise ExerciseError(
                    f"milestone 4: after {MILESTONE_TRAIN_STEPS} steps, rank {rank}'s {name!r} "
                    f"differs from one process's by up to {worst:.3g}: the ranks must take the "
                    "step of the full batch (sum the two gradients, then divide by 2)"
                )
    return (
        "milestone 4: your ddpm_step and cfg drew 0-9 with the shipped denoiser, and the "
        "classifier read at least 9 of the 10 as the digit asked for; your ring all-reduce "
        f"trained 2 ranks for {MILESTONE_TRAIN_STEPS} steps to the one-process parameters"
    )


#: The protocol: the seeds of the samples' noise and of the training problem in; the learner's
#: 10 samples and the two ranks' final parameters out; in the judge, the classifier reads the
#: samples, which must be the course's sampler's from the same noise, and the parameters must
#: be those of one process trained with torch.
MILESTONE_PROTOCOL = Protocol(_milestone_inputs, _milestone_run, _milestone_judge)


@uses(MILESTONE_PROTOCOL)
def check_milestone_4(ddpm_step: Callable, cfg: Callable, ring_all_reduce: Callable) -> None:
    """Milestone 4: your pieces, together.

    1. Your ``ddpm_step`` and ``cfg`` (chapter 10) draw one sample of each digit 0-9 with the
       shipped denoiser (``pretrained_digits()``), in 100 respaced steps at guidance scale 2;
       an SVC trained on the 1,797 real digits must read at least 9 of the 10 as the digit
       asked for, and the samples must be those the course's sampler draws from the same
       noise (up to float32 rounding).
    2. Your ``ring_all_reduce`` averages the gradients of two ranks, each on its half of every
       batch, for 20 SGD steps of the chapter's digits MLP; both ranks must end with the
       parameters of one process trained on the full batches (torch), up to float32 rounding.

    A piece that is still a skeleton makes the milestone "not attempted", and the message says
    which. A wrong piece is reported with its own checker's hint first.
    """
    MILESTONE_PROTOCOL.check(ddpm_step, cfg, ring_all_reduce)
