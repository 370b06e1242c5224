"""One-line verdicts against torch, for notebooks and tests.

``compare(ours, reference)`` prints ``✓ matches torch (max |Δ| < 1e-06)`` or raises an
``AssertionError`` that says exactly what differs: the type, the shape, the dtype, or the
worst element with both values. Tolerances default to torch's for the dtype
(``torch.testing.assert_close``): float32 rtol 1.3e-6, atol 1e-5; float64 rtol 1e-7, atol 1e-7.
"""

from __future__ import annotations

import math

import numpy as np

from ._tensor import Tensor

_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    if type(x).__module__.startswith("torch"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _dtype_name(x) -> str | None:
    if isinstance(x, Tensor):
        return x.dtype.name
    if type(x).__module__.startswith("torch"):
        return str(x.dtype).removeprefix("torch.")
    return None


def _is_tensorlike(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) or type(x).__module__.startswith("torch")


def difference(ours, reference, rtol=None, atol=None, check_dtype=True) -> float:
    """Return max |ours - reference|, or raise ``AssertionError`` saying what differs."""
    if isinstance(reference, (tuple, list)) and not _is_tensorlike(ours):  # else: values
        if not isinstance(ours, (tuple, list)) or len(ours) != len(reference):
            raise AssertionError(
                f"expected a sequence of {len(reference)} values, got {type(ours).__name__}"
            )
        return max(
            (difference(a, b, rtol, atol, check_dtype) for a, b in zip(ours, reference)),
            default=0.0,
        )
    if _is_tensorlike(reference) and not _is_tensorlike(ours):
        raise AssertionError(f"expected a tensor, got {type(ours).__name__}: {ours!r}")
    a, b = _to_numpy(ours), _to_numpy(reference)
    if a.shape != b.shape:
        raise AssertionError(f"shape differs: ours {tuple(a.shape)}, expected {tuple(b.shape)}")
    da, db = _dtype_name(ours), _dtype_name(reference)
    if check_dtype and da and db and da != db:
        raise AssertionError(f"dtype differs: ours {da}, expected {db}")
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        wrong = np.argwhere(a != b)
        if wrong.size:
            i = tuple(int(k) for k in wrong[0])
            raise AssertionError(
                f"{len(wrong)} element(s) differ; first at {i}: ours {a[i]}, expected {b[i]}"
            )
        return 0.0
    default_rtol, default_atol = _TOLERANCES.get(db or da or "float64", (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if a.size == 0:
        return 0.0
    same_nan = np.isnan(a64) & np.isnan(b64)
    diff = np.where(same_nan, 0.0, np.abs(a64 - b64))
    diff = np.where(np.isinf(a64) & (a64 == b64), 0.0, diff)
    bad = ~(diff <= atol + rtol * np.abs(b64))
    if bad.any():
        i = tuple(int(k) for k in np.unravel_index(np.argmax(np.where(bad, diff, -1)), a.shape))
        raise AssertionError(
            f"values differ: {int(bad.sum())} of {a.size} element(s) outside tolerance "
            f"(rtol={rtol:g}, atol={atol:g}); worst at index {i}: ours {a64[i].item()!r}, "
            f"expected {b64[i].item()!r}, |Δ| = {diff[i]:.3g}"
        )
    return float(np.max(diff))


def compare(ours, reference, name: str = "torch", rtol=None, atol=None, check_dtype=True) -> None:
    """Print a one-line verdict: does ``ours`` match ``reference`` (torch, numpy or numbers)?

    >>> import aigc_course as ac
    >>> compare(ac.tensor([1.0, 2.0]) * 2, [2.0, 4.0], name="the hand-computed answer")
    ✓ matches the hand-computed answer (max |Δ| = 0)
    >>> compare(ac.ones(3, 1), ac.ones(3, 4))
    Traceback (most recent call last):
    ...
    AssertionError: ✗ does not match torch: shape differs: ours (3, 1), expected (3, 4)
    """
    try:
        worst = difference(ours, reference, rtol, atol, check_dtype)
    except AssertionError as e:
        raise AssertionError(f"✗ does not match {name}: {e}") from None
    print(f"✓ matches {name} ({_bound(worst)})")


def _bound(worst: float) -> str:
    """``max |Δ| = 0``, or the power of ten above it (``max |Δ| < 1e-06``).

    Note: only the order of magnitude is printed, because the last digits of a float
    difference change with the CPU and the BLAS library, and the notebooks' printed
    outputs must reproduce exactly on other machines.

    >>> _bound(0.0), _bound(2.1e-07), _bound(3e-5)
    ('max |Δ| = 0', 'max |Δ| < 1e-06', 'max |Δ| < 1e-04')
    """
    if worst == 0:
        return "max |Δ| = 0"
    return f"max |Δ| < {10.0 ** (math.floor(math.log10(worst)) + 1):.0e}"


def assert_close(ours, reference, rtol=None, atol=None, check_dtype=True) -> None:
    """Raise ``AssertionError`` unless ``ours`` matches ``reference`` (silent on success)."""
    difference(ours, reference, rtol, atol, check_dtype)
