"""The student book (``scripts/build_student_book.py``): no solution code, Colab buttons that
open the solution-free notebooks, and ``repository.url`` defined once.

The tests of the built HTML need the build (``.ci/run`` makes it before pytest); elsewhere
they are skipped with that reason.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_student_book  # noqa: E402

HTML = build_student_book.OUT / "_build" / "html"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def _solution_lines(path: Path) -> list[str]:
    """The code lines of a chapter's solution cells that appear nowhere else in the notebook
    (not in another cell, a skeleton, the text, or an output such as show_source's)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    solution, other = [], []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if "solution" in cell["metadata"].get("tags", []):
            solution += [line.split("  #")[0].strip() for line in source.splitlines()]
            continue
        other.append(source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for text in (
                output.get("text", ""),
                data.get("text/plain", ""),
                data.get("text/html", ""),
            ):
                text = "".join(text) if isinstance(text, list) else text
                other.append(html.unescape(re.sub(r"<[^>]+>", "", text)))
    everything_else = "\n".join(other)
    code = [
        line
        for line in solution
        if len(line) > 25
        and not line.startswith(("#", "def ", "class "))
        and line not in everything_else
    ]
    return sorted(set(code))


def _text(page: Path) -> str:
    """The page's text as a reader sees it (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_the_overlay_changes_only_the_branch_and_title():
    with open(ROOT / "_config.yml", encoding="utf-8") as f:
        book = yaml.safe_load(f)
    student = build_student_book.student_config()
    assert student["repository"]["url"] == book["repository"]["url"]
    assert student["repository"]["branch"] == "student" != book["repository"]["branch"]
    assert student["launch_buttons"] == book["launch_buttons"]
    assert student["title"].startswith(book["title"])
    # the URL is written once, in _config.yml; the script copies it and never spells it
    source = (ROOT / "scripts" / "build_student_book.py").read_text(encoding="utf-8")
    assert book["repository"]["url"] not in source


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_solution_code_to_look_for(chapter):
    assert _solution_lines(chapter), f"{chapter.name}: no solution lines found"


@pytest.fixture(scope="module")
def built() -> Path:
    if not (HTML / "index.html").exists():
        pytest.skip("the student book is not built: python scripts/build_student_book.py")
    return HTML


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_student_book_has_no_solution_code(built, chapter):
    page = built / "chapters" / f"{chapter.stem}.html"
    text = _text(page)
    leaked = [line for line in _solution_lines(chapter) if line in text]
    assert not leaked, f"{page.name} contains solution code: {leaked[:3]}"
    # ... and the exercises are still there, with their skeletons
    assert "NotImplementedError" in text


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_the_main_book_does_show_the_solutions(chapter):
    """The positive control: the search above would find the solutions if they were there."""
    page = ROOT / "_build" / "html" / "chapters" / f"{chapter.stem}.html"
    if not page.exists():
        pytest.skip("the main book is not built")
    text = _text(page)
    assert any(line in text for line in _solution_lines(chapter))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_colab_button_opens_the_student_notebook(built, chapter):
    with open(ROOT / "_config.yml", encoding="utf-8") as f:
        url = yaml.safe_load(f)["repository"]["url"]
    repo = url.removeprefix("https://github.com/")
    page = (built / "chapters" / f"{chapter.stem}.html").read_text(encoding="utf-8")
    expected = (
        f"https://colab.research.google.com/github/{repo}/blob/student/chapters/{chapter.name}"
    )
    assert expected in page
    assert f"/blob/main/chapters/{chapter.name}" not in page


def test_student_book_source_notebooks_have_no_solution_cells(built):
    for path in (build_student_book.OUT / "chapters").glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
        assert not any("solution" in t for t in tags), path.name
