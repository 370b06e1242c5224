"""Models built on ``aigc_course.nn``: GPT-2 (chapter 8)."""

from .gpt2 import GPT2Config, GPT2LMHeadModel

__all__ = ["GPT2Config", "GPT2LMHeadModel"]
