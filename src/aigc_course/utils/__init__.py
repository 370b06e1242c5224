"""Utilities at torch's path ``torch.utils``: so far the data-loading pipeline (chapter 5)."""

from . import data

__all__ = ["data"]
