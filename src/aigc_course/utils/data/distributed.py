r"""``DistributedSampler``: each rank's share of the dataset's indices, as in torch.

With $n$ samples and $N$ ranks, every rank gets $m$ indices:

$$
m = \left\lceil \frac{n}{N} \right\rceil \text{ (pad)}, \qquad
m = \left\lceil \frac{n - N}{N} \right\rceil \text{ (drop\_last, when } N \nmid n\text{)},
$$

out of a list of $mN$ indices: the (shuffled) $0, \dots, n-1$, padded by repeating its start,
or with its tail dropped. Rank $r$ takes positions $r, r + N, r + 2N, \dots$ (interleaved, not
contiguous blocks). Mirrors ``torch/utils/data/distributed.py``. See chapter 11.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from ..._creation import randperm
from ...random import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _from_process_group(what: str) -> int:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is optional
        raise RuntimeError("Requires distributed package to be available") from None
    if not dist.is_available() or not dist.is_initialized():
        raise ValueError(  # torch's type: dist.get_world_size() raises ValueError
            f"{what} was not given and the default process group has not been initialized"
        )
    return dist.get_world_size() if what == "num_replicas" else dist.get_rank()


class DistributedSampler(Sampler):
    r"""Restrict iteration to rank ``rank``'s share of ``dataset``'s indices.

    ``num_replicas`` and ``rank`` default to the process group's world size and rank. With
    ``shuffle=True`` the order is a permutation seeded by ``seed + epoch``, the same on every
    rank, so the ranks' shares never overlap (apart from padding); call :meth:`set_epoch` at
    the start of each epoch, or every epoch repeats the first one's order.

    Note: ``shuffle=False`` gives exactly torch's split. Shuffled, the permutation comes from
    our generator, not torch's, so the order differs from torch's while the split rules match.

    >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False))
    ...  for r in range(2)]
    [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            num_replicas = _from_process_group("num_replicas")
        if rank is None:
            rank = _from_process_group("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the largest equal share: drop the tail rather than repeat samples
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            # the same seed on every rank: one permutation, cut into disjoint shares
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            # subtle: repeat the list's start, more than once when n < num_replicas
            indices += (indices * math.ceil(padding / max(len(indices), 1)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which seeds the next shuffle (with ``seed``)."""
        self.epoch = epoch
