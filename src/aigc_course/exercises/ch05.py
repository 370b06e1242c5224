r"""Checkers for chapter 5's exercises (data loading).

1. :func:`check_batch_sampler`: a ``BatchSampler`` (``__iter__`` and ``__len__``).
2. :func:`check_collate`: a ``collate`` for tensors, numpy arrays, numbers, tuples and dicts.
3. :func:`check_random_sampler`: a ``RandomSampler`` that reshuffles every epoch and honours a
   ``generator``.
4. :func:`check_text_windows`: a sliding-window language-model dataset.
5. :func:`check_prefetch_map`: an in-order, bounded, threaded prefetcher (the heart of
   ``DataLoader(num_workers > 0)``).

Each runs your code on several inputs, compares it with torch (or with a rule torch
guarantees), and prints one ``✓`` line or raises :class:`~aigc_course.exercises.ExerciseError`
naming the likely mistake. See chapter 5.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from .. import random as _random
from .._tensor import Tensor
from ._checking import ExerciseError, Protocol, passed, run_learner, uses

__all__ = [
    "check_batch_sampler",
    "check_collate",
    "check_prefetch_map",
    "check_random_sampler",
    "check_text_windows",
]


def _torch():
    import torch

    return torch


def _drain(iterable, what: str) -> list:
    """Iterate the learner's object into a list, turning its failures into feedback."""
    return run_learner(lambda: list(iterable), what=what)


# ------------------------------------------------------------------ 1. BatchSampler


def _batch_sampler_inputs(seed: int) -> list:
    """(sampler, batch_size, drop_last) cases: for n = 0..9, indices in an order drawn from
    ``seed`` (never 0, 1, 2, ...), five batch sizes, with and without drop_last."""
    rng = np.random.default_rng(seed)
    cases = []
    for n in range(0, 10):
        sampler = [int(i) for i in rng.permutation(n)]
        if n > 1 and sampler == list(range(n)):
            sampler.reverse()
        cases += [[sampler, b, d] for b in (1, 2, 3, 4, 12) for d in (False, True)]
    return cases


def _batch_sampler_run(cases: list, cls) -> list[dict]:
    """The kernel's half: for each case, the batches the learner's sampler yields, whether a
    yielded list was reused, and its len; a failure is recorded and ends the run."""
    records = []
    for sampler, batch_size, drop_last in cases:
        name = f"your BatchSampler({sampler}, batch_size={batch_size}, drop_last={drop_last})"
        record: dict = {}
        records.append(record)
        try:
            ours = run_learner(cls, sampler, batch_size, drop_last, what=name)
            got = _drain(ours, f"iterating {name}")
            record["got"] = got
            record["reused"] = len({id(b) for b in got}) < len(got)
            record["len"] = run_learner(len, ours, what=f"len({name})")
        except ExerciseError as e:
            record["error"] = str(e)
            break
    return records


def _recorded(record, key: str):
    """A field of the kernel's record, or the learner's failure recorded in its place."""
    if not isinstance(record, dict):
        raise ExerciseError("the protocol's record of a case did not come back as a dict")
    if key in record:
        return record[key]
    raise ExerciseError(str(record.get("error") or f"no {key!r} came back for this case"))


