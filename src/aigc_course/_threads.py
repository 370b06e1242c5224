"""``set_num_threads``/``get_num_threads``: how many threads numpy's BLAS (OpenBLAS, MKL...)
uses for matrix products, the only multi-threaded work in this package.

torch's pair sets its own intra-op thread pool; here the same call sets the BLAS pool through
``threadpoolctl``, which finds the BLAS libraries numpy loaded and changes their limit for the
rest of the process. Note: without ``threadpoolctl`` installed, the number is only recorded
(``get_num_threads`` returns it) and BLAS keeps its own setting.
"""

from __future__ import annotations

import builtins
import os

import numpy as np

_num_threads: int | None = None  # the last value set here; None: ask BLAS


def _blas():
    """threadpoolctl's controller of numpy's BLAS libraries, or None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return None
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # BLAS is loaded lazily by some numpy builds
    return ThreadpoolController().select(user_api="blas")


def set_num_threads(int: int) -> None:  # noqa: A002  (torch's argument name)
    """Use ``int`` threads for numpy's BLAS (matrix products) from now on, as
    ``torch.set_num_threads`` does for torch's kernels.

    >>> import aigc_course as ac
    >>> before = ac.get_num_threads()
    >>> ac.set_num_threads(1)
    >>> ac.get_num_threads()
    1
    >>> ac.set_num_threads(before)
    """
    global _num_threads
    n = int
    if isinstance(n, bool) or not isinstance(n, (builtins.int, np.integer)):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    blas = _blas()
    if blas is not None:
        blas.limit(limits=n)  # stays in force: the limiter is never restored
    _num_threads = n


def get_num_threads() -> int:
    """The number of threads numpy's BLAS uses: the last :func:`set_num_threads`, else BLAS's
    own setting (the machine's core count when no BLAS library is found)."""
    blas = _blas()
    if blas is not None and blas.lib_controllers:
        return max(c.num_threads for c in blas.lib_controllers)
    return _num_threads if _num_threads is not None else (os.cpu_count() or 1)
