r"""How well a language model predicts English it never saw: bits per character.

The shipped GPT-2 is judged on the prose of the course's own chapters, which are not in its
training corpus (:func:`chapter_prose`). Loss per token depends on the tokenizer (a larger
vocabulary makes fewer, harder predictions), so the measure is **bits per character**: the
total negative log-likelihood of the text, in bits, over its number of characters,

$$\text{bpc} = \frac{-\sum_t \log_2 p(x_t \mid x_{<t})}{\text{characters}}.$$

Two counting models give the baseline (:class:`NGram`): a unigram (every token on its own)
and a bigram interpolated with it, both fitted to the same training corpus's token counts.

>>> prose = clean_markdown("See [the docs](https://x.org) for `f(x)`, where $x > 0$.")
>>> prose
'See the docs for , where .'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "NGram",
    "bits_per_character",
    "chapter_prose",
    "clean_markdown",
    "token_nll",
]

CHAPTERS = Path(__file__).resolve().parents[3] / "chapters"

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$[^$\n]+\$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML = re.compile(r"<!--.*?-->|<[^>\n]+>", re.DOTALL)


def clean_markdown(markdown: str) -> str:
    """The prose of a markdown text: code blocks, math, inline code, link targets, HTML,
    tables and directive lines left out; emphasis and heading marks dropped; whitespace
    collapsed, with paragraphs kept apart by a blank line."""
    text = _FENCE.sub("", markdown)
    text = _DISPLAY_MATH.sub("", text)
    text = _INLINE_MATH.sub("", text)
    text = _INLINE_CODE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML.sub("", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if not re.match(r"\s*(\||:::|```|\{)", ln)]
        words = " ".join(re.sub(r"^\s*(#+|[-*+]|\d+\.|>)\s+", "", ln) for ln in lines)
        words = re.sub(r"(\*\*|__|\*|(?<!\w)_|_(?!\w))", "", words)
        words = " ".join(words.split())
        if words:
            paragraphs.append(words)
    return "\n\n".join(paragraphs)


def chapter_prose(chapters: Path = CHAPTERS) -> dict[str, str]:
    """``{file name: prose}`` for the introduction and every chapter notebook's markdown."""
    out = {}
    for path in sorted(chapters.glob("*.md")) + sorted(chapters.glob("[0-9][0-9]_*.ipynb")):
        if path.suffix == ".md":
            markdown = path.read_text(encoding="utf-8")
        else:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            markdown = "\n\n".join(
                "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
            )
        out[path.name] = clean_markdown(markdown)
    return out


def token_nll(
    log_probs: Callable[[Sequence[int]], np.ndarray],
    ids: Sequence[int],
    block: int,
    stride: int | None = None,
) -> float:
    """Total negative log-likelihood (nats) of ``ids[1:]`` given what precedes each token.

    ``log_probs(x)`` returns the next-token log-probabilities (len(x), V) for at most ``block``
    ids. A text longer than one window is scored in slices of ``stride`` tokens, each with at
    least ``block - stride`` tokens of context (except at the start).

    >>> uniform = lambda x: np.full((len(x), 4), -math.log(4))
    >>> round(token_nll(uniform, [0, 1, 2, 3, 1, 2], block=3, stride=2) / math.log(4), 6)
    5.0
    """
    stride = block // 2 if stride is None else stride
    if not 0 < stride <= block:
        raise ValueError(f"stride must be in 1..block={block}, but got stride={stride}")
    ids = list(ids)
    total, t = 0.0, 1  # t: the next target position (ids[0] is context only)
    while t < len(ids):
        u = min(len(ids), t + stride)  # score targets t..u-1
        a = max(0, u - 1 - block)  # inputs a..u-2 predict targets a+1..u-1
        lp = np.asarray(log_probs(ids[a : u - 1]), dtype=np.float64)
        rows = np.arange(t - 1 - a, u - 1 - a)
        total -= float(lp[rows, ids[t:u]].sum())
        t = u
    return total


