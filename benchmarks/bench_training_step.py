"""Time per training step of chapter 6's network: the article's TwoLayerNet(64, 128, 10) on a
batch of 64 digits, cross-entropy, forward + loss + backward + Adam step, in aigc_course and in
torch (CPU), one thread each, measured in one run.

    python benchmarks/bench_training_step.py [--reps 300]

Prints the median time per step and per phase of each library, and the ratio
aigc_course / torch (the target is 1.0x or less). A third row times an Adam whose step is
written with Tensor methods (``m.mul_(beta1).add_(...)``) instead of on the numpy arrays, the
choice chapter 4 explains.
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
from aigc_course import optim

D_IN, H, D_OUT, N = 64, 128, 10, 64


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


class TensorOpsAdam(optim.Adam):
    """Adam's step with Tensor in-place methods under no_grad (the way torch.optim reads)."""

    def step(self, closure=None):
        with ac.no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g, state = p.grad, self.state[p]
                    if not state:
                        state["step"], state["m"], state["v"] = (
                            0,
                            ac.zeros_like(p),
                            ac.zeros_like(p),
                        )
                    state["step"] += 1
                    t, m, v = state["step"], state["m"], state["v"]
                    m.mul_(beta1).add_((1 - beta1) * g)
                    v.mul_(beta2).add_((1 - beta2) * g * g)
                    m_hat = m / (1 - beta1**t)
                    v_hat = v / (1 - beta2**t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


def time_steps(lib, model, opt, x, y, reps: int, warmup: int = 30) -> dict[str, float]:
    """Median seconds of each phase of one training step, and of the whole step."""
    F = lib.nn.functional
    phases: dict[str, list[float]] = {"forward+loss": [], "backward": [], "step": [], "total": []}
    for i in range(warmup + reps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= warmup:
            for k, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                phases[k].append(dt)
    return {k: statistics.median(v) for k, v in phases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((N, D_IN)).astype(np.float32)
    y_np = rng.integers(0, D_OUT, size=N)

    torch.manual_seed(0)
    theirs = make_two_layer_net(torch.nn)(D_IN, H, D_OUT)
    x_t, y_t = torch.tensor(x_np), torch.tensor(y_np)
    rows = {}
    with threadpool_limits(limits=1):
        rows["torch"] = time_steps(
            torch, theirs, torch.optim.Adam(theirs.parameters(), lr=1e-3), x_t, y_t, args.reps
        )
        for label, adam in [("aigc_course", optim.Adam), ("aigc (Tensor-op Adam)", TensorOpsAdam)]:
            ours = make_two_layer_net(acnn)(D_IN, H, D_OUT)
            ours.load_state_dict(theirs.state_dict())
            x_a, y_a = ac.tensor(x_np), ac.tensor(y_np)
            rows[label] = time_steps(
                ac, ours, adam(ours.parameters(), lr=1e-3), x_a, y_a, args.reps
            )

    print(
        f"TwoLayerNet({D_IN}, {H}, {D_OUT}), batch {N}, cross-entropy + Adam; median of "
        f"{args.reps} steps after warm-up; one thread each (torch and BLAS)"
    )
    print(f"{'library':<24}" + "".join(f"{k + ' µs':>18}" for k in rows["torch"]))
    for label, r in rows.items():
        print(f"{label:<24}" + "".join(f"{v * 1e6:>18.1f}" for v in r.values()))
    for label in list(rows)[1:]:
        parts = ", ".join(f"{k} {rows[label][k] / rows['torch'][k]:.2f}x" for k in rows["torch"])
        print(f"ratio {label} / torch: {parts}")


if __name__ == "__main__":
    main()
