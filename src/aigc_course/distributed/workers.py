r"""The functions that chapter 11 and the tests run in several processes.

They live in the package, not in the notebook, because :func:`~aigc_course.distributed.launch`
starts fresh (spawned) processes that import the function by name, and a function defined in a
notebook has no importable name.

The problem: a two-layer MLP ($64 \to H \to 10$, tanh) classifying scikit-learn's 8×8 digits with
plain SGD on the mean cross-entropy. Every rank takes its shard of each global batch with
:class:`~aigc_course.utils.data.DistributedSampler` (``shuffle=False``), so the ranks together
see exactly the batch that one process sees.

See chapter 11.
"""

from __future__ import annotations

import time

import numpy as np

from .. import nn, optim
from .._creation import tensor
from ..utils.data.distributed import DistributedSampler
from .data_parallel import all_reduce_gradients

__all__ = [
    "chapter_worker",
    "digits_problem",
    "parity_worker",
    "startup_and_timing_worker",
    "timing_worker",
    "train_ours",
    "train_torch",
]


def digits_problem(steps: int = 25, batch_size: int = 64, hidden: int = 32, seed: int = 0):
    """Standardised digits ``X`` (float32), labels ``y`` (int64), ``steps`` global batches of
    indices, and torch's initial weights for the MLP (a dict of numpy arrays)."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = ((X - X.mean(0)) / (X.std(0) + 1e-6)).astype(np.float32)
    rng = np.random.default_rng(seed)
    batches = [rng.choice(len(X), batch_size, replace=False) for _ in range(steps)]
    torch.manual_seed(seed)
    model = _torch_mlp(hidden)
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return X, y.astype(np.int64), batches, state


def _torch_mlp(hidden: int):
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(64, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 10)
    )


def _our_mlp(state: dict) -> nn.Sequential:
    hidden = state["0.weight"].shape[0]
    model = nn.Sequential(nn.Linear(64, hidden), nn.Tanh(), nn.Linear(hidden, 10))
    for name, p in model.named_parameters():
        p.detach().numpy()[...] = state[name]
    return model


def _shard(batch: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """This rank's part of a global batch, split as torch's DistributedSampler splits it."""
    sampler = DistributedSampler(batch, num_replicas=world_size, rank=rank, shuffle=False)
    return batch[list(sampler)]


def train_torch(problem, lr: float = 0.1, rank: int = 0, world_size: int = 1, ddp: bool = False):
    """SGD steps of torch's MLP on this rank's shards; ``ddp=True`` wraps it in
    ``DistributedDataParallel``. Returns the final parameters as numpy arrays."""
    import torch

    X, y, batches, state = problem
    model = _torch_mlp(state["0.weight"].shape[0])
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    if ddp:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    for batch in batches:
        idx = _shard(batch, rank, world_size)
        opt.zero_grad()
        loss_fn(model(torch.from_numpy(X[idx])), torch.from_numpy(y[idx])).backward()
        opt.step()  # DDP averaged the gradients during backward
    module = model.module if ddp else model
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def train_ours(problem, lr: float = 0.1, rank: int = 0, world_size: int = 1):
    """The same training with our engine; with ``world_size > 1``, the gradients are averaged
    by :func:`~aigc_course.distributed.all_reduce_gradients` before each step."""
    X, y, batches, state = problem
    model = _our_mlp(state)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for batch in batches:
        idx = _shard(batch, rank, world_size)
        opt.zero_grad()
        loss_fn(model(tensor(X[idx])), tensor(y[idx])).backward()
        if world_size > 1:
            all_reduce_gradients(model)
        opt.step()
    return {k: p.detach().numpy().copy() for k, p in model.named_parameters()}


def parity_worker(rank: int, world_size: int, steps: int = 25, lr: float = 0.1) -> dict:
    """Train torch+DDP and our engine+``all_reduce_gradients`` on this rank's shards; return
    both final parameter sets (every rank returns its own copy, so the caller can check that
    the copies agree)."""
    problem = digits_problem(steps=steps)
    return {
        "torch_ddp": train_torch(problem, lr, rank, world_size, ddp=True),
        "ours": train_ours(problem, lr, rank, world_size),
    }


def timing_worker(
    rank: int, world_size: int, steps: int = 20, batch_size: int = 256, hidden: int = 256
) -> dict:
    """Median milliseconds per training step (global batch ``batch_size`` split over the ranks)
    for torch+DDP and for our engine, and for our step's all-reduce alone."""
    import torch

    X, y, batches, state = digits_problem(steps=steps + 5, batch_size=batch_size, hidden=hidden)
    # torch + DDP (it overlaps its all-reduce with the backward pass)
    model = _torch_mlp(hidden)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world_size > 1 else model
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    torch_ms = []
    for batch in batches:
        idx = _shard(batch, rank, world_size)
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(ddp(torch.from_numpy(X[idx])), torch.from_numpy(y[idx])).backward()
        opt.step()
        torch_ms.append(1e3 * (time.perf_counter() - t0))
    # our engine: compute, then one bucketed all-reduce
    ours = _our_mlp(state)
    opt2 = optim.SGD(ours.parameters(), lr=0.01)
    loss2 = nn.CrossEntropyLoss()
    ours_ms, comm_ms = [], []
    for batch in batches:
        idx = _shard(batch, rank, world_size)
        t0 = time.perf_counter()
        opt2.zero_grad()
        loss2(ours(tensor(X[idx])), tensor(y[idx])).backward()
        t1 = time.perf_counter()
        if world_size > 1:
            all_reduce_gradients(ours)
        t2 = time.perf_counter()
        opt2.step()
        ours_ms.append(1e3 * (time.perf_counter() - t0))
        comm_ms.append(1e3 * (t2 - t1))
    n_params = sum(p.numel() for p in ours.parameters())
    return {
        "torch_ms": float(np.median(torch_ms[5:])),
        "ours_ms": float(np.median(ours_ms[5:])),
        "comm_ms": float(np.median(comm_ms[5:])),
        "n_params": int(n_params),
    }


def chapter_worker(rank: int, world_size: int, steps: int = 25) -> dict:
    """Everything chapter 11 needs from one launch: the wall-clock time at which this rank
    started running (after spawning, importing torch and joining the group), the parity runs
    of :func:`parity_worker` and the step times of :func:`timing_worker`."""
    started_at = time.time()
    return {
        "started_at": started_at,
        **parity_worker(rank, world_size, steps),
        "timing": timing_worker(rank, world_size),
    }


def startup_and_timing_worker(rank: int, world_size: int) -> dict:
    """When this rank started running (wall clock), and :func:`timing_worker`'s step times;
    for ``benchmarks/bench_distributed.py``."""
    return {"started_at": time.time(), "timing": timing_worker(rank, world_size)}
