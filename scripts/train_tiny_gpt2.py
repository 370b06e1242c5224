"""Train the small GPT-2 shipped with aigc_course (chapters 8 and 9 use it offline).

A GPT-2-architecture model (transformers' ``GPT2LMHeadModel``, trained with torch) learns
Python's own documentation (``pydoc_data.topics``, see chapter 7), tokenised by the course's
:class:`aigc_course.tokenizers.BPETokenizer` trained on the same text. The result is saved in
transformers' format (``config.json``, ``model.safetensors``, ``generation_config.json``,
``vocab.json``, ``merges.txt``, ``tokenizer_config.json``) plus a model card ``README.md``, so
that ``transformers.GPT2LMHeadModel.from_pretrained(out)``,
``transformers.GPT2TokenizerFast.from_pretrained(out)`` and
``aigc_course.models.GPT2LMHeadModel.from_pretrained(out)`` all load it offline.

Reproducible: everything is seeded, the data order comes from a seeded ``torch.Generator``,
and the arguments are recorded in the model card. A checkpoint (``checkpoint.pt`` in the
output directory, deleted at the end) lets an interrupted run resume where it stopped::

    python scripts/train_tiny_gpt2.py                       # the shipped model (~10 min, 2 cores)
    python scripts/train_tiny_gpt2.py --max-steps 5 --out /tmp/tiny   # a quick check
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from pydoc_data.topics import topics

import torch
from tqdm import tqdm

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "aigc_course" / "models" / "tiny_gpt2"
EOS = "<|endoftext|>"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    p.add_argument("--max-steps", type=int, default=300, help="optimizer steps")
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-positions", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many steps as if interrupted, keeping the checkpoint (for tests)",
    )
    return p.parse_args(argv)


def corpus_ids(tokenizer) -> list[int]:
    """Every pydoc topic in sorted order, each followed by <|endoftext|>."""
    eos = tokenizer.token_to_id(EOS)
    ids: list[int] = []
    for name in sorted(topics):
        ids.extend(tokenizer.encode(topics[name]))
        ids.append(eos)
    return ids


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.max_steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def validation_loss(model, val: torch.Tensor, block: int, batch_size: int) -> float:
    """Mean next-token cross-entropy over non-overlapping windows of the held-out tokens."""
    model.eval()
    n = (len(val) - 1) // block
    x = val[: n * block].view(n, block)
    y = val[1 : n * block + 1].view(n, block)
    total = 0.0
    for i in range(0, n, batch_size):
        logits = model(x[i : i + batch_size]).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y[i : i + batch_size].reshape(-1), reduction="sum"
        )
        total += loss.item()
    model.train()
    return total / (n * block)


def model_card(args, n_params, n_train, n_val, val_loss, train_loss, seconds, size_mb) -> str:
    recorded = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    recorded.pop("out")
    return f"""# tiny_gpt2: a small GPT-2 trained on Python's documentation

The model that chapters 8 and 9 of the course use when the Hugging Face hub is not available
(`aigc_course.models.hub.pick_gpt2()`). It has GPT-2's architecture and files, so
`transformers.GPT2LMHeadModel.from_pretrained`, `transformers.GPT2TokenizerFast.from_pretrained`
and `aigc_course.models.GPT2LMHeadModel.from_pretrained` all load this folder offline.

- **Data**: Python's own documentation, `pydoc_data.topics` (shipped with CPython; about 465k
  characters of English prose and code), topics in sorted order, each followed by `{EOS}`.
  The last {args.val_fraction:.0%} of the token stream is held out for validation:
  {n_train:,} training and {n_val:,} validation tokens.
- **Tokenizer**: the course's byte-level BPE (`aigc_course.tokenizers.BPETokenizer`, chapter 7)
  trained on the same text to {args.vocab_size} tokens ({EOS} = {args.vocab_size - 1}), saved in
  GPT-2's format (`vocab.json`, `merges.txt`).
- **Size**: {n_params:,} parameters (n_layer={args.n_layer}, n_embd={args.n_embd},
  n_head={args.n_head}, n_positions={args.n_positions}, tied embeddings); {size_mb:.1f} MB of
  float32 safetensors.
