"""One training step of a small GPT-2 (forward, cross-entropy, backward, Adam step):
aigc_course against torch (transformers' GPT2LMHeadModel with the same weights), in one run.

    python benchmarks/bench_gpt2_train.py [--reps 20] [--batch 8] [--context 64]

Prints the median time per step of each and the ratio (aigc_course / torch; target <= 1.5x),
after checking that the first step's losses agree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import torch
import transformers
from threadpoolctl import threadpool_limits

import aigc_course as ac
import aigc_course.optim
from aigc_course.models.gpt2 import GPT2LMHeadModel


def time_interleaved(steps: dict, batches: dict, warmup: int = 3) -> tuple[dict, dict, dict]:
    """Median wall and CPU seconds per step of each library, and each one's first loss. The
    libraries take turns, batch by batch, so that a busy machine slows both alike; CPU time
    (one thread) is also robust to other processes sharing the cores."""
    wall = {name: [] for name in steps}
    cpu = {name: [] for name in steps}
    first = {}
    for i in range(len(next(iter(batches.values())))):
        for name, step in steps.items():
            w0, c0 = time.perf_counter(), time.process_time()
            loss = step(*batches[name][i])
            if i >= warmup:
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
            first.setdefault(name, loss)
    median = statistics.median
    return (
        {name: median(t) for name, t in wall.items()},
        {name: median(t) for name, t in cpu.items()},
        first,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--context", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)

    V, B, T = 2048, args.batch, args.context
    config = transformers.GPT2Config(
        vocab_size=V, n_positions=T, n_embd=128, n_layer=4, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0,
    )  # fmt: skip
    torch.manual_seed(0)
    theirs = transformers.GPT2LMHeadModel(config).train()
    ours = GPT2LMHeadModel.from_hf(theirs).train()
    n_params = sum(p.numel() for p in theirs.parameters())
    rng = np.random.default_rng(0)
    data = [rng.integers(0, V, size=(B, T + 1)) for _ in range(args.reps + 3)]

    torch_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    our_opt = ac.optim.Adam(ours.parameters(), lr=1e-3)

    def torch_step(x, y):
        logits = theirs(x).logits  # (B, T, V)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, V), y.reshape(-1))
        torch_opt.zero_grad()
        loss.backward()
        torch_opt.step()
        return loss.item()

    def our_step(x, y):
        logits = ours(x)  # (B, T, V)
        loss = ac.nn.functional.cross_entropy(logits.view(-1, V), y.reshape(-1))
        our_opt.zero_grad()
        loss.backward()
        our_opt.step()
        return loss.item()

    with threadpool_limits(limits=1):
        wall, cpu, first = time_interleaved(
            {"torch": torch_step, "ours": our_step},
            {
                "torch": [(torch.from_numpy(d[:, :-1]), torch.from_numpy(d[:, 1:])) for d in data],
                "ours": [(ac.tensor(d[:, :-1]), ac.tensor(d[:, 1:])) for d in data],
            },
        )
    loss_torch, loss_ours = first["torch"], first["ours"]

    print(
        f"GPT-2 {config.n_layer} layers, {config.n_embd} channels, {config.n_head} heads, "
        f"V={V} ({n_params / 1e6:.2f}M parameters), batch {B} x {T} tokens, Adam; "
        f"median of {args.reps} steps taken in turns, 1 thread"
    )
    print(f"  first-step loss: torch {loss_torch:.5f}, aigc_course {loss_ours:.5f}")
    print(f"  {'':13} {'wall ms/step':>12} {'CPU ms/step':>12}")
    print(f"  {'torch':13} {wall['torch'] * 1e3:12.1f} {cpu['torch'] * 1e3:12.1f}")
    print(f"  {'aigc_course':13} {wall['ours'] * 1e3:12.1f} {cpu['ours'] * 1e3:12.1f}")
    print(
        f"  ratio aigc_course / torch: {wall['ours'] / wall['torch']:.2f}x wall, "
        f"{cpu['ours'] / cpu['torch']:.2f}x CPU (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
