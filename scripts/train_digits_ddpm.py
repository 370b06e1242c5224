"""Train the shipped class-conditional DDPM on scikit-learn's 8x8 digits.

    python scripts/train_digits_ddpm.py            # writes src/aigc_course/diffusion/pretrained/

The network is aigc_course.diffusion's Denoiser, trained here as its torch twin (the same
parameter names) because torch is faster; the weights load 1:1 into ours. Everything is
seeded: the initial weights (torch.manual_seed), the batches (one numpy generator), one thread.
The recipe: images in [-1, 1], epsilon prediction on the linear 1000-step schedule, labels
dropped to "no label" 10% of the time (for classifier-free guidance), AdamW with a one-cycle
learning rate (torch's OneCycleLR, written as a LambdaLR lambda that aigc_course's LambdaLR
also runs), batch 256. Afterwards it measures the two quality numbers with our engine and
writes them into the model card.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

from aigc_course.diffusion import DDPMScheduler, Denoiser, quality_report
from aigc_course.diffusion.pretrained import CONFIG, PRETRAINED_DIR, WEIGHTS, write_model_card
from aigc_course.diffusion.torch_denoiser import TorchDenoiser
from aigc_course.diffusion.training import load_digits_images, one_cycle, training_batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3, help="the one-cycle peak")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    images, labels = load_digits_images()
    scheduler = DDPMScheduler()
    model_config = {"num_pixels": 64, "num_classes": 10, "hidden": args.hidden}
    model_config["num_blocks"] = args.blocks
    model = TorchDenoiser(**model_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, one_cycle(args.steps))
    batches = training_batches(
        images, labels, scheduler, args.steps, args.batch_size, 0.1, model.null_label, args.seed
    )

    start = time.perf_counter()
    cpu_start = time.process_time()
    bar = tqdm(batches, total=args.steps, desc="training", mininterval=2.0)
    losses = []
    for x_t, t, y, noise in bar:
        loss = torch.nn.functional.mse_loss(
            model(torch.from_numpy(x_t), torch.from_numpy(t), torch.from_numpy(y)),
            torch.from_numpy(noise),
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        lr_schedule.step()
        losses.append(loss.item())
        if len(losses) % 200 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-200:]):.4f}")
    train_seconds = time.perf_counter() - start
    train_cpu_seconds = time.process_time() - cpu_start

    args.out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(args.out / WEIGHTS), metadata={"format": "pt"})
    recipe = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "optimizer": f"AdamW(lr={args.lr}, weight_decay={args.weight_decay}), one-cycle",
        "label_dropout": 0.1,
        "seed": args.seed,
        "final_loss_last_200": round(float(np.mean(losses[-200:])), 4),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
    }
    (args.out / CONFIG).write_text(
        json.dumps({"model": model_config, "scheduler": {"num_train_timesteps": 1000}}, indent=2)
        + "\n"
    )

    # the quality numbers, with our engine and the full 1000-step sampler
    ours = Denoiser(**model_config)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    report = quality_report(ours, scheduler, images, labels)
    write_model_card(args.out, recipe, report)
    print(json.dumps({**recipe, **report}, indent=2))


if __name__ == "__main__":
    main()
