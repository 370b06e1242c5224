r"""``meshgrid``: coordinate grids from 1-d tensors (``torch.functional.meshgrid``, chapter 1).

Grid $k$ holds input $k$'s values along dim $k$, repeated along the others:
$z^{(k)}_{i_0 i_1 \dots} = x^{(k)}_{i_k}$. Each grid is a view, ``x.reshape(...)`` expanded
(stride 0 along the other dims), so its gradient sums over the repeated dims.
"""

from __future__ import annotations

import warnings

from .._tensor import Tensor
from .shape import expand, reshape


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple[Tensor, ...]:
    r"""The coordinate grids of the 1-d (or 0-d) ``tensors``. ``indexing="ij"``: grid shape
    ``(len(x0), len(x1), ...)``; ``"xy"`` (Cartesian, as numpy's default) swaps the first two
    dims, ``(len(x1), len(x0), ...)``. Without ``indexing``, ``"ij"`` with torch's warning.
    The tensors may also come as one list.

    >>> import aigc_course as ac
    >>> ys, xs = ac.meshgrid(ac.tensor([0, 1]), ac.tensor([5, 6, 7]), indexing="ij")
    >>> ys
    tensor([[0, 0, 0],
            [1, 1, 1]])
    >>> xs
    tensor([[5, 6, 7],
            [5, 6, 7]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
        if t._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"a tensor of shape {list(t.shape)}"
            )
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    shape = [t._data.size for t in tensors]
    where = list(range(len(tensors)))  # the dim each input runs along
    if indexing == "xy" and len(tensors) >= 2:  # Cartesian: x (input 0) runs along the columns
        shape[0], shape[1] = shape[1], shape[0]
        where[0], where[1] = 1, 0
    grids = []
    for t, k in zip(tensors, where):
        view = [1] * len(tensors)
        view[k] = -1
        grids.append(expand(reshape(t, view), shape))
    return tuple(grids)
