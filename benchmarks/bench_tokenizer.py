"""BPE training and encoding, aigc_course against HF ``tokenizers``, measured in one run.

1. Train a byte-level BPE to a vocabulary of 2048 (1791 merges + 256 bytes +
   ``<|endoftext|>``) on the Python-docs corpus (``pydoc_data.topics``, ~465k characters).
2. Encode the whole corpus with a freshly loaded tokenizer (cold cache), from the same files.
3. For scale: a naive trainer that recounts every pair after each merge, timed for a few
   merges and extrapolated to 1791.

Run: ``python benchmarks/bench_tokenizer.py``. HF ``tokenizers`` is pinned to one thread
(``RAYON_NUM_THREADS=1``, set before it is imported), since ours is single-threaded Python.
The targets in issue 10 are at most 20x HF's time for training and for encoding.
"""

from __future__ import annotations

import os

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import statistics
import tempfile
import time
from collections import Counter

from tokenizers import ByteLevelBPETokenizer

from aigc_course.tokenizers import BPETokenizer, merge_pair, python_docs_text, split_words

VOCAB_SIZE = 2048
EOT = "<|endoftext|>"


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def train_hf(text: str) -> ByteLevelBPETokenizer:
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(
        [text], vocab_size=VOCAB_SIZE, min_frequency=1, special_tokens=[EOT], show_progress=False
    )
    return tok


def naive_seconds_per_merge(text: str, merges: int = 5) -> float:
    """The textbook loop: recount all pairs of the whole pre-tokenised corpus per merge."""
    words = [list(w.encode("utf-8")) for w in split_words(text)]
    start = time.perf_counter()
    for k in range(merges):
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        pair = max(counts, key=counts.get)
        words = [merge_pair(w, pair, 256 + k) for w in words]
    return (time.perf_counter() - start) / merges


def main() -> None:
    text = python_docs_text()
    print(f"corpus: {len(text):,} characters, {len(text.encode('utf-8')):,} bytes")

    ours = BPETokenizer.train(text, VOCAB_SIZE)
    hf = train_hf(text)
    t_ours = median_time(lambda: BPETokenizer.train(text, VOCAB_SIZE), 5)
    t_hf = median_time(lambda: train_hf(text), 5)

    with tempfile.TemporaryDirectory() as d:
        hf.save_model(d)
        same_merges = BPETokenizer.from_pretrained(d).merges == ours.merges
        ours.save(d)
        hf_loaded = ByteLevelBPETokenizer(f"{d}/vocab.json", f"{d}/merges.txt")
        hf_loaded.add_special_tokens([EOT])
        ids = BPETokenizer.from_pretrained(d).encode(text)
        same_ids = hf_loaded.encode(text).ids == ids
        e_ours = median_time(lambda: BPETokenizer.from_pretrained(d).encode(text), 5)
        e_hf = median_time(lambda: hf_loaded.encode(text), 5)
        load = median_time(lambda: BPETokenizer.from_pretrained(d), 5)

    naive = naive_seconds_per_merge(text) * (VOCAB_SIZE - 257)
    print(f"tokens: {len(ids):,} ({len(text.encode('utf-8')) / len(ids):.2f} bytes per token)")
    print(f"same merges as HF: {same_merges}; same ids: {same_ids}\n")
    print(f"{'task':<34}{'aigc_course s':>15}{'HF tokenizers s':>17}{'ratio':>8}")
    print(
        f"{'train to vocab 2048 (median of 5)':<34}{t_ours:>15.3f}{t_hf:>17.3f}"
        f"{t_ours / t_hf:>7.1f}x"
    )
    print(
        f"{'encode the corpus, cold (median 5)':<34}{e_ours:>15.3f}{e_hf:>17.3f}"
        f"{e_ours / e_hf:>7.1f}x"
    )
    print(f"(our encode includes {load:.3f} s of loading the files)")
    print(
        f"naive recount trainer, extrapolated: {naive:.0f} s = {naive / t_hf:,.0f}x HF "
        f"({naive / t_ours:,.0f}x ours)"
    )


if __name__ == "__main__":
    main()
