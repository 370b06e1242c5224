"""Activation memory: the bytes a graph keeps alive for backward, aigc_course against torch.

One GPT-2 block (ours, and transformers' ``GPT2Block``) with the same input; torch's count is
every distinct storage its autograd saves (through ``saved_tensors_hooks``), ours every
distinct numpy memory block held by the nodes behind the output. Weights count on both sides.

    HF_HUB_OFFLINE=1 python benchmarks/bench_activation_memory.py [--batch 4] [--seq 128]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from transformers import GPT2Config as HFConfig
from transformers.models.gpt2.modeling_gpt2 import GPT2Block as HFBlock

import aigc_course as ac
from aigc_course.models.gpt2 import GPT2Block, GPT2Config


def graph_bytes(out) -> int:
    """Bytes of the distinct numpy memory blocks that the graph behind ``out`` keeps alive."""
    seen, total, stack, nodes = set(), 0, [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in nodes:
            continue
        nodes.add(node)
        arrays = [t._data for t in getattr(node, "_saved", ()) if hasattr(t, "_data")]
        if getattr(node, "_output", None) is not None:
            arrays.append(node._output[0])
        arrays += [v for v in vars(node).values() if isinstance(v, np.ndarray)]
        for a in arrays:
            while isinstance(a.base, np.ndarray):
                a = a.base
            if id(a) not in seen:
                seen.add(id(a))
                total += a.nbytes
        stack.extend(fn for fn, _ in node.next_functions)
    return total


def torch_saved_bytes(fn) -> int:
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        fn()
    storages = {(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()) for t in packed}
    return sum(n for _, n in storages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    args = parser.parse_args()
    B, T, C = args.batch, args.seq, 768
    no_dropout = dict(n_embd=C, n_head=12, resid_pdrop=0.0, attn_pdrop=0.0, embd_pdrop=0.0)
    x = np.random.default_rng(0).standard_normal((B, T, C)).astype(np.float32)
    ours = graph_bytes(GPT2Block(GPT2Config(**no_dropout))(ac.tensor(x, requires_grad=True)))
    hf = HFBlock(HFConfig(**no_dropout), layer_idx=0).eval()
    theirs = torch_saved_bytes(lambda: hf(torch.tensor(x, requires_grad=True)))
    print(f"GPT-2 block, B={B}, T={T}, C={C}: memory kept for backward")
    print(f"{'aigc_course':<12}{ours / 2**20:>8.1f} MiB")
    print(f"{'torch':<12}{theirs / 2**20:>8.1f} MiB")
    print(f"ratio aigc_course / torch: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
