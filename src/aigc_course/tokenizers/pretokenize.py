r"""GPT-2's pre-tokenisation: split text into chunks that BPE never merges across.

Before BPE, GPT-2 cuts the text with one regular expression, and merges happen only inside
a chunk. So a token never spans a word and the space before the next word, digits never
glue to letters, and the common English contractions are chunks of their own::

    's|'t|'re|'ve|'m|'ll|'d        contractions (lower-case only, a known GPT-2 quirk)
     ?\p{L}+                       a word, with at most one leading space
     ?\p{N}+                       a run of digits, with at most one leading space
     ?[^\s\p{L}\p{N}]+             a run of punctuation/symbols, with at most one leading space
    \s+(?!\S)                      whitespace, except the last space before a word
    \s+                            any remaining whitespace

The lookahead ``(?!\S)`` is why ``"a   b"`` splits as ``"a", "  ", " b"``: the last space
stays with the word. ``\p{L}`` and ``\p{N}`` (unicode letters and numbers) need the
``regex`` package; the standard ``re`` module does not know them.

>>> split_words("Hello world's  42!")
['Hello', ' world', "'s", ' ', ' 42', '!']

See chapter 7.
"""

from __future__ import annotations

import regex

__all__ = ["GPT2_SPLIT_PATTERN", "split_words"]

GPT2_SPLIT_PATTERN = (
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)
_GPT2_SPLIT = regex.compile(GPT2_SPLIT_PATTERN)


def split_words(text: str) -> list[str]:
    """Cut ``text`` into GPT-2's pre-tokenisation chunks (their concatenation is ``text``)."""
    return _GPT2_SPLIT.findall(text)
