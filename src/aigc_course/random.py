"""Random numbers: one global numpy generator, seeded with :func:`manual_seed`, and private
:class:`Generator` streams. The tensor functions that draw from them (``randint``,
``multinomial``) live in ``ops/sampling.py``, ``rand``/``randn`` in ``_creation.py``.

Note: the same seed gives *different* numbers here and in torch (torch uses its own
Mersenne-Twister transforms). Checks against torch therefore copy values across
(``from_torch``) instead of relying on equal seeds.
"""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng(0)


class Generator:
    """A private stream of random numbers, like ``torch.Generator().manual_seed(0)``."""

    def __init__(self, device: str = "cpu"):
        self._rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        self._rng = np.random.default_rng(seed)
        self._seed = seed
        return self

    def initial_seed(self) -> int:
        return getattr(self, "_seed", 0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator, so that rand/randn/dropout/shuffling repeat exactly.

    >>> import aigc_course as ac
    >>> _ = ac.manual_seed(0); a = ac.rand(3)
    >>> _ = ac.manual_seed(0); b = ac.rand(3)
    >>> bool((a == b).all())
    True
    """
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expected an int, but got {type(seed).__name__}")
    _rng = np.random.default_rng(seed)
    g = Generator()
    g._rng = _rng
    return g


def _numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    return _rng if generator is None else generator._rng
