"""Autograd overhead, aigc_course against torch, measured in one run on one machine.

1. Backward through a chain of 10,000 scalar multiplications (the engine's per-node cost).
2. Forward + backward of one elementwise op (``(x * y).sum()``-style) at several sizes: the
   time per op, and the ratio to torch. Small tensors measure Python overhead; large ones
   measure numpy against torch's kernels.

Run: ``python benchmarks/bench_autograd.py``. torch runs on one thread for a like-for-like
comparison with numpy's single-threaded elementwise kernels.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import aigc_course as ac


def median_time(fn, repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def chain(lib, n: int):
    x = lib.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def bench_chain(n: int = 10_000) -> None:
    print(f"Chain of {n:,} multiplications (median of 5)")
    print(f"{'library':<12}{'forward ms':>12}{'backward ms':>13}{'µs/node bwd':>13}")
    rows = {}
    for name, lib in (("aigc_course", ac), ("torch", torch)):
        fwd = median_time(lambda lib=lib: chain(lib, n), 5)

        def backward(lib=lib):
            _, y = chain(lib, n)
            start = time.perf_counter()
            y.backward()
            return time.perf_counter() - start

        backward()
        bwd = statistics.median(backward() for _ in range(5))
        rows[name] = (fwd, bwd)
        print(f"{name:<12}{fwd * 1e3:>12.1f}{bwd * 1e3:>13.1f}{bwd / n * 1e6:>13.2f}")
    ratio_f = rows["aigc_course"][0] / rows["torch"][0]
    ratio_b = rows["aigc_course"][1] / rows["torch"][1]
    print(f"ratio aigc_course/torch: forward {ratio_f:.1f}x, backward {ratio_b:.1f}x\n")


def bench_elementwise(sizes=(1, 1_000, 100_000, 1_000_000)) -> None:
    print("Elementwise forward+backward: z = (x * y + x).tanh(); z.backward(g)  (3 ops)")
    print(f"{'elements':>10}{'aigc_course µs/op':>19}{'torch µs/op':>13}{'ratio':>8}")
    rng = np.random.default_rng(0)
    for n in sizes:
        a, b, g = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
        per_op = {}
        for name, lib in (("aigc_course", ac), ("torch", torch)):
            x = lib.tensor(a, requires_grad=True)
            y = lib.tensor(b, requires_grad=True)
            gg = lib.tensor(g)

            def step(x=x, y=y, gg=gg):
                x.grad = y.grad = None
                z = (x * y + x).tanh()
                z.backward(gg)

            repeat = 200 if n <= 100_000 else 20
            per_op[name] = median_time(step, repeat) / 3
        ratio = per_op["aigc_course"] / per_op["torch"]
        print(
            f"{n:>10,}{per_op['aigc_course'] * 1e6:>19.1f}{per_op['torch'] * 1e6:>13.1f}"
            f"{ratio:>8.1f}"
        )
    print()


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads = 1\n")
    with threadpool_limits(limits=1):  # numpy's BLAS on one thread too: like for like
        bench_chain()
        bench_elementwise()
