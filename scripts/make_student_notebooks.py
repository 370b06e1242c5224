"""Write the student edition: chapter notebooks without solutions or exercise outputs.

Usage::

    python scripts/make_student_notebooks.py                 # chapters/ -> student/
    python scripts/make_student_notebooks.py --out /tmp/handout chapters/01_tensors.ipynb

For every notebook under ``chapters/`` (or those given), it writes
``<out>/<path relative to chapters/>``, with every cell tagged ``solution`` removed, the outputs
of every exercise section cleared, and all execution counts cleared.

An exercise section runs from a markdown heading that says "Exercise" or "Milestone" (or
"Exercises", a section that gathers them) up to the next heading of the same or a higher level
that is not itself an exercise; a lower-level heading inside it (``#### Hint``) belongs to it.
A checker's verdict there was produced by the removed solution, so its output goes. Exercises
may sit anywhere in a chapter, each before the reveal of our implementation ("now compare with
ours"): the outputs of the teaching cells around them (printed results, figures, and the
reveal when it starts under its own heading) are kept, so the student edition reads like the
book outside the exercises. ``student/`` sits next to ``chapters/``, so relative paths inside
a notebook keep working. It prints how many solution cells it removed from each notebook, and
warns about a notebook that has none (a sign of a missing tag).

The Colab button opens the notebooks of the repository, solutions included, so hand out
this edition when the exercises should be tried first.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SOLUTION_TAG = "solution"


#: a markdown heading line: its level and its title
HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$", re.MULTILINE)
#: a heading that opens an exercise section
EXERCISE = re.compile(r"\b(Exercises?|Milestones?)\b")


def in_exercise_sections(cells: list) -> list[bool]:
    """For each cell, whether it lies in an exercise section (see the module's docstring).

    A markdown cell is judged by the last heading in it; headings inside fenced code blocks
    do not count.

    >>> from nbformat.v4 import new_code_cell as code, new_markdown_cell as md
    >>> in_exercise_sections([md("## 1.1 Views"), code(), md("### Exercise 1 ★: a view"),
    ...     code(), md("#### Hint"), code(), md("### Exercise 2 ★★"), code(),
    ...     md("### Now compare with ours"), code(), md("## 1.2 Milestone: a net"), code(),
    ...     md("# Summary"), code()])
    [False, False, True, True, True, True, True, True, False, False, True, True, False, False]
    """
    flags, level = [], None  # level: that of the heading that opened the current section
    for cell in cells:
        if cell.cell_type == "markdown":
            source = re.sub(r"^```.*?^```", "", cell.source, flags=re.MULTILINE | re.DOTALL)
            for m in HEADING.finditer(source):
                depth, title = len(m.group(1)), m.group(2)
                if EXERCISE.search(title):
                    level = depth if level is None else min(level, depth)
                elif level is not None and depth <= level:
                    level = None
        flags.append(level is not None)
    return flags


def student_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Return the student version of ``nb`` and the number of solution cells removed."""
    n_solutions = sum(SOLUTION_TAG in c.metadata.get("tags", []) for c in nb.cells)
    resources: dict = {}
    # enabled=True is required: without it the preprocessor silently does nothing.
    remove = TagRemovePreprocessor(enabled=True, remove_cell_tags={SOLUTION_TAG})
    nb, resources = remove.preprocess(nb, resources)
    remaining = sum(SOLUTION_TAG in c.metadata.get("tags", []) for c in nb.cells)
    if remaining:
        raise RuntimeError(f"{remaining} solution cell(s) survived TagRemovePreprocessor")
    for cell, in_exercise in zip(nb.cells, in_exercise_sections(nb.cells), strict=True):
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if in_exercise:
            cell.outputs = []
        for output in cell.outputs:
            if "execution_count" in output:
                output.execution_count = None
    return nb, n_solutions


def chapter_notebooks() -> list[Path]:
    return sorted(p for p in CHAPTERS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/**/*.ipynb")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "student", help="output folder (default: student/)"
    )
    parser.add_argument(
        "--base",
        type=Path,
        default=CHAPTERS,
        help="output paths are relative to this folder (default: chapters/)",
    )
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    if not notebooks:
        print("no notebooks found under chapters/")
        return 0
    base = args.base.resolve()
    without = []
    for path in notebooks:
        relative = path.relative_to(base) if path.is_relative_to(base) else Path(path.name)
        target = args.out / relative
        nb = nbformat.read(path, as_version=4)
        nb, n_solutions = student_notebook(nb)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"{n_solutions:3d} solution cell(s) removed  {relative} -> {target}")
        if n_solutions == 0:
            without.append(str(relative))
    if without:
        print("warning: no cell tagged 'solution' in " + ", ".join(without), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
