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


@notebook_params
def test_errors_only_where_expected(path):
    for i, cell in enumerate(_code_cells(_read(path))):
        has_error = any(o.output_type == "error" for o in cell.get("outputs", []))
        expected = "raises-exception" in _tags(cell)
        if has_error:
            assert expected, f"{path.name}, code cell {i}: an error, but no 'raises-exception' tag"
        if expected:
            assert has_error, f"{path.name}, code cell {i}: tagged 'raises-exception', no error"


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
