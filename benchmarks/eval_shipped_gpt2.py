"""Measure the shipped GPT-2 on English it never saw: the prose of the course's chapters.

    python benchmarks/eval_shipped_gpt2.py                 # print the measurements
    python benchmarks/eval_shipped_gpt2.py --write-card    # also fill in the model card

It reports:

- **bits per character** on the prose of the introduction and every chapter (math, code and
  link targets left out: :func:`aigc_course.models.quality.chapter_prose`), for the model and
  for two counting baselines fitted to the same training corpus (a unigram and an
  interpolated bigram over the same tokens); the issue's bound is 2.1 for the model;
- the **validation loss** (nats per token) on the corpus's held-out documents;
- three **sampled continuations** of the article's prompt (top-p 0.9, temperature 0.8),
  drawn by our own engine's ``generate``.

The model's log-probabilities come from transformers (torch, faster); our GPT-2 gives the same
logits (``tests/test_tiny_gpt2.py``) and draws the samples.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from aigc_course.models.hub import SHIPPED_MODEL_DIR
from aigc_course.models.quality import NGram, bits_per_character, chapter_prose
from aigc_course.tokenizers import BPETokenizer

# The article's prompt without its trailing space: a lone space is a token of its own, after
# which a byte-level BPE model can only continue with a token that has no leading space.
PROMPT = "PyTorch is a powerful deep learning framework. It provides"
EOS = "<|endoftext|>"
BIGRAM_LAMBDA = 0.7


def torch_log_probs(model_dir: Path):
    """``log_probs(ids) -> (len(ids), V)`` from transformers' model of the folder."""
    import torch
    import transformers

    torch.set_num_threads(1)
    model = transformers.GPT2LMHeadModel.from_pretrained(model_dir).eval()

    def log_probs(ids):
        with torch.no_grad():
            logits = model(torch.tensor([list(ids)])).logits[0]
            return torch.log_softmax(logits.double(), dim=-1).numpy()

    return log_probs, model.config.n_positions


