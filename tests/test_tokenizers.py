"""BPETokenizer against transformers and HF tokenizers, plus hand-derived known answers.

Oracles: transformers' ``GPT2TokenizerFast.from_pretrained(dir)`` and HF ``tokenizers``'
``ByteLevelBPETokenizer`` (trained offline on the same corpus), a naive trainer that recounts
every pair after each merge, and merges derived by hand.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_course.tokenizers import (
    BYTE_TO_UNICODE,
    BYTE_TOKENS,
    BPETokenizer,
    count_pairs,
    merge_pair,
    python_docs_text,
    split_words,
    train_merges,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

VOCAB_SIZE = 1000
EOT = "<|endoftext|>"

AWKWARD = [
    "",
    "a",
    " ",
    "\n",
    "é",
    "你",
    "🙂",
    "     ",
    "\n\n\n",
    " \n \n  \t\t x  \n",
    "a   b",
    "It's what we'll do; they're sure I'd've been",
    "IT'S LOUD'S",
    "0 12 345 6789 3.14159 1,000,000 2026-11-30",
    "你好，世界！生成式人工智能。",
    "emoji 🙂👍🏽 👨‍👩‍👧 flags 🇫🇷",
    "café naïve Ångström façade Zürich",
    "def f(x):\n    return {'a': [x ** 2, x // 3]}  # comment\n",
    "\tif x != y and not z:\n\t\tpass\r\n",
    f"hello{EOT} world{EOT}{EOT}",
    "ÿþ\x00\x01\x7f",
]


@pytest.fixture(scope="module")
def corpus() -> str:
    return python_docs_text()


@pytest.fixture(scope="module")
def ours(corpus) -> BPETokenizer:
    return BPETokenizer.train(corpus, VOCAB_SIZE)


@pytest.fixture(scope="module")
def ours_dir(ours, tmp_path_factory):
    directory = tmp_path_factory.mktemp("ours")
    ours.save(directory)
    return directory


@pytest.fixture(scope="module")
def hf_trained(corpus):
    tok = tokenizers.ByteLevelBPETokenizer()
    tok.train_from_iterator(
        [corpus], vocab_size=VOCAB_SIZE, min_frequency=1, special_tokens=[EOT], show_progress=False
    )
    return tok


@pytest.fixture(scope="module")
def hf_dir(hf_trained, tmp_path_factory):
    directory = tmp_path_factory.mktemp("hf")
    hf_trained.save_model(str(directory))
    return directory


# ------------------------------------------------------------------ building blocks


def test_byte_table_is_gpt2s():
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    assert BYTE_TO_UNICODE == bytes_to_unicode()
    assert set(BYTE_TOKENS) == set(tokenizers.pre_tokenizers.ByteLevel.alphabet())


@pytest.mark.parametrize("text", AWKWARD)
def test_split_matches_hf_pretokenizer(text):
    hf = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    expected = [piece for piece, _ in hf.pre_tokenize_str(text)]
    got = ["".join(BYTE_TO_UNICODE[b] for b in w.encode("utf-8")) for w in split_words(text)]
    assert got == expected
    assert "".join(split_words(text)) == text


def test_merge_pair_overlaps_left_to_right():
    # a a a -> (aa) a, never a (aa); as GPT-2's bpe() and HF's word merge
    assert merge_pair([1, 1, 1], (1, 1), 9) == [9, 1]
    assert merge_pair([1, 1, 1, 1], (1, 1), 9) == [9, 9]
    assert merge_pair([], (1, 1), 9) == []
    assert merge_pair([1], (1, 1), 9) == [1]
    assert count_pairs([1, 1, 1]) == {(1, 1): 2}


# ------------------------------------------------------------------ known answers


def test_known_answer_aaabdaaabac():
    """The docstring example of bpe.py: a=64 b=65 c=66 d=67 in GPT-2's byte order.

    bytes a a a b d a a a b a c; counts aa 4, ab 2, bd da ba ac 1
    merge 1: aa (4) -> 256; text [aa] a b d [aa] a b a c; counts (aa)a 2, ab 2, others 1
    merge 2: tie at 2, (64, 65) < (256, 64) so ab -> 257; text [aa][ab] d [aa][ab] a c
    merge 3: (256, 257) (2) -> 258; text [aaab] d [aaab] a c
    """
    tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, special_tokens=())
    assert tok.merges == [("a", "a"), ("a", "b"), ("aa", "ab")]
    assert tok.encode("aaabdaaabac") == [258, 67, 258, 64, 66]
    assert tok.vocab_size == 259 and tok.token_to_id("aaab") == 258


def test_known_answer_words_and_counts():
    """Pairs never cross regex chunks; a chunk seen n times counts n times.

    "hug hug pug" -> chunks "hug" x1, " hug" x1, " pug" x1 (the space is Ġ).
    pair counts: ug 3, hu 2, Ġh 1, Ġp 1, pu 1. Special tokens get the last ids, so the
    merges are 256, 257, 258 and <|endoftext|> is 259.
    """
    tok = BPETokenizer.train("hug hug pug", vocab_size=256 + 3 + 1)
    # merge 1: (u, g) count 3 -> 256; words h[ug], Ġh[ug], Ġp[ug]
    # counts: h[ug] 2, Ġh 1, Ġp 1, p[ug] 1
    # merge 2: h[ug] (2) -> 257; merge 3: Ġ h (1), Ġ p (1), p ug (1) tie:
    #   ids Ġ=220, h=71, p=79, ug=256 -> (79, 256) < (220, 71) < (220, 79): p + ug
    assert tok.merges == [("u", "g"), ("h", "ug"), ("p", "ug")]
    assert tok.token_to_id(EOT) == 259
    assert tok.encode("hug pug") == [257, 220, 258]


def test_naive_tokens_per_byte_when_no_merges():
    tok = BPETokenizer.train("anything", vocab_size=257)
    assert tok.merges == []
    assert tok.encode(" é") == [
        220,
        BYTE_TOKENS.index(BYTE_TO_UNICODE[0xC3]),
        BYTE_TOKENS.index(BYTE_TO_UNICODE[0xA9]),
    ]


def naive_train(word_counts, num_merges, first_id=256):
    """Recount every pair after each merge: the slow textbook loop (same tie-break)."""
    words = {tuple(w): n for w, n in word_counts.items()}
    merges = []
    for k in range(num_merges):
        counts = Counter()
        for w, n in words.items():
            for pair in zip(w, w[1:]):
                counts[pair] += n
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        merges.append(pair)
        new = Counter()
        for w, n in words.items():
            new[tuple(merge_pair(w, pair, first_id + k))] += n
        words = new
    return merges


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.lists(st.integers(0, 4), min_size=1, max_size=12).map(tuple),
        st.integers(1, 5),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 30),
)
def test_incremental_trainer_equals_naive_recount(word_counts, num_merges):
    assert train_merges(word_counts, num_merges, first_id=256) == naive_train(
        word_counts, num_merges
    )


def test_incremental_trainer_on_random_text():
    rng = random.Random(0)
    text = "".join(rng.choice("aab ba\nc") for _ in range(3000))
    words = Counter(tuple(w.encode()) for w in split_words(text))
    assert train_merges(words, 80) == naive_train(words, 80)


# ------------------------------------------------------------------ interop


def test_trains_the_same_merges_as_hf_tokenizers(ours, hf_dir):
    lines = (hf_dir / "merges.txt").read_text(encoding="utf-8").splitlines()
    hf_merges = [tuple(line.split(" ")) for line in lines if not line.startswith("#version")]
    assert ours.merges == hf_merges
    assert len(ours.merges) == VOCAB_SIZE - 256 - 1


@pytest.fixture(scope="module")
def transformers_from_ours(ours_dir):
    return transformers.GPT2TokenizerFast.from_pretrained(str(ours_dir))


@pytest.mark.parametrize("text", AWKWARD)
def test_our_files_load_in_transformers(ours, transformers_from_ours, text):
    hf = transformers_from_ours
    assert len(hf) == ours.vocab_size
    ids = ours.encode(text)
    assert hf(text)["input_ids"] == ids
    assert hf.decode(ids, clean_up_tokenization_spaces=False) == ours.decode(ids) == text


def test_our_files_load_in_transformers_whole_corpus(ours, transformers_from_ours, corpus):
    assert transformers_from_ours(corpus)["input_ids"] == ours.encode(corpus)


@pytest.fixture(scope="module")
def ours_from_hf(hf_dir):
    return BPETokenizer.from_pretrained(hf_dir)


@pytest.mark.parametrize("text", AWKWARD)
def test_hf_trained_files_load_into_ours(hf_trained, hf_dir, ours_from_hf, text):
    ids = ours_from_hf.encode(text)
    assert ids == hf_trained.encode(text).ids
    assert ids == transformers.GPT2TokenizerFast.from_pretrained(str(hf_dir))(text)["input_ids"]
    assert ours_from_hf.decode(ids) == hf_trained.decode(ids, skip_special_tokens=False) == text


def test_hf_trained_files_load_into_ours_whole_corpus(hf_trained, ours_from_hf, corpus):
    assert ours_from_hf.special_tokens == {EOT: 0}  # HF puts special tokens first
    assert ours_from_hf.encode(corpus) == hf_trained.encode(corpus).ids


def test_decode_replaces_invalid_utf8_like_transformers(ours, transformers_from_ours):
    ids = ours.encode("你好 🙂 é")
    for i in range(len(ids)):  # every prefix, most of them cutting a character in half
        part = ids[:i]
        assert ours.decode(part) == transformers_from_ours.decode(
            part, clean_up_tokenization_spaces=False
        )
    assert "\ufffd" in ours.decode(ids[:1])


def test_extra_special_tokens_reach_transformers(corpus, tmp_path):
    tok = BPETokenizer.train(corpus[:20000], 300, special_tokens=(EOT, "<|pad|>", "<|pad|>x"))
    assert list(tok.special_tokens) == [EOT, "<|pad|>", "<|pad|>x"]
    assert tok.special_tokens[EOT] == 297
    tok.save(tmp_path)
    hf = transformers.GPT2TokenizerFast.from_pretrained(str(tmp_path))
    text = f"a<|pad|>x b<|pad|>{EOT}<|pad|> c <|pad"
    assert tok.encode(text) == hf(text)["input_ids"]
    assert tok.encode("<|pad|>x") == [299]  # the longest special token wins
    assert tok.decode(tok.encode(text)) == text


def test_special_tokens_in_training_text_are_not_merged():
    tok = BPETokenizer.train(f"{EOT}{EOT}{EOT} ab ab", 300)
    assert all("|" not in a + b for a, b in tok.merges)


def test_real_gpt2_files_when_cached(tmp_path):
    from huggingface_hub import try_to_load_from_cache

    vocab = try_to_load_from_cache("gpt2", "vocab.json")
    merges = try_to_load_from_cache("gpt2", "merges.txt")
    if not isinstance(vocab, str) or not isinstance(merges, str):
        pytest.skip("gpt2 is not in the local Hugging Face cache (offline)")
    directory = os.path.dirname(vocab)
    tok = BPETokenizer.from_pretrained(directory)
    hf = transformers.GPT2TokenizerFast.from_pretrained("gpt2")
    assert tok.vocab_size == 50257 and tok.special_tokens == {EOT: 50256}
    for text in AWKWARD:
        assert tok.encode(text) == hf(text)["input_ids"]


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("text", AWKWARD)
def test_decode_encode_round_trip(ours, text):
    assert ours.decode(ours.encode(text)) == text


def test_round_trip_whole_corpus(ours, corpus):
    ids = ours.encode(corpus)
    assert ours.decode(ids) == corpus
    assert len(ids) < len(corpus.encode("utf-8")) / 2.5  # BPE compresses the docs well


def test_save_load_round_trip(ours, ours_dir, corpus):
    loaded = BPETokenizer.from_pretrained(ours_dir)
    assert loaded.get_vocab() == ours.get_vocab()
    assert loaded.merges == ours.merges
    assert loaded.special_tokens == ours.special_tokens
    assert loaded.encode(corpus[:50000]) == ours.encode(corpus[:50000])
    vocab = json.loads((ours_dir / "vocab.json").read_text(encoding="utf-8"))
    assert list(vocab.values()) == list(range(VOCAB_SIZE))
    assert (ours_dir / "merges.txt").read_text(encoding="utf-8").startswith("#version: 0.2\n")


def test_vocabulary_accessors(ours):
    assert ours.token_to_id("Ġ") == 220 and ours.id_to_token(220) == "Ġ"
    assert ours.token_to_id("!") == 0
    assert ours.token_to_id("not a token at all") is None and ours.id_to_token(10**6) is None
    assert len(ours) == ours.vocab_size == VOCAB_SIZE
    assert "vocab_size=1000" in repr(ours)


# ------------------------------------------------------------------ bad input


def test_vocab_size_too_small_names_both_numbers():
    with pytest.raises(ValueError, match=r"vocab_size=200 .*256.*1 special.* = 257"):
        BPETokenizer.train("abc", 200)
    with pytest.raises(ValueError, match=r"vocab_size=257 .* = 258"):
        BPETokenizer.train("abc", 257, special_tokens=("<a>", "<b>"))
    BPETokenizer.train("abc", 256, special_tokens=())  # the minimum is fine


@pytest.mark.parametrize("bad", [[""], ["<a>", "<a>"], [None]])
def test_bad_special_tokens(bad):
    with pytest.raises(ValueError, match="special"):
        BPETokenizer.train("abc", 300, special_tokens=bad)


def test_decode_unknown_id_names_it_and_keeps_state(ours):
    with pytest.raises(ValueError, match=r"unknown token id 5000\b"):
        ours.decode([1, 2, 5000])
    with pytest.raises(ValueError, match=r"unknown token id -1\b"):
        ours.decode([-1])
    assert ours.decode(ours.encode("still works")) == "still works"


def test_encode_rejects_non_strings(ours):
    with pytest.raises(TypeError, match="bytes"):
        ours.encode(b"abc")


def test_from_pretrained_missing_directory_or_files(tmp_path, ours_dir):
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        BPETokenizer.from_pretrained(tmp_path / "nope")
    (tmp_path / "vocab.json").write_text((ours_dir / "vocab.json").read_text(encoding="utf-8"))
    with pytest.raises(FileNotFoundError, match="merges.txt"):
        BPETokenizer.from_pretrained(tmp_path)


def test_from_pretrained_malformed_files(tmp_path, ours_dir):
    (tmp_path / "merges.txt").write_text("#version: 0.2\nĠ t\n", encoding="utf-8")
    (tmp_path / "vocab.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="vocab.json"):
        BPETokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.json").write_text((ours_dir / "vocab.json").read_text(encoding="utf-8"))
    (tmp_path / "merges.txt").write_text("#version: 0.2\nĠ t\nabc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"merges.txt, line 3.*'abc'"):
        BPETokenizer.from_pretrained(tmp_path)
    (tmp_path / "merges.txt").write_text("#version: 0.2\nĠ zzzz\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'zzzz'"):
        BPETokenizer.from_pretrained(tmp_path)
    (tmp_path / "vocab.json").write_text('{"a": 0}', encoding="utf-8")
    with pytest.raises(ValueError, match="byte token"):
        BPETokenizer.from_pretrained(tmp_path)


# ------------------------------------------------------------------ display


def test_tokens_html_shows_every_token_with_its_id(ours):
    import html
    import re

    from aigc_course.tokenizers import tokens_html

    text = "x <b> & 'quotes'\nnext 你"
    page = tokens_html(ours, text)
    ids = ours.encode(text)
    assert [int(i) for i in re.findall(r'title="id (\d+)"', page)] == ids
    shown = re.findall(r'white-space:pre-wrap">(.*?)</span>', page)
    text_shown = html.unescape("".join(shown)).replace("↵<br>", "\n")
    pieces = [ours.token_bytes(i).decode("utf-8", "backslashreplace") for i in ids]
    assert text_shown == "".join(pieces)
    assert "\\xe4" in text_shown  # 你 = e4 bd a0 is cut into byte tokens, shown escaped
    assert f"{len(ids)} tokens, {len(text)} characters" in page
    assert "<b>" not in page.replace("<br>", "")  # user text is escaped


def test_token_bytes(ours):
    assert ours.token_bytes(220) == b" "
    assert ours.token_bytes(ours.vocab_size - 1) == EOT.encode()
    with pytest.raises(ValueError, match="unknown token id 99999"):
        ours.token_bytes(99999)


def test_progress_bar_does_not_change_training(corpus, capsys):
    quiet = BPETokenizer.train(corpus[:30000], 400)
    loud = BPETokenizer.train(corpus[:30000], 400, progress=True)
    assert loud.merges == quiet.merges
    assert "143/143" in capsys.readouterr().err  # tqdm writes to stderr


def test_vocab_with_a_repeated_id_is_refused(ours):
    vocab = ours.get_vocab()
    vocab["extra"] = 5
    with pytest.raises(ValueError, match="same id"):
        BPETokenizer(vocab, ours.merges)
