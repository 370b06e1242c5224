"""Conventions every chapter notebook must follow (see DESIGN.md, "Notebooks").

These checks read the committed notebooks as JSON; they do not execute them (nbval does).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
MAX_BYTES = 2 * 1024 * 1024
MIN_SOLUTIONS = 3
HIDDEN_TAGS = {"hide-input", "hide-cell"}
EXERCISE = re.compile(r"\bexercises?\b", re.IGNORECASE)


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


setup_cell = _load_script("setup_cell")

notebook_params = pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=str(p.relative_to(ROOT))) for p in NOTEBOOKS]
    or [pytest.param(None, marks=pytest.mark.skip(reason="no chapter notebooks yet"))],
)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


@notebook_params
def test_first_code_cell_is_the_canonical_setup_cell(path):
    nb = _read(path)
    code = _code_cells(nb)
    assert code, f"{path.name} has no code cell"
    expected = setup_cell.setup_cell_source(setup_cell.repo_url_from_config())
    assert code[0].source.strip() == expected.strip(), (
        f"{path.name}: the first code cell differs from the setup cell generated from "
        "_config.yml's repository.url; run: python scripts/execute_notebooks.py --sync-setup"
    )
    assert "hide-input" in _tags(code[0]), f"{path.name}: tag the setup cell 'hide-input'"


@notebook_params
def test_executed_top_to_bottom_in_a_fresh_kernel(path):
    counts = [c.execution_count for c in _code_cells(_read(path))]
    expected = list(range(1, len(counts) + 1))
    assert counts == expected, (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}; "
        f"re-execute with: python scripts/execute_notebooks.py {path.relative_to(ROOT)}"
    )


# Tags that change what runs: Colab's and Jupyter's "Run all" ignore them all, so a notebook
# that needs one stops there for a learner. Intended errors go through book.expect_error.
FORBIDDEN_TAGS = {
    "raises-exception",
    "nbval-raises-exception",
    "nbval-skip",
    "skip-execution",
}


@notebook_params
def test_no_cell_raises_and_no_tag_changes_what_runs(path):
    for i, cell in enumerate(_code_cells(_read(path))):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, (
            f"{path.name}, code cell {i} raised {errors[0].ename}: Run all would stop there. "
            "Show an intended error with `with expect_error(SomeError):` "
            "(from aigc_course.book import expect_error)"
        )
        tags = FORBIDDEN_TAGS & set(_tags(cell))
        assert not tags, (
            f"{path.name}, code cell {i} is tagged {sorted(tags)}; Colab ignores tags, so use "
            "expect_error instead"
        )


@notebook_params
def test_chapter_arc_promise_time_takeaways_reading(path):
    """DESIGN.md's chapter arc: what you will be able to do and an estimated time up front,
    key takeaways and further reading at the end, each exercise labelled ★ to ★★★."""
    nb = _read(path)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    opening = "\n".join(markdown[:3])
    time_format = r"reading and running: \d+ min; exercises(?: and milestone)?: \d+ min"
    assert re.search(time_format, opening, re.IGNORECASE), (
        f"{path.name}: say near the top how long the chapter takes, in the course's one format: "
        "'reading and running: X min; exercises: Y min'"
    )
    text = "\n".join(markdown)
    assert re.search(r"^#+ (?:Key takeaways|Summary)", text, re.MULTILINE), (
        f"{path.name}: end with a '## Key takeaways' section"
    )
    assert "Further reading" in text, f"{path.name}: end with further reading (docs, papers)"
    exercises = re.findall(r"^#+ Exercise \d+.*$", text, re.MULTILINE)
    assert exercises, f"{path.name}: no '### Exercise N' headings"
    for heading in exercises:
        assert re.search("★{1,3}(?!★)", heading), (
            f"{path.name}: label the exercise with its difficulty, ★ to ★★★: {heading!r}"
        )


@notebook_params
def test_exercises_have_hidden_solutions(path):
    nb = _read(path)
    solutions = [i for i, c in enumerate(nb.cells) if "solution" in _tags(c)]
    assert len(solutions) >= MIN_SOLUTIONS, (
        f"{path.name}: {len(solutions)} cell(s) tagged 'solution', need {MIN_SOLUTIONS} or more"
    )
    statements = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and EXERCISE.search(c.source)
    ]
    for i in solutions:
        assert any(s < i for s in statements), (
            f"{path.name}, cell {i}: a solution with no exercise statement before it "
            "(a markdown cell that says 'Exercise')"
        )
        assert HIDDEN_TAGS & set(_tags(nb.cells[i])), (
            f"{path.name}, cell {i}: tag the solution 'hide-input' or 'hide-cell' "
            "so that the HTML book hides it"
        )


@notebook_params
def test_notebook_size(path):
    size = path.stat().st_size
    assert size <= MAX_BYTES, f"{path.name} is {size / 1e6:.1f} MB; keep figures small"


_LIST_MARKER = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s")


def unclosed_math_list_lines(markdown: str) -> list[str]:
    """Lines that open a list item while an inline ``$...$`` formula of the same paragraph is
    still open. CommonMark lets a bullet interrupt a paragraph, so a formula wrapped before
    its ``+`` or ``-`` becomes a list and renders broken (seen in chapter 10)."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    bad, dollars, in_block = [], 0, False
    for line in text.split("\n"):
        if in_block:
            in_block = "$$" not in line
            continue
        if line.strip().startswith("$$"):
            in_block = line.count("$$") == 1
            continue
        if not line.strip():
            dollars = 0
            continue
        if dollars % 2 and _LIST_MARKER.match(line):
            bad.append(line.strip())
        dollars += len(re.findall(r"(?<![\\$])\$(?!\$)", line))
    return bad


def test_unclosed_math_list_lines_catches_a_wrapped_formula():
    assert unclosed_math_list_lines("Let $a = b\n+ c$ hold.") == ["+ c$ hold."]
    assert unclosed_math_list_lines("Let $a = b +\nc$ hold.\n- a real item") == []
    assert unclosed_math_list_lines("$$\nx\n- y\n$$") == []
    assert unclosed_math_list_lines("$$a = b\n- c.$$\n\nSo $x\n- y$.") == ["- y$."]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_formula_is_broken_into_a_list(path):
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert not unclosed_math_list_lines(cell.source), cell.source[:200]
