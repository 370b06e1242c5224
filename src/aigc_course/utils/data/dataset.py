r"""Datasets: anything with ``__getitem__`` and ``__len__`` (torch's "map-style" datasets).

A dataset answers one question, *what is sample* ``i``, and knows nothing about batches,
shuffling or workers; those belong to the sampler, the batch sampler, the collate function
and the :class:`~aigc_course.utils.data.DataLoader`. Mirrors ``torch/utils/data/dataset.py``.
See chapter 5.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

from ..._creation import randperm
from ..._tensor import Tensor
from ...random import Generator

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """The base class of map-style datasets: subclasses define ``__getitem__(index)`` and
    ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return i * i
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Sample ``i`` is the tuple ``(t[i] for t in tensors)``: rows of tensors that share their
    first dimension, such as features and labels.

    >>> import aigc_course as ac
    >>> ds = TensorDataset(ac.arange(6).view(3, 2), ac.tensor([7, 8, 9]))
    >>> len(ds), ds[1]
    (3, (tensor([2, 3]), tensor(8)))
    """

    def __init__(self, *tensors: Tensor):
        sizes = [t.size(0) for t in tensors]
        if any(n != sizes[0] for n in sizes):
            # torch raises AssertionError here (an assert); we keep its type, and name the sizes
            raise AssertionError(f"Size mismatch between tensors: first dimensions {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, [4, 0])[1]`` is
    ``ds[0]``.

    >>> Subset(["a", "b", "c", "d", "e"], [4, 0])[1]
    'a'
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        # a batch at once: the DataLoader uses this when a dataset offers it (as torch does)
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    r"""Split ``dataset`` into non-overlapping random subsets of the given ``lengths``.

    ``lengths`` are either sizes that add up to ``len(dataset)``, or fractions that add up to 1.
    Fractions become $\lfloor n f_i \rfloor$ samples each, and the remainder is handed out one
    at a time, round robin from the first split, exactly as torch does: 10 samples split
    ``[0.35, 0.65]`` gives sizes 3 + 6, then the leftover 1 goes to the first: ``[4, 6]``.
    ``generator`` (default: the global one, see ``aigc_course.manual_seed``) makes it repeatable.

    >>> import aigc_course as ac
    >>> train, test = random_split(range(10), [0.35, 0.65], generator=ac.Generator().manual_seed(0))
    >>> len(train), len(test)
    (4, 6)
    >>> sorted(list(train) + list(test)) == list(range(10))
    True
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1: got {frac}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):  # the remainder, round robin
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! "
            f"lengths={list(lengths)} sum to {sum(lengths)}, but len(dataset) is {n}"
        )
    indices = randperm(n, generator=generator).tolist()
    splits, offset = [], 0
    for length in lengths:
        splits.append(Subset(dataset, indices[offset : offset + length]))
        offset += length
    return splits
