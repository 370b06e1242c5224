"""Tokenizers: GPT-2's byte-level BPE, trained from scratch and file-compatible with
transformers. See chapter 7."""

from .bpe import BPETokenizer, apply_merges
from .byte_level import BYTE_TO_UNICODE, BYTE_TOKENS, UNICODE_TO_BYTE, bytes_to_unicode
from .corpus import python_docs_text
from .display import show_tokens, tokens_html
from .pretokenize import GPT2_SPLIT_PATTERN, split_words
from .trainer import count_pairs, merge_pair, train_merges

__all__ = [
    "BPETokenizer",
    "BYTE_TOKENS",
    "BYTE_TO_UNICODE",
    "GPT2_SPLIT_PATTERN",
    "UNICODE_TO_BYTE",
    "apply_merges",
    "bytes_to_unicode",
    "count_pairs",
    "merge_pair",
    "python_docs_text",
    "show_tokens",
    "split_words",
    "tokens_html",
    "train_merges",
]
