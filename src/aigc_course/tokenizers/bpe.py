r"""A byte-level BPE tokenizer, file-compatible with GPT-2's (``vocab.json`` + ``merges.txt``).

Encoding a text takes three steps:

1. cut out special tokens such as ``<|endoftext|>`` (they map straight to their ids),
2. split the rest into chunks with GPT-2's regex (:mod:`.pretokenize`),
3. encode each chunk's UTF-8 bytes with BPE: start from one token per byte, and repeatedly
   apply the learned merge of lowest *rank* (the earliest learned) among the adjacent
   pairs, until no adjacent pair is a merge.

Decoding concatenates the tokens' bytes and decodes them as UTF-8, replacing invalid
sequences with U+FFFD as GPT-2 does (a lone token may be half a character).

Known answer (a small corpus, merges derived by hand). Train on ``"aaabdaaabac"`` with no
special tokens. The regex keeps it as one chunk; its bytes are
``a a a b d a a a b a c``, with GPT-2's byte ids a=64, b=65, c=66, d=67 (``"!"`` is 0).
Pair counts:
``aa`` 4, ``ab`` 2, ``bd`` 1, ``da`` 1, ``ba`` 1, ``ac`` 1.

- merge 1: ``aa`` (count 4) -> id 256. The scan goes left to right, so ``a a a`` becomes
  ``aa a``: the text is ``[aa] a b d [aa] a b a c``. Counts now: ``[aa]a`` 2, ``ab`` 2,
  ``bd`` 1, ``d[aa]`` 1, ``ba`` 1, ``ac`` 1.
- merge 2: ``[aa]a`` and ``ab`` tie at 2; the smaller pair in id order wins:
  (256, 64) vs (64, 65), so ``ab`` (64 < 256) -> id 257. Text:
  ``[aa] [ab] d [aa] [ab] a c``.
- merge 3: ``[aa][ab]`` (count 2) -> id 258. Text: ``[aaab] d [aaab] a c``.

>>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=())
>>> tok.merges
[('a', 'a'), ('a', 'b'), ('aa', 'ab')]
>>> tok.encode("aaabdaaabac")
[258, 67, 258, 64, 66]
>>> tok.decode([258, 67])
'aaabd'

See chapter 7.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import regex

from .byte_level import BYTE_TO_UNICODE, BYTE_TOKENS, token_to_bytes
from .pretokenize import split_words
from .trainer import merge_pair, train_merges

__all__ = ["BPETokenizer", "apply_merges"]

VOCAB_FILE = "vocab.json"
MERGES_FILE = "merges.txt"
CONFIG_FILE = "tokenizer_config.json"


def apply_merges(
    ids: list[int], ranks: dict[tuple[int, int], int], merged: dict[tuple[int, int], int]
) -> list[int]:
    """Encode one chunk: apply the merge of lowest rank among adjacent pairs, until none is left.

    ``ranks`` gives each merge's position in ``merges.txt`` (0 = learned first), ``merged``
    the id it creates. Subtle: the lowest *rank* goes first, wherever it is in the chunk, not
    the leftmost pair that can merge; this replays the merges in the order they were learned.

    >>> apply_merges([1, 2, 3], ranks={(2, 3): 0, (1, 2): 1}, merged={(2, 3): 9, (1, 2): 8})
    [1, 9]
    """
    while len(ids) >= 2:
        # the adjacent pair learned earliest; pairs that are no merge rank last
        pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, len(ranks)))
        if pair not in ranks:
            break
        ids = merge_pair(ids, pair, merged[pair])
    return ids


class BPETokenizer:
    """Byte-level BPE as in GPT-2. Build one with :meth:`train` or :meth:`from_pretrained`.

    ``vocab`` maps tokens, spelled with GPT-2's printable byte characters (``"Ġthe"``), to
    ids; ``merges`` lists the merged pairs in rank order. Every vocabulary entry that is
    neither a single byte nor the result of a merge is a special token (as ``<|endoftext|>``
    is in GPT-2's own files).
    """

    def __init__(self, vocab: dict[str, int], merges: Iterable[tuple[str, str]]):
        self._vocab = dict(vocab)
        self._id_to_token = {i: t for t, i in self._vocab.items()}
        if len(self._id_to_token) != len(self._vocab):
            raise ValueError("vocab maps two tokens to the same id")
        missing = [c for c in BYTE_TO_UNICODE.values() if c not in self._vocab]
        if missing:
            raise ValueError(f"vocab lacks byte token(s) {missing[:5]} (of {len(missing)})")
        self._byte_ids = [self._vocab[BYTE_TO_UNICODE[b]] for b in range(256)]

        self._merges: list[tuple[str, str]] = []
        self._ranks: dict[tuple[int, int], int] = {}  # (id_a, id_b) -> rank (0 = first)
        self._merged: dict[tuple[int, int], int] = {}  # (id_a, id_b) -> id of a + b
        for a, b in merges:
            for t in (a, b, a + b):
                if t not in self._vocab:
                    raise ValueError(f"merge {a!r} {b!r} uses {t!r}, which is not in vocab")
            pair = (self._vocab[a], self._vocab[b])
            if pair not in self._ranks:  # a repeated merge keeps its first (lowest) rank
                self._ranks[pair] = len(self._merges)
                self._merged[pair] = self._vocab[a + b]
                self._merges.append((a, b))

        regular = set(self._byte_ids) | set(self._merged.values())
        self.special_tokens = {t: i for t, i in self._vocab.items() if i not in regular}
        longest_first = sorted(self.special_tokens, key=len, reverse=True)
        self._special_split = (
            regex.compile("(" + "|".join(regex.escape(t) for t in longest_first) + ")")
            if longest_first
            else None
        )
        self._cache: dict[str, list[int]] = {}  # chunk -> ids; chunks repeat a lot

    # ------------------------------------------------------------------ training

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        special_tokens: Iterable[str] = ("<|endoftext|>",),
        progress: bool = False,
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``text``.

        Ids follow GPT-2's layout: the 256 byte tokens are 0..255 in GPT-2's order
        (:data:`.byte_level.BYTE_TOKENS`: ``"!"`` is 0, the space ``"Ġ"`` is 220), merges
        follow in the order learned, and the special tokens come last (as ``<|endoftext|>`` =
        50256 in GPT-2). Ties between equally frequent pairs go to the smaller pair of ids
        (see :mod:`.trainer`); with this layout that is also HF ``tokenizers``' order, so both
        learn the same merges from the same text. Special tokens in
        ``text`` are cut out before counting, so no merge spans or builds them. Training stops
        early if the text runs out of pairs. ``progress=True`` shows a tqdm bar.
        """
        special_tokens = list(special_tokens)
        if not isinstance(vocab_size, int) or vocab_size < 256 + len(special_tokens):
            raise ValueError(
                f"vocab_size={vocab_size!r} is too small: it must be at least 256 (one token "
                f"per byte) + {len(special_tokens)} special token(s) = "
                f"{256 + len(special_tokens)}"
            )
        for t in special_tokens:
            if not isinstance(t, str) or not t:
                raise ValueError(f"special tokens must be non-empty strings, got {t!r}")
        if len(set(special_tokens)) != len(special_tokens):
            raise ValueError(f"special_tokens has duplicates: {special_tokens}")

        pieces = [text]
        if special_tokens:  # cut them out, so they are never merged into other tokens
            alternatives = sorted(special_tokens, key=len, reverse=True)
            pieces = regex.split("|".join(regex.escape(t) for t in alternatives), text)
        words = Counter(w for piece in pieces for w in split_words(piece))
        byte_id = [BYTE_TOKENS.index(BYTE_TO_UNICODE[b]) for b in range(256)]
        word_counts = {tuple(byte_id[b] for b in w.encode("utf-8")): n for w, n in words.items()}

        num_merges = vocab_size - 256 - len(special_tokens)
        callback = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=num_merges, desc="BPE merges", unit="merge")
            callback = lambda pair, count: bar.update()  # noqa: E731
        merges = train_merges(word_counts, num_merges, first_id=256, callback=callback)
        if progress:
            bar.close()

        tokens = list(BYTE_TOKENS)
        for a, b in merges:
            tokens.append(tokens[a] + tokens[b])
        vocab = {t: i for i, t in enumerate(tokens)}
        for t in special_tokens:
            vocab[t] = len(vocab)
        return cls(vocab, [(tokens[a], tokens[b]) for a, b in merges])

    # ------------------------------------------------------------------ encoding

    def _encode_chunk(self, chunk: str) -> list[int]:
        """BPE on one pre-tokenised chunk (see :func:`apply_merges`)."""
        ids = [self._byte_ids[b] for b in chunk.encode("utf-8")]
        return apply_merges(ids, self._ranks, self._merged)

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text`` (special tokens in it are recognised)."""
        if not isinstance(text, str):
            raise TypeError(f"encode() expects a str, got {type(text).__name__}")
        pieces = [text] if self._special_split is None else self._special_split.split(text)
        ids: list[int] = []
        for k, piece in enumerate(pieces):
            if k % 2:  # odd pieces are the separators the split captured: special tokens
                ids.append(self.special_tokens[piece])
                continue
            for chunk in split_words(piece):
                cached = self._cache.get(chunk)
                if cached is None:
                    cached = self._cache[chunk] = self._encode_chunk(chunk)
                ids.extend(cached)
        return ids

    def token_bytes(self, id: int) -> bytes:
        """The raw bytes of one token (a special token's are its UTF-8 text)."""
        token = self._id_to_token.get(int(id))
        if token is None:
            raise ValueError(f"unknown token id {id!r}: not in the vocabulary")
        if token in self.special_tokens:
            return token.encode("utf-8")
        return token_to_bytes(token)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``; bytes that are not valid UTF-8 become U+FFFD, as in GPT-2.

        Subtle: decode the joined bytes, never token by token, since one character may be
        split across tokens (a Chinese character is 3 bytes).
        """
        data = b"".join(self.token_bytes(i) for i in ids)
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------------ vocabulary

    @property
    def vocab_size(self) -> int:
        """Number of tokens, special tokens included (GPT-2: 50257)."""
        return len(self._vocab)

    @property
    def merges(self) -> list[tuple[str, str]]:
        """The merges in rank order, as pairs of ``vocab.json`` spellings."""
        return list(self._merges)

    def get_vocab(self) -> dict[str, int]:
        """A copy of the ``vocab.json`` mapping (token -> id)."""
        return dict(self._vocab)

    def token_to_id(self, token: str) -> int | None:
        """The id of ``token`` (``"Ġthe"``), or ``None`` if absent, as in HF ``tokenizers``."""
        return self._vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        """The ``vocab.json`` spelling of ``id``, or ``None`` if absent."""
        return self._id_to_token.get(id)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return (
            f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, "
            f"special_tokens={list(self.special_tokens)})"
        )

    # ------------------------------------------------------------------ files

    def save(self, directory: str | Path) -> list[Path]:
        """Write GPT-2-format ``vocab.json`` and ``merges.txt`` (and a ``tokenizer_config.json``
        listing the special tokens for transformers) into ``directory``; return the paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        by_id = dict(sorted(self._vocab.items(), key=lambda item: item[1]))
        paths = [directory / VOCAB_FILE, directory / MERGES_FILE, directory / CONFIG_FILE]
        paths[0].write_text(json.dumps(by_id, ensure_ascii=False), encoding="utf-8")
        lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in self._merges]
        paths[1].write_text("\n".join(lines) + "\n", encoding="utf-8")
        config = {
            "tokenizer_class": "GPT2Tokenizer",
            "add_prefix_space": False,
            "added_tokens_decoder": {
                str(i): {
                    "content": t,
                    "special": True,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": False,
                    "single_word": False,
                }
                for t, i in self.special_tokens.items()
            },
        }
        if "<|endoftext|>" in self.special_tokens:
            config.update(
                bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>"
            )
        paths[2].write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
        return paths

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> BPETokenizer:
        """Read GPT-2-format ``vocab.json`` and ``merges.txt`` from ``directory`` (files saved
        by :meth:`save`, by HF ``tokenizers``, or the real GPT-2's)."""
        directory = Path(directory)
        for name in (VOCAB_FILE, MERGES_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"{name} not found in {directory}")
        try:
            vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{directory / VOCAB_FILE} is not valid JSON: {e}") from None
        if not isinstance(vocab, dict) or not all(isinstance(i, int) for i in vocab.values()):
            raise ValueError(f"{directory / VOCAB_FILE} must map tokens to integer ids")
        merges = []
        text = (directory / MERGES_FILE).read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), start=1):
            if line.startswith("#version") or not line.strip():
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(
                    f"{directory / MERGES_FILE}, line {n}: expected two tokens separated by "
                    f"one space, got {line!r}"
                )
            merges.append((parts[0], parts[1]))
        return cls(vocab, merges)
