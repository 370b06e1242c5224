"""The student edition, used as an instructor would: every chapter's student notebook runs,
and each exercise's and milestone's checker answers "not implemented yet" (never a crash,
never a pass); no other cell raises, whatever its tags (Colab's "Run all" ignores them), not
even a reveal after an exercise ("now compare with ours") that calls the learner's code.

Each notebook is executed with nbclient in a fresh kernel (a few seconds per chapter).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))
HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$", re.MULTILINE)
EXERCISE = re.compile(r"\b(Exercise|Milestone)\b")  # one exercise, not "Exercises"


def _exercise_of_each_cell(cells) -> list[str | None]:
    """The title of the exercise or milestone each cell belongs to (None for teaching cells):
    from its heading to the next heading of the same or a higher level."""
    owners, title, level = [], None, None
    for cell in cells:
        if cell.cell_type == "markdown":
            for m in HEADING.finditer(cell.source):
                depth, text = len(m.group(1)), m.group(2)
                if EXERCISE.search(text):
                    title, level = text, depth
                elif level is not None and depth <= level:
                    title, level = None, None
        owners.append(title)
    return owners


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_student_notebooks.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_runs_and_every_checker_says_not_implemented(chapter, student_dir):
    nb = nbformat.read(student_dir / chapter.name, as_version=4)
    assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(chapter.parent)}},
    ).execute()
    titles = [t for t in dict.fromkeys(_exercise_of_each_cell(nb.cells)) if t is not None]
    answers: dict[str, list[str]] = {t: [] for t in titles}
    unexpected = []
    for cell, title in zip(nb.cells, _exercise_of_each_cell(nb.cells), strict=True):
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            if out["ename"] == "ExerciseError" and title is not None:
                answers[title].append(out["evalue"])
            else:
                unexpected.append(f"{title}: {out['ename']}: {out['evalue'][:200]}")
    assert not unexpected, unexpected
    assert len(titles) >= 3, f"{chapter.name}: {len(titles)} exercises"
    silent = [t for t, messages in answers.items() if not messages]
    assert not silent, f"{chapter.name}: no checker answered in {silent}"
    for title, messages in answers.items():
        for message in messages:
            assert re.search(r"is not implemented yet", message), f"{title}: {message}"
