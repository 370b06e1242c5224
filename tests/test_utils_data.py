"""utils.data against torch.utils.data: batches, len(), samplers, collate, splits, workers and
errors. torch is the oracle throughout; where randomness differs by design (numpy's generator
vs torch's), the tests check the properties torch guarantees instead: permutations, fresh
shuffles per epoch, reproducibility from a seed."""

from __future__ import annotations

import collections
import threading
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from opinfo import assert_same

import aigc_course as ac
import aigc_course.utils.data as acd

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same_batch(ours, theirs, what="batch"):
    """Same nested structure, same leaves: Tensors equal in shape, dtype and values."""
    if isinstance(theirs, torch.Tensor):
        assert_same(ours, theirs, rtol=0, atol=0, what=what)
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), what
        for key in theirs:
            assert_same_batch(ours[key], theirs[key], f"{what}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs), f"{what}: {type(ours)} != torch's {type(theirs)}"
        assert len(ours) == len(theirs), what
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_batch(o, t, f"{what}[{i}]")
    else:
        assert ours == theirs, f"{what}: {ours!r} != torch's {theirs!r}"


def tensor_pair(shape, dtype=np.float32, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ac.tensor(a), torch.tensor(a)


def both_datasets(n=11):
    xo, xt = tensor_pair((n, 3))
    labels = np.arange(n) % 3
    yo, yt = ac.tensor(labels), torch.tensor(labels)
    return acd.TensorDataset(xo, yo), tud.TensorDataset(xt, yt)


class SampleList:
    """A dataset of arbitrary Python samples, usable by both libraries."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        return self.samples[i]


# ------------------------------------------------------------------ DataLoader, no shuffling


@pytest.mark.parametrize("batch_size", [1, 2, 4, 11, 20])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_batches_equal_torch_without_shuffle(batch_size, drop_last, num_workers):
    ours_ds, torch_ds = both_datasets()
    ours = acd.DataLoader(ours_ds, batch_size, drop_last=drop_last, num_workers=num_workers)
    theirs = tud.DataLoader(torch_ds, batch_size, drop_last=drop_last)
    ours_batches, torch_batches = list(ours), list(theirs)
    assert len(ours_batches) == len(torch_batches) == len(ours) == len(theirs)
    for k, (o, t) in enumerate(zip(ours_batches, torch_batches, strict=True)):
        assert_same_batch(o, t, f"batch {k}")


def test_len_equals_torch_for_every_size_and_drop_last():
    for n in range(0, 14):
        for batch_size in range(1, 16):
            for drop_last in (False, True):
                ours = acd.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
                theirs = tud.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last)
                assert len(ours) == len(theirs), (n, batch_size, drop_last)
                assert len(list(ours)) == len(ours)
    ours = acd.DataLoader(range(7), batch_size=None)
    assert len(ours) == len(tud.DataLoader(range(7), batch_size=None)) == 7


def test_nested_samples_collate_like_torch():
    rng = np.random.default_rng(1)
    samples = [
        {
            "image": rng.standard_normal((2, 2)).astype(np.float32),
            "label": int(i % 2),
            "weight": float(i) / 2,
            "meta": (i, f"s{i}", Point(np.float64(i), True)),
            "ids": [i, i + 1],
        }
        for i in range(5)
    ]
    ours = list(acd.DataLoader(SampleList(samples), batch_size=2))
    theirs = list(tud.DataLoader(SampleList(samples), batch_size=2))
    for k, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        assert_same_batch(o, t, f"batch {k}")


def test_batch_size_none_yields_converted_samples_like_torch():
    samples = [(np.arange(3, dtype=np.int32) + i, float(i)) for i in range(4)]
    ours = list(acd.DataLoader(SampleList(samples), batch_size=None))
    theirs = list(tud.DataLoader(SampleList(samples), batch_size=None))
    for o, t in zip(ours, theirs, strict=True):
        assert_same_batch(o, t)


def test_custom_sampler_batch_sampler_and_collate_fn():
    ours_ds, torch_ds = both_datasets(9)
    order = [8, 1, 4, 0, 2]
    for kwargs in (
        {"sampler": order, "batch_size": 2},
        {"batch_sampler": [[3, 1], [0], [8, 7, 6]]},
    ):
        for o, t in zip(
            acd.DataLoader(ours_ds, **kwargs), tud.DataLoader(torch_ds, **kwargs), strict=True
        ):
            assert_same_batch(o, t)
    first = acd.DataLoader(ours_ds, batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(first) == list(tud.DataLoader(torch_ds, batch_size=4, collate_fn=len))
    loader = acd.DataLoader(ours_ds, batch_sampler=[[3, 1], [0]])
    assert loader.batch_size is None and loader.drop_last is False and len(loader) == 2


# ------------------------------------------------------------------ shuffling


def epoch_order(loader):
    return [i for batch in loader for i in batch.tolist()]


def test_shuffle_every_epoch_is_a_new_permutation():
    ac.manual_seed(0)
    loader = acd.DataLoader(range(50), batch_size=8, shuffle=True)
    epochs = [epoch_order(loader) for _ in range(4)]
    for order in epochs:
        assert sorted(order) == list(range(50))
    assert len({tuple(order) for order in epochs}) == 4, "every epoch must reshuffle"
    assert epochs[0] != list(range(50))
    # the same property holds for torch: this is what we match
    torch.manual_seed(0)
    theirs = tud.DataLoader(range(50), batch_size=8, shuffle=True)
    torch_epochs = [epoch_order(theirs) for _ in range(2)]
    assert sorted(torch_epochs[0]) == list(range(50)) and torch_epochs[0] != torch_epochs[1]


def test_manual_seed_replays_the_whole_run():
    loader = acd.DataLoader(range(30), batch_size=4, shuffle=True)
    runs = []
    for _ in range(2):
        ac.manual_seed(123)
        runs.append([epoch_order(loader) for _ in range(3)])
    assert runs[0] == runs[1]
    ac.manual_seed(124)
    assert [epoch_order(loader) for _ in range(3)] != runs[0]


def test_generator_argument_is_private_and_reproducible():
    def run(seed):
        g = ac.Generator().manual_seed(seed)
        loader = acd.DataLoader(range(30), batch_size=4, shuffle=True, generator=g)
        return [epoch_order(loader) for _ in range(3)]

    ac.manual_seed(0)
    first = run(7)
    ac.manual_seed(99)  # the global generator must not matter
    assert run(7) == first
    assert run(8) != first
    assert ac.manual_seed(5) and ac.rand(3).tolist() == (ac.manual_seed(5), ac.rand(3))[1].tolist()


@pytest.mark.parametrize("num_workers", [1, 3])
def test_workers_yield_the_same_shuffled_batches_in_order(num_workers):
    ours_ds, _ = both_datasets(23)

    def run(workers):
        g = ac.Generator().manual_seed(3)
        loader = acd.DataLoader(ours_ds, 4, shuffle=True, num_workers=workers, generator=g)
        return [[b.numpy().copy() for b in batch] for epoch in range(2) for batch in loader]

    for a, b in zip(run(0), run(num_workers), strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


class SlowFirstBatches(SampleList):
    """Early samples take longest, so later batches finish first and must be reordered."""

    def __init__(self, n):
        super().__init__(list(range(n)))
        self.threads = set()

    def __getitem__(self, i):
        self.threads.add(threading.current_thread().name)
        time.sleep(0.02 if i < 4 else 0.0)
        return i


def test_workers_reorder_batches_that_finish_out_of_order():
    before = threading.active_count()
    ds = SlowFirstBatches(24)
    loader = acd.DataLoader(ds, batch_size=2, num_workers=4, prefetch_factor=3)
    assert epoch_order(loader) == list(range(24))
    assert len(ds.threads) > 1 and "MainThread" not in ds.threads  # background threads did it
    wait_for_threads_to_end(before)


def wait_for_threads_to_end(count_before):
    for _ in range(100):
        if threading.active_count() <= count_before:
            return
        time.sleep(0.02)
    raise AssertionError(f"{threading.active_count() - count_before} worker threads still run")


def test_workers_prefetch_in_the_background_but_no_further_than_asked():
    ds = SlowFirstBatches(16)
    it = iter(acd.DataLoader(ds, batch_size=2, num_workers=2, prefetch_factor=2))

    def ready():
        return len(it._reorder) + it._result_queue.qsize()

    for _ in range(100):  # no batch was requested, yet 2 per worker get ready
        if ready() == 4:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    assert ready() == 4, "prefetch_factor * num_workers = 4 batches, and no more"
    assert "MainThread" not in ds.threads
    assert len(list(it)) == 8


def test_breaking_out_of_an_epoch_stops_the_workers():
    before = threading.active_count()
    for _ in range(3):
        for batch in acd.DataLoader(range(100), batch_size=2, num_workers=3):
            if batch[0] > 10:
                break
    wait_for_threads_to_end(before)


class Broken(SampleList):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"sample {i} is missing")
        return i


def test_worker_errors_reach_the_main_thread_with_their_type():
    loader = acd.DataLoader(Broken(list(range(8))), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match="sample 5") as info:
        list(loader)
    assert any("worker thread" in note for note in info.value.__notes__)


def test_get_worker_info():
    assert acd.get_worker_info() is None

    class Who(SampleList):
        def __getitem__(self, i):
            info = acd.get_worker_info()
            return (info.id, info.num_workers, info.dataset is self)

    for ids, num_workers, same in acd.DataLoader(Who([0] * 8), batch_size=2, num_workers=2):
        assert set(ids.tolist()) <= {0, 1}
        assert num_workers.tolist() == [2, 2] and same.tolist() == [True, True]


# ------------------------------------------------------------------ samplers


def test_sequential_and_batch_sampler_equal_torch():
    for n in range(0, 9):
        assert list(acd.SequentialSampler(range(n))) == list(tud.SequentialSampler(range(n)))
        for batch_size in range(1, 5):
            for drop_last in (False, True):
                ours = acd.BatchSampler(acd.SequentialSampler(range(n)), batch_size, drop_last)
                theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
                assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_sampler_shapes_like_torch():
    g = ac.Generator().manual_seed(0)
    for n, replacement, num_samples in [
        (10, False, None),
        (10, False, 25),
        (10, False, 4),
        (7, True, None),
        (7, True, 70),
    ]:
        ours = acd.RandomSampler(range(n), replacement, num_samples, generator=g)
        theirs = tud.RandomSampler(range(n), replacement, num_samples)
        drawn = list(ours)
        assert len(drawn) == len(ours) == len(theirs) == len(list(theirs))
        assert set(drawn) <= set(range(n))
        if not replacement:  # whole permutations, then the start of one more
            counts = np.bincount(drawn, minlength=n)
            assert counts.max() - counts.min() <= 1
    big = list(acd.RandomSampler(range(3), True, 300, generator=g))
    assert set(big) == {0, 1, 2}  # with replacement: repeats, every value reachable


def test_random_sampler_is_reproducible_and_reads_len_lazily():
    data = list(range(5))
    sampler = acd.RandomSampler(data, generator=ac.Generator().manual_seed(1))
    first = list(sampler)
    assert list(acd.RandomSampler(data, generator=ac.Generator().manual_seed(1))) == first
    data.append(5)
    assert sorted(sampler) == list(range(6))


# ------------------------------------------------------------------ default_collate


COLLATE_CASES = {
    "float32 tensors": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "int64 0-d tensors": lambda lib: [lib.tensor(3), lib.tensor(4)],
    "python ints": lambda lib: [1, 2, 3],
    "python floats (float64, as torch)": lambda lib: [0.5, 1.5],
    "python bools": lambda lib: [True, False],
    "numpy float32 arrays": lambda lib: [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "numpy float64 arrays": lambda lib: [np.ones(2), np.zeros(2)],
    "numpy int32 and uint8": lambda lib: [
        (np.arange(2, dtype=np.int32), np.uint8(i)) for i in range(3)
    ],
    "numpy bool arrays": lambda lib: [np.array([True]), np.array([False])],
    "numpy scalars": lambda lib: [np.float64(1.5), np.float64(2.5)],
    "numpy 0-d arrays": lambda lib: [np.array(1.0), np.array(2.0)],
    "strings": lambda lib: ["a", "bc"],
    "tuples": lambda lib: [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
    "lists": lambda lib: [[1, 2.0], [3, 4.0]],
    "dicts": lambda lib: [{"x": lib.tensor([1]), "y": "a"}, {"x": lib.tensor([2]), "y": "b"}],
    "ordered dicts": lambda lib: [collections.OrderedDict(b=1, a=2.0)] * 2,
    "namedtuples": lambda lib: [Point(1, lib.tensor([1.0])), Point(2, lib.tensor([2.0]))],
    "nested": lambda lib: [
        {"pair": (np.float32(i), [i, {"deep": lib.tensor([[i]])}])} for i in range(3)
    ],
}


@pytest.mark.parametrize("case", list(COLLATE_CASES))
def test_default_collate_equals_torch(case):
    ours = acd.default_collate(COLLATE_CASES[case](ac))
    theirs = tud.default_collate(COLLATE_CASES[case](torch))
    assert_same_batch(ours, theirs, case)


def test_default_collate_keeps_float64_numpy_and_stacks_with_a_leading_batch_dim():
    out = acd.default_collate([np.zeros((4, 5)) for _ in range(3)])
    assert out.dtype == ac.float64 and tuple(out.shape) == (3, 4, 5)


# ------------------------------------------------------------------ datasets and splits


def test_tensor_dataset_and_subset_like_torch():
    ours_ds, torch_ds = both_datasets(6)
    assert len(ours_ds) == len(torch_ds) == 6
    for i in (0, 5, -1):
        assert_same_batch(list(ours_ds[i]), list(torch_ds[i]), f"sample {i}")
    ours_sub, torch_sub = acd.Subset(ours_ds, [4, 0, 2]), tud.Subset(torch_ds, [4, 0, 2])
    assert len(ours_sub) == len(torch_sub) == 3
    assert_same_batch(list(ours_sub[1]), list(torch_sub[1]))
    for o, t in zip(
        acd.DataLoader(ours_sub, batch_size=2), tud.DataLoader(torch_sub, batch_size=2), strict=True
    ):
        assert_same_batch(o, t)


def test_dataset_base_class_needs_getitem():
    with pytest.raises(NotImplementedError):
        tud.Dataset()[0]
    with pytest.raises(NotImplementedError):
        acd.Dataset()[0]


@pytest.mark.parametrize(
    "n, lengths",
    [
        (10, [3, 7]),
        (10, [0.5, 0.5]),
        (10, [0.35, 0.65]),
        (11, [0.8, 0.1, 0.1]),
        (7, [1 / 3, 1 / 3, 1 / 3]),
        (1797, [0.8, 0.2]),
        (5, [5, 0]),
    ],
)
def test_random_split_sizes_equal_torch_and_partition_the_data(n, lengths):
    ours = acd.random_split(range(n), lengths, generator=ac.Generator().manual_seed(0))
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = [i for subset in ours for i in subset]
    assert sorted(everything) == list(range(n))


def test_random_split_is_reproducible():
    def split(seed):
        a, b = acd.random_split(range(20), [0.5, 0.5], generator=ac.Generator().manual_seed(seed))
        return list(a), list(b)

    assert split(0) == split(0) and split(0) != split(1)
    ac.manual_seed(4)
    first = [list(s) for s in acd.random_split(range(20), [10, 10])]
    ac.manual_seed(4)
    assert [list(s) for s in acd.random_split(range(20), [10, 10])] == first


def test_random_split_warns_about_empty_splits_like_torch():
    def messages(split):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            split(range(2), [0.9, 0.05, 0.05])
        return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]

    theirs = messages(tud.random_split)
    assert len(theirs) == 2 and messages(acd.random_split) == theirs


# ------------------------------------------------------------------ errors: torch's type, our value


def torch_error(fn):
    try:
        fn(torch, tud)
    except Exception as e:
        return type(e)
    raise AssertionError("torch accepted this input")


BAD_INPUTS = {
    "batch_size 0": (lambda lib, d: d.DataLoader(range(5), batch_size=0), "batch_size=0"),
    "batch_size -2": (lambda lib, d: d.DataLoader(range(5), batch_size=-2), "batch_size=-2"),
    "batch_size 2.0": (lambda lib, d: d.DataLoader(range(5), batch_size=2.0), "batch_size=2.0"),
    "shuffle with a sampler": (
        lambda lib, d: d.DataLoader(range(5), shuffle=True, sampler=[0, 1]),
        "shuffle=True",
    ),
    "batch_sampler with batch_size": (
        lambda lib, d: d.DataLoader(range(5), batch_size=2, batch_sampler=[[0]]),
        "batch_size=2",
    ),
    "batch_sampler with shuffle": (
        lambda lib, d: d.DataLoader(range(5), shuffle=True, batch_sampler=[[0]]),
        "shuffle=True",
    ),
    "batch_size None with drop_last": (
        lambda lib, d: d.DataLoader(range(5), batch_size=None, drop_last=True),
        "drop_last",
    ),
    "negative num_workers": (
        lambda lib, d: d.DataLoader(range(5), num_workers=-1),
        "num_workers=-1",
    ),
    "prefetch_factor without workers": (
        lambda lib, d: d.DataLoader(range(5), prefetch_factor=2),
        "prefetch_factor=2",
    ),
    "drop_last not a bool": (
        lambda lib, d: d.BatchSampler(range(3), 2, drop_last=1),
        "drop_last=1",
    ),
    "num_samples 0": (lambda lib, d: d.RandomSampler(range(3), num_samples=0), "num_samples=0"),
    "replacement not a bool": (
        lambda lib, d: d.RandomSampler(range(3), replacement=1),
        "replacement=1",
    ),
    "random_split lengths not summing": (
        lambda lib, d: d.random_split(range(10), [3, 3]),
        "[3, 3] sum to 6, but len(dataset) is 10",
    ),
    "random_split fractions not summing": (
        lambda lib, d: d.random_split(range(10), [0.5, 0.6]),
        "[0.5, 0.6]",
    ),
    "random_split negative fraction": (
        lambda lib, d: d.random_split(range(10), [-0.5, 1.5]),
        "-0.5",
    ),
    "ragged tensors": (
        lambda lib, d: d.default_collate([lib.zeros(2), lib.zeros(3)]),
        "[2] at entry 0 and [3] at entry 1",
    ),
    "ragged numpy arrays": (
        lambda lib, d: d.default_collate([np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((1, 2))]),
        "[[2, 2], [2, 2], [1, 2]]",
    ),
    "ragged lists": (
        lambda lib, d: d.default_collate([[1, 2], [1]]),
        "lengths [2, 1]",
    ),
    "uncollatable objects": (lambda lib, d: d.default_collate([object()]), "object"),
    "string numpy arrays": (
        lambda lib, d: d.default_collate([np.array(["a"]), np.array(["b"])]),
        "<U1",
    ),
    "tensors of different first sizes": (
        lambda lib, d: d.TensorDataset(lib.zeros(2), lib.zeros(3)),
        "[2, 3]",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_torchs_type_naming_the_value(case):
    fn, named = BAD_INPUTS[case]
    expected = torch_error(fn)
    with pytest.raises(expected) as info:
        fn(ac, acd)
    assert named in str(info.value), f"{case}: {info.value}"


def test_bad_collate_leaves_the_batch_untouched():
    batch = [ac.zeros(2), ac.zeros(3)]
    with pytest.raises(RuntimeError):
        acd.default_collate(batch)
    assert [tuple(t.shape) for t in batch] == [(2,), (3,)]


def test_collate_of_samples_that_require_grad_keeps_the_graph_like_torch():
    w = np.array([1.0, 2.0], np.float32)
    ours_w, torch_w = ac.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = acd.default_collate([ours_w * 2, ours_w * 3])
    theirs = tud.default_collate([torch_w * 2, torch_w * 3])
    assert ours.requires_grad and theirs.requires_grad
    ours.sum().backward()
    theirs.sum().backward()
    assert ours_w.grad.tolist() == torch_w.grad.tolist() == [5.0, 5.0]


def test_workers_with_an_empty_dataset_and_without_batching_match_torch():
    assert list(acd.DataLoader([], batch_size=3, num_workers=2)) == []
    assert list(tud.DataLoader([], batch_size=3)) == []
    samples = [(np.arange(2, dtype=np.float32) + i, i) for i in range(5)]
    ours = list(acd.DataLoader(SampleList(samples), batch_size=None, num_workers=2))
    theirs = list(tud.DataLoader(SampleList(samples), batch_size=None))
    for o, t in zip(ours, theirs, strict=True):
        assert_same_batch(o, t)


def test_a_failing_collate_fn_in_a_worker_reaches_the_main_thread():
    def collate(batch):
        if 6 in batch:
            raise TypeError(f"cannot collate {batch}")
        return batch

    loader = acd.DataLoader(range(10), batch_size=2, num_workers=2, collate_fn=collate)
    it = iter(loader)
    assert [next(it), next(it), next(it)] == [[0, 1], [2, 3], [4, 5]]  # the batches before it
    with pytest.raises(TypeError, match=r"cannot collate \[6, 7\]"):
        next(it)
    assert list(it) == [[8, 9]]  # as in torch, the epoch goes on after a failed batch


@pytest.mark.parametrize("num_workers", [0, 2])
def test_an_epoch_goes_on_after_a_failing_sample_like_torch(num_workers):
    def rest_after_error(loader):
        it, seen = iter(loader), []
        while True:
            try:
                seen.append(next(it).tolist())
            except KeyError:
                seen.append("KeyError")
            except StopIteration:
                return seen

    data = list(range(8))
    theirs = rest_after_error(tud.DataLoader(Broken(data), batch_size=2))
    assert theirs == [[0, 1], [2, 3], "KeyError", [6, 7]]
    assert rest_after_error(acd.DataLoader(Broken(data), 2, num_workers=num_workers)) == theirs
