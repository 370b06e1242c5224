r"""The course's ready-made datasets (not part of torch; torchvision and torchtext hold theirs
in the same way, outside ``torch.utils.data``).

:class:`TextWindowDataset` cuts one long sequence of token ids into language-model samples:
sample $i$ is the window that starts at $s = i \cdot \text{stride}$,

$$
x = (t_s, \dots, t_{s+T-1}), \qquad y = (t_{s+1}, \dots, t_{s+T}),
$$

so $y_j$, the target at position $j$, is the token that follows $x_0 \dots x_j$. One window of
$T + 1$ tokens therefore gives $T$ next-token predictions. With ``stride = T`` (the default) the
windows tile the text and each token (but the first, and the few after the last full window)
is a target exactly once per epoch; with ``stride = 1`` every offset is a sample, and
shuffling them gives nanoGPT's random windows.

The corpus the course cuts into windows is Python's own documentation, returned by
:func:`python_docs_text` (re-exported here from :mod:`aigc_course.tokenizers.corpus`, where
chapter 7's tokenizer uses it).

See chapter 5; chapter 8 trains a GPT on windows like these (drawn at random offsets).
"""

from __future__ import annotations

import numpy as np

from . import tensor
from ._tensor import Tensor
from .tokenizers.corpus import python_docs_text
from .utils.data import Dataset

__all__ = ["TextWindowDataset", "python_docs_text"]


class TextWindowDataset(Dataset):
    r"""Sliding windows over token ids: ``dataset[i] == (x, y)``, two int64 Tensors of shape
    ``(block_size,)``, ``y`` being ``x`` shifted left by one token.

    The number of samples is $\lfloor (N - T - 1) / \text{stride} \rfloor + 1$ for $N$ ids and
    ``block_size`` $T$: the last window must still have a next token for its last position.

    >>> ds = TextWindowDataset(list(b"hello world"), block_size=4)
    >>> len(ds)
    2
    >>> x, y = ds[1]
    >>> bytes(x.tolist()), bytes(y.tolist())
    (b'o wo', b' wor')
    """

    def __init__(self, ids, block_size: int, stride: int | None = None):
        stride = block_size if stride is None else stride
        for name, value in (("block_size", block_size), ("stride", stride)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} should be a positive integer, but got {name}={value!r}")
        ids = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValueError(
                f"ids should be a 1-d sequence of integer token ids, but got an array of shape "
                f"{ids.shape} and dtype {ids.dtype}"
            )
        if len(ids) < block_size + 1:
            raise ValueError(
                f"{len(ids)} ids are too few for one window: block_size={block_size} needs "
                f"{block_size + 1} (the inputs plus one next token)"
            )
        self.ids = tensor(ids.astype(np.int64))  # (N,)
        self.block_size = block_size
        self.stride = stride

    def __len__(self) -> int:
        return (len(self.ids) - self.block_size - 1) // self.stride + 1

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} windows")
        s = (index % n) * self.stride  # negative indices count from the end, as for lists
        T = self.block_size
        return self.ids[s : s + T], self.ids[s + 1 : s + T + 1]  # (T,), (T,)
