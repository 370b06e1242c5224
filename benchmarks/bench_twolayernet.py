"""Forward + backward time of the article's TwoLayerNet(64, 128, 10) on a batch of 64:
aigc_course (numpy) against torch (CPU), measured in one run.

    python benchmarks/bench_twolayernet.py [--reps 200] [--threads 1]

Prints the median time per step of each library and the ratio (aigc_course / torch).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import aigc_course as ac
import aigc_course.nn as acnn


def make_two_layer_net(nn):
    class TwoLayerNet(nn.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.linear1 = nn.Linear(D_in, H)
            self.linear2 = nn.Linear(H, D_out)

        def forward(self, x):
            h_relu = self.linear1(x).clamp(min=0)
            return self.linear2(h_relu)

    return TwoLayerNet


def time_steps(model, x, y, loss_fn, reps: int, warmup: int = 20) -> float:
    """Median seconds of one zero_grad + forward + loss + backward."""
    times = []
    for i in range(warmup + reps):
        start = time.perf_counter()
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    D_in, H, D_out, N = 64, 128, 10, 64
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((N, D_in)).astype(np.float32)
    y_np = rng.integers(0, D_out, size=N)

    torch.manual_seed(0)
    theirs = make_two_layer_net(torch.nn)(D_in, H, D_out)
    ours = make_two_layer_net(acnn)(D_in, H, D_out)
    ours.load_state_dict(theirs.state_dict())

    t_torch = time_steps(
        theirs, torch.tensor(x_np), torch.tensor(y_np), torch.nn.functional.cross_entropy, args.reps
    )
    t_ours = time_steps(
        ours, ac.tensor(x_np), ac.tensor(y_np), acnn.functional.cross_entropy, args.reps
    )

    print(
        f"TwoLayerNet({D_in}, {H}, {D_out}), batch {N}, cross-entropy, forward+backward; "
        f"median of {args.reps} reps after warm-up; torch threads = {torch.get_num_threads()}"
    )
    print(f"{'library':<12} {'ms/step':>10}")
    print(f"{'torch':<12} {t_torch * 1e3:>10.3f}")
    print(f"{'aigc_course':<12} {t_ours * 1e3:>10.3f}")
    print(f"ratio aigc_course / torch: {t_ours / t_torch:.2f}x")


if __name__ == "__main__":
    with threadpool_limits(limits=1):  # numpy's BLAS on one thread, as torch's
        main()
