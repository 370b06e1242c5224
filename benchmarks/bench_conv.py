"""Forward + backward time of convolution layers on 8x8 digit-sized images, batch 32:
aigc_course (im2col + one matmul, numpy) against torch (CPU), measured in one run.

    python benchmarks/bench_conv.py [--repeat 30] [--threads 1]

Rows (each: the best of ``repeat`` runs, alternating the two libraries run by run so that
both see the same machine load; the ratio is aigc_course / torch):

- ``conv 1->8``: ``Conv2d(1, 8, 3, padding=1)`` on (32, 1, 8, 8), then ``.sum().backward()``;
- ``conv 8->16``: ``Conv2d(8, 16, 3, padding=1)`` on (32, 8, 8, 8), the same;
- ``small CNN``: Conv2d(1, 8) - ReLU - MaxPool2d(2) - Conv2d(8, 16) - ReLU - MaxPool2d(2) -
  Flatten - Linear(64, 10), with a cross-entropy loss: one training step without the update.

numpy's BLAS is pinned to one thread with threadpoolctl and torch with ``set_num_threads(1)``.

Measured (2 shared CPU cores, torch 2.13 CPU, ``--repeat 100``): conv 1->8 0.89x,
conv 8->16 1.44x, small CNN 1.40x. The machine was loaded by other jobs, so absolute times
vary from run to run; the ratios come from alternating runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import aigc_course as ac


def best_of(fns: dict, repeat: int) -> dict:
    """The fastest of ``repeat`` runs of each function, alternating them run by run."""
    times = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def cnn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 10),
    )


def step(lib, model, x, y=None):
    """A closure: zero the gradients, forward, a scalar, backward."""
    loss_fn = lib.nn.functional.cross_entropy

    def run():
        model.zero_grad()
        out = model(x)
        loss = out.sum() if y is None else loss_fn(out, y)
        loss.backward()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)

    rows = []
    for label, c_in, c_out in [("conv 1->8", 1, 8), ("conv 8->16", 8, 16)]:
        x = rng.standard_normal((32, c_in, 8, 8)).astype(np.float32)
        theirs = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
        ours = ac.nn.Conv2d(c_in, c_out, 3, padding=1)
        ours.load_state_dict(theirs.state_dict())
        xt = torch.tensor(x, requires_grad=True)
        xo = ac.tensor(x, requires_grad=True)
        rows.append((label, step(torch, theirs, xt), step(ac, ours, xo)))
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    theirs, ours = cnn(torch), cnn(ac)
    ours.load_state_dict(theirs.state_dict())
    rows.append(
        (
            "small CNN",
            step(torch, theirs, torch.tensor(x), torch.tensor(y)),
            step(ac, ours, ac.tensor(x), ac.tensor(y)),
        )
    )

    print(
        f"batch 32 of 8x8 images, forward + backward; best of {args.repeat} alternating runs; "
        f"torch threads = {torch.get_num_threads()}, numpy BLAS threads = 1"
    )
    print(f"{'row':<12} {'torch ms':>10} {'ours ms':>10} {'ratio':>8}")
    for label, fn_t, fn_o in rows:
        for fn in (fn_t, fn_o):  # warm-up
            fn()
        t = best_of({"torch": fn_t, "ours": fn_o}, args.repeat)
        ratio = t["ours"] / t["torch"]
        print(f"{label:<12} {t['torch'] * 1e3:>10.3f} {t['ours'] * 1e3:>10.3f} {ratio:>7.2f}x")


if __name__ == "__main__":
    with threadpool_limits(limits=1):  # numpy's BLAS on one thread, as torch's
        main()