- **Training**: {args.max_steps} AdamW steps of {args.batch_size} random windows of
  {args.n_positions} tokens (lr {args.lr} with {args.warmup} warm-up steps and cosine decay,
  weight decay {args.weight_decay}, no dropout), {seconds / 60:.1f} minutes on
  {args.threads} CPU thread(s).
- **Loss**: final training loss {train_loss:.3f}; **validation loss {val_loss:.3f}** nats per
  token (perplexity {math.exp(val_loss):.1f}).
- **What to expect**: text that looks like Python's docs (grammar, `.. note::`-style phrasing,
  code fragments) but says little: its corpus is about 0.5 MB, GPT-2's was about 40 GB of web
  text. It is a stand-in that makes the code of chapters 8 and 9 run offline, not a useful
  model; greedy decoding soon repeats itself.
- **Reproduce**: `python scripts/train_tiny_gpt2.py` with these arguments (the defaults):

```json
{json.dumps(recorded, indent=2)}
```
"""


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    from aigc_course.tokenizers import BPETokenizer
    from aigc_course.tokenizers.corpus import python_docs_text

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.pt"

    tokenizer = BPETokenizer.train(python_docs_text(), args.vocab_size, special_tokens=(EOS,))
    ids = torch.tensor(corpus_ids(tokenizer), dtype=torch.long)
    n_val = int(len(ids) * args.val_fraction)
    train, val = ids[:-n_val], ids[-n_val:]
    eos = tokenizer.token_to_id(EOS)

    config = GPT2Config(
        vocab_size=tokenizer.vocab_size,
        n_positions=args.n_positions,
        n_embd=args.n_embd,
        n_layer=args.n_layer,
        n_head=args.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    model = GPT2LMHeadModel(config)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    generator = torch.Generator().manual_seed(args.seed)
    step, elapsed, history = 0, 0.0, []
    if checkpoint_path.exists() and not args.no_resume:
        state = torch.load(checkpoint_path, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]
        print(f"resuming from {checkpoint_path} at step {step}")

    block = args.n_positions
    model.train()
    start = time.perf_counter() - elapsed
    bar = tqdm(total=args.max_steps, initial=step, desc="training", unit="step")
    train_loss = float("nan")
    while step < args.max_steps:
        starts = torch.randint(0, len(train) - block - 1, (args.batch_size,), generator=generator)
        x = torch.stack([train[s : s + block] for s in starts.tolist()])  # (B, T)
        y = torch.stack([train[s + 1 : s + block + 1] for s in starts.tolist()])  # (B, T)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args)
        logits = model(x).logits  # (B, T, V)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        train_loss = loss.item()
        history.append(train_loss)
        bar.update()
        bar.set_postfix(loss=f"{train_loss:.3f}")
        if step % args.eval_every == 0 and step < args.max_steps:
            tqdm.write(f"step {step}: validation loss {validation_loss(model, val, block, 32):.3f}")
        interrupted = args.stop_after is not None and step >= args.stop_after
        if (step % args.checkpoint_every == 0 or interrupted) and step < args.max_steps:
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "generator": generator.get_state(),
                    "step": step,
                    "elapsed": time.perf_counter() - start,
                    "history": history,
                },
                checkpoint_path,
            )
        if interrupted and step < args.max_steps:
            bar.close()
            print(f"stopped at step {step}; run again to resume from {checkpoint_path}")
            return out
    bar.close()
    seconds = time.perf_counter() - start
    val_loss = validation_loss(model, val, block, 32)
    recent = history[-50:]
    train_loss = sum(recent) / max(1, len(recent))
    print(f"validation loss {val_loss:.3f}, training loss {train_loss:.3f}, {seconds:.0f} s")

    model.generation_config.bos_token_id = eos
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = eos
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save(out)
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    n_params = sum(p.numel() for p in model.parameters())
    (out / "README.md").write_text(
        model_card(args, n_params, len(train), len(val), val_loss, train_loss, seconds, size_mb),
        encoding="utf-8",
    )
    checkpoint_path.unlink(missing_ok=True)
    return out


if __name__ == "__main__":
    main()
