"""Train the small GPT-2 shipped with aigc_course, with aigc_course itself.

Chapters 8 and 9 use this model when the Hugging Face hub is not reachable. It is trained by
the engine the course builds: ``aigc_course`` tensors and autograd, ``aigc_course.nn`` (the
GPT-2 of chapter 8), ``aigc_course.optim.AdamW`` with a linear warm-up and a cosine decay
(``LambdaLR``), ``aigc_course.nn.utils.clip_grad_norm_`` and ``aigc_course.utils.data``'s
``DataLoader``: chapter 6's training loop at GPT scale. No torch is involved, except that
transformers (which imports torch) writes the final folder in its own format.

The data is the offline corpus of :mod:`aigc_course.tokenizers.docstrings` (Python's
documentation and the docstrings of the standard library and of installed packages; never the
course's chapters, which are the held-out text). The tokenizer is the course's byte-level BPE,
trained on the training split.

Everything is seeded: the model's initialisation, and each epoch's order from its own
``aigc_course.Generator``. A checkpoint is written every ``--checkpoint-every`` steps (and
when ``--stop-after`` stops the run as if interrupted); running the same command again resumes
from it and reaches the same weights as an uninterrupted run. The run shows a progress bar and
writes its loss log, ``training_log.csv``, next to the model::

    python scripts/train_tiny_gpt2.py                     # the shipped model (~90 min, 1 core)
    python scripts/train_tiny_gpt2.py --tiny --out /tmp/t # a configuration for tests (seconds)

The folder it writes (``src/aigc_course/models/tiny_gpt2`` by default) holds ``config.json``,
``model.safetensors``, ``generation_config.json``, the tokenizer files, the loss log and the
model card ``README.md``; ``benchmarks/eval_shipped_gpt2.py`` then measures it and completes the
card's quality section.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pickle
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import aigc_course as ac
import aigc_course.nn.functional as F
from aigc_course.datasets import TextWindowDataset
from aigc_course.models.gpt2 import GPT2Config, GPT2LMHeadModel
from aigc_course.models.quality import pair_counts
from aigc_course.tokenizers import BPETokenizer
from aigc_course.tokenizers.docstrings import EOS, SOURCES, docstring_documents, is_held_out
from aigc_course.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "aigc_course" / "models" / "tiny_gpt2"
#: The Conv1D weights that transformers stores as (in, out): ours are Linear's (out, in).
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the model folder to write")
    p.add_argument("--work", type=Path, default=None, help="corpus cache and checkpoint folder")
    p.add_argument("--steps", type=int, default=4400, help="optimizer steps")
    p.add_argument("--vocab-size", type=int, default=8192)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--block-size", type=int, default=128, help="context length (n_positions)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=400)
    p.add_argument("--eval-batches", type=int, default=40)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads")
    p.add_argument(
        "--ngrams-only",
        action="store_true",
        help="only write ngram_counts.npz into --out, from the cached corpus",
    )
    p.add_argument("--tiny", action="store_true", help="a small corpus and model, for tests")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many steps as if interrupted, keeping the checkpoint (for tests)",
    )
    args = p.parse_args(argv)
    if args.tiny:  # a few seconds: pydoc's topics only, a 2-layer model
        args.vocab_size, args.n_layer, args.n_embd, args.n_head = 300, 1, 32, 2
        args.block_size, args.batch_size, args.warmup = 64, 4, 2
        args.eval_every, args.eval_batches = 5, 2
        args.steps = min(args.steps, 12)
        args.checkpoint_every = min(args.checkpoint_every, 3)
    if args.work is None:
        args.work = ROOT / "build" / ("tiny_gpt2_tiny" if args.tiny else "tiny_gpt2")
    return args


# --------------------------------------------------------------------------- the corpus


def build_corpus(args) -> dict:
    """Documents split into training and validation, tokenizer trained, ids encoded.

    Cached in ``args.work`` (deterministic, so a resumed run sees the same ids)."""
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "corpus.npz"
    tok_dir = args.work / "tokenizer"
    if cache.exists() and (tok_dir / "vocab.json").exists():
        data = np.load(cache, allow_pickle=False)
        stats = json.loads((args.work / "corpus.json").read_text())
        return {
            "train": data["train"],
            "val": data["val"],
            "stats": stats,
            "tokenizer": BPETokenizer.from_pretrained(tok_dir),
        }
    sources = SOURCES[:1] if args.tiny else SOURCES
    train_docs, val_docs, per_source = [], [], {}
    every = 5 if args.tiny else 50  # the tiny corpus has 68 documents: hold out more of them
    for name, doc in docstring_documents(sources):
        (val_docs if is_held_out(doc, every) else train_docs).append(doc)
        s = per_source.setdefault(name, {"documents": 0, "characters": 0})
        s["documents"] += 1
        s["characters"] += len(doc)
    train_text = "\n\n".join(train_docs)
    tokenizer = BPETokenizer.train(train_text, args.vocab_size, special_tokens=(EOS,))
    eos = tokenizer.token_to_id(EOS)

    def encode(docs):
        ids: list[int] = []
        for doc in docs:
            ids.extend(tokenizer.encode(doc))
            ids.append(eos)
        return np.array(ids, dtype=np.int64)

    train, val = encode(train_docs), encode(val_docs)
    stats = {
        "sources": per_source,
        "train_documents": len(train_docs),
        "val_documents": len(val_docs),
        "train_characters": sum(map(len, train_docs)),
        "val_characters": sum(map(len, val_docs)),
        "train_tokens": int(len(train)),
        "val_tokens": int(len(val)),
    }
    tokenizer.save(tok_dir)
    np.savez(cache, train=train, val=val)
    (args.work / "corpus.json").write_text(json.dumps(stats, indent=2))
    return {"train": train, "val": val, "stats": stats, "tokenizer": tokenizer}


# --------------------------------------------------------------------------- training


def warmup_cosine(args):
    """The learning-rate factor: linear warm-up, then a cosine down to ``min_lr_ratio``."""

    def factor(step: int) -> float:
        if step < args.warmup:
            return (step + 1) / args.warmup
        progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return args.min_lr_ratio + (1.0 - args.min_lr_ratio) * cosine

    return factor


def make_model(args, vocab_size: int, eos: int) -> GPT2LMHeadModel:
    ac.manual_seed(args.seed)
    config = GPT2Config(
        vocab_size=vocab_size,
        n_positions=args.block_size,
        n_embd=args.n_embd,
        n_layer=args.n_layer,
        n_head=args.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    return GPT2LMHeadModel(config)


def make_optimizer(args, model):
    """AdamW, with weight decay on the matrices only (not on biases and LayerNorm gains)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = ac.optim.AdamW(
        [
            {"params": decay, "weight_decay": args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=args.lr,
        betas=(0.9, 0.95),
    )
    scheduler = ac.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(args))
    return optimizer, scheduler


def epoch_loader(dataset, args, epoch: int) -> DataLoader:
    """Each epoch shuffles the windows with its own seeded generator, so any epoch can be
    replayed from its number alone (which is what resuming needs)."""
    generator = ac.Generator().manual_seed(args.seed * 1_000_003 + epoch)
    return DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True, drop_last=True, generator=generator
    )


