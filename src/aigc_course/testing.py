"""One-line verdicts against torch, for notebooks and tests.

``compare(ours, reference)`` prints ``✓ matches torch (|Δ| ≤ 1e-05 + 1.3e-06·|expected|)``, a
verdict against the tolerance that was applied (never the size of the difference itself, whose
digits change with the CPU's SIMD kernels), or raises an
``AssertionError`` that says exactly what differs: the type, the shape, the dtype, or the
worst element with both values. Tolerances default to torch's for the dtype
(``torch.testing.assert_close``): float32 rtol 1.3e-6, atol 1e-5; float64 rtol 1e-7, atol 1e-7.
"""

from __future__ import annotations

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
    rtol, atol = _tolerance(ours, reference, rtol, atol)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if a.size == 0:
        return 0.0
    # NaN against NaN and an infinity against the same infinity count as equal (as in torch)
    same = (np.isnan(a64) & np.isnan(b64)) | (np.isinf(a64) & (a64 == b64))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(a64 - b64))
        bad = ~same & ~(diff <= atol + rtol * np.abs(b64))
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
    ✓ matches the hand-computed answer (|Δ| ≤ 1e-05 + 1.3e-06·|expected|)
    >>> compare(ac.tensor([1, 2]) * 2, [2, 4])
    ✓ matches torch (exactly)
    >>> compare(ac.ones(3, 1), ac.ones(3, 4))
    Traceback (most recent call last):
    ...
    AssertionError: ✗ does not match torch: shape differs: ours (3, 1), expected (3, 4)
    """
    try:
        difference(ours, reference, rtol, atol, check_dtype)
    except AssertionError as e:
        raise AssertionError(f"✗ does not match {name}: {e}") from None
    print(f"✓ matches {name} ({_verdict(ours, reference, rtol, atol)})")


def _tolerance(ours, reference, rtol, atol) -> tuple[float, float]:
    """The (rtol, atol) that :func:`difference` applies to one pair of values: the given ones,
    else torch's defaults for the reference's dtype (else ours, else float64); 0 for ints."""
    name = _dtype_name(reference) or _dtype_name(ours) or "float64"
    default_rtol, default_atol = _TOLERANCES.get(name, (0.0, 0.0))
    return (default_rtol if rtol is None else rtol), (default_atol if atol is None else atol)


def _verdict(ours, reference, rtol, atol) -> str:
    """The rule that was checked, e.g. ``|Δ| ≤ 1e-05 + 1.3e-06·|expected|``, or ``exactly``.

    Note: the size of the difference is deliberately not printed. Its digits (even its order
    of magnitude, even whether it is 0) change with the SIMD kernels that numpy and torch pick
    on a given CPU, and the notebooks' printed outputs must reproduce on every machine.

    >>> import aigc_course as ac
    >>> _verdict([1.0], [1.0], 0, 1e-6), _verdict([True], [True], None, None)
    ('|Δ| ≤ 1e-06', 'exactly')
    >>> pair = (ac.ones(2), ac.ones(2, dtype=ac.float64))
    >>> _verdict(pair, pair, None, None)
    "each within torch's tolerance for its dtype"
    """
    rules = {_rule(a, b, rtol, atol) for a, b in _pairs(ours, reference)}
    if len(rules) == 1:
        return rules.pop()
    return "each within torch's tolerance for its dtype" if rules else "exactly"


def _rule(ours, reference, rtol, atol) -> str:
    if not {_to_numpy(ours).dtype.kind, _to_numpy(reference).dtype.kind} & {"f", "c"}:
        return "exactly"
    rtol, atol = _tolerance(ours, reference, rtol, atol)
    if atol == rtol == 0:
        return "exactly"
    if rtol == 0:
        return f"|Δ| ≤ {atol:g}"
    return f"|Δ| ≤ {atol:g} + {rtol:g}·|expected|"


def _pairs(ours, reference) -> list:
    """The (ours, reference) pairs that :func:`difference` compares one by one."""
    if isinstance(reference, (tuple, list)) and not _is_tensorlike(ours):
        if isinstance(ours, (tuple, list)) and len(ours) == len(reference):
            if not all(isinstance(r, (tuple, list)) or _is_tensorlike(r) for r in reference):
                return [(ours, reference)]  # lists of numbers: one value
            return [p for a, b in zip(ours, reference) for p in _pairs(a, b)]
    return [(ours, reference)]


def assert_close(ours, reference, rtol=None, atol=None, check_dtype=True) -> None:
    """Raise ``AssertionError`` unless ``ours`` matches ``reference`` (silent on success)."""
    difference(ours, reference, rtol, atol, check_dtype)
