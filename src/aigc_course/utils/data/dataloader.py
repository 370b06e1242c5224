r"""``DataLoader``: dataset → sampler → batch sampler → fetch → collate, one batch at a time.

Mirrors ``torch/utils/data/dataloader.py``, with one deliberate difference: our background
workers are **threads**, torch's are **processes**. See chapter 5, and :mod:`.worker` for why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ...ops.sampling import randint
from ...random import Generator
from .collate import default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import _fetch, _ThreadedIter

__all__ = ["DataLoader"]


class DataLoader:
    r"""Iterate over ``dataset`` in batches: each ``for`` loop over the loader is one epoch.

    The pipeline, each stage replaceable by an argument:

    1. a **sampler** yields indices: :class:`SequentialSampler`, or :class:`RandomSampler`
       when ``shuffle=True`` (a fresh permutation every epoch, drawn from ``generator`` or
       from the global generator that ``aigc_course.manual_seed`` seeds);
    2. a **batch sampler** groups them, ``batch_size`` at a time (the last batch is shorter
       unless ``drop_last``);
    3. the batch's samples are **fetched**, ``dataset[i]`` for each index;
    4. ``collate_fn`` (default :func:`default_collate`) stacks them into one batch.

    ``len(loader)`` is the number of batches per epoch: $\lceil n / b \rceil$, or
    $\lfloor n / b \rfloor$ with ``drop_last``. ``batch_size=None`` turns batching off: the
    loader then yields single samples.

    ``num_workers > 0`` fetches and collates up to ``prefetch_factor * num_workers`` batches
    ahead, in background threads, and yields exactly the batches, in exactly the order, of
    ``num_workers=0``.

    Note: ``pin_memory`` is accepted for torch's positional order and ignored (there is no GPU
    memory to pin for numpy arrays).

    >>> import aigc_course as ac
    >>> from aigc_course.utils.data import TensorDataset
    >>> ds = TensorDataset(ac.arange(10).view(5, 2), ac.tensor([0, 1, 0, 1, 0]))
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader)
    3
    >>> for x, y in loader:
    ...     print(tuple(x.shape), y.tolist())
    (2, 2) [0, 1]
    (2, 2) [0, 1]
    (1, 2) [0]
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                f"multiprocessing. Got num_workers={num_workers}"
            )
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing. Let "
                f"num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                f"None. Got prefetch_factor={prefetch_factor}"
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2  # torch's default: two batches in flight per worker
        if prefetch_factor is not None and (
            not isinstance(prefetch_factor, int) or prefetch_factor < 1
        ):
            raise ValueError(f"prefetch_factor should be at least 1, but got {prefetch_factor}")
        if sampler is not None and shuffle:
            raise ValueError(
                f"sampler option is mutually exclusive with shuffle (got shuffle={shuffle} "
                f"and sampler={_name(sampler)})"
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    f"sampler, and drop_last (got batch_size={batch_size}, shuffle={shuffle}, "
                    f"sampler={_name(sampler)}, drop_last={drop_last})"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )

        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # validates batch_size
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.generator = generator
        self.prefetch_factor = prefetch_factor

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        # what the iterator walks: lists of indices (batching on), or single indices (off)
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator:
        indices = iter(self._index_sampler)
        # subtle: like torch, every epoch draws one number from the generator for the workers'
        # seeds, whether or not there are workers, so num_workers never changes the shuffle
        seed = int(randint(0, 2**62, (), generator=self.generator).item())
        if self.num_workers == 0:
            return _SerialIter(self, indices)
        return _ThreadedIter(self, indices, seed)

    def __len__(self) -> int:
        return len(self._index_sampler)


class _SerialIter:
    """One epoch of ``DataLoader(num_workers=0)``: each ``next`` fetches and collates the next
    batch in the calling thread. (A class, not a generator: as in torch, a sample that raises
    does not end the epoch, and the following ``next`` goes on with the next batch.)"""

    def __init__(self, loader: DataLoader, indices: Iterator):
        self._loader = loader
        self._indices = indices

    def __iter__(self) -> _SerialIter:
        return self

    def __next__(self):
        index = next(self._indices)  # the next list of indices; StopIteration ends the epoch
        loader = self._loader
        return _fetch(loader.dataset, index, loader._auto_collation, loader.collate_fn)


def _name(obj) -> str:
    """A short, address-free description for error messages: ``RandomSampler`` or ``[0, 1]``."""
    if obj is None or isinstance(obj, (list, tuple, range)):
        return repr(obj) if len(repr(obj)) < 60 else f"{type(obj).__name__} of {len(obj)}"
    return type(obj).__name__
