"""TextWindowDataset against torch: ``Tensor.unfold(0, T + 1, stride)`` lists the same windows,
and torch's DataLoader over them gives the same batches as ours over the dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import aigc_course as ac
from aigc_course.datasets import TextWindowDataset
from aigc_course.tokenizers.corpus import python_docs_text
from aigc_course.utils.data import DataLoader


def torch_windows(ids, block_size, stride):
    windows = torch.tensor(ids).unfold(0, block_size + 1, stride)  # (n, T + 1)
    return windows[:, :-1], windows[:, 1:]


@pytest.mark.parametrize("n", [5, 6, 17, 40])
@pytest.mark.parametrize("block_size", [1, 4, 5])
@pytest.mark.parametrize("stride", [None, 1, 3])
def test_windows_equal_torch_unfold(n, block_size, stride):
    ids = np.random.default_rng(n).integers(0, 256, n)
    if n < block_size + 1:
        return
    ds = TextWindowDataset(ids, block_size, stride)
    x_t, y_t = torch_windows(ids, block_size, stride or block_size)
    assert len(ds) == x_t.shape[0]
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == y.dtype == ac.int64 and tuple(x.shape) == (block_size,)
        assert x.tolist() == x_t[i].tolist() and y.tolist() == y_t[i].tolist()
    assert ds[-1][1].tolist() == y_t[-1].tolist()


def test_targets_are_the_next_tokens_of_the_text():
    text = python_docs_text()[:2000].encode("utf-8")
    ds = TextWindowDataset(list(text), block_size=16, stride=16)
    x, y = ds[3]
    assert bytes(x.tolist()) == text[48:64] and bytes(y.tolist()) == text[49:65]
    # every byte after the first is a target exactly once, up to the last full window
    targets = [t for i in range(len(ds)) for t in ds[i][1].tolist()]
    assert bytes(targets) == text[1 : 1 + 16 * len(ds)]


def test_loader_batches_equal_torch():
    ids = list(python_docs_text()[:3000].encode("utf-8"))
    ds = TextWindowDataset(ids, block_size=32, stride=8)
    x_t, y_t = torch_windows(ids, 32, 8)
    ours = DataLoader(ds, batch_size=16, drop_last=True)
    theirs = tud.DataLoader(tud.TensorDataset(x_t, y_t), batch_size=16, drop_last=True)
    assert len(ours) == len(theirs)
    for (x, y), (xt, yt) in zip(ours, theirs, strict=True):
        assert tuple(x.shape) == (16, 32) and x.dtype == ac.int64
        assert np.array_equal(x.numpy(), xt.numpy()) and np.array_equal(y.numpy(), yt.numpy())


def test_accepts_tensors_and_lists():
    a = TextWindowDataset(ac.arange(10), 3)
    b = TextWindowDataset(list(range(10)), 3)
    assert [a[i][0].tolist() for i in range(len(a))] == [b[i][0].tolist() for i in range(len(b))]


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"ids": list(range(10)), "block_size": 0}, "block_size=0"),
        ({"ids": list(range(10)), "block_size": 3, "stride": -1}, "stride=-1"),
        ({"ids": list(range(10)), "block_size": 2.5}, "block_size=2.5"),
        ({"ids": list(range(4)), "block_size": 4}, "4 ids are too few"),
        ({"ids": [0.5, 1.5, 2.5], "block_size": 1}, "float64"),
        ({"ids": [[1, 2], [3, 4]], "block_size": 1}, "(2, 2)"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(kwargs, named):
    with pytest.raises(ValueError) as info:
        TextWindowDataset(**kwargs)
    assert named in str(info.value)


def test_index_out_of_range_raises_index_error_like_a_sequence():
    ds = TextWindowDataset(list(range(10)), 3)  # 3 windows
    for bad in (3, -4):
        with pytest.raises(IndexError, match=str(bad)):
            ds[bad]
    assert list(iter_windows(ds)) == [0, 3, 6]  # the old sequence protocol stops at IndexError


def iter_windows(ds):
    for x, _ in ds:  # Python's fallback iteration: __getitem__(0, 1, ...) until IndexError
        yield x[0].item()


def test_the_corpus_helper_is_in_aigc_course_datasets():
    # issue 10: the corpus sits behind one helper in aigc_course.datasets (chapter 5 imports it)
    from aigc_course.datasets import python_docs_text as from_datasets

    assert from_datasets is python_docs_text
    text = from_datasets()
    assert len(text) > 400_000 and 'The "assert" statement' in text
