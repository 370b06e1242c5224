"""``aigc_course.cuda``: the CUDA namespace of a CPU-only torch build.

aigc_course runs on numpy, so there is never a GPU: ``is_available()`` is ``False`` and
``device_count()`` is 0, which is exactly what real programs test before choosing a device::

    device = "cuda" if torch.cuda.is_available() else "cpu"

Seeding functions work (they seed nothing, as in a CPU build, where they are no-ops), and what
needs a GPU raises torch's ``AssertionError: Torch not compiled with CUDA enabled``.

>>> import aigc_course as torch
>>> torch.cuda.is_available(), torch.cuda.device_count()
(False, 0)
"""

from __future__ import annotations

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "is_available",
    "is_bf16_supported",
    "is_initialized",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "synchronize",
]


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with CUDA enabled")


def is_available() -> bool:
    """Whether a CUDA GPU can be used: never, here."""
    return False


def device_count() -> int:
    """The number of CUDA GPUs: 0."""
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator: with no GPU, nothing to do (torch ignores it too)."""
    int(seed)  # torch accepts anything int() accepts


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: with no GPU, nothing to do."""
    int(seed)


def seed() -> None:
    return None


def seed_all() -> None:
    return None


def empty_cache() -> None:
    """Release cached GPU memory: there is none."""
    return None


current_device = _not_compiled
get_device_name = _not_compiled
get_device_properties = _not_compiled
get_device_capability = _not_compiled
set_device = _not_compiled
synchronize = _not_compiled
memory_allocated = _not_compiled
max_memory_allocated = _not_compiled
