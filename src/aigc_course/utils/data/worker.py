r"""Background workers for ``DataLoader(num_workers > 0)``: **threads** here, processes in torch.

The protocol is torch's (``torch/utils/data/dataloader.py``, ``_MultiProcessingDataLoaderIter``):

- the main side sends ``(batch number, indices)`` to the workers round robin, each worker
  having its own index queue, and keeps ``prefetch_factor * num_workers`` batches in flight;
- each worker fetches and collates its batch and puts ``(batch number, batch)`` on one shared
  result queue;
- batches finish out of order, so the main side parks early arrivals in a reorder buffer and
  yields batch ``k`` only after ``k - 1``: the order is exactly that of ``num_workers=0``.

Why torch uses processes: CPython's global interpreter lock (GIL) lets only one thread run
Python bytecode at a time, so threads running Python-heavy ``__getitem__`` code (decoding
images, tokenising text, augmentations) would take turns instead of running in parallel.
Processes each have their own interpreter and GIL, at a price: the dataset and every batch
are pickled across process boundaries (or shared through shared memory), start-up is slow,
and everything the dataset holds must be picklable.

Why ours are threads: our data sits in numpy arrays, numpy releases the GIL inside its
kernels, and waiting for a disk or the network releases it too; those are what a background
loader overlaps with training. Threads also work with datasets defined in a notebook on every
operating system (processes started by "spawn", the default on macOS and Windows, must
re-import them) and need no pickling. Pure-Python work is *not* sped up: chapter 5 measures
both cases.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

__all__ = ["WorkerInfo", "get_worker_info"]

_local = threading.local()


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (torch's ``torch.utils.data.get_worker_info()``)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker, its :class:`WorkerInfo`; in the main thread, ``None``.

    Use ``seed`` (the epoch's base seed + worker id, as in torch) to seed a per-worker random
    generator for augmentations."""
    return getattr(_local, "info", None)


def _fetch(dataset, index, auto_collation: bool, collate_fn):
    """One batch: the samples at ``index`` (a list of indices), collated; or one sample."""
    if not auto_collation:
        return collate_fn(dataset[index])
    if callable(getattr(dataset, "__getitems__", None)):  # a dataset that fetches a batch at once
        samples = dataset.__getitems__(index)
    else:
        samples = [dataset[i] for i in index]
    return collate_fn(samples)


_DONE = object()  # the sampler is exhausted


class _Failure:
    """An exception raised in a worker, carried to the main thread and re-raised there."""

    def __init__(self, exc: BaseException, worker_id: int):
        exc.add_note(f"(raised in DataLoader worker thread {worker_id})")
        self.exc = exc


def _worker_loop(loader, index_queue, result_queue, info: WorkerInfo) -> None:
    _local.info = info
    while True:
        task = index_queue.get()
        if task is None:  # the main side says: stop
            return
        batch_number, index = task
        try:
            data = _fetch(loader.dataset, index, loader._auto_collation, loader.collate_fn)
        except Exception as e:
            data = _Failure(e, info.id)
        result_queue.put((batch_number, data))


class _ThreadedIter:
    """One epoch of ``DataLoader(num_workers > 0)``: see the module docstring."""

    def __init__(self, loader, indices, seed: int):
        self._indices = indices
        self._num_workers = loader.num_workers
        self._index_queues = [queue.Queue() for _ in range(self._num_workers)]
        self._result_queue = queue.Queue()
        self._workers = []
        for worker_id in range(self._num_workers):
            info = WorkerInfo(worker_id, self._num_workers, seed + worker_id, loader.dataset)
            thread = threading.Thread(
                target=_worker_loop,
                args=(loader, self._index_queues[worker_id], self._result_queue, info),
                name=f"DataLoader worker {worker_id}",
                daemon=True,  # never keeps Python alive at exit
            )
            thread.start()
            self._workers.append(thread)
        self._sent = 0  # batches handed to workers
        self._received = 0  # batches yielded
        self._reorder: dict[int, object] = {}  # batches that arrived early
        self._shut_down = False
        for _ in range(loader.prefetch_factor * self._num_workers):
            self._send_next()

    def _send_next(self) -> None:
        index = next(self._indices, _DONE)
        if index is _DONE:
            return
        self._index_queues[self._sent % self._num_workers].put((self._sent, index))
        self._sent += 1

    def __iter__(self):
        return self

    def __next__(self):
        if self._received == self._sent:  # everything sent was yielded: the epoch is over
            self._shutdown()
            raise StopIteration
        while self._received not in self._reorder:
            batch_number, data = self._result_queue.get()
            self._reorder[batch_number] = data
        data = self._reorder.pop(self._received)
        self._received += 1
        self._send_next()  # keep the pipeline full
        if isinstance(data, _Failure):
            raise data.exc  # as in torch, the epoch may go on after the caller handles it
        return data

    def _shutdown(self) -> None:
        if not self._shut_down:
            self._shut_down = True
            for q in self._index_queues:
                q.put(None)

    def __del__(self):  # an epoch abandoned with `break`: let the threads finish
        self._shutdown()
