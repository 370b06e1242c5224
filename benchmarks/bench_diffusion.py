"""The diffusion denoiser (chapter 10) in aigc_course against torch, on the same residual MLP
(564k parameters) with the same weights, one thread each, measured in one run:

1. a training step: batch 256 of noised digits, forward + MSE + backward + AdamW step;
2. sampling 100 digits with all 1,000 steps and classifier-free guidance (a batch of 200 per
   denoiser call): aigc_course's ``sample`` with our scheduler, against the same loop in torch
   with ``diffusers.DDPMScheduler``.

    python benchmarks/bench_diffusion.py [--reps 60] [--sample-steps 1000]

The two libraries take turns (rounds of a few steps each), so a busy machine slows both
alike; medians are reported. Target: aigc_course / torch at most 1.5x for both.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import aigc_course as ac
from aigc_course.diffusion import DDPMScheduler, Denoiser, sample
from aigc_course.diffusion.torch_denoiser import TorchDenoiser
from aigc_course.diffusion.training import load_digits_images, training_batches


def train_step_ours(model, opt, batch):
    x_t, t, y, noise = batch
    opt.zero_grad()
    loss = ac.nn.functional.mse_loss(
        model(ac.from_numpy(x_t), t, ac.from_numpy(y)), ac.from_numpy(noise)
    )
    loss.backward()
    opt.step()


def train_step_torch(model, opt, batch):
    x_t, t, y, noise = batch
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(
        model(torch.from_numpy(x_t), t, torch.from_numpy(y)), torch.from_numpy(noise)
    )
    loss.backward()
    opt.step()


def sample_torch(model, scheduler, labels, guidance_scale=2.0, seed=0):
    """The torch twin of ``aigc_course.diffusion.sample``, stepping with diffusers."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(labels)
    null = torch.full_like(labels, model.null_label)
    x = torch.randn(len(labels), 8, 8, generator=g)
    with torch.no_grad():
        for t in scheduler.timesteps.tolist():
            eps_c, eps_u = model(torch.cat([x, x]), t, torch.cat([labels, null])).chunk(2)
            eps = eps_u + guidance_scale * (eps_c - eps_u)
            x = scheduler.step(eps, t, x, generator=g).prev_sample
    return x


def take_turns(jobs: dict, rounds: int) -> dict[str, float]:
    """Run each job once per round, alternating; the median seconds of each."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            t0 = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=60, help="training steps per library")
    parser.add_argument("--sample-steps", type=int, default=1000)
    parser.add_argument("--sample-rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    import diffusers

    images, labels = load_digits_images()
    scheduler = DDPMScheduler()
    torch.manual_seed(0)
    theirs = TorchDenoiser()
    ours = Denoiser()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    batches = list(training_batches(images, labels, scheduler, 8, seed=0))
    opt_t = torch.optim.AdamW(theirs.parameters(), lr=1e-4)
    opt_o = ac.optim.AdamW(ours.parameters(), lr=1e-4)
    counter = {"torch": 0, "ours": 0}

    def step(name, fn, model, opt):
        def run():
            fn(model, opt, batches[counter[name] % len(batches)])
            counter[name] += 1

        return run

    wanted = np.repeat(np.arange(10), 10)
    ref_scheduler = diffusers.DDPMScheduler()
    ref_scheduler.set_timesteps(args.sample_steps)

    with threadpool_limits(limits=1):
        for _ in range(5):  # warm-up
            step("torch", train_step_torch, theirs, opt_t)()
            step("ours", train_step_ours, ours, opt_o)()
        train = take_turns(
            {
                "torch": step("torch", train_step_torch, theirs, opt_t),
                "aigc_course": step("ours", train_step_ours, ours, opt_o),
            },
            args.reps,
        )
        sampling = take_turns(
            {
                "torch": lambda: sample_torch(theirs, ref_scheduler, wanted),
                "aigc_course": lambda: sample(ours, scheduler, wanted, 2.0, args.sample_steps),
            },
            args.sample_rounds,
        )

    print("Denoiser (residual MLP, 564,288 parameters), one thread each; medians, taking turns")
    print(f"{'':<38}{'torch':>12}{'aigc_course':>14}{'ratio':>9}")
    rows = [
        ("training step (batch 256, AdamW) ms", train, 1e3),
        (f"sample 100 digits, {args.sample_steps} steps, CFG  s", sampling, 1.0),
    ]
    for label, r, scale in rows:
        ratio = r["aigc_course"] / r["torch"]
        print(
            f"{label:<38}{r['torch'] * scale:>12.2f}{r['aigc_course'] * scale:>14.2f}{ratio:>8.2f}x"
        )
    print("target: ratio <= 1.5x for both")


if __name__ == "__main__":
    main()
