""" "Run all", as Colab and Jupyter do it: every cell of every chapter runs top to bottom in a
fresh kernel, with every cell tag ignored, and a cell that raises fails.

The chapters are executed that way by nbval itself, in the main test run and again in
``.ci/run``'s baseline-kernel run: ``conftest.py`` switches off nbval's markers that would let
a cell raise (``raises-exception``, ``nbval-raises-exception``, ``# NBVAL_RAISES_EXCEPTION``) or
skip it (``nbval-skip``, ``# NBVAL_SKIP``). Running every chapter once more here would double
the most expensive part of CI, so these tests check the mechanism instead, on small notebooks
run through the same nbval and the same ``conftest.py``, plus a static check that no chapter
carries a marker that nbclient (``scripts/execute_notebooks.py``) would honour.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))
MARKERS = re.compile(r"^\s*#\s*(NBVAL_RAISES_EXCEPTION|NBVAL_SKIP)\b", re.MULTILINE)


def _nbval(tmp_path: Path, *cells) -> subprocess.CompletedProcess:
    """Execute a notebook of ``cells`` (source, tags) with nbval, as the test run does."""
    nb = new_notebook(
        cells=[new_code_cell(src, metadata={"tags": list(tags)}) for src, tags in cells]
    )
    for i, cell in enumerate(nb.cells, 1):
        cell.execution_count = i
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--nbval-lax",
            "-q",
            str(path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("raise RuntimeError('intended')", ["raises-exception"]),
        ("raise RuntimeError('intended')", ["nbval-raises-exception"]),
        ("# NBVAL_RAISES_EXCEPTION\nraise RuntimeError('intended')", []),
        ("raise RuntimeError('skipped?')", ["nbval-skip"]),
        ("# NBVAL_SKIP\nraise RuntimeError('skipped?')", []),
    ],
)
def test_a_raising_cell_fails_whatever_its_tags(tmp_path, source, tags):
    result = _nbval(tmp_path, ("x = 1", []), (source, tags), ("y = x + 1", []))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"1 failed, 2 passed", result.stdout), result.stdout


def test_expect_error_lets_run_all_continue(tmp_path):
    result = _nbval(
        tmp_path,
        ("from aigc_course.book import expect_error", []),
        ("with expect_error(RuntimeError):\n    raise RuntimeError('intended')", []),
        ("y = 2", []),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_cell_carries_a_marker_that_lets_it_raise_or_skip(chapter):
    nb = nbformat.read(chapter, as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        tags = set(cell.metadata.get("tags", []))
        assert not tags & {
            "raises-exception",
            "nbval-raises-exception",
            "nbval-skip",
            "skip-execution",
        }, f"{chapter.name}, code cell {i}: {sorted(tags)}"
        assert not MARKERS.search(cell.source), f"{chapter.name}, code cell {i}: nbval marker"
