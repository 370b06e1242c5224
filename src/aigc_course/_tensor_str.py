"""Printing tensors the way torch does: ``tensor([[1., 2.]], requires_grad=True)``.

The number format follows torch's rules: whole numbers print as ``1.``; other values with 4
decimals (``0.1000``), or in scientific notation (``1.0000e-05``) when the nonzero magnitudes
span more than 1000x or reach 1e8. Long tensors are summarised with ``...``.
"""

from __future__ import annotations

import numpy as np

_THRESHOLD, _EDGEITEMS, _LINEWIDTH = 1000, 3, 80


def _float_formatter(values: np.ndarray):
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0]).astype(np.float64)
    whole = finite.size == 0 or bool(np.all(np.ceil(finite) == finite))
    sci = False
    if nonzero.size:
        lo, hi = nonzero.min(), nonzero.max()
        sci = hi / lo > 1000.0 or hi > 1e8 or (not whole and lo < 1e-4)
    if sci:
        return lambda v: f"{v:.4e}" if np.isfinite(v) else f"{v}"
    if whole:
        return lambda v: f"{v:.0f}." if np.isfinite(v) else f"{v}"
    return lambda v: f"{v:.4f}" if np.isfinite(v) else f"{v}"


def _summarised(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown (edges only, for large tensors), to choose the format."""
    if a.size <= _THRESHOLD or a.ndim == 0:
        return a.reshape(-1)
    parts = [a]
    for axis in range(a.ndim):
        n = a.shape[axis]
        if n > 2 * _EDGEITEMS:
            keep = list(range(_EDGEITEMS)) + list(range(n - _EDGEITEMS, n))
            parts = [np.take(p, keep, axis=axis) for p in parts]
    return parts[0].reshape(-1)


def format_tensor(t) -> str:
    a = t._data
    shown = _summarised(a)
    if a.dtype.kind == "f":
        fmt = _float_formatter(shown)
    elif a.dtype.kind == "b":
        fmt = lambda v: "True" if v else "False"  # noqa: E731
    else:
        fmt = lambda v: f"{int(v)}"  # noqa: E731
    width = max((len(fmt(v)) for v in shown), default=0)
    summarise = a.size > _THRESHOLD
    body = np.array2string(
        a,
        max_line_width=_LINEWIDTH,
        separator=", ",
        prefix="tensor(",
        threshold=_THRESHOLD if summarise else a.size + 1,
        edgeitems=_EDGEITEMS,
        formatter={"all": lambda v: fmt(v).rjust(width)},
    )
    extras = []
    if a.size == 0 and a.shape != (0,):
        extras.append(f"size={tuple(a.shape)}")
    if t.dtype.name not in ("float32", "int64", "bool"):
        extras.append(f"dtype=aigc_course.{t.dtype.name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"
