r"""Learning BPE merges from word counts, fast: count once, then update incrementally.

The algorithm (Sennrich et al., 2016, on bytes as in GPT-2): start from single bytes and
repeat ``num_merges`` times

1. find the most frequent adjacent pair :math:`(a, b)` over the corpus,
2. give it a new id :math:`c` and replace every occurrence of :math:`a\,b` by :math:`c`.

Pairs never cross a pre-tokenisation chunk ("word"), so the corpus is a multiset of words:
``"the the cat"`` is ``{"the": 1, " the": 1, " cat": 1}``, and a pair occurring in a word
seen :math:`n` times counts :math:`n` times,

.. math::  \mathrm{count}(a, b) = \sum_{w} n_w \cdot \#\{i : w_i = a,\ w_{i+1} = b\}.

A naive trainer recounts all pairs after each merge, :math:`O(\text{corpus})` per merge.
Here the counts are built once; after merging :math:`(a, b)` only the words that contain it
change, and for each of those we subtract the pairs of the old word and add the pairs of the
new one (``where`` remembers which words contain which pair). The best pair comes from a
max-heap with lazy deletion: an entry whose stored count is out of date is pushed again
with the current count when it reaches the top.

Tie-break (deterministic): the highest count wins; among equal counts, the smallest pair
``(a, b)`` in id order, i.e. the smallest left id, then the smallest right id. Bytes have ids
0..255 and merged tokens get increasing ids, so older tokens win ties. (HF ``tokenizers``
uses the same rule on its own id order.)

See chapter 7.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Sequence

__all__ = ["count_pairs", "merge_pair", "train_merges"]

Pair = tuple[int, int]


def count_pairs(ids: Sequence[int], counts: dict[Pair, int] | None = None) -> dict[Pair, int]:
    """How often each adjacent pair occurs in ``ids`` (added to ``counts`` when given).

    >>> count_pairs([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge_pair(ids: Sequence[int], pair: Pair, new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, scanning left to right.

    Subtle: occurrences may overlap (``a a a`` with pair ``(a, a)``); the scan takes the
    leftmost one and continues after it, so ``a a a`` becomes ``aa a``, as in GPT-2.

    >>> merge_pair([5, 5, 5, 6, 5, 5], (5, 5), 9)
    [9, 5, 6, 9]
    """
    a, b = pair
    out = []
    i, n = 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_merges(
    word_counts: dict[tuple[int, ...], int],
    num_merges: int,
    first_id: int = 256,
    callback: Callable[[Pair, int], None] | None = None,
) -> list[Pair]:
    """Learn up to ``num_merges`` merges from ``word_counts`` (word as a tuple of ids -> count).

    Merge ``k`` creates token id ``first_id + k``. Training stops early when no pair is left
    (every word is a single token). ``callback(pair, count)`` is called after each merge
    (for a progress bar). Returns the merged pairs in order; the tie-break rule is in the
    module docstring.

    >>> train_merges({(1, 2, 3): 2, (1, 2): 1, (2, 3): 1}, 2, first_id=10)
    [(1, 2), (10, 3)]
    """
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())

    pair_counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)  # pair -> indices of words containing it
    for i, (word, n) in enumerate(zip(words, counts)):
        for pair in zip(word, word[1:]):
            pair_counts[pair] += n
            where[pair].add(i)

    heap = [(-n, pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)  # smallest (-count, pair) first = highest count, then smallest pair

    merges: list[Pair] = []
    while len(merges) < num_merges and heap:
        neg_count, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count <= 0:
            continue  # already merged, or no longer present
        if -neg_count != count:  # stale entry: requeue with the current count
            heapq.heappush(heap, (-count, pair))
            continue

        new_id = first_id + len(merges)
        merges.append(pair)
        changed: dict[Pair, int] = defaultdict(int)
        for i in where.pop(pair):
            old = words[i]
            new = merge_pair(old, pair, new_id)
            if len(new) == len(old):
                continue  # this word lost the pair to an earlier merge
            words[i] = new
            n = counts[i]
            for p in zip(old, old[1:]):
                changed[p] -= n
            for p in zip(new, new[1:]):
                changed[p] += n
                if new_id in p:
                    where[p].add(i)
        for p, delta in changed.items():
            if delta:
                pair_counts[p] += delta
                if delta > 0:  # an increase needs a fresh heap entry; decreases go stale
                    heapq.heappush(heap, (-pair_counts[p], p))
        del pair_counts[pair]
        if callback is not None:
            callback(pair, count)
    return merges
