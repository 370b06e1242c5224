r"""Samplers: the order in which a :class:`~aigc_course.utils.data.DataLoader` visits indices.

A sampler yields dataset *indices* (never samples); a :class:`BatchSampler` groups them into
lists, one list per batch. Mirrors ``torch/utils/data/sampler.py``. See chapter 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized

from ..._creation import randperm
from ...ops.sampling import randint
from ...random import Generator

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler"]


class Sampler:
    """The base class: subclasses define ``__iter__`` (yielding indices) and usually
    ``__len__``."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``, in order.

    >>> list(SequentialSampler(range(4)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source: Sized):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    r"""Indices in random order: a fresh permutation of $\{0, \dots, n-1\}$ on every pass
    (every epoch), or, with ``replacement=True``, ``num_samples`` independent uniform draws.

    Random numbers come from ``generator`` when given, else from the global generator that
    ``aigc_course.manual_seed`` seeds; either way the draw happens when iteration *starts*, so
    each epoch reshuffles and a seed set before the loop replays the whole run.

    Note: the same seed gives a different order here and in torch (different generators).

    >>> import aigc_course as ac
    >>> g = ac.Generator().manual_seed(0)
    >>> sampler = RandomSampler(range(5), generator=g)
    >>> sorted(sampler)
    [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if (
            not isinstance(self.num_samples, int)
            or isinstance(self.num_samples, bool)
            or (self.num_samples <= 0)
        ):
            raise ValueError(
                f"num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        # read len(data_source) lazily: the dataset may grow after the sampler is made
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.replacement:
            # torch draws in chunks of 32, so long runs do not hold one huge array
            for start in range(0, self.num_samples, 32):
                size = min(32, self.num_samples - start)
                yield from randint(0, n, (size,), generator=self.generator).tolist()
        else:
            # num_samples may exceed n: then whole permutations follow one another
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=self.generator).tolist()
            yield from randperm(n, generator=self.generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    r"""Group the indices of ``sampler`` into lists of ``batch_size``; the last list is shorter
    unless ``drop_last``. The number of batches is
    $\lfloor n / b \rfloor$ with ``drop_last`` and $\lceil n / b \rceil$ without.

    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
    [[0, 1, 2], [3, 4, 5], [6]]
    >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=True))
    [[0, 1, 2], [3, 4, 5]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size  # ceil(n / b) in integers
