"""Data parallelism on this machine: the cost of launching ranks, and the time per training step
of chapter 11's MLP (64 → 256 → 10, global batch 256) on 1 and 2 gloo processes, for torch with
DistributedDataParallel and for aigc_course with ``all_reduce_gradients``, one thread per
process, measured in one run.

    python benchmarks/bench_distributed.py [--repeats 2]

Prints the launch time (until every rank runs, and in all), the median step time of each
library on 1 and 2 processes, the share of our step spent in the all-reduce, and the ratios
2-process / 1-process (below 1.0 would be a speed-up) and aigc_course / torch.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from threadpoolctl import threadpool_limits

from aigc_course.distributed import launch, workers


def one_launch(world_size: int) -> tuple[float, float, dict]:
    t0 = time.time()
    ranks = launch(workers.startup_and_timing_worker, world_size)
    total = time.time() - t0
    startup = max(r["started_at"] for r in ranks) - t0
    slowest = max(ranks, key=lambda r: r["timing"]["ours_ms"])["timing"]
    return startup, total, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    results = {1: [], 2: []}
    for _ in range(args.repeats):
        for world_size in (1, 2):
            results[world_size].append(one_launch(world_size))
    with threadpool_limits(1):
        torch.set_num_threads(1)
        in_process = workers.timing_worker(0, 1)

    def median(ws, key):
        return statistics.median(r[2][key] for r in results[ws])

    print(f"launch (spawn + import torch + join the gloo group), median of {args.repeats}:")
    for ws in (1, 2):
        startup = statistics.median(r[0] for r in results[ws])
        total = statistics.median(r[1] for r in results[ws])
        print(f"  {ws} process(es): {startup:5.1f} s until every rank runs, {total:5.1f} s in all")
    print(
        f"\nstep time (ms, median over 20 steps; 1 process in-process: "
        f"torch {in_process['torch_ms']:.2f}, ours {in_process['ours_ms']:.2f})"
    )
    print(f"{'':>14}{'1 process':>11}{'2 processes':>13}{'2p / 1p':>9}")
    for name, key in (("torch DDP", "torch_ms"), ("aigc_course", "ours_ms")):
        one, two = median(1, key), median(2, key)
        print(f"{name:>14}{one:>11.2f}{two:>13.2f}{two / one:>8.2f}x")
    comm = median(2, "comm_ms")
    print(
        f"{'all-reduce':>14}{'':>11}{comm:>13.2f}   ({comm / median(2, 'ours_ms'):.0%} of our step)"
    )
    print(
        f"\naigc_course / torch: 1 process {median(1, 'ours_ms') / median(1, 'torch_ms'):.2f}x, "
        f"2 processes {median(2, 'ours_ms') / median(2, 'torch_ms'):.2f}x"
    )


if __name__ == "__main__":
    main()