@ac.no_grad()
def mean_loss(model, ids: np.ndarray, block: int, batches: int, batch_size: int) -> float:
    """Mean next-token cross-entropy (nats per token) over evenly spaced windows."""
    model.eval()
    dataset = TextWindowDataset(ids, block_size=block)
    n = min(len(dataset), batches * batch_size)
    picks = np.linspace(0, len(dataset) - 1, n).astype(int)
    total = 0.0
    for i in range(0, n, batch_size):
        x, y = zip(*(dataset[int(j)] for j in picks[i : i + batch_size]))
        logits = model(ac.stack(x))
        total += F.cross_entropy(
            logits.view(-1, logits.shape[-1]), ac.stack(y).view(-1), reduction="sum"
        ).item()
    model.train()
    return total / (n * block)


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(state, f)
    os.replace(tmp, path)  # never a half-written checkpoint


def _numpy_tree(obj):
    """The same nested structure with every aigc_course Tensor as a numpy array (copied)."""
    if isinstance(obj, ac.Tensor):
        return obj.detach().numpy().copy()
    if isinstance(obj, dict):
        return {k: _numpy_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_numpy_tree(v) for v in obj)
    return obj


def _tensor_tree(obj):
    if isinstance(obj, np.ndarray):
        return ac.tensor(obj)
    if isinstance(obj, dict):
        return {k: _tensor_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_tensor_tree(v) for v in obj)
    return obj


