r"""Checkers for chapter 7's exercises (tokenization).

Each checker runs your function on many small random corpora (token ids from a tiny
alphabet, so that pairs repeat and overlap), compares it with the package's reference
implementation in :mod:`aigc_course.tokenizers`, and prints one ``✓`` line, or raises
:class:`~aigc_course.exercises.ExerciseError` naming the input, the expected and your answer,
and the likely cause.

1. ★ :func:`check_count_pairs`: count adjacent pairs.
2. ★★ :func:`check_merge`: one merge step, every occurrence, left to right.
3. ★★ :func:`check_train`: the (slow) training loop on a corpus of chunks with counts, with
   the tie-break rule.
4. ★★ :func:`check_encode_word`: encode with learned merges, lowest rank first.
5. ★★★ :func:`check_apply_merge`: one merge with incremental pair counts, the trick that
   makes training fast.
6. ★★★ :func:`check_encode`: GPT-2's whole encoder from ``vocab.json`` and ``merges.txt``
   (special tokens, the regex's chunks, bytes as vocabulary ids, the merges by rank),
   against transformers' ``GPT2TokenizerFast``. Milestone 3 (chapter 9) uses it.

See chapter 7.
"""

from __future__ import annotations

import copy
import random

from ..tokenizers import (
    BYTE_TO_UNICODE,
    BPETokenizer,
    apply_merges,
    count_pairs,
    merge_pair,
    split_words,
    train_merges,
)
from ._checking import ExerciseError, passed, run_learner

__all__ = [
    "check_apply_merge",
    "check_count_pairs",
    "check_encode",
    "check_encode_word",
    "check_merge",
    "check_train",
]


def _random_ids(rng: random.Random, max_len: int = 16, alphabet: int = 3) -> list[int]:
    return [rng.randrange(alphabet) for _ in range(rng.randrange(max_len + 1))]


def _as_counts(got, what: str) -> dict:
    if not isinstance(got, dict):
        raise ExerciseError(f"{what} returned {type(got).__name__}; return a dict pair -> count")
    return {tuple(k): v for k, v in got.items() if v != 0}


# ------------------------------------------------------------------ 1. count pairs


def check_count_pairs(fn) -> None:
    """Check ``fn(ids)``: a dict mapping each adjacent pair ``(ids[i], ids[i + 1])`` to how
    often it occurs. Pairs overlap: ``[5, 5, 5]`` has two ``(5, 5)``.

    >>> def count_pairs(ids):
    ...     counts = {}
    ...     for pair in zip(ids, ids[1:]):
    ...         counts[pair] = counts.get(pair, 0) + 1
    ...     return counts
    >>> check_count_pairs(count_pairs)
    ✓ count_pairs agrees with the reference on 50 sequences, empty and overlapping ones included

    See chapter 7.
    """
    rng = random.Random(0)
    cases = [[], [7], [5, 5, 5], [1, 2, 1, 2]] + [_random_ids(rng) for _ in range(46)]
    what = "your count_pairs"
    for ids in cases:
        expected = count_pairs(ids)
        got = _as_counts(run_learner(fn, list(ids), what=what), what)
        if got == expected:
            continue
        message = f"for ids {ids}, expected {expected}, got {got}"
        # probe the two usual mistakes on inputs that tell them apart
        if _as_counts(run_learner(fn, [1, 2, 3], what=what), what) == {(1, 2): 1}:
            message += " (you stop one pair early: the last pair is (ids[-2], ids[-1]))"
        elif _as_counts(run_learner(fn, [5, 5, 5], what=what), what) == {(5, 5): 1}:
            message += (
                " (pairs overlap: [5, 5, 5] holds (5, 5) twice; count the pair at every i, "
                "and do not skip past a counted pair)"
            )
        raise ExerciseError(message)
    passed(
        f"count_pairs agrees with the reference on {len(cases)} sequences, empty and "
        "overlapping ones included"
    )


# ------------------------------------------------------------------ 2. merge