def _batch_sampler_judge(cases: list, records) -> str:
    tud = _torch().utils.data
    what = "your BatchSampler"
    if not isinstance(records, list):
        raise ExerciseError("the protocol's records did not come back as a list")
    for k, (sampler, batch_size, drop_last) in enumerate(cases):
        record = records[k] if k < len(records) else {"error": "the run stopped early"}
        n = len(sampler)
        name = f"{what}({sampler}, batch_size={batch_size}, drop_last={drop_last})"
        got = _recorded(record, "got")
        expected = list(tud.BatchSampler(sampler, batch_size, drop_last))
        _compare_batches(
            got, expected, name, sampler, batch_size, drop_last, bool(record.get("reused"))
        )
        length = _recorded(record, "len")
        if length != len(expected):
            hint = ""
            if not drop_last and length == n // batch_size:
                hint = (
                    ": without drop_last the short last batch counts too, "
                    "ceil(n / batch_size) = (n + batch_size - 1) // batch_size"
                )
            elif drop_last and length == -(-n // batch_size):
                hint = ": with drop_last the short batch is dropped, n // batch_size"
            raise ExerciseError(f"len({name}) is {length}; expected {len(expected)}{hint}")
    return f"your BatchSampler gives torch's batches and len() in all {len(cases)} cases"


#: The protocol: 100 (sampler, batch_size, drop_last) cases in; the batches and len() out;
#: compared with ``torch.utils.data.BatchSampler`` in the judge.
BATCH_SAMPLER_PROTOCOL = Protocol(_batch_sampler_inputs, _batch_sampler_run, _batch_sampler_judge)


@uses(BATCH_SAMPLER_PROTOCOL)
def check_batch_sampler(cls) -> None:
    """``cls(sampler, batch_size, drop_last)``: yields lists of ``batch_size`` indices taken from
    ``sampler`` in order (the last shorter, unless ``drop_last``); ``len`` counts the batches."""
    BATCH_SAMPLER_PROTOCOL.check(cls)


def _compare_batches(got, expected, name, sampler, batch_size, drop_last, reused) -> None:
    if got == expected:
        return
    emptied = len(got) == len(expected) and any(b == [] for b in got)
    if reused or emptied:
        raise ExerciseError(
            f"{name} gives {got}: a list was emptied or overwritten after it was yielded "
            "(the consumer still holds it); start a new list after each yield (batch = []), "
            "not batch.clear()"
        )
    if any(not isinstance(b, list) for b in got):
        kind = next(type(b).__name__ for b in got if not isinstance(b, list))
        raise ExerciseError(f"{name} yields a {kind}; each batch should be a list of indices")
    tud = _torch().utils.data
    if got == list(tud.BatchSampler(sampler, batch_size, not drop_last)):
        hint = (
            "the last, shorter batch must be dropped when drop_last=True"
            if drop_last
            else "the last, shorter batch is missing: after the loop, yield what is left "
            "unless drop_last"
        )
        raise ExerciseError(f"{name} gives {got}; expected {expected}: {hint}")
    flat = [i for b in got for i in b]
    if (
        len(flat) > 1
        and flat == list(range(len(flat)))
        and flat != [i for b in expected for i in b]
    ):
        raise ExerciseError(
            f"{name} yields positions 0, 1, 2, ... instead of the sampler's indices "
            f"{sampler}: iterate over the sampler itself"
        )
    if got and got[-1] == [] and got[:-1] == expected:
        raise ExerciseError(
            f"{name} yields an empty batch at the end: yield the leftover only if it is non-empty"
        )
    raise ExerciseError(f"{name} gives {got}; expected {expected}")


# ------------------------------------------------------------------ 2. collate


def _collate_cases(lib):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4, 3)).astype(np.float32)
    return [
        (
            "4 samples (Tensor of shape (3,), int label)",
            [(lib.tensor(v), i % 2) for i, v in enumerate(vectors)],
        ),
        ("3 Python floats", [0.5, 1.5, 2.5]),
        (
            "2 numpy float32 arrays of shape (2, 2)",
            [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
        ),
        (
            "3 dicts {'x': Tensor, 'y': float}",
            [{"x": lib.tensor(v), "y": float(i)} for i, v in enumerate(vectors[:3])],
        ),
        (
            "2 nested samples ({'ids': int array}, [int, float])",
            [({"ids": np.arange(3) + i}, [i, i / 2]) for i in range(2)],
        ),
    ]


def check_collate(fn) -> None:
    """``fn(batch: list) -> batch`` must agree with ``torch.utils.data.default_collate`` on
    tensors, numpy arrays, Python numbers, tuples, lists and dicts, nested."""
    import aigc_course

    torch = _torch()
    what = "your collate"
    for (name, ours_in), (_, torch_in) in zip(
        _collate_cases(aigc_course), _collate_cases(torch), strict=True
    ):
        got = run_learner(fn, ours_in, what=f"{what} on {name}")
        expected = torch.utils.data.default_collate(torch_in)
        _compare_structure(got, expected, f"{what} on {name}", path="the batch", batch=ours_in)
    passed("your collate agrees with torch's default_collate on 5 kinds of batch")


def _compare_structure(got, expected, what: str, path: str, batch) -> None:
    torch = _torch()
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, Tensor):
            hint = (
                " (convert numpy arrays with aigc_course.tensor, which keeps their dtype)"
                if isinstance(got, (np.ndarray, list, tuple)) and _has_numpy(got)
                else ""
            )
            raise ExerciseError(
                f"{what}: {path} is a {type(got).__name__}; expected a Tensor of shape "
                f"{tuple(expected.shape)}{hint}"
            )
        if tuple(got.shape) != tuple(expected.shape):
            hint = ""
            if got.numel() == expected.numel() and got.ndim == expected.ndim - 1:
                hint = (
                    ": you joined the samples end to end (cat); stack them along a new first "
                    "dimension (aigc_course.stack(samples, 0))"
                )
            raise ExerciseError(
                f"{what}: {path} has shape {tuple(got.shape)}; expected "
                f"{tuple(expected.shape)}{hint}"
            )
        expected_dtype = str(expected.dtype).removeprefix("torch.")
        if got.dtype.name != expected_dtype:
            hint = ""
            if expected_dtype == "float64" and got.dtype.name == "float32":
                hint = (
                    ": torch collates Python floats to float64 "
                    "(torch.tensor(batch, dtype=torch.float64)), not the default float32"
                )
            elif expected_dtype == "float32" and got.dtype.name == "float64":
                hint = ": keep the dtype of the samples (float32 arrays stay float32)"
            raise ExerciseError(
                f"{what}: {path} has dtype {got.dtype.name}; expected {expected_dtype}{hint}"
            )
        if not np.array_equal(got.numpy(), expected.numpy()):
            raise ExerciseError(
                f"{what}: {path} holds {got.tolist()}; expected {expected.tolist()}"
            )
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict) or list(got) != list(expected):
            raise ExerciseError(
                f"{what}: {path} should be a dict with keys {list(expected)}, one collated "
                f"value per key; got {type(got).__name__}"
                + (f" with keys {list(got)}" if isinstance(got, dict) else "")
            )
        for key in expected:
            _compare_structure(got[key], expected[key], what, f"{path}[{key!r}]", batch)
        return
    if isinstance(expected, list):
        if isinstance(got, (list, tuple)) and len(got) == len(batch) != len(expected):
            raise ExerciseError(
                f"{what}: {path} has {len(got)} entries, one per sample; expected "
                f"{len(expected)}, one per field: transpose first, zip(*batch) groups the "
                "j-th field of every sample"
            )
        if not isinstance(got, list):
            raise ExerciseError(
                f"{what}: {path} is a {type(got).__name__}; expected a list of "
                f"{len(expected)} (torch turns tuple and list samples into a list, one entry "
                "per field)"
            )
        if len(got) != len(expected):
            raise ExerciseError(f"{what}: {path} has {len(got)} entries; expected {len(expected)}")
        for j, (g, e) in enumerate(zip(got, expected, strict=True)):
            _compare_structure(g, e, what, f"{path}[{j}]", batch)
        return
    if got != expected:
        raise ExerciseError(f"{what}: {path} is {got!r}; expected {expected!r}")