def train(args) -> dict:
    """Run (or resume) the training; return what the model card needs."""
    corpus = build_corpus(args)
    tokenizer, eos = corpus["tokenizer"], corpus["tokenizer"].token_to_id(EOS)
    dataset = TextWindowDataset(corpus["train"], block_size=args.block_size)
    model = make_model(args, tokenizer.vocab_size, eos)
    optimizer, scheduler = make_optimizer(args, model)
    steps_per_epoch = len(dataset) // args.batch_size
    checkpoint = args.work / "checkpoint.pkl"
    step, elapsed, log = 0, 0.0, []
    if checkpoint.exists() and not args.no_resume:
        with open(checkpoint, "rb") as f:
            state = pickle.load(f)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(_tensor_tree(state["optimizer"]))
        scheduler.load_state_dict(state["scheduler"])
        step, elapsed, log = state["step"], state["elapsed"], state["log"]
        tqdm.write(f"resuming from {checkpoint} at step {step}")

    def snapshot():
        return {
            "model": {k: v.detach().numpy().copy() for k, v in model.state_dict().items()},
            "optimizer": _numpy_tree(optimizer.state_dict()),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "elapsed": elapsed + time.perf_counter() - start,
            "log": log,
        }

    start = time.perf_counter()
    bar = tqdm(total=args.steps, initial=step, desc="training", unit="step", mininterval=5)
    val_loss = None
    while step < args.steps:
        epoch, skip = divmod(step, steps_per_epoch)
        batches = iter(epoch_loader(dataset, args, epoch))
        for _ in range(skip):  # a resumed epoch replays its order up to where it stopped
            next(batches)
        for x, y in batches:
            logits = model(x)  # (B, T, V)
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))
            optimizer.zero_grad()
            loss.backward()
            grad_norm = ac.nn.utils.clip_grad_norm_(model.parameters(), args.clip).item()
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            step += 1
            row = {
                "step": step,
                "epoch": epoch,
                "lr": lr,
                "loss": loss.item(),
                "grad_norm": grad_norm,
                "val_loss": "",
                "seconds": round(elapsed + time.perf_counter() - start, 1),
            }
            if step % args.eval_every == 0 or step == args.steps:
                val_loss = mean_loss(
                    model, corpus["val"], args.block_size, args.eval_batches, args.batch_size
                )
                row["val_loss"] = val_loss
                tqdm.write(
                    f"step {step}: training loss {row['loss']:.3f}, validation loss {val_loss:.3f}"
                )
            log.append(row)
            bar.update()
            bar.set_postfix(loss=f"{row['loss']:.3f}", refresh=False)
            interrupted = args.stop_after is not None and step >= args.stop_after
            if step < args.steps and (step % args.checkpoint_every == 0 or interrupted):
                save_checkpoint(checkpoint, snapshot())
            if interrupted and step < args.steps:
                bar.close()
                tqdm.write(f"stopped at step {step}; run again to resume from {checkpoint}")
                return {"interrupted": True, "model": model}
            if step >= args.steps:
                break
    bar.close()
    seconds = elapsed + time.perf_counter() - start
    full_val = mean_loss(model, corpus["val"], args.block_size, 10**9, args.batch_size)
    return {
        "interrupted": False,
        "model": model,
        "tokenizer": tokenizer,
        "eos": eos,
        "train_ids": corpus["train"],
        "stats": corpus["stats"],
        "log": log,
        "seconds": seconds,
        "val_loss": full_val,
    }