def check_merge(fn) -> None:
    """Check ``fn(ids, pair, new_id)``: a new list in which every occurrence of ``pair`` is
    replaced by ``new_id``, scanning left to right, as one merge step of BPE. The reference is
    :func:`aigc_course.tokenizers.merge_pair`; ``ids`` must not change.

    >>> from aigc_course.tokenizers import merge_pair
    >>> check_merge(merge_pair)
    ✓ merge agrees with the reference on 200 random corpora, overlapping pairs included

    See chapter 7.
    """
    rng = random.Random(1)
    cases = [([5, 5, 5], (5, 5)), ([1, 2, 3, 1, 2], (1, 2)), ([], (0, 1)), ([0], (0, 0))]
    for _ in range(196):
        ids = _random_ids(rng)
        cases.append((ids, (rng.randrange(3), rng.randrange(3))))
    what = "your merge"
    for ids, pair in cases:
        new_id = 99
        original = list(ids)
        got = run_learner(fn, ids, pair, new_id, what=what)
        if ids != original:
            raise ExerciseError(
                f"{what} changed its input {original} to {ids}: build and return a new list"
            )
        expected = merge_pair(original, pair, new_id)
        if isinstance(got, (list, tuple)) and list(got) == expected:
            continue
        message = f"merging {pair} -> {new_id} in {original}: expected {expected}, got {got}"
        if got == _merge_first_only(original, pair, new_id):
            message += " (replace every occurrence of the pair, not only the first)"
        elif got == _merge_no_jump(original, pair, new_id):
            message += (
                " (after a merge, jump past both ids of the pair, i += 2: your scan reads the "
                "pair's second id again, so merging (1, 2) in [1, 2, 3] gives [99, 2, 3] "
                "instead of [99, 3])"
            )
        elif got == merge_pair(original[::-1], pair[::-1], new_id)[::-1]:
            message += (
                " (overlaps: scan from the left and jump past a merged pair, so "
                "[5, 5, 5] becomes [99, 5], not [5, 99])"
            )
        elif isinstance(got, list) and got == expected[:-1]:
            message += " (the last id is lost: copy ids[-1] when no pair starts there)"
        raise ExerciseError(message)
    passed(
        f"merge agrees with the reference on {len(cases)} random corpora, "
        "overlapping pairs included"
    )


def _merge_no_jump(ids, pair, new_id):
    """The scan that does not jump past a merged pair: it moves on by one id either way."""
    out = []
    for i in range(len(ids)):
        out.append(new_id if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair else ids[i])
    return out


