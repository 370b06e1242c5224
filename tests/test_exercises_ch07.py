"""Chapter 7's checkers: they pass correct solutions and name the cause of each usual
mistake, each hint triggered here by the wrong answer that makes it."""

from __future__ import annotations

import pytest

from aigc_course.exercises import ExerciseError, ch07
from aigc_course.tokenizers import apply_merges, count_pairs, merge_pair


def not_written(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- 1. count pairs


def test_count_pairs_accepts_correct_solutions(capsys):
    ch07.check_count_pairs(count_pairs)
    from collections import Counter

    ch07.check_count_pairs(lambda ids: Counter(zip(ids, ids[1:])))
    assert capsys.readouterr().out.count("✓ count_pairs agrees") == 2


def stops_early(ids):
    return count_pairs(ids[:-1])


def skips_past_pairs(ids):  # the str.count habit: non-overlapping occurrences
    counts, i = {}, 0
    while i + 1 < len(ids):
        pair = (ids[i], ids[i + 1])
        counts[pair] = counts.get(pair, 0) + 1
        i += 2 if pair[0] == pair[1] else 1
    return counts


def test_count_pairs_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_count_pairs(not_written)
    with pytest.raises(ExerciseError, match="stop one pair early"):
        ch07.check_count_pairs(stops_early)
    with pytest.raises(ExerciseError, match=r"for ids \[5, 5, 5\].*pairs overlap"):
        ch07.check_count_pairs(skips_past_pairs)
    with pytest.raises(ExerciseError, match="returned list; return a dict"):
        ch07.check_count_pairs(lambda ids: list(zip(ids, ids[1:])))


# ---------------------------------------------------------------- 2. merge


def test_merge_accepts_correct_solutions(capsys):
    ch07.check_merge(merge_pair)
    ch07.check_merge(lambda ids, pair, new_id: tuple(merge_pair(ids, pair, new_id)))
    assert capsys.readouterr().out.count("✓ merge agrees") == 2


def first_only(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == pair:
            return ids[:i] + [new_id] + ids[i + 2 :]
    return list(ids)


def from_the_right(ids, pair, new_id):
    return merge_pair(ids[::-1], pair[::-1], new_id)[::-1]


def loses_the_last(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def in_place(ids, pair, new_id):
    i = 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            ids[i : i + 2] = [new_id]
        i += 1
    return ids


def test_merge_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_merge(not_written)
    with pytest.raises(ExerciseError, match="every occurrence of the pair, not only the first"):
        ch07.check_merge(first_only)
    with pytest.raises(ExerciseError, match=r"scan from the left .* \[99, 5\], not \[5, 99\]"):
        ch07.check_merge(from_the_right)
    with pytest.raises(ExerciseError, match="the last id is lost"):
        ch07.check_merge(loses_the_last)
    with pytest.raises(ExerciseError, match="changed its input .* build and return a new list"):
        ch07.check_merge(in_place)


# ---------------------------------------------------------------- 3. train


def train(ids, num_merges):
    merges = []
    for k in range(num_merges):
        counts = count_pairs(ids)
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        ids = merge_pair(ids, pair, 256 + k)
        merges.append(pair)
    return merges


def test_train_accepts_a_correct_solution(capsys):
    ch07.check_train(train)
    assert capsys.readouterr().out.startswith("✓ train learns the reference's merges")


def first_counted_wins(ids, num_merges):
    merges = []
    for k in range(num_merges):
        counts = count_pairs(ids)
        if not counts:
            break
        pair = max(counts, key=counts.get)
        ids = merge_pair(ids, pair, 256 + k)
        merges.append(pair)
    return merges


def one_new_id(ids, num_merges):
    merges = []
    for _ in range(num_merges):
        counts = count_pairs(ids)
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        ids = merge_pair(ids, pair, 256)
        merges.append(pair)
    return merges


def never_applies(ids, num_merges):
    merges = []
    for k in range(num_merges):
        counts = count_pairs(ids)
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        merge_pair(ids, pair, 256 + k)  # result dropped
        merges.append(pair)
    return merges


def never_stops(ids, num_merges):
    merges = []
    for k in range(num_merges):
        counts = count_pairs(ids)
        pair = min(counts, key=lambda p: (-counts[p], p))
        ids = merge_pair(ids, pair, 256 + k)
        merges.append(pair)
    return merges


def test_train_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_train(not_written)
    with pytest.raises(ExerciseError, match=r"'aaabdaaabac'.*ties: .*smallest pair"):
        ch07.check_train(first_counted_wins)
    with pytest.raises(ExerciseError, match="merge k creates 256 \\+ k"):
        ch07.check_train(one_new_id)
    with pytest.raises(ExerciseError, match="the same pair was merged twice"):
        ch07.check_train(never_applies)
    with pytest.raises(ExerciseError, match="raised ValueError.*stop when no pair is left"):
        ch07.check_train(never_stops)


# ---------------------------------------------------------------- 4. encode a word


def encode_word(ids, merges):
    ranks = {pair: r for r, pair in enumerate(merges)}
    return apply_merges(ids, ranks, merges)


def test_encode_word_accepts_a_correct_solution(capsys):
    ch07.check_encode_word(encode_word)
    assert capsys.readouterr().out.startswith("✓ encode_word agrees")


def leftmost_first(ids, merges):
    ids = list(ids)
    while True:
        i = next((i for i in range(len(ids) - 1) if (ids[i], ids[i + 1]) in merges), None)
        if i is None:
            return ids
        ids[i : i + 2] = [merges[ids[i], ids[i + 1]]]


def only_once(ids, merges):
    ranks = {pair: r for r, pair in enumerate(merges)}
    pairs = [p for p in zip(ids, ids[1:]) if p in ranks]
    if not pairs:
        return ids
    pair = min(pairs, key=ranks.get)
    return merge_pair(ids, pair, merges[pair])


def test_encode_word_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_encode_word(not_written)
    with pytest.raises(ExerciseError, match=r"for ids \[0, 1, 2\].*lowest rank.*not the leftmost"):
        ch07.check_encode_word(leftmost_first)
    with pytest.raises(ExerciseError, match="keep merging until no adjacent pair is a merge"):
        ch07.check_encode_word(only_once)


# ---------------------------------------------------------------- 5. incremental merge


def apply_merge(words, counts, pair_counts, pair, new_id):
    for i, old in enumerate(words):
        new = merge_pair(old, pair, new_id)
        if len(new) == len(old):
            continue
        for p, c in count_pairs(old).items():
            pair_counts[p] -= c * counts[i]
        for p, c in count_pairs(new).items():
            pair_counts[p] = pair_counts.get(p, 0) + c * counts[i]
        words[i] = new


def test_apply_merge_accepts_correct_solutions(capsys):
    ch07.check_apply_merge(apply_merge)

    def deletes_zeros(words, counts, pair_counts, pair, new_id):
        apply_merge(words, counts, pair_counts, pair, new_id)
        for p in [p for p, n in pair_counts.items() if n == 0]:
            del pair_counts[p]

    ch07.check_apply_merge(deletes_zeros)
    assert capsys.readouterr().out.count("✓ apply_merge keeps") == 2


def words_only(words, counts, pair_counts, pair, new_id):
    for i, old in enumerate(words):
        words[i] = merge_pair(old, pair, new_id)


def only_adds(words, counts, pair_counts, pair, new_id):
    for i, old in enumerate(words):
        new = merge_pair(old, pair, new_id)
        if len(new) < len(old):
            for p, c in count_pairs(new).items():
                pair_counts[p] = pair_counts.get(p, 0) + c * counts[i]
            words[i] = new


def ignores_word_counts(words, counts, pair_counts, pair, new_id):
    apply_merge(words, [1] * len(words), pair_counts, pair, new_id)


def returns_new_words(words, counts, pair_counts, pair, new_id):
    words = [merge_pair(w, pair, new_id) for w in words]
    return words


def test_apply_merge_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_apply_merge(not_written)
    with pytest.raises(ExerciseError, match="pair_counts did not change"):
        ch07.check_apply_merge(words_only)
    with pytest.raises(ExerciseError, match="subtract the pairs of the old word"):
        ch07.check_apply_merge(only_adds)
    with pytest.raises(ExerciseError, match="a word seen n times .* by n, not 1"):
        ch07.check_apply_merge(ignores_word_counts)
    with pytest.raises(ExerciseError, match=r"update words in place: words\[i\] = "):
        ch07.check_apply_merge(returns_new_words)
