"""The student edition removes exactly the solution cells, clears the outputs of the exercise
section (a checker's verdict there came from the removed solution) and keeps the others
(printed results, figures)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_student_notebooks.py"
CHAPTERS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def _run(*args) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _small_notebook() -> nbformat.NotebookNode:
    output = new_output("stream", name="stdout", text="42\n")
    cells = [
        new_markdown_cell("# A chapter"),
        new_code_cell("import sys", metadata={"tags": ["hide-input"]}, execution_count=1),
        new_code_cell("print(42)", execution_count=2, outputs=[output]),  # a teaching cell
        new_markdown_cell("## Exercise 1\n\nCompute 6 * 7."),
        new_code_cell("answer = ...", execution_count=2),
        new_code_cell(
            "answer = 6 * 7\nprint(answer)",
            metadata={"tags": ["solution", "hide-input"]},
            execution_count=3,
            outputs=[output],
        ),
        new_markdown_cell("## Exercise 2"),
        new_code_cell("print(2)", metadata={"tags": ["hide-cell", "solution"]}, execution_count=4),
        new_code_cell("print('kept')", execution_count=5, outputs=[output]),
    ]
    nb = new_notebook(cells=cells)
    nbformat.validate(nb)
    return nb


def test_removes_solutions_clears_exercise_outputs_keeps_the_rest(tmp_path):
    source_dir = tmp_path / "chapters"
    source_dir.mkdir()
    nb = _small_notebook()
    path = source_dir / "01_small.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "student"

    result = _run("--out", out, "--base", source_dir, path)

    student = nbformat.read(out / "01_small.ipynb", as_version=4)
    kept = [c for c in nb.cells if "solution" not in _tags(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept]
    assert not any("solution" in _tags(c) for c in student.cells)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all(c.execution_count is None for c in code)
    assert code[1].outputs[0].text == "42\n", "a teaching cell keeps its output"
    assert all(c.outputs == [] for c in code[2:]), "the exercise section has no outputs"
    assert "2 solution cell(s) removed" in result.stdout
    assert nbformat.read(path, as_version=4) == nb, "the source notebook must not change"


@pytest.mark.skipif(not CHAPTERS, reason="no chapter notebooks yet")
def test_real_chapters(tmp_path):
    _run("--out", tmp_path)
    for path in CHAPTERS:
        original = nbformat.read(path, as_version=4)
        student = nbformat.read(tmp_path / path.relative_to(ROOT / "chapters"), as_version=4)
        kept = [c.source for c in original.cells if "solution" not in _tags(c)]
        assert [c.source for c in student.cells] == kept, path.name
        figures = sum(
            "image/png" in o.get("data", {}) for c in student.cells for o in c.get("outputs", [])
        )
        if any(
            "image/png" in o.get("data", {}) for c in original.cells for o in c.get("outputs", [])
        ):
            assert figures, f"{path.name}: the student edition lost its figures"
        start = next(
            i
            for i, c in enumerate(student.cells)
            if c.cell_type == "markdown"
            and re.search(r"^#+ .*\bExercises?\b", c.source, re.MULTILINE)
        )
        assert not any(c.get("outputs") for c in student.cells[start:]), path.name
        assert all(c.get("execution_count") is None for c in student.cells), path.name
