"""``aigc_course.book``: the helpers the chapters use to show source code and intended errors."""

from __future__ import annotations

import pytest
import torch

import aigc_course as ac
from aigc_course.book import expect_error, show_source, source


def test_expect_error_prints_type_and_message_like_python(capsys):
    with expect_error(RuntimeError) as caught:
        torch.zeros(5, 3).view(-1, 12)
    out = capsys.readouterr().out
    assert out == "RuntimeError: shape '[-1, 12]' is invalid for input of size 15\n"
    assert isinstance(caught.exception, RuntimeError)


def test_expect_error_matches_torchs_message_for_our_library(capsys):
    with expect_error(RuntimeError):
        torch.ones(2, 3) + torch.ones(3, 2)
    with expect_error(RuntimeError):
        ac.ones(2, 3) + ac.ones(3, 2)
    theirs, ours = capsys.readouterr().out.splitlines()
    assert theirs == ours


def test_expect_error_accepts_subclasses_and_several_types(capsys):
    with expect_error(LookupError):
        {}["missing"]
    with expect_error(ValueError, IndexError):
        [][1]
    assert capsys.readouterr().out == "KeyError: 'missing'\nIndexError: list index out of range\n"


def test_expect_error_without_an_error_fails_loudly():
    with pytest.raises(AssertionError, match="expected ValueError, but no error was raised"):
        with expect_error(ValueError):
            pass


def test_expect_error_lets_another_error_through():
    with pytest.raises(TypeError, match="boom"):
        with expect_error(ValueError):
            raise TypeError("boom")


def test_expect_error_match_is_checked(capsys):
    with expect_error(ValueError, match="negative"):
        raise ValueError("lr must not be negative, got -1")
    assert capsys.readouterr().out == "ValueError: lr must not be negative, got -1\n"
    with pytest.raises(AssertionError, match="mentioning 'negative'"):
        with expect_error(ValueError, match="negative"):
            raise ValueError("something else")


def test_expect_error_empty_message_and_notes(capsys):
    with expect_error(StopIteration):
        next(iter([]))
    error = ValueError("bad")
    error.add_note("a note")
    with expect_error(ValueError):
        raise error
    assert capsys.readouterr().out == "StopIteration\nValueError: bad\na note\n"


def test_expect_error_traceback_shows_the_innermost_frame_with_a_short_path(capsys):
    with expect_error(RuntimeError, traceback=True):
        ac.zeros(5, 3).view(-1, 12)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Traceback (most recent call last, innermost frame only):"
    assert lines[1].startswith('  File "aigc_course/')  # no machine-specific absolute path
    assert lines[-1] == "RuntimeError: shape '[-1, 12]' is invalid for input of size 15"


def test_source_cuts_between_markers():
    def example():
        a = 1
        b = 2
        return a + b

    assert source(example, start="b = 2") == "b = 2\nreturn a + b"
    assert source(example, start="a = 1", stop="return") == "a = 1\nb = 2"
    assert show_source(example).data == source(example)  # an IPython Code object