def _has_numpy(x) -> bool:
    if isinstance(x, np.ndarray):
        return True
    return isinstance(x, (list, tuple)) and any(_has_numpy(v) for v in x)


# ------------------------------------------------------------------ 3. RandomSampler


class _KeepGlobalRng:
    """The checker seeds aigc_course's global generator; put the learner's stream back after."""

    def __enter__(self):
        self.saved = _random._rng

    def __exit__(self, *exc):
        _random._rng = self.saved


def _random_sampler_inputs(seed: int) -> dict:
    """The generators' seeds the protocol uses (drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    return {
        name: int(rng.integers(0, 2**31)) for name in ("small", "epochs", "same", "own", "glob")
    }


def _random_sampler_run(seeds: dict, cls) -> dict:
    """The kernel's half: what the learner's sampler yields in each situation of the protocol
    (orders and lengths; the global stream's next number, untouched and after sampling)."""
    import aigc_course as ac

    what = "your RandomSampler"
    out: dict = {}
    try:
        with _KeepGlobalRng():
            small = out["small"] = []
            for k, n in enumerate((1, 5, 20)):
                g = ac.Generator().manual_seed(seeds["small"] + k)
                sampler = run_learner(cls, range(n), g, what=f"{what}(range({n}), generator)")
                order = _drain(sampler, f"iterating {what}(range({n}))")
                small.append({"n": n, "order": order})
                small[-1]["len"] = run_learner(len, sampler, what=f"len({what})")
            g = ac.Generator().manual_seed(seeds["epochs"])
            sampler = run_learner(cls, range(20), g, what=what)
            out["epochs"] = [_drain(sampler, what), _drain(sampler, what)]
            out["same"] = [
                _drain(
                    run_learner(
                        cls, range(20), ac.Generator().manual_seed(seeds["same"]), what=what
                    ),
                    what,
                )
                for _ in range(2)
            ]
            ac.manual_seed(seeds["glob"])
            untouched = ac.rand(1).item()  # the global stream's next number
            ac.manual_seed(seeds["glob"])
            g = ac.Generator().manual_seed(seeds["own"])
            _drain(run_learner(cls, range(20), g, what=what), what)
            out["own"] = [untouched, ac.rand(1).item()]
            out["global"] = []
            for _ in range(2):
                ac.manual_seed(seeds["glob"])
                out["global"].append(
                    _drain(run_learner(cls, range(20), None, what=f"{what}(range(20), None)"), what)
                )
    except ExerciseError as e:
        out["error"] = str(e)
    return out


def _random_sampler_judge(seeds: dict, out) -> str:
    what = "your RandomSampler"
    if not isinstance(out, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    small = _recorded(out, "small")
    for k, n in enumerate((1, 5, 20)):
        record = small[k] if isinstance(small, list) and k < len(small) else {}
        order = _recorded({**record, "error": out.get("error")}, "order")
        try:
            wrong = sorted(order) != list(range(n))
            repeats = len(set(order)) < len(order)
        except TypeError:
            raise ExerciseError(
                f"{what}(range({n})) yields {order!r}; expected a permutation of 0..{n - 1}"
            ) from None
        if wrong:
            hint = " (repeats: randint draws with replacement; use randperm)" if repeats else ""
            raise ExerciseError(
                f"{what}(range({n})) yields {order}; expected a permutation of "
                f"0..{n - 1}, each index once{hint}"
            )
        if _recorded({**record, "error": out.get("error")}, "len") != n:
            raise ExerciseError(f"len({what}(range({n}))) should be {n}")
    first, second = _pair(out, "epochs")
    if first == second:
        raise ExerciseError(
            f"{what} gives the same order in two epochs: draw the permutation in "
            "__iter__, not once in __init__, so that each epoch reshuffles"
        )
    a, b = _pair(out, "same")
    if a != b:
        raise ExerciseError(
            f"two {what}s with generators seeded alike give different orders: draw from "
            "the generator (randperm(n, generator=self.generator))"
        )
    untouched, after = _pair(out, "own")
    if after != untouched:
        raise ExerciseError(
            f"{what} drew from the global generator although it was given its own: "
            "pass generator=self.generator"
        )
    a, b = _pair(out, "global")
    if a != b:
        raise ExerciseError(
            f"with generator=None, {what} does not follow aigc_course.manual_seed: draw "
            "from the global generator (generator=None), not from a fresh unseeded one"
        )
    return (
        "your RandomSampler reshuffles every epoch, repeats with a seed, and leaves the "
        "global generator alone when it has its own"
    )


def _pair(out: dict, key: str) -> tuple:
    value = _recorded(out, key)
    if isinstance(value, list) and len(value) < 2 and "error" in out:
        raise ExerciseError(str(out["error"]))
    if not (isinstance(value, list) and len(value) == 2):
        raise ExerciseError(f"the protocol's {key!r} did not come back as a pair")
    return value[0], value[1]


#: The protocol: generator seeds in; the orders the learner's sampler yields in each situation
#: out; the properties (a permutation, a reshuffle per epoch, reproducible with a seed, the
#: global stream left alone) judged in the judge.
RANDOM_SAMPLER_PROTOCOL = Protocol(
    _random_sampler_inputs, _random_sampler_run, _random_sampler_judge
)


@uses(RANDOM_SAMPLER_PROTOCOL)
def check_random_sampler(cls) -> None:
    """``cls(data_source, generator=None)``: each ``iter`` is a fresh permutation of
    ``range(len(data_source))``, drawn from ``generator``, or from the global generator when it
    is ``None``; ``len`` is ``len(data_source)``."""
    RANDOM_SAMPLER_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 4. sliding windows


TEXT_WINDOW_CASES = ((4, 4), (4, 1), (3, 5), (22, 1), (1, 2))  # (block_size, stride)


def _text_windows_inputs(seed: int) -> list[int]:
    """23 token ids drawn from ``seed``."""
    return [int(i) for i in np.random.default_rng(seed).integers(0, 256, 23)]


def _text_windows_run(ids: list[int], cls) -> list[dict]:
    """The kernel's half: for each (block_size, stride), the dataset's len and every sample
    (as plain data: Tensors cross as arrays, with their dtype); a failure ends the run."""
    records = []
    for block_size, stride in TEXT_WINDOW_CASES:
        name = (
            f"your text-window dataset(ids of length {len(ids)}, block_size={block_size}, "
            f"stride={stride})"
        )
        record: dict = {}
        records.append(record)
        try:
            ds = run_learner(cls, list(ids), block_size, stride, what=name)
            record["len"] = n = run_learner(len, ds, what=f"len({name})")
            record["samples"] = samples = []
            for i in range(n if isinstance(n, int) and 0 <= n <= 10 * len(ids) else 0):
                samples.append(run_learner(ds.__getitem__, i, what=f"{name}[{i}]"))
        except ExerciseError as e:
            record["error"] = str(e)
            break
    return records


def _text_windows_judge(ids: list[int], records) -> str:
    torch = _torch()
    what = "your text-window dataset"
    ids = np.array(ids)
    if not isinstance(records, list):
        raise ExerciseError("the protocol's records did not come back as a list")
    cases = 0
    for k, (block_size, stride) in enumerate(TEXT_WINDOW_CASES):
        record = records[k] if k < len(records) else {"error": "the run stopped early"}
        name = f"{what}(ids of length {len(ids)}, block_size={block_size}, stride={stride})"
        windows = torch.tensor(ids).unfold(0, block_size + 1, stride)  # (n, T + 1)
        n = _recorded(record, "len")
        if n != windows.shape[0]:
            hint = ""
            if n == windows.shape[0] + 1:
                hint = (
                    ": one window too many; the last window needs block_size + 1 ids "
                    "(its last input still needs a next token)"
                )
            elif n == len(ids) - block_size and stride > 1:
                hint = ": windows start every `stride` ids, so divide by the stride"
            raise ExerciseError(f"len({name}) is {n}; expected {windows.shape[0]}{hint}")
        samples = record.get("samples")
        samples = samples if isinstance(samples, list) else []
        for i in range(n):
            if i >= len(samples):
                _recorded(record, "error")  # the learner's failure at this sample
            sample = samples[i]
            if not (isinstance(sample, tuple) and len(sample) == 2):
                raise ExerciseError(f"{name}[{i}] should be a tuple (x, y)")
            x, y = sample
            for label, got, exp in (("x", x, windows[i, :-1]), ("y", y, windows[i, 1:])):
                if not isinstance(got, Tensor):
                    raise ExerciseError(
                        f"{name}[{i}]'s {label} is a {type(got).__name__}; "
                        "expected an aigc_course Tensor"
                    )
                if got.dtype.name != "int64":
                    raise ExerciseError(
                        f"{name}[{i}]'s {label} has dtype {got.dtype.name}; token ids must be "
                        "int64 (what cross_entropy takes as targets)"
                    )
                if got.tolist() != exp.tolist():
                    hint = ""
                    if label == "y" and got.tolist() == windows[i, :-1].tolist():
                        hint = ": y must be x shifted by one token, ids[s + 1 : s + T + 1]"
                    elif (
                        stride > 1
                        and got.tolist()
                        == torch.tensor(ids)[
                            i + (label == "y") : i + (label == "y") + block_size
                        ].tolist()
                    ):
                        hint = ": window i starts at i * stride, not at i"
                    raise ExerciseError(
                        f"{name}[{i}]'s {label} is {got.tolist()}; expected {exp.tolist()}{hint}"
                    )
        cases += 1
    return f"your windows equal torch's unfold for {cases} (block_size, stride) pairs"


#: The protocol: token ids in; each dataset's len and samples out; compared with torch's
#: ``unfold`` in the judge.
TEXT_WINDOWS_PROTOCOL = Protocol(_text_windows_inputs, _text_windows_run, _text_windows_judge)


@uses(TEXT_WINDOWS_PROTOCOL)
def check_text_windows(cls) -> None:
    """``cls(ids, block_size, stride)``: ``len`` windows; ``ds[i] == (x, y)``, int64 Tensors of
    shape ``(block_size,)`` starting at ``i * stride``, ``y`` being ``x`` shifted by one;
    checked against ``torch.Tensor.unfold``."""
    TEXT_WINDOWS_PROTOCOL.check(cls)


# ------------------------------------------------------------------ 5. prefetching map


class _Probe:
    """A function to prefetch that records which threads ran it and how many ran at once."""

    def __init__(self, delay):
        self.delay = delay
        self.lock = threading.Lock()
        self.running = self.peak = self.started = 0
        self.threads: set[str] = set()

    def __call__(self, x):
        with self.lock:
            self.running += 1
            self.started += 1
            self.peak = max(self.peak, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.delay(x))
        with self.lock:
            self.running -= 1
        if x == "boom":
            raise ValueError("item 'boom' is broken")
        return (x, x * x)


def _within(seconds: float, fn, what: str):
    """Run ``fn()`` in a helper thread; a learner's deadlock becomes feedback, not a hang."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as e:
            result["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise ExerciseError(
            f"{what} is still waiting after {seconds:g} s: a result never arrived (did a worker "
            "die with an exception, or stop before the work was done?)"
        )
    if "error" in result:
        raise result["error"]
    return result["value"]


def _prefetch_inputs(seed: int) -> dict:
    """The items and settings. A notebook (seed 0) uses 0..11 with 3 workers running 6 ahead,
    then 40 items with 2 workers running 4 ahead; the grader draws other items and settings."""
    if seed == 0:
        return {"items": list(range(12)), "workers": 3, "ahead": 6,
                "bounded": [40, 2, 4], "boom": [1, "boom", 3]}
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 15))
    workers = int(rng.integers(2, 5))
    b_workers = int(rng.integers(2, 4))
    return {
        "items": [int(x) for x in rng.choice(1000, size=n, replace=False)],
        "workers": workers,
        "ahead": workers + int(rng.integers(1, 4)),
        "bounded": [int(rng.integers(30, 50)), b_workers, b_workers + int(rng.integers(1, 3))],
        "boom": [int(rng.integers(1000)), "boom", int(rng.integers(1000))],
    }


def _prefetch_run(data: dict, fn) -> dict:
    """The kernel's half: run the learner's ``prefetch_map`` on a probe that records which
    threads ran it and how many calls ran at once, and report what was seen as plain data; a
    failure (a raise, a hang) is recorded and ends the run."""
    what = "your prefetch_map"
    record: dict = {}
    try:
        before = threading.active_count()
        items = data["items"]
        # early items are slowest, so later ones finish first: only a reorder buffer keeps order
        delays = {x: 0.004 * (len(items) - k) for k, x in enumerate(items)}
        probe = _Probe(lambda x: delays[x])
        out = run_learner(fn, probe, items, data["workers"], data["ahead"], what=what)
        record["got"] = _within(5, lambda: _drain(out, f"iterating {what}"), f"iterating {what}")
        record["background"] = not probe.threads <= {"MainThread"}
        record["peak"] = probe.peak
        # bounded: take one result, wait, and count the calls that started meanwhile
        n, workers, ahead = data["bounded"]
        probe = _Probe(lambda x: 0.0)
        out = run_learner(fn, probe, list(range(n)), workers, ahead, what=what)
        record["returned"] = type(out).__name__
        if not isinstance(out, Iterator):
            return record
        _within(5, lambda: run_learner(next, out, what=f"next({what}(...))"), what)
        deadline = time.monotonic() + 2  # give the workers time, even on a busy machine
        while probe.started < ahead and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # and the chance to overshoot
        record["started"] = probe.started
        _within(5, lambda: _drain(out, what), what)
        record["empty"] = _within(
            5, lambda: run_learner(lambda: list(fn(probe, [], 2, 4)), what=what), what
        )
        try:
            _within(5, lambda: list(fn(_Probe(lambda x: 0.0), data["boom"], 2, 4)), what)
            record["boom"] = "swallowed"
        except ValueError:
            record["boom"] = "ValueError"
        except ExerciseError:
            raise
        except Exception as e:
            record["boom"] = type(e).__name__
        for _ in range(200):  # the threads should end once the work is done
            if threading.active_count() <= before:
                break
            time.sleep(0.01)
        record["threads_left"] = max(0, threading.active_count() - before)
    except ExerciseError as e:
        record["error"] = str(e)
    return record


def _prefetch_judge(data: dict, record) -> str:
    """The judge's half: the order and values against the items' own squares, then what the
    kernel saw of threads, bounds, the empty list and the error, with the hints."""
    what = "your prefetch_map"
    if not isinstance(record, dict):
        raise ExerciseError("the protocol's record did not come back as a dict")
    got = _recorded(record, "got")
    expected = [(x, x * x) for x in data["items"]]
    if got != expected:
        hint = ""
        if isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, expected)):
            hint = (
                ": the results come in the order they finished; keep early arrivals in a "
                "dict keyed by position and yield position k only after k - 1"
            )
        raise ExerciseError(f"{what} gives {got}; expected {expected}{hint}")
    if _recorded(record, "background") is not True:
        raise ExerciseError(
            f"{what} ran every call in the main thread: nothing was computed in the background"
        )
    peak = _recorded(record, "peak")
    if not isinstance(peak, int) or peak < 2:
        raise ExerciseError(
            f"{what} with num_workers={data['workers']} never ran two calls at once: send work "
            "to all the workers before waiting for a result"
        )
    returned = _recorded(record, "returned")
    if "started" not in record and "error" not in record:
        raise ExerciseError(
            f"{what} returned a {returned}, computed all at once; return an iterator "
            "(a generator) that yields results as the consumer asks"
        )
    started, ahead = _recorded(record, "started"), data["bounded"][2]
    if not isinstance(started, int) or started > 1 + ahead:
        raise ExerciseError(
            f"{what}(..., max_ahead={ahead}) started {started} calls while only 1 result was "
            "taken: keep at most max_ahead calls beyond what the consumer took (the loader's "
            "prefetch_factor * num_workers)"
        )
    if started < ahead:
        raise ExerciseError(
            f"{what}(..., max_ahead={ahead}) started only {started} calls while the consumer "
            "waited: keep max_ahead calls in flight so that the next results are ready early"
        )
    if _recorded(record, "empty") != []:
        raise ExerciseError(f"{what} on an empty list should yield nothing")
    boom = _recorded(record, "boom")
    if boom == "swallowed":
        raise ExerciseError(
            f"{what} swallowed the ValueError that func raised on one item: hand the worker's "
            "exception to the consumer and re-raise it there"
        )
    if boom != "ValueError":
        raise ExerciseError(
            f"{what} raised {boom} when func raised ValueError: hand the worker's "
            "exception to the consumer and re-raise it there, unchanged"
        )
    left = _recorded(record, "threads_left")
    if not isinstance(left, int) or left > 0:
        raise ExerciseError(
            f"{left} of {what}'s threads still run after the last "
            "result: tell them to stop (e.g. put a None sentinel on their queue)"
        )
    return "your prefetch_map yields in order, runs ahead in threads by at most max_ahead"


#: The protocol: items and settings in (drawn from the seed); what the learner's iterator gave,
#: and what the probe saw of its threads, out; judged against the items' squares.
PREFETCH_PROTOCOL = Protocol(_prefetch_inputs, _prefetch_run, _prefetch_judge)


@uses(PREFETCH_PROTOCOL)
def check_prefetch_map(fn) -> None:
    """``fn(func, items, num_workers, max_ahead)`` returns an iterator of ``func(item)`` for each
    item, *in order*, computed in ``num_workers`` background threads, with at most
    ``max_ahead`` calls started beyond the results already taken; a ``func`` error is
    re-raised by the iterator."""
    PREFETCH_PROTOCOL.check(fn)
