r"""``default_collate``: turn a list of samples into one batch (torch keeps it in
``torch/utils/data/_utils/collate.py``). See chapter 5.

The rule is recursive and keeps the *structure* of a sample while stacking its *leaves*:

==========================  ===================================================
each sample is              the batch is
==========================  ===================================================
a Tensor of shape S         ``stack``: one Tensor of shape ``(B, *S)``
a numpy array               the same, after ``tensor(array)`` (dtype kept)
a Python ``float``          a float64 Tensor of shape ``(B,)`` (as torch: not float32!)
a Python ``int`` / ``bool`` an int64 / bool Tensor of shape ``(B,)``
a numpy scalar              a Tensor of its dtype, shape ``(B,)``
a ``str`` or ``bytes``      the batch, unchanged
a dict                      a dict: each key collated over the batch
a tuple / list              a list: position ``j`` collated over the batch
a namedtuple                the same namedtuple type, field by field
==========================  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..._creation import from_numpy, tensor
from ..._dtypes import float64
from ..._tensor import Tensor
from ...ops.shape import stack

__all__ = ["default_collate", "default_convert"]

_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def default_collate(batch: list):
    """Collate a list of samples into a batch, recursively (see the module's table).

    >>> import aigc_course as ac
    >>> default_collate([(ac.tensor([1.0, 2.0]), 0), (ac.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    >>> default_collate([{"x": 0.5, "name": "a"}, {"x": 1.5, "name": "b"}])
    {'x': tensor([0.5000, 1.5000], dtype=aigc_course.float64), 'name': ['a', 'b']}
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        for i, t in enumerate(batch):
            if not isinstance(t, Tensor) or t.shape != elem.shape:
                got = list(t.shape) if isinstance(t, Tensor) else type(t).__name__
                # torch's own words (from torch.stack), plus every shape in the batch
                raise RuntimeError(
                    f"stack expects each tensor to be equal size, but got {list(elem.shape)} "
                    f"at entry 0 and {got} at entry {i}; the batch's shapes are "
                    f"{[list(b.shape) if isinstance(b, Tensor) else None for b in batch]}"
                )
        if any(t.requires_grad for t in batch):
            return stack(batch, 0)  # (B, *S), recorded by autograd
        # the same values as stack(batch, 0), in one numpy call: no graph to record
        return from_numpy(np.stack([t.numpy() for t in batch]))  # (B, *S)
    if isinstance(elem, (str, bytes)):  # numpy's str_ and bytes_ too
        return batch
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind in "SUOaV":  # strings, objects: nothing to stack
            raise TypeError(_ERROR.format(elem.dtype))
        if elem.ndim == 0 and isinstance(elem, np.generic):  # numpy scalars
            return tensor(np.array(batch))  # (B,), their own dtype
        return default_collate([tensor(b) for b in batch])
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)  # (B,)
    if isinstance(elem, int):  # bool is an int too: tensor() gives bool for [True, False]
        return tensor(batch)  # (B,)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(collated)  # keep an OrderedDict an OrderedDict
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        lengths = [len(sample) for sample in batch]
        if any(n != lengths[0] for n in lengths):
            raise RuntimeError(
                f"each element in list of batch should be of equal size; got lengths {lengths}"
            )
        transposed = list(zip(*batch))  # sample-major → field-major (strings stay tuples)
        if isinstance(elem, tuple):
            return [default_collate(column) for column in transposed]  # a list, as torch
        try:
            return type(elem)([default_collate(column) for column in transposed])
        except TypeError:
            return [default_collate(column) for column in transposed]
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """What ``DataLoader(batch_size=None)`` applies to each sample: numpy arrays become Tensors,
    inside dicts and sequences too; everything else is returned unchanged."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "SUOaV":
        return tensor(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
