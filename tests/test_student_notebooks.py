"""The student edition removes exactly the solution cells, clears the outputs of each exercise
section (a checker's verdict there came from the removed solution) and keeps the others
(printed results, figures), also where exercises are interleaved with teaching sections."""

from __future__ import annotations

import doctest
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
sys.path.insert(0, str(ROOT / "scripts"))

import make_student_notebooks  # noqa: E402


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


def _out(text: str):
    return [new_output("stream", name="stdout", text=text)]


def _interleaved_notebook() -> nbformat.NotebookNode:
    """Exercises before their reveal, inside teaching sections, and a milestone."""
    cells = [
        new_markdown_cell("# 4. Optimizers"),
        new_code_cell("setup()", execution_count=1, outputs=_out("setup\n")),
        new_markdown_cell("## 4.1 SGD\n\nThe update, in torch:"),
        new_code_cell("torch_sgd()", execution_count=2, outputs=_out("torch\n")),
        new_markdown_cell("### Exercise 1 (★): SGD with momentum\n\nBuild it first."),
        new_code_cell("class MySGD: ...", execution_count=3),
        new_code_cell("class MySGD: step = 1", metadata={"tags": ["solution"]}),
        new_code_cell("check_sgd(MySGD)", execution_count=5, outputs=_out("✓ sgd\n")),
        new_markdown_cell("#### Hint\n\nThe buffer starts at zero."),
        new_code_cell("hint_demo()", execution_count=6, outputs=_out("hint\n")),
        new_markdown_cell("### Now compare with ours"),
        new_code_cell("show_source(SGD.step)", execution_count=7, outputs=_out("def step\n")),
        new_markdown_cell("## 4.2 Adam\n\n```python\n# Exercise in a fence: not a heading\n```"),
        new_code_cell("adam_figure()", execution_count=8, outputs=_out("figure\n")),
        new_markdown_cell("### Exercise 2 (★★★): Adam from the paper"),
        new_code_cell("class MyAdam: ...", execution_count=9),
        new_code_cell("class MyAdam: step = 2", metadata={"tags": ["solution", "hide-cell"]}),
        new_code_cell("check_adam(MyAdam)", execution_count=11, outputs=_out("✓ adam\n")),
        new_markdown_cell("### Exercise 3 (★★): AdamW, next to it"),
        new_code_cell("check_adamw(MyAdamW)", execution_count=12, outputs=_out("✓ adamw\n")),
        new_markdown_cell("## 4.3 Schedules"),
        new_code_cell("schedule_plot()", execution_count=13, outputs=_out("plot\n")),
        new_markdown_cell("## Milestone: your optimizer trains the network"),
        new_code_cell("milestone(MyAdam)", execution_count=14, outputs=_out("✓ 97%\n")),
        new_markdown_cell("## Summary"),
        new_code_cell("print('bye')", execution_count=15, outputs=_out("bye\n")),
    ]
    nb = new_notebook(cells=cells)
    nbformat.validate(nb)
    return nb


def test_interleaved_exercises_clear_their_own_sections_only():
    nb = _interleaved_notebook()
    student, n_solutions = make_student_notebooks.student_notebook(nbformat.from_dict(nb))
    assert n_solutions == 2
    outputs = {
        c.source: [o.text for o in c.outputs] for c in student.cells if c.cell_type == "code"
    }
    # teaching cells, before, between and after the exercises, keep their outputs ...
    kept = ["setup()", "torch_sgd()", "show_source(SGD.step)", "adam_figure()", "schedule_plot()"]
    for source in [*kept, "print('bye')"]:
        assert outputs[source], f"{source}: a teaching cell lost its output"
    # ... the reveal included, because it starts under its own heading of the exercise's level
    assert outputs["show_source(SGD.step)"] == ["def step\n"]
    # each exercise's section is cleared: checkers, a hint under a lower-level heading, the
    # exercise that follows another directly, and the milestone
    cleared = ["check_sgd(MySGD)", "hint_demo()", "check_adam(MyAdam)", "check_adamw(MyAdamW)"]
    for source in [*cleared, "milestone(MyAdam)", "class MySGD: ..."]:
        assert outputs[source] == [], f"{source}: output kept in an exercise section"
    assert "class MySGD: step = 1" not in outputs and "class MyAdam: step = 2" not in outputs
    assert all(c.execution_count is None for c in student.cells if c.cell_type == "code")


def test_section_rules():
    assert make_student_notebooks.in_exercise_sections(_interleaved_notebook().cells) == [
        False, False, False, False,  # title, setup, 4.1, torch
        True, True, True, True, True, True,  # Exercise 1 ... its #### Hint
        False, False, False, False,  # compare with ours; 4.2 (a fence is not a heading)
        True, True, True, True,  # Exercise 2
        True, True,  # Exercise 3
        False, False,  # 4.3
        True, True,  # Milestone
        False, False,  # Summary
    ]  # fmt: skip


def test_doctests():
    failures, tried = doctest.testmod(make_student_notebooks)
    assert tried and not failures


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
        # independently of the section rule: before the first exercise heading every output
        # is the book's, and the cells right after a solution (its checker) have none
        first = next(
            i
            for i, c in enumerate(original.cells)
            if c.cell_type == "markdown"
            and re.search(r"^#+ .*\b(Exercise|Milestone)", c.source, re.MULTILINE)
        )
        for before, after in zip(original.cells[:first], student.cells[:first], strict=True):
            assert _outputs(before) == _outputs(after), f"{path.name}: {before.source[:60]}"
        for i, cell in enumerate(original.cells):
            if "solution" not in _tags(cell):
                continue
            for nxt in original.cells[i + 1 :]:
                if nxt.cell_type != "code" or "solution" in _tags(nxt):
                    break
                twin = next(c for c in student.cells if c.source == nxt.source)
                assert not twin.get("outputs"), f"{path.name}: {nxt.source[:60]} kept its output"
        # a checker's ✓ came from the solution: the grader would flag it as forged or stale
        checkers = [c for c in student.cells if re.search(r"\bch\d\d\.check_\w+\s*\(", c.source)]
        assert checkers, path.name
        for cell in checkers:
            assert not cell.get("outputs"), f"{path.name}: {cell.source[:60]} kept its verdict"
        flags = make_student_notebooks.in_exercise_sections(student.cells)
        for cell, in_exercise in zip(student.cells, flags, strict=True):
            if in_exercise:
                assert not cell.get("outputs"), f"{path.name}: {cell.source[:60]}"
        assert all(c.get("execution_count") is None for c in student.cells), path.name


def _outputs(cell) -> list:
    """A cell's outputs without their execution counts."""
    return [{k: v for k, v in o.items() if k != "execution_count"} for o in cell.get("outputs", [])]