def _merge_first_only(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == pair:
            return ids[:i] + [new_id] + ids[i + 2 :]
    return list(ids)


# ------------------------------------------------------------------ 3. train


def check_train(fn) -> None:
    """Check ``fn(words, num_merges)``: the merges learned from a corpus of chunks, ``words``
    mapping each chunk (a tuple of byte ids) to how often it occurs. A pair's count is summed
    over the chunks, each chunk's pairs counted ``words[chunk]`` times; pairs never span two
    chunks. Each step takes the most frequent pair (ties: the smallest pair), merges it in
    every chunk into id ``256 + k`` and counts again; training stops early when no pair is
    left. The reference is :func:`aigc_course.tokenizers.train_merges`.

    >>> from aigc_course.tokenizers import merge_pair
    >>> def train(words, num_merges):
    ...     merges = []
    ...     for k in range(num_merges):
    ...         counts = {}
    ...         for word, n in words.items():
    ...             for p in zip(word, word[1:]):
    ...                 counts[p] = counts.get(p, 0) + n
    ...         if not counts:
    ...             break
    ...         best = min(counts, key=lambda p: (-counts[p], p))
    ...         words = {tuple(merge_pair(w, best, 256 + k)): n for w, n in words.items()}
    ...         merges.append(best)
    ...     return merges
    >>> check_train(train)
    ✓ train learns the reference's merges on 40 random corpora (weights, ties, early stops)

    See chapter 7.
    """
    rng = random.Random(2)
    cases = [
        ({tuple(b"aaabdaaabac"): 1}, 3),
        # weights decide: "ab" occurs once in a chunk seen 5 times, "cd" twice in one seen once
        ({tuple(b"ab"): 5, tuple(b"cdcd"): 1}, 2),
        # chunk boundaries: "a" ends one chunk and "b" starts the next, 9 times over
        ({tuple(b"xa"): 9, tuple(b"by"): 9, tuple(b"ab"): 2}, 2),
        ({tuple(b"ab"): 1}, 5),
        ({}, 2),
    ]
    for _ in range(35):
        words = {}
        for _ in range(rng.randrange(1, 6)):
            word = tuple(rng.choice(b"abc ") for _ in range(rng.randrange(1, 12)))
            words[word] = words.get(word, 0) + rng.randrange(1, 5)
        cases.append((words, rng.randrange(1, 12)))
    what = "your train"
    for words, num_merges in cases:
        expected = train_merges(dict(words), num_merges)
        try:
            got = run_learner(fn, dict(words), num_merges, what=what)
        except ExerciseError as err:
            if "empty" in str(err):
                raise ExerciseError(
                    f"{err} (stop when no pair is left: every chunk is a single token)"
                ) from None
            raise
        got = [tuple(p) for p in got] if isinstance(got, (list, tuple)) else got
        if got == expected:
            continue
        shown = {bytes(w).decode(): n for w, n in words.items()}
        message = f"for chunks {shown} with {num_merges} merges: expected {expected}, got {got}"
        for variant, hint in _TRAIN_MISTAKES:
            if got == variant(words, num_merges) != expected:
                message += f" ({hint})"
                break
        else:
            if isinstance(got, list) and len(set(got)) < len(got):
                message += (
                    " (the same pair was merged twice: replace it in every chunk before "
                    "counting again)"
                )
        raise ExerciseError(message)
    passed(
        f"train learns the reference's merges on {len(cases)} random corpora (weights, ties, "
        "early stops)"
    )


def _train_variant(
    words,
    num_merges,
    tie_break: bool = True,
    same_id: bool = False,
    weighted: bool = True,
    recount: bool = True,
):
    """The training loop, or one of the usual mistakes, to recognise them."""
    words = {tuple(w): n for w, n in words.items()}
    merges: list = []
    counts: dict = {}
    for k in range(num_merges):
        if recount or k == 0:
            counts = {}
            for word, n in words.items():
                for p in zip(word, word[1:]):
                    counts[p] = counts.get(p, 0) + (n if weighted else 1)
        counts = {p: c for p, c in counts.items() if p not in merges}
        if not counts:
            break
        if tie_break:
            pair = min(counts, key=lambda p: (-counts[p], p))
        else:
            pair = max(counts, key=counts.get)
        new_id = 256 if same_id else 256 + k
        merged: dict = {}
        for w, n in words.items():
            key = tuple(merge_pair(w, pair, new_id))
            merged[key] = merged.get(key, 0) + n
        words = merged
        merges.append(pair)
    return merges


def _train_across_chunks(words, num_merges):
    """Training on the chunks glued into one sequence: pairs span chunk boundaries."""
    glued = [i for w, n in words.items() for _ in range(n) for i in w]
    return train_merges({tuple(glued): 1}, num_merges) if glued else []


_TRAIN_MISTAKES = [
    (
        lambda w, n: _train_variant(w, n, recount=False),
        "the pairs are counted once, before the loop, and never again: after each merge, "
        "count the pairs of the merged chunks again (new pairs such as (256, 97) appear, and "
        "the merged pair's neighbours change count)",
    ),
    (
        lambda w, n: _train_variant(w, n, weighted=False),
        "a chunk's pairs count once however often the chunk occurs: add words[chunk] for each "
        "occurrence of a pair, not 1",
    ),
    (
        _train_across_chunks,
        "pairs across two chunks were counted: merges never cross a chunk boundary, so count "
        "and merge inside each chunk",
    ),
    (
        lambda w, n: _train_variant(w, n, tie_break=False),
        "ties: among equally frequent pairs pick the smallest pair, e.g. "
        "min(counts, key=lambda p: (-counts[p], p)); max(counts, key=counts.get) picks "
        "whichever was counted first",
    ),
    (
        lambda w, n: _train_variant(w, n, same_id=True),
        "every merge needs a new id: merge k creates 256 + k",
    ),
]


# ------------------------------------------------------------------ 4. encode a word


def check_encode_word(fn) -> None:
    """Check ``fn(ids, merges)``: the BPE encoding of one chunk of byte ids, where ``merges``
    maps each learned pair to its new id *in the order learned* (the first key has rank 0).
    Repeatedly apply the merge of lowest rank among the adjacent pairs, until none applies.
    The reference is :func:`aigc_course.tokenizers.apply_merges`.

    >>> from aigc_course.tokenizers import merge_pair
    >>> def encode_word(ids, merges):
    ...     rank = {pair: r for r, pair in enumerate(merges)}
    ...     while len(ids) >= 2:
    ...         pair = min(zip(ids, ids[1:]), key=lambda p: rank.get(p, len(rank)))
    ...         if pair not in rank:
    ...             break
    ...         ids = merge_pair(ids, pair, merges[pair])
    ...     return ids
    >>> check_encode_word(encode_word)
    ✓ encode_word agrees with the reference on 121 words from 6 random vocabularies

    See chapter 7.
    """
    rng = random.Random(3)
    cases = [([0, 1, 2], {(1, 2): 256, (0, 1): 257})]  # leftmost-first gives [257, 2]
    for _ in range(6):
        corpus = {tuple(_random_ids(rng, 10, 4)): rng.randrange(1, 4) for _ in range(12)}
        pairs = train_merges(corpus, rng.randrange(3, 15))
        merges = {pair: 256 + k for k, pair in enumerate(pairs)}
        cases += [(_random_ids(rng, 12, 4), merges) for _ in range(20)]
    what = "your encode_word"
    for ids, merges in cases:
        ranks = {pair: k for k, pair in enumerate(merges)}
        expected = apply_merges(list(ids), ranks, merges)
        got = run_learner(fn, list(ids), dict(merges), what=what)
        if isinstance(got, (list, tuple)) and list(got) == expected:
            continue
        message = f"for ids {ids} and merges {merges}: expected {expected}, got {got}"
        if got == _leftmost_first(ids, merges):
            message += (
                " (apply the merge learned first, i.e. of lowest rank, wherever it is; not the "
                "leftmost pair that has a merge)"
            )
        elif got == _one_pass(ids, merges):
            message += " (keep merging until no adjacent pair is a merge, not just once)"
        raise ExerciseError(message)
    passed(
        f"encode_word agrees with the reference on {len(cases)} words from 6 random vocabularies"
    )


def _leftmost_first(ids, merges):
    ids = list(ids)
    while True:
        i = next((i for i in range(len(ids) - 1) if (ids[i], ids[i + 1]) in merges), None)
        if i is None:
            return ids
        ids[i : i + 2] = [merges[ids[i], ids[i + 1]]]


def _one_pass(ids, merges):
    ranks = {pair: k for k, pair in enumerate(merges)}
    pairs = [p for p in zip(ids, ids[1:]) if p in ranks]
    if not pairs:
        return list(ids)
    pair = min(pairs, key=ranks.get)
    return merge_pair(ids, pair, merges[pair])


# ------------------------------------------------------------------ 5. incremental merge


def check_apply_merge(fn) -> None:
    r"""Check ``fn(words, counts, pair_counts, pair, new_id)``: merge ``pair`` into ``new_id``
    in every word of ``words`` (a list of lists of ids, word ``i`` seen ``counts[i]`` times),
    in place, and update ``pair_counts`` (pair -> total count) in place *without recounting*:
    for each word that changes, subtract its old pairs and add its new ones, each times the
    word's count. The result must equal a full recount; zero counts may stay or go.

    >>> from aigc_course.tokenizers import count_pairs, merge_pair
    >>> def apply_merge(words, counts, pair_counts, pair, new_id):
    ...     for i, old in enumerate(words):
    ...         new = merge_pair(old, pair, new_id)
    ...         if len(new) == len(old):
    ...             continue
    ...         for p, c in count_pairs(old).items():
    ...             pair_counts[p] -= c * counts[i]
    ...         for p, c in count_pairs(new).items():
    ...             pair_counts[p] = pair_counts.get(p, 0) + c * counts[i]
    ...         words[i] = new
    >>> check_apply_merge(apply_merge)
    ✓ apply_merge keeps words and pair counts equal to a full recount on 60 random corpora

    See chapter 7.
    """
    rng = random.Random(4)
    what = "your apply_merge"
    cases = []
    while len(cases) < 60:
        words = [_random_ids(rng, 8, 3) for _ in range(rng.randrange(1, 8))]
        counts = [rng.randrange(1, 5) for _ in words]
        pair_counts = _recount(words, counts)
        if not pair_counts:
            continue
        pair = rng.choice(sorted(pair_counts))
        cases.append((words, counts, pair_counts, pair))
    for words, counts, pair_counts, pair in cases:
        before = copy.deepcopy((words, counts, pair_counts))
        new_words, new_counts = copy.deepcopy(words), list(counts)
        new_pair_counts = dict(pair_counts)
        run_learner(fn, new_words, new_counts, new_pair_counts, pair, 99, what=what)
        expected_words = [merge_pair(w, pair, 99) for w in words]
        expected = _recount(expected_words, counts)
        case = f"for words {before[0]} with counts {before[1]}, merging {pair} -> 99"
        if [list(w) for w in new_words] != expected_words:
            hint = " (update words in place: words[i] = merged word)" if new_words == words else ""
            raise ExerciseError(
                f"{case}: words should become {expected_words}, got {new_words}{hint}"
            )
        got = _as_counts(new_pair_counts, what)
        if got == expected:
            continue
        message = f"{case}: pair_counts should be {expected}, got {got}"
        if got == _as_counts(pair_counts, what):
            message += " (pair_counts did not change: update it for every word that changed)"
        elif all(got.get(p, 0) >= n for p, n in _as_counts(pair_counts, what).items()):
            message += " (counts only grew: subtract the pairs of the old word too)"
        elif got == _recount(expected_words, [1] * len(words), base=(words, counts, pair_counts)):
            message += " (a word seen n times changes each of its pair counts by n, not 1)"
        raise ExerciseError(message)
    passed(
        f"apply_merge keeps words and pair counts equal to a full recount on {len(cases)} "
        "random corpora"
    )


def _recount(words, counts, base=None) -> dict:
    """Pair counts of ``words`` weighted by ``counts``; with ``base`` = (old words, old counts,
    old pair counts), the counts an update with these weights gives instead (for the hint)."""
    if base is None:
        total: dict = {}
        for w, n in zip(words, counts):
            for p, c in count_pairs(w).items():
                total[p] = total.get(p, 0) + c * n
        return {p: n for p, n in total.items() if n}
    old_words, _, old_pair_counts = base
    total = dict(old_pair_counts)
    for old, new, n in zip(old_words, words, counts):
        if old == new:
            continue
        for p, c in count_pairs(old).items():
            total[p] = total.get(p, 0) - c * n
        for p, c in count_pairs(new).items():
            total[p] = total.get(p, 0) + c * n
    return {p: n for p, n in total.items() if n}


# ------------------------------------------------------------------ 6. the whole encoder

#: texts on which GPT-2's encoder is tested: spaces, contractions, digits, code, non-ASCII
_TEXTS = [
    "",
    "The for statement is used to iterate over the elements of a sequence.",
    "a   b",
    "It's 2026: we'll train 12345 merges!\n\n    def f(x):\n        return x ** 2\n",
    "first document<|endoftext|>second",
    "<|endoftext|>",
    "你好，世界 🙂👍🏽 café naïve",
]


def _vocabularies(rng: random.Random) -> list[tuple[str, dict, list]]:
    """(name, vocab, merges): a small tokenizer trained here, the same with its ids shuffled
    (ids are labels, not byte values), and the shipped GPT-2's files."""
    from ..models.hub import SHIPPED_MODEL_DIR
    from ..tokenizers import python_docs_text

    small = BPETokenizer.train(python_docs_text()[:30_000], vocab_size=400)
    vocab = small.get_vocab()
    ids = list(vocab.values())
    rng.shuffle(ids)
    shuffled = dict(zip(vocab, ids))
    shipped = BPETokenizer.from_pretrained(SHIPPED_MODEL_DIR)
    return [
        ("a 400-token vocabulary trained on the Python docs", vocab, small.merges),
        ("the same vocabulary with its ids shuffled", shuffled, small.merges),
        ("the shipped GPT-2's vocab.json and merges.txt", shipped.get_vocab(), shipped.merges),
    ]


def _encode_variants(vocab: dict, merges: list) -> dict:
    """The usual mistakes of a GPT-2 encoder, as functions of the text."""
    byte_ids = [vocab[BYTE_TO_UNICODE[b]] for b in range(256)]
    merged = {(vocab[a], vocab[b]): vocab[a + b] for a, b in merges}
    ranks = {pair: r for r, pair in enumerate(merged)}
    good = BPETokenizer(vocab, merges)

    def bpe(text, chunks=True, leftmost=False):
        out = []
        for chunk in split_words(text) if chunks else [text]:
            word = [byte_ids[b] for b in chunk.encode("utf-8")]
            out += _leftmost_first(word, merged) if leftmost else apply_merges(word, ranks, merged)
        return out

    def without_specials(text):
        return bpe(text)

    return {
        "merges never cross the chunks of GPT-2's regex: cut the text with split_words "
        "first, and run BPE inside each chunk": lambda t: _with_specials(good, t, bpe, False),
        "apply the merge of lowest rank (learned first) wherever it is, not the leftmost pair "
        "that has a merge": lambda t: _with_specials(good, t, bpe, True),
        "special tokens: cut them out of the text first (each is one id, vocab[token]), then "
        "encode the pieces between them": without_specials,
        "the bytes' ids: a byte is not its own id; look its character up, "
        "vocab[BYTE_TO_UNICODE[b]]": lambda t: _with_specials(good, t, None, None),
    }


def _with_specials(good, text, bpe, leftmost):
    """Split out special tokens as ``good`` does, then encode the pieces with a variant."""
    pieces = [text] if good._special_split is None else good._special_split.split(text)
    out = []
    for k, piece in enumerate(pieces):
        if k % 2:
            out.append(good.special_tokens[piece])
        elif bpe is None:  # raw byte values as ids, merges applied by rank on them
            out += list(piece.encode("utf-8"))
        else:
            out += bpe(piece, chunks=leftmost is not False, leftmost=bool(leftmost))
    return out


def _encode_error(encode) -> str | None:
    """What is wrong with ``encode(text, vocab, merges)``, or None when it agrees with
    transformers' GPT2TokenizerFast on every text and vocabulary."""
    import tempfile

    from transformers import GPT2TokenizerFast

    rng = random.Random(6)
    what = "your encode"
    for name, vocab, merges in _vocabularies(rng):
        reference = BPETokenizer(vocab, merges)
        with tempfile.TemporaryDirectory() as folder:
            reference.save(folder)
            hf = GPT2TokenizerFast.from_pretrained(folder)
            texts = _TEXTS + [hf.decode(list(range(0, 40)))]  # the first 40 tokens, spelled out
            for text in texts:
                expected = hf(text)["input_ids"]
                try:
                    got = run_learner(encode, text, dict(vocab), list(merges), what=what)
                except ExerciseError as err:
                    message = str(err)
                    if "KeyError" in message:
                        message += (
                            " (vocab is spelled with GPT-2's printable byte characters: look a "
                            "byte up as vocab[BYTE_TO_UNICODE[b]]; a space is 'Ġ')"
                        )
                    return f"{message} [text {text!r}, {name}]"
                if isinstance(got, (list, tuple)) and list(got) == expected:
                    continue
                message = (
                    f"{what}({text!r}, vocab, merges) with {name}: transformers' "
                    f"GPT2TokenizerFast gives {expected}, yours {got}"
                )
                if isinstance(got, (list, tuple)) and got and isinstance(got[0], str):
                    return message + " (return the ids, vocab[token], not the tokens)"
                for hint, variant in _encode_variants(vocab, merges).items():
                    if got == variant(text) != expected:
                        return f"{message} ({hint})"
                return message
    return None


def check_encode(encode) -> None:
    """Check ``encode(text, vocab, merges)``: GPT-2's encoder from its two files. ``vocab``
    maps each token, spelled with GPT-2's printable byte characters, to its id (vocab.json);
    ``merges`` lists the merged pairs of tokens in rank order (merges.txt). Special tokens
    (vocabulary entries that are neither a single byte nor made by a merge, such as
    ``<|endoftext|>``) are cut out of the text first, one id each; the rest is cut into chunks
    by GPT-2's regex (:func:`aigc_course.tokenizers.split_words`), and each chunk's bytes, as
    ids, are merged by rank. The reference is transformers' ``GPT2TokenizerFast`` loaded from
    the same files, on three vocabularies (one with its ids shuffled) and awkward texts.

    See chapter 7.
    """
    error = _encode_error(encode)
    if error:
        raise ExerciseError(error)
    passed(
        "encode gives transformers' GPT2TokenizerFast ids on 3 vocabularies (one shuffled, "
        "the shipped GPT-2's) and 8 awkward texts"
    )