# --------------------------------------------------------------------------- the folder


def save_folder(args, result: dict) -> None:
    """Write the model in transformers' format, the tokenizer, the loss log and the card."""
    from safetensors.numpy import save_file

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, eos = result["model"], result["eos"]
    tensors = {}
    for name, value in model.state_dict().items():
        array = value.detach().numpy()
        if name.endswith(CONV1D):
            array = array.T
        tensors[name] = np.ascontiguousarray(array, dtype=np.float32)
    tensors.pop("lm_head.weight")  # tied to transformer.wte.weight, as transformers saves it
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    c = model.config
    config = {
        "activation_function": c.activation_function,
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "bos_token_id": eos,
        "embd_pdrop": 0.0,
        "eos_token_id": eos,
        "initializer_range": c.initializer_range,
        "layer_norm_epsilon": c.layer_norm_epsilon,
        "model_type": "gpt2",
        "n_embd": c.n_embd,
        "n_head": c.n_head,
        "n_inner": None,
        "n_layer": c.n_layer,
        "n_positions": c.n_positions,
        "resid_pdrop": 0.0,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "dtype": "float32",
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    generation = {"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos}
    (out / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")
    result["tokenizer"].save(out)
    save_ngram_counts(out, result["train_ids"], model.config.vocab_size)
    with open(out / "training_log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(result["log"][0]))
        writer.writeheader()
        for row in result["log"]:
            writer.writerow(
                {k: (f"{v:.5g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
    n_params = sum(p.numel() for p in model.parameters())
    (out / "README.md").write_text(model_card(args, result, n_params), encoding="utf-8")


def save_ngram_counts(out: Path, train_ids: np.ndarray, vocab_size: int) -> None:
    """The training corpus's unigram and bigram counts (``ngram_counts.npz``), so that a page
    can fit the counting baselines of :class:`aigc_course.models.quality.NGram` without
    rebuilding the corpus. A bigram ``(a, b)`` is stored as the key ``a * vocab_size + b``."""
    ids = np.asarray(train_ids, dtype=np.int64)
    keys, counts = pair_counts(ids, vocab_size)
    np.savez_compressed(
        out / "ngram_counts.npz",
        unigram=np.bincount(ids, minlength=vocab_size).astype(np.uint32),
        bigram_keys=keys.astype(np.uint32),
        bigram_counts=counts.astype(np.uint32),
    )


def model_card(args, result: dict, n_params: int) -> str:
    stats, log = result["stats"], result["log"]
    recorded = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    for key in ("out", "work", "no_resume", "stop_after"):
        recorded.pop(key)
    licences = {s.name: s.licence for s in SOURCES}
    rows = "\n".join(
        f"| {name} | {licences[name]} | {s['documents']:,} | {s['characters'] / 1e6:.2f} MB |"
        for name, s in stats["sources"].items()
    )
    tokens_seen = args.steps * args.batch_size * args.block_size
    last = [r["loss"] for r in log[-100:]]
    chars_per_token = stats["train_characters"] / stats["train_tokens"]
    return f"""# tiny_gpt2: a small GPT-2 trained by aigc_course on docstrings

The model that chapters 8 and 9 of the course use when the Hugging Face hub is not reachable
(`aigc_course.models.hub.pick_gpt2()`). **It was trained by the course's own engine**
(`aigc_course` tensors and autograd, `aigc_course.nn`, `aigc_course.optim.AdamW`,
`LambdaLR`, `clip_grad_norm_` and the `DataLoader`): chapter 6's training loop at GPT scale.
It has GPT-2's architecture and files, so `transformers.GPT2LMHeadModel.from_pretrained`,
`transformers.GPT2TokenizerFast.from_pretrained` and
`aigc_course.models.GPT2LMHeadModel.from_pretrained` all load this folder offline.

## Data

English that every installation of the course has on disk
(`aigc_course.tokenizers.docstrings`): Python's documentation (`pydoc_data.topics`) and the
docstrings of the standard library and of installed, permissively licensed packages, read
with `ast` (never imported). **The course's own chapters and package are not in it**: the
chapters' prose is the held-out text on which the model is judged.

| source | licence | documents | size |
|---|---|---|---|
{rows}

- **Cleaning**: each docstring is cut into paragraphs at blank lines; a paragraph is kept when
  it reads as prose: at least 6 words, at least 75% letters or spaces, and no doctest prompt,
  table rule, directive or field marker (`>>>`, `...`, `---`, `===`, `.. `, `:param:`, `|`) at
  the start of a line. Kept paragraphs are re-flowed onto one line.
- **Deduplication**: a paragraph already seen (case-folded, whitespace collapsed) is dropped.
- **Split**: one document per docstring; about one document in 50, chosen by a hash of its
  text, is held out for validation: {stats["train_documents"]:,} training documents
  ({stats["train_characters"] / 1e6:.1f} MB, {stats["train_tokens"]:,} tokens) and
  {stats["val_documents"]:,} validation documents ({stats["val_characters"] / 1e6:.2f} MB,
  {stats["val_tokens"]:,} tokens). Documents are separated by `{EOS}`.
- The corpus depends on the installed versions (`requirements.txt` pins them).

## Tokenizer

The course's byte-level BPE (`aigc_course.tokenizers.BPETokenizer`, chapter 7), trained on
the training split to {args.vocab_size:,} tokens (`{EOS}` = {result["eos"]}): about
{chars_per_token:.2f} characters per token on the training text. Saved in GPT-2's format
(`vocab.json`, `merges.txt`).

## Model and training

- **Size**: {n_params:,} parameters (n_layer={args.n_layer}, n_embd={args.n_embd},
  n_head={args.n_head}, n_positions={args.block_size}, tied embeddings, GELU with the tanh
  approximation), float32.
- **Training**: {args.steps:,} AdamW steps (betas 0.9/0.95, weight decay {args.weight_decay} on
  matrices only) of {args.batch_size} windows of {args.block_size} tokens, shuffled each epoch
  ({tokens_seen / 1e6:.1f}M tokens seen, {tokens_seen / stats["train_tokens"]:.2f} epochs); peak
  learning rate {args.lr} after {args.warmup} warm-up steps, cosine decay to
  {args.min_lr_ratio:g}× the peak; gradients clipped to norm {args.clip}; no dropout.
- **Budget**: {result["seconds"] / 60:.1f} minutes of wall time on {args.threads} CPU
  thread(s) (the limit was 150 minutes on 2 cores), checkpointed every
  {args.checkpoint_every} steps.
- **Loss**: training loss {sum(last) / len(last):.3f} (mean of the last {len(last)} steps);
  **validation loss {result["val_loss"]:.3f}** nats per token over the whole held-out split.
  Every step is in `training_log.csv`.

## Quality

See `benchmarks/eval_shipped_gpt2.py`, which measures the bits per character on the course's
chapters and fills in the section below.

<!-- quality -->

## Reproduce

`python scripts/train_tiny_gpt2.py` with these arguments (the defaults). An interrupted run
resumes from `build/tiny_gpt2/checkpoint.pkl` when run again.

```json
{json.dumps(recorded, indent=2)}
```
"""


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    if args.ngrams_only:
        corpus = build_corpus(args)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        save_ngram_counts(Path(args.out), corpus["train"], corpus["tokenizer"].vocab_size)
        return Path(args.out)
    with threadpool_limits(args.threads):
        result = train(args)
    if not result["interrupted"]:
        save_folder(args, result)
        print(
            f"validation loss {result['val_loss']:.3f}; {result['seconds'] / 60:.1f} min; "
            f"wrote {args.out}"
        )
        (args.work / "checkpoint.pkl").unlink(missing_ok=True)
    return Path(args.out)


if __name__ == "__main__":
    main()