def model_bpc(model_dir: Path, texts: list[str], per_text: bool = False):
    """The model's bits per character over ``texts`` (windows of n_positions, stride half);
    with ``per_text``, also a list with each text's own."""
    tokenizer = BPETokenizer.from_pretrained(model_dir)
    log_probs, block = torch_log_probs(model_dir)
    eos = tokenizer.token_to_id(EOS)
    each = [
        bits_per_character(log_probs, tokenizer.encode, [t], eos, block, block // 2) for t in texts
    ]
    chars = [len(t) for t in texts]
    overall = sum(b * c for b, c in zip(each, chars)) / sum(chars)
    return (overall, each) if per_text else overall


def baseline_bpc(model_dir: Path, texts: list[str], order: int) -> float:
    tokenizer = BPETokenizer.from_pretrained(model_dir)
    ngram = NGram.from_counts(model_dir / "ngram_counts.npz", order=order, lam=BIGRAM_LAMBDA)
    eos = tokenizer.token_to_id(EOS)
    return bits_per_character(ngram.log_probs, tokenizer.encode, texts, eos, 256, 256)


def validation_loss(model_dir: Path) -> tuple[float, int]:
    """Mean next-token loss over the corpus's held-out documents (rebuilt deterministically)."""
    from aigc_course.tokenizers.docstrings import docstring_documents, is_held_out

    tokenizer = BPETokenizer.from_pretrained(model_dir)
    log_probs, block = torch_log_probs(model_dir)
    eos = tokenizer.token_to_id(EOS)
    ids = [eos]
    for _, doc in docstring_documents():
        if is_held_out(doc):
            ids += tokenizer.encode(doc) + [eos]
    total, n = 0.0, 0
    for start in range(0, len(ids) - 1, block):  # non-overlapping windows, as in training
        window = ids[start : start + block + 1]
        lp = log_probs(window[:-1])
        total -= float(lp[np.arange(len(window) - 1), window[1:]].sum())
        n += len(window) - 1
    return total / n, n


def samples(model_dir: Path, n: int = 3, new_tokens: int = 60) -> list[str]:
    """Continuations of the article's prompt drawn by our engine (top-p 0.9, temperature 0.8)."""
    from aigc_course.models import GPT2LMHeadModel

    tokenizer = BPETokenizer.from_pretrained(model_dir)
    model = GPT2LMHeadModel.from_pretrained(str(model_dir))
    ids = [tokenizer.encode(PROMPT)]
    out = []
    for seed in range(n):
        got = model.generate(
            ids,
            max_new_tokens=new_tokens,
            do_sample=True,
            top_p=0.9,
            temperature=0.8,
            seed=seed,
            eos_token_id=tokenizer.token_to_id(EOS),
        )
        out.append(tokenizer.decode(got.tolist()[0]).replace(EOS, " ⏎ "))
    return out


def quality_section(results: dict) -> str:
    per = "\n".join(
        f"| {name} | {len(text):,} | {bpc:.3f} |"
        for (name, text), bpc in zip(results["prose"].items(), results["per_chapter"])
    )
    sampled = "\n".join(f"{i + 1}. {s!r}" for i, s in enumerate(results["samples"]))
    return f"""Measured by `python benchmarks/eval_shipped_gpt2.py --write-card`:

- **Bits per character on the course's chapters** (their prose, {results["characters"]:,}
  characters, never seen in training): **{results["bpc"]:.3f}** for this model, against
  {results["unigram"]:.3f} for a unigram and {results["bigram"]:.3f} for an interpolated bigram
  (λ = {BIGRAM_LAMBDA}) over the same tokens, both counted on the same training corpus
  (`ngram_counts.npz`).
- **Validation loss** on the held-out documents of the corpus: {results["val_loss"]:.3f} nats
  per token over {results["val_tokens"]:,} tokens.
- **Sampled continuations** of the article's prompt (top-p 0.9, temperature 0.8, seeds 0-2,
  drawn by `aigc_course`'s own `generate`):

{sampled}

| text | characters | bits per character |
|---|---|---|
{per}
"""


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL_DIR)
    p.add_argument("--write-card", action="store_true", help="fill in the card's quality part")
    p.add_argument("--skip-validation", action="store_true", help="skip the corpus rebuild")
    args = p.parse_args(argv)
    start = time.perf_counter()
    prose = chapter_prose()
    texts = list(prose.values())
    results = {"prose": prose, "characters": sum(map(len, texts))}
    results["bpc"], results["per_chapter"] = model_bpc(args.model, texts, per_text=True)
    results["unigram"] = baseline_bpc(args.model, texts, order=1)
    results["bigram"] = baseline_bpc(args.model, texts, order=2)
    print(f"bits per character on the chapters' prose ({results['characters']:,} characters):")
    print(f"  model   {results['bpc']:.3f}   (bound: 2.1)")
    print(f"  unigram {results['unigram']:.3f}")
    print(f"  bigram  {results['bigram']:.3f}")
    for (name, _text), bpc in zip(prose.items(), results["per_chapter"]):
        print(f"    {name:<24} {bpc:.3f}")
    if not args.skip_validation:
        results["val_loss"], results["val_tokens"] = validation_loss(args.model)
        print(
            f"validation loss {results['val_loss']:.3f} nats/token "
            f"({results['val_tokens']:,} held-out tokens)"
        )
    results["samples"] = samples(args.model)
    for s in results["samples"]:
        print("sample:", repr(s))
    print(f"({time.perf_counter() - start:.0f} s)")
    if args.write_card:
        card_path = args.model / "README.md"
        card = card_path.read_text(encoding="utf-8")
        section = quality_section(results)
        card = re.sub(
            r"<!-- quality -->.*?(?=\n## Reproduce)",
            lambda m: "<!-- quality -->\n" + section,
            card,
            flags=re.DOTALL,
        )
        card_path.write_text(card, encoding="utf-8")
        print(f"wrote the quality section of {card_path}")
    return results


if __name__ == "__main__":
    sys.exit(0 if main()["bpc"] <= 2.1 else 1)
