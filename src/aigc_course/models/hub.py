"""Which GPT-2 to use: the real ``gpt2`` from the Hugging Face hub, or the small one shipped here.

Chapters 8 and 9 run the article's code (``GPT2LMHeadModel.from_pretrained(...)``) in Colab, where
the hub is reachable, and in CI, where it is not (``HF_HUB_OFFLINE=1``). :func:`pick_gpt2` returns
a name or a local directory that transformers' ``from_pretrained`` (model and tokenizer) and ours
both accept, and prints one line saying which it picked.

See chapter 9.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHIPPED_MODEL_DIR", "hub_available", "pick_gpt2"]

SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "tiny_gpt2"
"""The small GPT-2 that ``scripts/train_tiny_gpt2.py`` trained with aigc_course on Python's
documentation and docstrings (see its model card, ``README.md``)."""

_TRUE = ("1", "true", "yes", "on")


def hub_available(name: str = "gpt2", timeout: float = 3.0) -> bool:
    """True when the hub is allowed (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` unset) and
    ``name``'s ``config.json`` can be fetched (or is already in the local cache)."""
    if any(
        os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    ):
        return False
    try:
        import huggingface_hub
    except ImportError:
        return False
    try:
        huggingface_hub.hf_hub_download(name, "config.json", etag_timeout=timeout)
    except Exception:  # no network, a proxy, a missing repo: any failure means "use ours"
        return False
    return True


def pick_gpt2(prefer: str = "gpt2", verbose: bool = True) -> str:
    """``prefer`` (the real 124M GPT-2) when the hub is reachable and allowed, otherwise the path
    of the shipped small model; prints one line saying which.

    The result works with ``transformers.GPT2LMHeadModel.from_pretrained``,
    ``transformers.GPT2Tokenizer(Fast).from_pretrained`` and
    ``aigc_course.models.GPT2LMHeadModel.from_pretrained``.
    """
    if hub_available(prefer):
        choice = prefer
        message = f"Using {prefer!r} from the Hugging Face hub."
    else:
        choice = str(SHIPPED_MODEL_DIR)
        message = (
            "Hub not available (offline): using the small GPT-2 shipped with aigc_course "
            "(trained by aigc_course on Python docstrings; see models/tiny_gpt2/README.md)."
        )
    if verbose:
        print(message)
    return choice
