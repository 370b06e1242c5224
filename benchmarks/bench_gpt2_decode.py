"""GPT-2 124M greedy decoding on the CPU: aigc_course's ``generate`` against transformers'.

transformers' 124M configuration with random weights (nothing is downloaded) is loaded into
ours with ``from_hf``. Both then decode 128 new tokens greedily after the same 16-token prompt,
batch 1, one thread, in one run; the ids must agree. The memory-bandwidth bound is the bytes of
weights read per token divided by the copy bandwidth measured here.

    python benchmarks/bench_gpt2_decode.py [--new-tokens 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import torch
import transformers
from threadpoolctl import threadpool_limits

import aigc_course as ac
from aigc_course.models.gpt2 import GPT2LMHeadModel


def copy_bandwidth(nbytes: int = 256 * 2**20, repeats: int = 5) -> float:
    """Bytes copied per second by a large array copy. (STREAM would count the read and the
    write, twice this; a weight-streaming matrix-vector product only reads.)"""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return nbytes / best


def best_times(runs: dict, repeats: int) -> tuple[dict, dict, float]:
    """Best wall time of each run, its output, and the best copy bandwidth. The runs take
    turns, and the bandwidth is measured once per round, so that a busy machine slows all
    three alike."""
    best = {name: float("inf") for name in runs}
    out, bandwidth = {}, 0.0
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            out[name] = run()
            best[name] = min(best[name], time.perf_counter() - t0)
        bandwidth = max(bandwidth, copy_bandwidth())
    return best, out, bandwidth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = transformers.GPT2Config()  # the 124M model: 12 layers, 768 channels, 50257 tokens
    hf = transformers.GPT2LMHeadModel(config).eval()
    hf.generation_config.eos_token_id = None  # decode exactly --new-tokens tokens
    ours = GPT2LMHeadModel.from_hf(hf)
    prompt = torch.randint(0, config.vocab_size, (1, args.prompt_tokens))
    n = args.new_tokens

    def run_hf():
        with torch.no_grad():
            return hf.generate(
                prompt,
                attention_mask=torch.ones_like(prompt),
                max_new_tokens=n,
                min_new_tokens=n,
                do_sample=False,
                pad_token_id=0,
            )

    def run_ours():
        return ours.generate(ac.from_torch(prompt), n)

    with threadpool_limits(limits=1):
        run_hf(), run_ours()  # warm up
        best, ids, bandwidth = best_times({"transformers": run_hf, "ours": run_ours}, args.repeats)

    same = bool(np.array_equal(ids["transformers"].numpy(), ids["ours"].numpy()))
    t_hf, t_ours = best["transformers"], best["ours"]
    # each new token reads every weight once (lm_head is wte, read once; wpe reads one row)
    weight_bytes = sum(p.numel() * 4 for n_, p in hf.named_parameters() if "wpe" not in n_)
    bound = bandwidth / weight_bytes
    tok_hf, tok_ours = n / t_hf, n / t_ours
    print(
        f"GPT-2 124M (random weights), greedy, batch 1, prompt {args.prompt_tokens}, "
        f"{n} new tokens, 1 thread"
    )
    print(f"  transformers generate : {tok_hf:7.1f} tokens/s")
    print(
        f"  aigc_course generate  : {tok_ours:7.1f} tokens/s   ratio {tok_ours / tok_hf:.2f}x "
        "(target >= 1.0x)"
    )
    print(
        f"  bandwidth bound       : {bound:7.1f} tokens/s   ({weight_bytes / 2**20:.0f} MiB of "
        f"weights per token / {bandwidth / 2**30:.1f} GiB/s copy)"
    )
    print(f"  ids identical         : {same}")

    print(
        "  (the bound uses copy bandwidth, bytes copied per second; a copy reads and writes each"
        "\n   byte, decoding only reads the weights, so it can run somewhat above the bound)"
    )


if __name__ == "__main__":
    main()
