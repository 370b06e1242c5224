"""Chapter 5's checkers: each passes a correct solution, and each hint fires on the wrong
answer that it names (shared list, lost last batch, floor len, cat instead of stack, float32
floats, untransposed tuples, one shuffle for all epochs, ignored generator, off-by-one windows,
unshifted targets, out-of-order or unbounded or swallowed-error prefetching)."""

from __future__ import annotations

import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import aigc_course as ac
from aigc_course.exercises import ExerciseError, ch05

# ------------------------------------------------------------------ 1. BatchSampler


class GoodBatchSampler:
    def __init__(self, sampler, batch_size, drop_last):
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class ClearedList(GoodBatchSampler):
    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch.clear()
        if batch and not self.drop_last:
            yield batch


class NoLastBatch(GoodBatchSampler):
    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []


class IgnoresDropLast(GoodBatchSampler):
    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


class EmptyLastBatch(GoodBatchSampler):
    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if not self.drop_last:
            yield batch


class Positions(GoodBatchSampler):
    def __iter__(self):
        yield from GoodBatchSampler(range(len(self.sampler)), self.batch_size, self.drop_last)


class FloorLen(GoodBatchSampler):
    def __len__(self):
        return len(self.sampler) // self.batch_size


class CeilLen(GoodBatchSampler):
    def __len__(self):
        return -(-len(self.sampler) // self.batch_size)


class TupleBatches(GoodBatchSampler):
    def __iter__(self):
        for b in super().__iter__():
            yield tuple(b)


class TodoBatchSampler:
    def __init__(self, sampler, batch_size, drop_last):
        pass

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


def test_batch_sampler_checker(capsys):
    ch05.check_batch_sampler(GoodBatchSampler)
    assert capsys.readouterr().out.startswith("✓")
    for wrong, hint in [
        (TodoBatchSampler, "not implemented yet"),
        (ClearedList, r"emptied or overwritten.*batch = \[\]"),
        (NoLastBatch, "last, shorter batch is missing"),
        (IgnoresDropLast, "must be dropped when drop_last=True"),
        (EmptyLastBatch, "empty batch at the end"),
        (Positions, "positions 0, 1, 2"),
        (FloorLen, r"ceil\(n / batch_size\)"),
        (CeilLen, "with drop_last the short batch is dropped"),
        (TupleBatches, "yields a tuple"),
    ]:
        with pytest.raises(ExerciseError, match=hint):
            ch05.check_batch_sampler(wrong)


# ------------------------------------------------------------------ 2. collate


def good_collate(batch):
    elem = batch[0]
    if isinstance(elem, ac.Tensor):
        return ac.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        return good_collate([ac.tensor(b) for b in batch])
    if isinstance(elem, float):
        return ac.tensor(list(batch), dtype=ac.float64)
    if isinstance(elem, int):
        return ac.tensor(list(batch))
    if isinstance(elem, dict):
        return {key: good_collate([d[key] for d in batch]) for key in elem}
    return [good_collate(list(column)) for column in zip(*batch)]


def float32_collate(batch):
    if isinstance(batch[0], float):
        return ac.tensor(list(batch))
    return _recurse(float32_collate, batch)


def cat_collate(batch):
    if isinstance(batch[0], ac.Tensor):
        return ac.cat(list(batch), 0)
    return _recurse(cat_collate, batch)


def untransposed_collate(batch):
    if isinstance(batch[0], (tuple, list)):
        return [list(sample) for sample in batch]
    return good_collate(batch)


def tuple_collate(batch):
    if isinstance(batch[0], (tuple, list)):
        return tuple(tuple_collate(list(column)) for column in zip(*batch))
    return _recurse(tuple_collate, batch)


def numpy_collate(batch):
    if isinstance(batch[0], np.ndarray):
        return np.stack(batch)
    return _recurse(numpy_collate, batch)


def float64_arrays_collate(batch):
    if isinstance(batch[0], np.ndarray):
        return ac.tensor(np.stack(batch).astype(np.float64))
    return _recurse(float64_arrays_collate, batch)


def _recurse(fn, batch):
    elem = batch[0]
    if isinstance(elem, dict):
        return {key: fn([d[key] for d in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        return [fn(list(column)) for column in zip(*batch)]
    return good_collate(batch)


def test_collate_checker(capsys):
    ch05.check_collate(good_collate)
    assert capsys.readouterr().out.startswith("✓")
    for wrong, hint in [
        (lambda batch: (_ for _ in ()).throw(NotImplementedError), "not implemented yet"),
        (float32_collate, "Python floats to float64"),
        (cat_collate, r"end to end \(cat\); stack"),
        (untransposed_collate, r"one per sample.*zip\(\*batch\)"),
        (tuple_collate, "is a tuple; expected a list"),
        (numpy_collate, "convert numpy arrays with aigc_course.tensor"),
        (float64_arrays_collate, "float32 arrays stay float32"),
    ]:
        with pytest.raises(ExerciseError, match=hint):
            ch05.check_collate(wrong)


# ------------------------------------------------------------------ 3. RandomSampler


class GoodRandomSampler:
    def __init__(self, data_source, generator=None):
        self.data_source, self.generator = data_source, generator

    def __iter__(self):
        yield from ac.randperm(len(self.data_source), generator=self.generator).tolist()

    def __len__(self):
        return len(self.data_source)


class ShuffledOnce(GoodRandomSampler):
    def __init__(self, data_source, generator=None):
        super().__init__(data_source, generator)
        self.order = ac.randperm(len(data_source), generator=generator).tolist()

    def __iter__(self):
        return iter(self.order)


class IgnoresGenerator(GoodRandomSampler):
    def __iter__(self):
        yield from ac.randperm(len(self.data_source)).tolist()


class FreshGenerator(GoodRandomSampler):
    def __iter__(self):
        g = self.generator or ac.Generator().manual_seed(
            int(np.random.SeedSequence().entropy % 2**31)
        )
        yield from ac.randperm(len(self.data_source), generator=g).tolist()


class WithReplacement(GoodRandomSampler):
    def __iter__(self):
        n = len(self.data_source)
        yield from ac.randint(0, n, (n,), generator=self.generator).tolist()


def test_random_sampler_checker(capsys):
    ac.manual_seed(42)
    expected_next = ac.rand(2).tolist()
    ac.manual_seed(42)
    ch05.check_random_sampler(GoodRandomSampler)
    assert capsys.readouterr().out.startswith("✓")
    assert ac.rand(2).tolist() == expected_next, "the checker must leave the global RNG alone"
    for wrong, hint in [
        (ShuffledOnce, "not once in __init__"),
        (IgnoresGenerator, "seeded alike give different orders"),
        (FreshGenerator, "does not follow aigc_course.manual_seed"),
        (WithReplacement, "repeats: randint"),
    ]:
        with pytest.raises(ExerciseError, match=hint):
            ch05.check_random_sampler(wrong)


def test_random_sampler_checker_spots_use_of_the_global_generator():
    class GlobalAndOwn(GoodRandomSampler):
        def __iter__(self):
            ac.rand(1)  # touches the global stream although it has its own generator
            yield from super().__iter__()

    with pytest.raises(ExerciseError, match="drew from the global generator"):
        ch05.check_random_sampler(GlobalAndOwn)


# ------------------------------------------------------------------ 4. text windows


class GoodWindows:
    def __init__(self, ids, block_size, stride):
        self.ids, self.T, self.stride = ac.tensor(ids), block_size, stride

    def __len__(self):
        return (len(self.ids) - self.T - 1) // self.stride + 1

    def __getitem__(self, i):
        s = i * self.stride
        return self.ids[s : s + self.T], self.ids[s + 1 : s + self.T + 1]


class OneTooMany(GoodWindows):
    def __len__(self):
        return (len(self.ids) - self.T) // self.stride + 1


class Unshifted(GoodWindows):
    def __getitem__(self, i):
        x, _ = super().__getitem__(i)
        return x, x


class IgnoresStride(GoodWindows):
    def __len__(self):
        return len(self.ids) - self.T

    def __getitem__(self, i):
        return self.ids[i : i + self.T], self.ids[i + 1 : i + self.T + 1]


class StrideInGetitemOnly(GoodWindows):
    def __getitem__(self, i):
        return self.ids[i : i + self.T], self.ids[i + 1 : i + self.T + 1]


class Int32Windows(GoodWindows):
    def __getitem__(self, i):
        return tuple(t.to(ac.int32) for t in super().__getitem__(i))


def test_text_windows_checker(capsys):
    ch05.check_text_windows(GoodWindows)
    assert capsys.readouterr().out.startswith("✓")
    for wrong, hint in [
        (OneTooMany, "one window too many"),
        (Unshifted, "shifted by one token"),
        (IgnoresStride, "divide by the stride"),
        (StrideInGetitemOnly, r"starts at i \* stride"),
        (Int32Windows, "must be int64"),
    ]:
        with pytest.raises(ExerciseError, match=hint):
            ch05.check_text_windows(wrong)


# ------------------------------------------------------------------ 5. prefetch_map


def good_prefetch_map(func, items, num_workers, max_ahead):
    tasks, results = [queue.Queue() for _ in range(num_workers)], queue.Queue()

    def work(q):
        while (task := q.get()) is not None:
            k, item = task
            try:
                results.put((k, func(item), None))
            except Exception as e:
                results.put((k, None, e))

    threads = [threading.Thread(target=work, args=(q,), daemon=True) for q in tasks]
    for t in threads:
        t.start()
    items = iter(enumerate(items))
    sent = 0

    def send():
        nonlocal sent
        task = next(items, None)
        if task is not None:
            tasks[sent % num_workers].put(task)
            sent += 1

    for _ in range(max_ahead):
        send()
    done, early = 0, {}
    try:
        while done < sent:
            while done not in early:
                k, value, error = results.get()
                early[k] = (value, error)
            value, error = early.pop(done)
            done += 1
            if error is not None:
                raise error
            send()
            yield value
    finally:
        for q in tasks:
            q.put(None)


def executor_map(func, items, num_workers, max_ahead):
    """Correct order, but submits everything at once: unbounded."""
    with ThreadPoolExecutor(num_workers) as pool:
        yield from pool.map(func, items)


def completion_order(func, items, num_workers, max_ahead):
    results = queue.Queue()
    items = list(items)
    with ThreadPoolExecutor(num_workers) as pool:
        for x in items:
            pool.submit(lambda x=x: results.put(func(x)))
        for _ in items:
            yield results.get()


def main_thread_map(func, items, num_workers, max_ahead):
    return iter([func(x) for x in items])


def one_at_a_time(func, items, num_workers, max_ahead):
    with ThreadPoolExecutor(1) as pool:
        for x in items:
            yield pool.submit(func, x).result()


def swallows_errors(func, items, num_workers, max_ahead):
    def safe(x):
        try:
            return func(x)
        except ValueError:
            return None

    yield from good_prefetch_map(safe, items, num_workers, max_ahead)


def dies_on_error(func, items, num_workers, max_ahead):
    def fragile(x):
        try:
            return func(x)
        except ValueError:
            raise SystemExit from None  # the worker thread just ends, reporting nothing

    yield from good_prefetch_map(fragile, items, num_workers, max_ahead)


def lingering_threads(func, items, num_workers, max_ahead):
    stop = threading.Event()
    threading.Thread(target=stop.wait, args=(5,), daemon=True).start()
    yield from good_prefetch_map(func, items, num_workers, max_ahead)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_prefetch_map_checker(capsys):
    ch05.check_prefetch_map(good_prefetch_map)
    assert capsys.readouterr().out.startswith("✓")
    for wrong, hint in [
        (completion_order, "order they finished"),
        (main_thread_map, "in the main thread"),
        (one_at_a_time, "never ran two calls at once"),
        (executor_map, "started 40 calls while only 1"),
        (swallows_errors, "swallowed the ValueError"),
        (dies_on_error, "still waiting after 5 s"),
        (lingering_threads, "still run after the last result"),
    ]:
        with pytest.raises(ExerciseError, match=hint):
            ch05.check_prefetch_map(wrong)
