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


def no_jump(ids, pair, new_id):  # moves on by one id after a merge, too
    out = []
    for i in range(len(ids) - 1):
        out.append(new_id if (ids[i], ids[i + 1]) == pair else ids[i])
    return out + ids[-1:]


def test_merge_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_merge(not_written)
    with pytest.raises(ExerciseError, match="every occurrence of the pair, not only the first"):
        ch07.check_merge(first_only)
    with pytest.raises(ExerciseError, match=r"jump past both ids of the pair, i \+= 2"):
        ch07.check_merge(no_jump)
    with pytest.raises(ExerciseError, match=r"scan from the left .* \[99, 5\], not \[5, 99\]"):
        ch07.check_merge(from_the_right)
    with pytest.raises(ExerciseError, match="the last id is lost"):
        ch07.check_merge(loses_the_last)
    with pytest.raises(ExerciseError, match="changed its input .* build and return a new list"):
        ch07.check_merge(in_place)


# ---------------------------------------------------------------- 3. train


def pair_counts(words):
    counts = {}
    for word, n in words.items():
        for p in zip(word, word[1:]):
            counts[p] = counts.get(p, 0) + n
    return counts


def train(words, num_merges, pick=None, new_id=lambda k: 256 + k, apply=True):
    merges = []
    for k in range(num_merges):
        counts = pair_counts(words)
        if not counts:
            break
        pair = pick(counts) if pick else min(counts, key=lambda p: (-counts[p], p))
        if apply:
            words = {tuple(merge_pair(w, pair, new_id(k))): n for w, n in words.items()}
        merges.append(pair)
    return merges


def test_train_accepts_correct_solutions(capsys):
    from aigc_course.tokenizers import train_merges

    ch07.check_train(train)
    ch07.check_train(train_merges)
    assert capsys.readouterr().out.count("✓ train learns the reference's merges") == 2


def counts_once(words, num_merges):  # never recounts: takes the pairs in their first order
    counts = pair_counts(words)
    merges = []
    for k in range(num_merges):
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        del counts[pair]
        words = {tuple(merge_pair(w, pair, 256 + k)): n for w, n in words.items()}
        merges.append(pair)
    return merges


def unweighted(words, num_merges):
    return train(dict.fromkeys(words, 1), num_merges)


def glued(words, num_merges):
    ids = [i for w, n in words.items() for _ in range(n) for i in w]
    return train({tuple(ids): 1}, num_merges) if ids else []


def never_stops(words, num_merges):
    merges = []
    for k in range(num_merges):
        counts = pair_counts(words)
        pair = min(counts, key=lambda p: (-counts[p], p))
        words = {tuple(merge_pair(w, pair, 256 + k)): n for w, n in words.items()}
        merges.append(pair)
    return merges


def test_train_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_train(not_written)
    with pytest.raises(ExerciseError, match="counted once, before the loop, and never again"):
        ch07.check_train(counts_once)
    with pytest.raises(ExerciseError, match=r"add words\[chunk\] for each occurrence"):
        ch07.check_train(unweighted)
    with pytest.raises(ExerciseError, match="merges never cross a chunk boundary"):
        ch07.check_train(glued)
    with pytest.raises(ExerciseError, match=r"'aaabdaaabac'.*ties: .*smallest pair"):
        ch07.check_train(lambda w, n: train(w, n, pick=lambda c: max(c, key=c.get)))
    with pytest.raises(ExerciseError, match="merge k creates 256 \\+ k"):
        ch07.check_train(lambda w, n: train(w, n, new_id=lambda k: 256))
    with pytest.raises(ExerciseError, match="the same pair was merged twice"):
        ch07.check_train(lambda w, n: train(w, n, apply=False))
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


# ---------------------------------------------------------------- 6. the whole encoder


def encode(text, vocab, merges):
    """GPT-2's encoder, written independently of BPETokenizer (regex + ranks by hand)."""
    import re

    from aigc_course.tokenizers import BYTE_TO_UNICODE, split_words

    byte_ids = [vocab[BYTE_TO_UNICODE[b]] for b in range(256)]
    merged = {(vocab[a], vocab[b]): vocab[a + b] for a, b in merges}
    made = set(byte_ids) | set(merged.values())
    specials = sorted((t for t, i in vocab.items() if i not in made), key=len, reverse=True)
    pattern = "(" + "|".join(map(re.escape, specials)) + ")"
    ids = []
    for k, piece in enumerate(re.split(pattern, text) if specials else [text]):
        if k % 2:
            ids.append(vocab[piece])
            continue
        for chunk in split_words(piece):
            ids += encode_word([byte_ids[b] for b in chunk.encode("utf-8")], merged)
    return ids


def test_encode_accepts_a_correct_solution(capsys):
    ch07.check_encode(encode)
    assert capsys.readouterr().out.startswith("✓ encode gives transformers' GPT2TokenizerFast")


def _encode_with(text, vocab, merges, chunks=True, leftmost=False, specials=True, by_byte=False):
    import re

    from aigc_course.tokenizers import BYTE_TO_UNICODE, split_words

    byte_ids = list(range(256)) if by_byte else [vocab[BYTE_TO_UNICODE[b]] for b in range(256)]
    merged = {(vocab[a], vocab[b]): vocab[a + b] for a, b in merges}
    made = {vocab[BYTE_TO_UNICODE[b]] for b in range(256)} | set(merged.values())
    names = sorted((t for t, i in vocab.items() if i not in made), key=len, reverse=True)
    pieces = re.split("(" + "|".join(map(re.escape, names)) + ")", text) if specials else [text]
    ids = []
    for k, piece in enumerate(pieces):
        if k % 2:
            ids.append(vocab[piece])
            continue
        for chunk in split_words(piece) if chunks else ([piece] if piece else []):
            word = [byte_ids[b] for b in chunk.encode("utf-8")]
            if by_byte:
                ids += word
            elif leftmost:
                ids += leftmost_first(word, merged)
            else:
                ids += encode_word(word, merged)
    return ids


def test_encode_feedback():
    with pytest.raises(ExerciseError, match="not implemented yet"):
        ch07.check_encode(not_written)
    with pytest.raises(ExerciseError, match="merges never cross the chunks of GPT-2's regex"):
        ch07.check_encode(lambda t, v, m: _encode_with(t, v, m, chunks=False))
    with pytest.raises(ExerciseError, match="lowest rank .* not the leftmost pair"):
        ch07.check_encode(lambda t, v, m: _encode_with(t, v, m, leftmost=True))
    with pytest.raises(ExerciseError, match="special tokens: cut them out of the text first"):
        ch07.check_encode(lambda t, v, m: _encode_with(t, v, m, specials=False))
    with pytest.raises(ExerciseError, match=r"a byte is not its own id"):
        ch07.check_encode(lambda t, v, m: _encode_with(t, v, m, by_byte=True))
    with pytest.raises(ExerciseError, match=r"KeyError.*vocab\[BYTE_TO_UNICODE\[b\]\]"):
        ch07.check_encode(lambda t, v, m: [v[c] for c in t])  # characters, not bytes
    with pytest.raises(ExerciseError, match="return the ids, vocab\\[token\\], not the tokens"):
        ch07.check_encode(lambda t, v, m: [k for k in v][: len(t)] or [])
