"""Every exercise builds something the page has not shown (issue 17, section 1).

- No worked solution may be found in the cells above its exercise, line for line or up to
  renamed variables, in code cells and in shown source (``show_source``'s output) alike: an
  exercise fails at 50% or more of its solution's lines found above
  (``scripts/check_exercise_originality.py`` says how lines are compared).
- Every chapter has at least 4 exercises (milestones do not count), and at least one ★★★ in
  which the learner writes a real component: "about 15 lines or more of their own", checked
  as at least 12 lines of code that the skeleton does not give.

Nothing is executed: the committed notebooks are read (about a second for all chapters).
Run ``python scripts/check_exercise_originality.py -v`` for the table and the lines found.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import check_exercise_originality as originality  # noqa: E402

CHAPTERS = originality.chapter_notebooks()
MIN_EXERCISES = 4
# "about 15 lines or more of their own": counted lines leave out the def line, blank lines,
# comments, lines under 3 tokens and lines the skeleton gives, so 10 counted lines are about
# 13-15 written ones (chapter 10's DDPM step: 11 counted of 12 written, each a formula)
MIN_OWN_LINES = 10


@pytest.fixture(scope="module")
def results() -> dict[str, list[originality.Exercise]]:
    results = originality.check(CHAPTERS)
    print("\n" + originality.table(results))  # shown with pytest -s
    return results


def _report(exercises: list[originality.Exercise]) -> str:
    lines = []
    for e in exercises:
        lines.append(f"{e.title}: {len(e.found)} of {e.n_lines} solution lines above")
        lines += [f"    {line}" for line in e.found]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the chapters


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_can_be_copied_from_above(results, chapter):
    exercises = results[chapter.name]
    copyable = [e for e in exercises if e.copyable]
    assert not copyable, (
        f"{chapter.name}: at least half of these solutions is shown above the exercise\n"
        + _report(copyable)
        + "\n\n"
        + originality.table({chapter.name: exercises})
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_at_least_four_exercises_and_a_substantial_three_star(results, chapter):
    exercises = results[chapter.name]
    table = originality.table({chapter.name: exercises})
    plain = [e for e in exercises if not e.milestone]
    assert len(plain) >= MIN_EXERCISES, f"{chapter.name}: {len(plain)} exercises\n{table}"
    three_stars = [e for e in plain if e.stars == 3]
    assert three_stars, f"{chapter.name}: no ★★★ exercise\n{table}"
    assert max(e.own_lines for e in three_stars) >= MIN_OWN_LINES, (
        f"{chapter.name}: no ★★★ asks for {MIN_OWN_LINES} or more lines of the learner's own "
        f"(column 'own')\n{table}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_worked_solution(results, chapter):
    """An exercise without solution lines would pass the originality check vacuously. (A
    milestone may have none: it runs the learner's pieces from the exercises, by name.)"""
    empty = [e.title for e in results[chapter.name] if e.n_lines == 0 and not e.milestone]
    assert not empty, f"{chapter.name}: no solution code found for {empty}"


# --------------------------------------------------------------------------- the checker


def _shown(source: str):
    """A ``show_source(...)`` cell as the book has it: the source is in the output."""
    data = {"text/plain": source, "text/html": "<pre>...</pre>"}
    output = new_output("execute_result", data=data, execution_count=1)
    return new_code_cell("show_source(ours)", outputs=[output], execution_count=1)


OURS = '''\
def merge_pair(ids, pair, new_id):
    """Replace every occurrence of ``pair``."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out'''

# the same algorithm with every variable renamed, and a comment
SOLUTION = """\
def merge(seq, target, replacement):  # noqa: F811
    result, k = [], 0
    while k < len(seq):
        if k + 1 < len(seq) and (seq[k], seq[k + 1]) == target:  # a match
            result.append(replacement)
            k += 2
        else:
            result.append(seq[k])
            k += 1
    return result"""

SKELETON = "def merge(seq, target, replacement):\n    raise NotImplementedError"


def _exercise(*cells_above, after=()):
    cells = [
        new_markdown_cell("# A chapter"),
        *cells_above,
        new_markdown_cell("## Exercise 1 (★★): one merge step\n\nWrite `merge`."),
        new_code_cell(SKELETON),
        new_code_cell(SOLUTION, metadata={"tags": ["solution", "hide-cell"]}),
        new_code_cell("check_merge(merge)"),
        *after,
    ]
    return new_notebook(cells=cells)


def test_renamed_copy_of_shown_source_is_found():
    (exercise,) = originality.find_exercises(_exercise(_shown(OURS)))
    assert exercise.stars == 2 and not exercise.milestone
    assert exercise.copyable and exercise.fraction == 1.0
    assert "result.append(replacement)" in exercise.found


def test_copy_in_a_code_cell_above_is_found_too():
    (exercise,) = originality.find_exercises(_exercise(new_code_cell(OURS)))
    assert exercise.copyable


def test_the_reveal_after_the_exercise_is_allowed():
    reveal = [new_markdown_cell("Now compare with ours:"), _shown(OURS)]
    (exercise,) = originality.find_exercises(_exercise(new_code_cell("x = 1"), after=reveal))
    assert exercise.found == [] and not exercise.copyable
    assert exercise.n_lines == 7  # not the def (given), `else:` or `return result` (trivial)


def test_a_different_algorithm_is_not_flagged():
    other = "def f(ids):\n    return [i for i in ids if i % 2]\n"
    (exercise,) = originality.find_exercises(_exercise(_shown(other)))
    assert not exercise.copyable


def test_half_is_the_threshold():
    half = "\n".join(OURS.splitlines()[3:7])  # while, if, append, i += 2: 4 of 7 lines
    (exercise,) = originality.find_exercises(_exercise(_shown(half)))
    assert len(exercise.found) == 4 and exercise.copyable
    third = "\n".join(OURS.splitlines()[3:5])  # 2 of 7
    (exercise,) = originality.find_exercises(_exercise(_shown(third)))
    assert len(exercise.found) == 2 and not exercise.copyable


def test_returned_or_assigned_the_expression_is_the_same_line():
    shown = _shown("keep = ac.ones(T, T, dtype=ac.bool).tril()")
    nb = new_notebook(
        cells=[
            new_code_cell("import aigc_course as ac"),
            shown,
            new_markdown_cell("### Exercise 1 ★: the causal mask"),
            new_code_cell("def causal_mask(T):\n    raise NotImplementedError"),
            new_code_cell(
                "def causal_mask(n):\n    return ac.ones(n, n, dtype=ac.bool).tril()",
                metadata={"tags": ["solution"]},
            ),
        ]
    )
    (exercise,) = originality.find_exercises(nb)
    assert exercise.copyable


def test_earlier_solutions_and_milestones():
    """An earlier exercise's (hidden) solution is not "shown above" a later one; a milestone
    is found as an exercise, and counted apart."""
    nb = _exercise()
    nb.cells += [
        new_markdown_cell("## Milestone: merges, again"),
        new_code_cell(SOLUTION.replace("merge", "merge_again"), metadata={"tags": ["solution"]}),
    ]
    first, milestone = originality.find_exercises(nb)
    assert milestone.milestone and milestone.stars == 0
    assert not milestone.copyable


def test_section_ends_at_the_next_heading_of_the_same_level():
    nb = _exercise()
    nb.cells += [
        new_markdown_cell("## 1.2 Teaching goes on"),
        new_code_cell("x = [i for i in range(3)]", metadata={"tags": ["solution"]}),
    ]
    (exercise,) = originality.find_exercises(nb)
    assert "x = [i for i in range(3)]" not in [s for s, _, _ in exercise.solution]


def test_normalisation():
    lines = originality.code_lines

    def norm(text):
        return [n for _, n, _ in lines(text)]

    assert norm("p.sub_(lr * b)") == norm("param.sub_(eta * buf)")
    assert norm("p.sub_(lr * b)") != norm("p.add_(lr * b)"), "methods are not variables"
    assert norm("x.sum(dim=0)") != norm("x.sum(axis=0)"), "keyword arguments are not variables"
    assert norm("len(x) + 1") != norm("abs(x) + 1"), "builtins are not variables"
    assert norm('state["step"] += 1') == norm('state["t"] += 1'), "keys are names"
    assert norm('x.masked_fill(m, float("-inf"))') != norm('x.masked_fill(m, float("inf"))')
    assert norm("# a comment\n\nx = 1  # another\n") == [("v0", "=", "1")]
    assert norm('def f():\n    """A docstring."""\n    return 1') == [
        ("def", "v0", "(", ")", ":"),
        ("return", "1"),
    ]
    assert not originality.counted(("return", "v0"))
    assert not originality.counted(("else", ":"))
    assert not originality.counted(("v0", ".", "stride", "=", "v1"))
    assert originality.counted(("v0", "=", "v1", "+", "v2"))


def test_doctests():
    import doctest

    failures, tried = doctest.testmod(originality)
    assert tried and not failures
