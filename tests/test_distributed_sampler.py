"""DistributedSampler against torch's, constructed with explicit num_replicas/rank (pure index
logic, no process group): seeds, epochs, world sizes 1-4, padding and drop_last."""

from collections import Counter

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from aigc_course.utils.data import DistributedSampler

SIZES = [0, 1, 3, 8, 10, 13]
WORLD = [1, 2, 3, 4]


def _shares(cls, n, world, **kw):
    return [list(cls(range(n), num_replicas=world, rank=r, **kw)) for r in range(world)]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("world", WORLD)
@pytest.mark.parametrize("n", SIZES)
def test_unshuffled_split_equals_torch(n, world, drop_last):
    ours = _shares(DistributedSampler, n, world, shuffle=False, drop_last=drop_last)
    theirs = _shares(TorchSampler, n, world, shuffle=False, drop_last=drop_last)
    assert ours == theirs
    for r in range(world):
        kw = dict(num_replicas=world, rank=r, shuffle=False, drop_last=drop_last)
        assert len(DistributedSampler(range(n), **kw)) == len(TorchSampler(range(n), **kw))


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("world", WORLD)
@pytest.mark.parametrize("n", [1, 3, 10, 13])
def test_shuffled_epochs_partition_like_torch(n, world, drop_last):
    for seed in (0, 1, 7):
        for epoch in (0, 1, 2):
            ours, theirs = [], []
            for cls, out in ((DistributedSampler, ours), (TorchSampler, theirs)):
                for r in range(world):
                    s = cls(range(n), num_replicas=world, rank=r, seed=seed, drop_last=drop_last)
                    s.set_epoch(epoch)
                    out.append(list(s))
            assert [len(s) for s in ours] == [len(s) for s in theirs]
            flat_ours = [i for share in ours for i in share]
            flat_theirs = [i for share in theirs for i in share]
            # the same shape of partition: which indices are kept, how often each repeats
            assert sorted(Counter(flat_ours).values()) == sorted(Counter(flat_theirs).values())
            assert set(flat_ours) <= set(range(n))
            if not drop_last:
                assert set(flat_ours) == set(range(n))
            else:
                assert len(set(flat_ours)) == len(flat_ours)


def test_set_epoch_reshuffles_and_replays():
    def order(epoch, seed=0):
        s = DistributedSampler(range(20), num_replicas=2, rank=0, seed=seed)
        s.set_epoch(epoch)
        return list(s)

    assert order(0) == order(0)
    assert order(0) != order(1)
    assert order(0, seed=1) != order(0)
    s = DistributedSampler(range(20), num_replicas=2, rank=0)
    assert list(s) == list(s)  # without set_epoch every epoch repeats the first order


@pytest.mark.parametrize("rank", [-1, 2])
def test_invalid_rank_raises_like_torch(rank):
    with pytest.raises(ValueError) as theirs:
        TorchSampler(range(4), num_replicas=2, rank=rank)
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(4), num_replicas=2, rank=rank)
    assert str(ours.value) == str(theirs.value)


def test_without_process_group_raises_like_torch():
    assert not torch.distributed.is_initialized()
    with pytest.raises(ValueError):
        TorchSampler(range(4))
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4))


def test_dataloader_takes_it():
    import aigc_course as ac
    from aigc_course.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(ac.arange(10))
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