def bits_per_character(
    log_probs: Callable[[Sequence[int]], np.ndarray],
    encode: Callable[[str], list[int]],
    texts: Sequence[str],
    bos: int,
    block: int,
    stride: int | None = None,
) -> float:
    """Bits per character over ``texts``, each scored on its own after the ``bos`` id."""
    nats = sum(token_nll(log_probs, [bos, *encode(text)], block, stride) for text in texts)
    characters = sum(len(text) for text in texts)
    return nats / math.log(2) / characters


class NGram:
    """A unigram or interpolated bigram model over token ids, fitted to counts.

    The unigram is add-one smoothed; the bigram is
    $p(b \\mid a) = \\lambda\\,c(a, b)/c(a) + (1 - \\lambda)\\,p_1(b)$.

    >>> m = NGram.fit([0, 1, 0, 1, 0, 2], vocab_size=3, order=2, lam=0.5)
    >>> round(float(np.exp(m.log_probs([0])[0, 1])), 4)  # 0.5 * 2/3 + 0.5 * 3/9
    0.5
    """

    def __init__(self, unigram: np.ndarray, bigram: dict | None, order: int, lam: float):
        self.unigram = np.asarray(unigram, dtype=np.float64)
        self.p1 = (self.unigram + 1.0) / (self.unigram.sum() + len(self.unigram))
        self.bigram, self.order, self.lam = bigram, order, lam

    @classmethod
    def fit(cls, ids: Sequence[int], vocab_size: int, order: int = 1, lam: float = 0.7) -> NGram:
        ids = np.asarray(ids, dtype=np.int64)
        unigram = np.bincount(ids, minlength=vocab_size)
        return cls(unigram, bigram_counts(ids, vocab_size) if order == 2 else None, order, lam)

    @classmethod
    def from_counts(cls, path: str | Path, order: int = 1, lam: float = 0.7) -> NGram:
        """Load the counts that ``scripts/train_tiny_gpt2.py`` ships (``ngram_counts.npz``)."""
        data = np.load(path)
        unigram = data["unigram"].astype(np.int64)
        bigram = None
        if order == 2:
            first, second = np.divmod(data["bigram_keys"].astype(np.int64), len(unigram))
            bigram = _group(first, second, data["bigram_counts"])
        return cls(unigram, bigram, order, lam)

    def log_probs(self, x: Sequence[int]) -> np.ndarray:
        """(len(x), V) next-token log-probabilities."""
        rows = np.tile(self.p1, (len(x), 1))
        if self.order == 2:
            for i, a in enumerate(x):
                followers = self.bigram.get(int(a))
                if followers is not None:
                    nxt, counts = followers
                    rows[i] *= 1.0 - self.lam
                    rows[i, nxt] += self.lam * counts / counts.sum()
        return np.log(rows)


def bigram_counts(ids: np.ndarray, vocab_size: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``{a: (next ids, counts)}`` for every pair ``(a, b)`` of neighbours in ``ids``."""
    keys, counts = pair_counts(ids, vocab_size)
    first, second = np.divmod(keys, vocab_size)
    return _group(first, second, counts)


def pair_counts(ids, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct neighbour pair ``(a, b)`` of ``ids`` as the key ``a * vocab_size + b``
    (sorted), with its count.

    >>> pair_counts([0, 1, 0, 1], vocab_size=2)
    (array([1, 2]), array([2, 1]))
    """
    ids = np.asarray(ids, dtype=np.int64)
    return np.unique(ids[:-1] * vocab_size + ids[1:], return_counts=True)


def _group(first: np.ndarray, second: np.ndarray, counts: np.ndarray) -> dict:
    """Sorted pairs (first, second, count) grouped as ``{first: (seconds, counts)}``."""
    out = {}
    bounds = np.flatnonzero(np.diff(first)) + 1
    for chunk_a, chunk_b, chunk_c in zip(
        np.split(first, bounds), np.split(second, bounds), np.split(counts, bounds)
    ):
        out[int(chunk_a[0])] = (chunk_b, chunk_c.astype(np.float64))
    return out
