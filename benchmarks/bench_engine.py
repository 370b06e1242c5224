"""The engine's hot path against torch, measured in one run, one thread each (issue 7's targets).

Rows (each: the best of N interleaved runs of one forward + backward; the ratio is
aigc_course / torch):

1. ``mlp``: Linear(64, 128) -> ReLU -> Linear(128, 10) on a batch of 64, cross-entropy,
   ``zero_grad`` + forward + backward (target <= 1.5x);
2. ``tiny ops``: 200 recorded multiplications of 4-element tensors, ``y = y * w``, then
   backward (target <= 2.5x); and the same with a Python int, ``y = y * 2``;
3. ``gelu``: the exact GELU (erf) of a 256 x 3072 tensor, forward + backward (target <= 3x);
4. ``chain``: backward through 10,000 scalar multiplications (per-node cost of the engine).

numpy's BLAS is pinned to one thread with threadpoolctl and torch with ``set_num_threads(1)``,
so that both measure like for like on a shared machine.

    python benchmarks/bench_engine.py [--repeat 30] [--only gelu]

To measure another checkout of the package (for a before/after table), put its ``src`` first:
``PYTHONPATH=/path/to/old/src python benchmarks/bench_engine.py``.

Measured on the shared 2-core machine (ratios aigc_course / torch; the issue's "before" is the
engine before v2, then v2 before and after the fused float32 GELU and the fast paths):

=========================  ==========  ===============  =============
benchmark                  before v2   v2 (485004b)     v2 now
=========================  ==========  ===============  =============
mlp 64-128-10, batch 64    2.7-4.3x    1.31-1.38x       1.32-1.37x
200 tiny ops y*w           2.5-3.1x    2.49-2.54x       2.33-2.39x
200 tiny ops y*2           -           1.40-1.42x       1.44-1.50x
exact gelu 256x3072        ~150x       9.9-13.9x        3.0-3.8x
chain of 10,000            2.2x        1.65-1.95x       1.45-1.64x
=========================  ==========  ===============  =============

Issue 20, exact GELU: ``1 / t`` by ``np.divide`` and the sign by a bit operation (numpy's
``reciprocal`` and ``copysign`` have no SIMD loops) took it from 2.45-2.52x to 2.06-2.14x
(``--only gelu --repeat 40``, before and after runs interleaved, load average 2).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import aigc_course as ac
import aigc_course.nn as acnn
import aigc_course.nn.functional as acF


def best_times(ours, theirs, repeat: int, warmup: int = 3) -> tuple[float, float]:
    """The fastest of ``repeat`` runs of each, alternating the two libraries run by run, so that
    a burst of load from other processes on the shared CPUs hits both alike. The fastest run
    is the one least disturbed: the best estimate of each library's own cost."""
    for _ in range(warmup):
        ours()
        theirs()
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, fn in enumerate((ours, theirs)):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best[0], best[1]


def mlp_step(lib, nn, F):
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    x = lib.tensor(rng.standard_normal((64, 64)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 64))

    def step():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()

    return step


def tiny_ops(lib, scalar: bool):
    x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = lib.tensor([1.0, 1.0, 1.0, 1.0], requires_grad=True)

    def step():
        x.grad = w.grad = None
        y = x
        for _ in range(200):
            y = y * 2 if scalar else y * w
        y.sum().backward()

    return step


def gelu(lib, F):
    x = lib.tensor(np.random.default_rng(0).standard_normal((256, 3072)).astype(np.float32))
    x.requires_grad_(True)
    g = lib.ones(256, 3072)

    def step():
        x.grad = None
        F.gelu(x).backward(g)

    return step


def chain(lib, n: int = 10_000):
    def step():
        x = lib.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0001
        y.backward()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", default="", help="run the rows whose name contains this")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tF = torch.nn.functional
    rows = [
        ("mlp 64-128-10, batch 64", mlp_step(ac, acnn, acF), mlp_step(torch, torch.nn, tF), 1.5),
        ("200 tiny ops y*w", tiny_ops(ac, False), tiny_ops(torch, False), 2.5),
        ("200 tiny ops y*2", tiny_ops(ac, True), tiny_ops(torch, True), 2.5),
        ("exact gelu 256x3072", gelu(ac, acF), gelu(torch, tF), 3.0),
        ("chain of 10,000 (fwd+bwd)", chain(ac), chain(torch), None),
    ]
    print(f"aigc_course from {ac.__file__}")
    print(f"torch {torch.__version__}, numpy {np.__version__}, one thread each\n")
    print(f"{'benchmark':<28}{'aigc_course ms':>16}{'torch ms':>11}{'ratio':>8}{'target':>8}")
    with threadpool_limits(limits=1):
        for name, ours, theirs, target in rows:
            if args.only not in name:
                continue
            repeat = args.repeat if "chain" not in name else max(args.repeat // 10, 3)
            t_ours, t_torch = best_times(ours, theirs, repeat)
            goal = f"{target:.1f}x" if target else "-"
            print(
                f"{name:<28}{t_ours * 1e3:>16.3f}{t_torch * 1e3:>11.3f}"
                f"{t_ours / t_torch:>7.2f}x{goal:>8}"
            )


if __name__ == "__main__":
    main()
